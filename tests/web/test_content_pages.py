"""/content and /content/<slug>: the library, filtered and paged, and one item as it will
appear, where it went and how relevant its audiences found it."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from commhub.delivery.outbox import OutboxBackend
from commhub.library.markdown import render_markdown
from commhub.render.tokens import message_tokens
from commhub.reports.items import item_report
from commhub.store.models import ContentItem, ContentKind, ContentSource, ContentStatus, UserRole
from commhub.web import create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in

SCRIPT = "<script>alert(1)</script>"


def staff_client(world: World, role: UserRole = UserRole.VIEWER) -> FlaskClient:
    app = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock))
    client = app.test_client()
    assert sign_in(client, add_user(world.runtime, role)) == 302
    return client


def from_file(world: World, slug: str, source_ref: str) -> None:
    """Make an item look imported from a file (World makes items as the UI would)."""
    with world.session() as session:
        session.execute(
            update(ContentItem)
            .where(ContentItem.slug == slug)
            .values(source=ContentSource.FILE, source_ref=source_ref)
        )


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def listed_slugs(html: str) -> list[str]:
    """The slugs of the items in the library table, in order."""
    return re.findall(r'<a href="/content/([^"?]+)">', html)


def test_an_empty_library_says_to_import_content(world: World) -> None:
    html = page(staff_client(world), "/content")
    assert "<title>Content · commhub</title>" in html
    assert html.count("<h1>") == 1
    assert "The library is empty" in html
    assert "<code>commhub content import</code>" in html
    assert "<table" not in html


def test_the_library_lists_items_newest_first_with_their_facts(world: World) -> None:
    world.item("older", ["sales"], published=NOW - timedelta(days=10), title="Older news")
    world.item(
        "newer",
        ["sales", "technical"],
        published=NOW - timedelta(days=2),
        expires=NOW + timedelta(days=30),
        title="Newer news",
        key_message="Deal registration pays",
        kind=ContentKind.VIDEO,
        status=ContentStatus.DRAFT,
    )
    html = page(staff_client(world), "/content")
    assert listed_slugs(html) == ["newer", "older"]
    row = html[html.index("Newer news") : html.index("Older news")]
    assert "video" in row
    assert "sales, technical" in row
    assert '<span class="badge warn">draft</span>' in row
    assert "Deal registration pays" in row
    assert "21 Nov 2026 – 23 Dec 2026" in row
    assert "ui" in row
    assert '<th scope="col">Title</th>' in html
    assert "<caption>" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("audience=technical", ["tech-deep-dive"]),
        ("kind=video", ["webinar"]),
        ("status=archived", ["old-prices"]),
        ("source=file", ["from-file"]),
        ("q=PRICE", ["old-prices", "price-update"]),  # title, case ignored
        ("q=deep-dive", ["tech-deep-dive"]),  # slug
        ("q=margins", ["price-update"]),  # summary
        ("q=100%25", []),  # % is a character, not a wildcard
        ("audience=sales&kind=article", ["old-prices", "price-update"]),
    ],
)
def test_filters_narrow_the_library(world: World, query: str, expected: list[str]) -> None:
    world.item("price-update", ["sales"], title="Price update", summary="Better margins.")
    world.item("old-prices", ["sales"], title="Old prices", status=ContentStatus.ARCHIVED,
               published=NOW - timedelta(days=40))  # fmt: skip
    world.item("tech-deep-dive", ["technical"], published=NOW - timedelta(days=3))
    world.item("webinar", ["marketing"], kind=ContentKind.VIDEO, video_url="https://v.example/1",
               published=NOW - timedelta(days=5))  # fmt: skip
    world.item("from-file", ["executive"], published=NOW - timedelta(days=60))
    from_file(world, "from-file", "news/from-file.md")
    html = page(staff_client(world), f"/content?{query}")
    assert sorted(listed_slugs(html)) == expected
    if not expected:
        assert "No item matches these filters" in html
        assert '<a href="/content">clear the filters</a>' in html


def test_the_key_message_filter_and_bad_filter_values(world: World) -> None:
    world.item("deals", ["sales"], key_message="Deal registration pays")
    world.item("security", ["sales"], key_message="Security comes first")
    client = staff_client(world)
    html = page(client, "/content")
    key_id = re.search(r'<option value="(\d+)" >Security comes first</option>', html)
    assert key_id, html
    assert listed_slugs(page(client, f"/content?key_message={key_id.group(1)}")) == ["security"]
    # Values that are not choices are no filter, not an error.
    for query in ("key_message=999999", "key_message=x", "kind=poem", "audience=nobody"):
        assert sorted(listed_slugs(page(client, f"/content?{query}"))) == ["deals", "security"]


def test_the_library_is_paged(world: World) -> None:
    for n in range(55):
        world.item(f"item-{n:02}", ["sales"], published=NOW - timedelta(hours=n))
    client = staff_client(world)
    first = page(client, "/content?audience=sales")
    assert listed_slugs(first) == [f"item-{n:02}" for n in range(50)]
    assert "Showing 1–50 of 55 items" in first
    assert 'href="/content?audience=sales&amp;page=2"' in first
    second = page(client, "/content?audience=sales&page=2")
    assert listed_slugs(second) == [f"item-{n:02}" for n in range(50, 55)]
    assert "Showing 51–55 of 55 items" in second


def test_titles_are_text_not_markup(world: World) -> None:
    world.item("hostile", ["sales"], title=SCRIPT, summary=SCRIPT, key_message=SCRIPT)
    client = staff_client(world)
    for path in ("/content", "/content/hostile", f"/content?q={SCRIPT}"):
        html = page(client, path)
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_unknown_slug_is_404(world: World) -> None:
    world.item("news/known", ["sales"])
    client = staff_client(world)
    assert client.get("/content/no-such-item").status_code == 404
    assert client.get("/content/news/unknown").status_code == 404
    assert client.get("/content/news").status_code == 404


def test_slugs_with_folders_link_to_their_page(world: World) -> None:
    """Imported items are named by their path under content/, slashes and all."""
    world.item("api/v3-guide", ["technical"], title="The v3 guide")
    client = staff_client(world)
    assert listed_slugs(page(client, "/content")) == ["api/v3-guide"]
    assert "<h1>The v3 guide</h1>" in page(client, "/content/api/v3-guide")


def test_an_item_page_shows_the_item_as_it_will_appear(world: World) -> None:
    markdown = f"Read **this** first.\n\n{SCRIPT}\n\n[bad](javascript:alert(1))"
    world.item(
        "webinar",
        ["sales", "technical"],
        title="Partner webinar",
        kind=ContentKind.VIDEO,
        key_message="Deal registration pays",
        priority=3,
        video_url="https://video.example/42",
        thumbnail_url="https://video.example/42.jpg",
        duration_seconds=754,
        speaker="Dana Speaker",
        published=NOW - timedelta(days=1),
        expires=NOW + timedelta(days=7),
        body_markdown=markdown,
        body_html=render_markdown(markdown),
    )
    from_file(world, "webinar", "videos/webinar.md")
    html = page(staff_client(world), "/content/webinar")
    assert "<title>Partner webinar · commhub</title>" in html
    assert html.count("<h1>") == 1
    for fact in ("Sales", "Technical", "Deal registration pays", "Dana Speaker",
                 "https://video.example/42", "12 min 34 s", "22 Nov 2026, 09:00 UTC",
                 "30 Nov 2026, 09:00 UTC", "<dd>3</dd>", "<code>videos/webinar.md</code>",
                 "<code>commhub content import</code>"):  # fmt: skip
        assert fact in html, fact
    assert '<span class="badge good">published</span>' in html
    # The body as the sanitiser left it: markup kept, script and javascript: links gone.
    assert "Read <strong>this</strong> first." in html
    assert SCRIPT not in html
    assert 'href="javascript' not in html
    assert "No edition has carried it yet" in html
    assert "Nothing delivered yet" in html


def test_stored_body_html_is_sanitised_again_before_it_is_shown(world: World) -> None:
    world.item("raw", ["sales"], url=None, body_html=f"<p onclick='x()'>Hello</p>{SCRIPT}")
    html = page(staff_client(world), "/content/raw")
    assert "<p>Hello</p>" in html
    assert SCRIPT not in html
    assert "onclick" not in html


def test_body_headings_go_under_the_pages_own(world: World) -> None:
    markdown = "# Big title\n\n## Part\n\n###### Small\n\nText about `<h1>` tags."
    world.item("headed", ["sales"], url=None, body_html=render_markdown(markdown))
    html = page(staff_client(world), "/content/headed")
    assert html.count("<h1>") == 1
    assert "<h3>Big title</h3>" in html
    assert "<h4>Part</h4>" in html
    assert "<h6>Small</h6>" in html
    assert "Text about <code>&lt;h1&gt;</code> tags." in html


def test_an_item_without_html_shows_its_markdown_rendered(world: World) -> None:
    world.item("md-only", ["sales"], url=None, body_markdown="Some *emphasis*.")
    assert "Some <em>emphasis</em>." in page(staff_client(world), "/content/md-only")


def test_a_link_that_is_not_http_is_shown_as_text(world: World) -> None:
    world.item("odd-link", ["sales"], url="javascript:alert(1)")
    html = page(staff_client(world), "/content/odd-link")
    assert 'href="javascript' not in html
    assert "<code>javascript:alert(1)</code>" in html


def _send_news(world: World, tmp_path: Path) -> dict[str, int]:
    """An edition of "news" carrying deal-reg to two sales contacts; message ids by name."""
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], title="Deal registration", key_message="Deals pay")
    world.item("other", ["sales"], priority=-1)
    world.contact("ana@p.example", ["sales"])
    world.contact("ben@p.example", ["sales", "technical"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return {a.split("@")[0]: m.id for a, m in world.messages(edition_id).items()} | {
        "edition": edition_id
    }


def test_an_item_page_shows_where_it_went_and_its_relevance(world: World, tmp_path: Path) -> None:
    sent = _send_news(world, tmp_path)
    client = staff_client(world)
    tokens = message_tokens(world.runtime.settings.secret_keys)
    ana, ben = tokens.sign(sent["ana"]), tokens.sign(sent["ben"])
    world.clock.current += timedelta(hours=1)
    client.get(f"/t/o/{ana}.gif")
    client.get(f"/t/c/{ana}/1")
    client.post(f"/t/v/{ana}/1/no")
    client.post(f"/t/v/{ana}/1/yes")  # the last vote counts
    client.post(f"/t/v/{ben}/1/yes")

    html = page(client, "/content/deal-reg")
    assert f'<a href="/editions/{sent["edition"]}">#{sent["edition"]}</a>' in html
    assert '<a href="/series/news">Partner News</a>' in html
    assert '<span class="badge good">sent</span>' in html
    relevance = html[html.index('id="relevance"') :]
    cells = re.findall(r'<td class="num">([^<]*)</td>', relevance)
    # delivered, opened, clicked, yes, no, relevance
    assert cells[:5] == ["2", "1", "1", "2", "0"]
    assert "100%" in relevance

    with world.session() as session:
        item_id = session.query(ContentItem.id).filter_by(slug="deal-reg").scalar()
        narrowed = item_report(session, item_id)
        whole = [r for r in item_report(session) if r.item == "deal-reg"]
    assert narrowed == whole


def test_the_narrowed_report_matches_the_whole_one_on_votes_and_role_sets(
    world: World, tmp_path: Path
) -> None:
    sent = _send_news(world, tmp_path)
    client = staff_client(world)
    tokens = message_tokens(world.runtime.settings.secret_keys)
    client.post(f"/t/v/{tokens.sign(sent['ana'])}/1/no")
    client.post(f"/t/v/{tokens.sign(sent['ben'])}/1/yes")
    client.post(f"/t/v/{tokens.sign(sent['ben'])}/2/no")  # the other item
    with world.session() as session:
        for slug in ("deal-reg", "other"):
            item_id = session.query(ContentItem.id).filter_by(slug=slug).scalar()
            whole = [r for r in item_report(session) if r.item == slug]
            assert item_report(session, item_id) == whole
            assert whole


def test_the_content_pages_are_read_only(world: World) -> None:
    world.item("price-update", ["sales"])
    client = staff_client(world)
    assert client.post("/content").status_code in (400, 405)
    assert client.post("/content/price-update").status_code in (400, 405)
