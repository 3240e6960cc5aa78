"""The shipped video digest template: video cards per role, compiled by the project's Renderer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from html.parser import HTMLParser

from commhub.render import CLIPPED_HTML_BYTES, CompiledMessage
from commhub.render.content_plan import AudienceInfo, PickedItem, Section
from commhub.render.placeholders import ContactValues, html_placeholder, raw_placeholder
from commhub.render.renderer import (
    EditionFacts,
    LinkStyle,
    PreviewLinks,
    Renderer,
    Sender,
    TrackedLinks,
)
from commhub.resources import templates_dir
from commhub.store.models import ContentKind

BASE = "https://hub.example"
SENDER = Sender("Northwind", "1 Harbour Street, Bristol <BS1>")
FACTS = EditionFacts(
    "Partner News", "news", "{{ series.name }}: videos for {{ contact.first_name }}",
    datetime(2026, 3, 29, 8, 0, tzinfo=UTC), "Europe/Berlin", 5,
)  # fmt: skip
SALES = AudienceInfo(
    "sales", "Sales", "Account managers who carry quotas. They act on pricing changes."
)
TECHNICAL = AudienceInfo("technical", "Technical", "Architects who deploy the platform.")
HOSTILE_TITLE = "Roadmap <script>alert('x')</script> & more"
CONTACT = ContactValues("Ana", "Lima", "ana@partner.example", "Acme & Sons", "T" * 120)


def video(item_id: int, **changes: object) -> PickedItem:
    item = PickedItem(
        id=item_id, slug=f"video-{item_id}", title=f"Video number {item_id}",
        summary=f"Why video {item_id} matters to you.", kind=ContentKind.VIDEO,
        url=f"https://video.example/watch/{item_id}",
        image=f"https://cdn.example/thumbs/{item_id}.jpg?w=480&h=270",
        duration_seconds=600 + item_id, speaker=f"Speaker {item_id}", key_message=None,
        body_html="", publish_at=None,
    )  # fmt: skip
    return dataclasses.replace(item, **changes)  # type: ignore[arg-type]


FIRST = video(1, key_message="Register before March.")
SECOND = video(2, title=HOSTILE_TITLE)
THIRD = video(3, duration_seconds=None)
SECTIONS = [Section(SALES, (FIRST, SECOND)), Section(TECHNICAL, (THIRD,))]


def link_id(item: PickedItem) -> int:
    return 100 + item.id


def compile_digest(
    sections: list[Section],
    html_links: LinkStyle | None = None,
    text_links: LinkStyle | None = None,
) -> CompiledMessage:
    link_ids = {item.id: link_id(item) for section in sections for item in section.items}
    return Renderer(templates_dir()).compile(
        "video_digest", FACTS, sections, SENDER, link_ids,
        html_links or TrackedLinks(BASE, html_placeholder("token")),
        text_links or TrackedLinks(BASE, raw_placeholder("token")),
    )  # fmt: skip


class Parsed(HTMLParser):
    """The images, links (with their text) and script tags of an HTML part."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.links: list[tuple[str, str]] = []
        self.scripts = 0
        self._open_link: tuple[str, list[str]] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found)
        elif tag == "a":
            self._open_link = (found.get("href") or "", [])
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        if self._open_link is not None:
            self._open_link[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open_link is not None:
            href, text = self._open_link
            self.links.append((href, " ".join("".join(text).split())))
            self._open_link = None

    def texts_of(self, href: str) -> list[str]:
        return [text for target, text in self.links if target == href]


def click(item: PickedItem, tag: str = "%%token%%") -> str:
    return f"{BASE}/t/c/{tag}/{link_id(item)}"


def test_each_thumbnail_is_the_items_own_url_and_the_only_other_image_is_the_open_pixel() -> None:
    parsed = Parsed(compile_digest(SECTIONS).html.source())
    sources = [image["src"] for image in parsed.images]
    assert sources == [FIRST.image, SECOND.image, THIRD.image, f"{BASE}/t/o/%%token%%.gif"]
    # The play mark is HTML: no picture of a play button, no re-hosted thumbnail.
    assert len(parsed.images) <= len(SECTIONS[0].items) + len(SECTIONS[1].items) + 1


def test_each_card_links_its_thumbnail_play_mark_title_and_watch_button_to_the_tracked_link() -> (
    None
):
    html = compile_digest(SECTIONS).html.source()
    parsed = Parsed(html)
    assert parsed.texts_of(click(FIRST)) == ["", "Play", "Video number 1", "Watch (10:01)"]
    assert parsed.texts_of(click(THIRD)) == ["", "Play", "Video number 3", "Watch"]
    assert not [href for href, _ in parsed.links if "video.example" in href], "all tracked"
    # The play mark is drawn with the ▶ character, on each thumbnail.
    assert html.count("\u25b6") >= 3


def test_each_card_shows_the_duration_the_speaker_and_why_it_matters() -> None:
    html = compile_digest(SECTIONS).html.source()
    for item in (FIRST, SECOND, THIRD):
        assert f"With {item.speaker}" in html
        assert f"<strong>Why it matters:</strong> {item.summary}" in html
    assert ">10:01</td>" in html
    assert ">10:02</td>" in html
    assert "Register before March." in html
    # Who the role is, once under its heading: the first sentence of its description.
    assert "Account managers who carry quotas.</p>" in html
    assert "They act on pricing" not in html


def test_each_card_has_the_relevance_vote_of_its_own_item() -> None:
    parsed = Parsed(compile_digest(SECTIONS).html.source())
    for item in (FIRST, SECOND, THIRD):
        assert parsed.texts_of(f"{BASE}/t/v/%%token%%/{link_id(item)}/yes") == ["Yes"]
        assert parsed.texts_of(f"{BASE}/t/v/%%token%%/{link_id(item)}/no") == ["No"]


def test_the_footer_and_top_bar_are_the_newsletters() -> None:
    compiled = compile_digest(SECTIONS)
    parsed = Parsed(compiled.html.source())
    assert parsed.texts_of(f"{BASE}/w/%%token%%") == ["View in your browser"]
    assert parsed.texts_of(f"{BASE}/u/%%token%%") == ["Unsubscribe"]
    assert parsed.texts_of(f"{BASE}/p/%%token%%") == ["Manage preferences"]
    assert parsed.texts_of(f"{BASE}/p/%%token%%#feed") == ["Your own feed"]
    html = compiled.html.source()
    assert "1 Harbour Street, Bristol &lt;BS1&gt;" in html
    assert "This email was sent to %%email%%." in html
    assert "for your roles at %%partner%%: Sales and Technical." in html
    text = compiled.text.source()
    for line in (
        f"Unsubscribe:\n{BASE}/u/%%token.raw%%",
        f"Manage preferences:\n{BASE}/p/%%token.raw%%",
        f"Your own feed, for a feed reader:\n{BASE}/p/%%token.raw%%#feed",
        "Northwind\n1 Harbour Street, Bristol <BS1>",
    ):
        assert line in text


def test_a_hostile_title_is_text_in_the_html_and_as_written_in_the_text_part() -> None:
    compiled = compile_digest(SECTIONS)
    parsed = Parsed(compiled.html.source())
    assert parsed.scripts == 0
    assert HOSTILE_TITLE in parsed.texts_of(click(SECOND)), "shown as the words it is"
    assert "Roadmap &lt;script&gt;alert('x')&lt;/script&gt; &amp; more</a>" in (
        compiled.html.source()
    )
    # The text part is not HTML: the title is shown as written, with nothing to run it.
    assert f"\n{HOSTILE_TITLE}\n" in compiled.text.source()


def test_the_text_part_lists_every_video_with_its_details_watch_link_and_votes() -> None:
    text = compile_digest(SECTIONS).text.source()
    assert "Partner News · Video digest · 29 March 2026" in text
    assert (
        "Video number 1\n10:01 · Speaker: Speaker 1\n\n"
        "Why it matters: Why video 1 matters to you.\n\n"
        "Key message: Register before March.\n\n"
        f"Watch (10:01):\n{BASE}/t/c/%%token.raw%%/101\n\n"
        f"Relevant? Yes: {BASE}/t/v/%%token.raw%%/101/yes\n"
        f"          No:  {BASE}/t/v/%%token.raw%%/101/no\n"
    ) in text
    assert "Video number 3\nSpeaker: Speaker 3\n\n" in text
    assert f"Watch:\n{BASE}/t/c/%%token.raw%%/103\n" in text
    assert "For Sales\n=========\n\nAccount managers who carry quotas.\n" in text


def test_ten_videos_stay_under_gmails_clipping_size() -> None:
    ten = [
        video(
            n,
            title=f"Video {n}: a fairly long title about the partner programme and its changes",
            summary="Two or three sentences on what changes, for whom and by when. " * 4,
            key_message="Register before the end of the quarter to keep your tier benefits.",
            speaker="Dr Ada Lovelace, Head of Partner Enablement",
        )
        for n in range(1, 11)
    ]
    compiled = compile_digest([Section(SALES, tuple(ten[:5])), Section(TECHNICAL, tuple(ten[5:]))])
    html = compiled.html.fill(CONTACT.tags())
    assert len(Parsed(html).images) == 11
    assert len(html.encode()) < CLIPPED_HTML_BYTES
    text = compiled.text.fill(CONTACT.tags())
    unwrapped = " ".join(text.split())
    for item in ten:
        assert item.title in unwrapped
        assert f"{BASE}/t/c/{CONTACT.token}/{link_id(item)}\n" in text


def test_a_video_without_a_thumbnail_shows_its_duration_under_the_title() -> None:
    bare = video(4, image=None)
    html = compile_digest([Section(SALES, (bare,))]).html.source()
    parsed = Parsed(html)
    assert [image["src"] for image in parsed.images] == [f"{BASE}/t/o/%%token%%.gif"]
    assert parsed.texts_of(click(bare)) == ["Video number 4", "Watch (10:04)"]
    assert "10:04 · With Speaker 4</p>" in html


def test_another_kind_of_item_gets_no_play_mark_and_keeps_its_own_button() -> None:
    article = video(5, kind=ContentKind.ARTICLE, duration_seconds=None, speaker=None)
    parsed = Parsed(compile_digest([Section(SALES, (article,))]).html.source())
    assert parsed.texts_of(click(article)) == ["", "Video number 5", "Read more"]


def test_with_nothing_new_the_digest_says_so() -> None:
    compiled = compile_digest([])
    for part in (compiled.html.source(), compiled.text.source()):
        assert "There is nothing new for your role this time." in part
    assert "Watch" not in compiled.text.source()


def test_previews_watch_the_videos_directly_and_track_nothing() -> None:
    links = PreviewLinks(BASE)
    compiled = compile_digest(SECTIONS, links, links)
    parsed = Parsed(compiled.html.source())
    assert parsed.texts_of(FIRST.url or "") == ["", "Play", "Video number 1", "Watch (10:01)"]
    assert [image["src"] for image in parsed.images] == [FIRST.image, SECOND.image, THIRD.image]
    assert f"Watch (10:01):\n{FIRST.url}\n" in compiled.text.source()
