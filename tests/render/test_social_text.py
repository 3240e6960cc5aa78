"""A social post's text: measured in each network's units and shortened to fit, with the
shipped templates/social/*.txt."""

from __future__ import annotations

import enum
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import regex
from jinja2 import Template

from commhub.errors import TemplateError
from commhub.render.social_text import (
    LIMITS,
    ComposedPost,
    PostTooLong,
    SocialComposer,
    SocialItem,
    measure,
    normalise_hashtags,
)
from commhub.resources import templates_dir

LINK = "https://hub.example.com/s/Ab3dE"  # 31 characters
FAMILY = "👨\u200d👩\u200d👧"  # one grapheme: 5 code points, 8 UTF-16 units
FLAG = "🇬🇧"  # one grapheme: 2 code points, 4 UTF-16 units
THUMB = "👍🏽"  # one grapheme: 2 code points, 4 UTF-16 units
E_ACUTE = "e\u0301"  # one grapheme: 2 code points
LONG_URL = "https://example.com/" + "a" * 280  # 300 characters


@pytest.fixture(scope="module")
def composer() -> SocialComposer:
    return SocialComposer(templates_dir())


def compose(
    composer: SocialComposer,
    network: str,
    title: str,
    *,
    link: str = LINK,
    limit: int | None = None,
    **fields: object,
) -> ComposedPost:
    item = SocialItem(title, **fields)  # type: ignore[arg-type]
    return composer.compose(
        network, item, link, series_name="Partner News", account_name="main", limit=limit
    )


def words(length: int, word: str = "word") -> str:
    """Words of `word` and spaces, exactly `length` characters, ending in a letter."""
    text = " ".join([word] * (length // (len(word) + 1) + 2))[:length]
    return text if not text.endswith(" ") else text[:-1] + "x"


def headline_of(post: ComposedPost) -> str:
    return post.text.split("\n\n")[0]


def cluster_ends(text: str) -> set[int]:
    return {match.end() for match in regex.finditer(r"\X", text)} | {0}


# Measuring


def test_mastodon_counts_grapheme_clusters() -> None:
    assert measure(FAMILY, "mastodon") == 1
    assert measure(FLAG, "mastodon") == 1
    assert measure(THUMB, "mastodon") == 1
    assert measure(E_ACUTE, "mastodon") == 1
    assert measure("日本語", "mastodon") == 3
    assert measure(f"{FAMILY}{FLAG}{THUMB}{E_ACUTE} ok", "mastodon") == 7


def test_mastodon_counts_any_url_as_23() -> None:
    assert len(LONG_URL) == 300
    assert measure(LONG_URL, "mastodon") == 23
    assert measure("https://a.io", "mastodon") == 23  # a short one too
    assert measure(f"see {LONG_URL} and HTTP://EXAMPLE.ORG/x", "mastodon") == 4 + 23 + 5 + 23
    # Trailing punctuation is not part of the URL: it counts.
    assert measure(f"({LONG_URL}).", "mastodon") == 1 + 23 + 2


def test_mastodon_counts_urls_it_would_not_link_in_full() -> None:
    # Mastodon links only known domains, and a URL glued to a word is no URL: counted whole.
    assert measure("http://localhost:8000/s/x", "mastodon") == 25
    assert measure("http://127.0.0.1/" + "a" * 30, "mastodon") == 47
    assert measure("xhttps://example.com/abc", "mastodon") == 24


def test_linkedin_counts_utf16_units_and_urls_in_full() -> None:
    assert measure(FAMILY, "linkedin") == 8
    assert measure(FLAG, "linkedin") == 4
    assert measure(THUMB, "linkedin") == 4
    assert measure(E_ACUTE, "linkedin") == 2
    assert measure("日本語", "linkedin") == 3
    assert measure(LONG_URL, "linkedin") == 300


def test_a_webhook_counts_code_points() -> None:
    assert measure(FAMILY, "webhook") == 5
    assert measure(FLAG + E_ACUTE, "webhook") == 4
    assert measure(LONG_URL, "webhook") == 300


def test_limits_and_unknown_networks() -> None:
    assert dict(LIMITS) == {"mastodon": 500, "linkedin": 3000, "webhook": 4000}
    with pytest.raises(ValueError, match="unknown network"):
        measure("x", "twitter")


def test_a_network_enum_of_strings_is_accepted(composer: SocialComposer) -> None:
    class Network(enum.StrEnum):
        MASTODON = "mastodon"

    assert measure(FAMILY, Network.MASTODON) == 1
    post = compose(composer, Network.MASTODON, "Hello")
    assert post.text == f"Hello\n\n{LINK}"


# The shipped templates


def test_the_default_posts(composer: SocialComposer) -> None:
    tags = ("partners", "Q1")
    mastodon = compose(composer, "mastodon", "Q1 pricing", summary="Save 15%.", hashtags=tags)
    assert mastodon.text == f"Q1 pricing\n\n{LINK}\n\n#partners #Q1"
    assert (mastodon.length, mastodon.limit, mastodon.shortened) == (
        10 + 2 + 23 + 2 + 13,
        500,
        False,
    )
    assert mastodon.hashtags == ("#partners", "#Q1")
    linkedin = compose(composer, "linkedin", "Q1 pricing", summary="Save 15%.", hashtags=tags)
    assert linkedin.text == f"Q1 pricing\n\nSave 15%.\n\n{LINK}\n\n#partners #Q1"
    assert linkedin.length == len(linkedin.text)
    webhook = compose(composer, "webhook", "Q1 pricing", summary="Save 15%.", hashtags=tags)
    assert webhook.text == f"Q1 pricing {LINK} #partners #Q1"
    assert webhook.limit == 4000


def test_empty_values_leave_no_gaps(composer: SocialComposer) -> None:
    assert compose(composer, "linkedin", "Q1 pricing").text == f"Q1 pricing\n\n{LINK}"
    assert compose(composer, "mastodon", "Q1 pricing").text == f"Q1 pricing\n\n{LINK}"
    assert compose(composer, "webhook", "Q1 pricing").text == f"Q1 pricing {LINK}"


def test_the_social_line_is_the_headline_when_given(composer: SocialComposer) -> None:
    post = compose(composer, "mastodon", "The title", social_line="  Watch this \n now ")
    assert headline_of(post) == "Watch this now"
    assert headline_of(compose(composer, "mastodon", "The title", social_line=" ")) == "The title"


def test_control_characters_are_stripped_and_whitespace_collapsed(
    composer: SocialComposer,
) -> None:
    post = compose(composer, "webhook", "Q1\x00 \x1b[31mpricing\r\n\tnow\u2028!\x85", summary="")
    assert post.text == f"Q1 [31mpricing now ! {LINK}"


def test_a_hostile_title_is_a_value_never_a_template(composer: SocialComposer) -> None:
    title = "{{ 7*7 }} {% raw %} {# no #} {{ ''.__class__ }}"
    for network in LIMITS:
        post = compose(composer, network, title, summary="{% endraw %}")
        assert post.text.startswith(title)
        assert "49" not in post.text


def test_hashtags_are_normalised() -> None:
    raw = [
        "partner news", "#Café", "#café", "CAFÉ", "Cafe\u0301", "#日本", "c++", "#2026", "",
        "  ", "#hello-world!", "##x", "#हिन्दी", "Q1_2026",
    ]  # fmt: skip
    assert normalise_hashtags(raw) == (
        "#partnernews", "#Café", "#日本", "#c", "#helloworld", "#x", "#हिन्दी", "#Q1_2026",
    )  # fmt: skip


# Fitting Mastodon's 500


def test_exactly_500_on_mastodon_is_untouched(composer: SocialComposer) -> None:
    title = words(500 - 2 - 23)
    post = compose(composer, "mastodon", title, link=LONG_URL)
    assert post.text == f"{title}\n\n{LONG_URL}"
    assert (post.length, post.shortened) == (500, False)


def test_501_on_mastodon_is_cut_between_words(composer: SocialComposer) -> None:
    title = words(501 - 2 - 23)
    post = compose(composer, "mastodon", title, link=LONG_URL)
    assert post.shortened
    assert post.length <= 500
    headline = headline_of(post)
    assert headline.endswith("word…")
    kept = headline.removesuffix("…")
    assert title.startswith(kept + " ")
    assert len(kept) > 470  # only the last word went
    assert post.text.endswith(f"\n\n{LONG_URL}")  # the URL whole


def test_grapheme_clusters_are_never_split_on_mastodon(composer: SocialComposer) -> None:
    # 480 families: 480 + 2 + 23 = 505. Cut between clusters: 474 and the ellipsis fill 500.
    post = compose(composer, "mastodon", FAMILY * 480)
    assert post.text == FAMILY * 474 + "…\n\n" + LINK
    assert post.length == 500
    mixed = (FLAG + THUMB + E_ACUTE + FAMILY) * 150  # 600 clusters, no spaces
    post = compose(composer, "mastodon", mixed)
    headline = headline_of(post).removesuffix("…")
    assert post.length == 500
    assert len(headline) in cluster_ends(mixed)
    assert mixed.startswith(headline)


def test_japanese_without_spaces_is_cut_between_characters(composer: SocialComposer) -> None:
    # Kana with a combining voiced mark (か + ゛) is one cluster: never split.
    title = "日本語のテキストか\u3099" * 60
    assert measure(title, "mastodon") == 9 * 60
    post = compose(composer, "mastodon", title, hashtags=("日本",))
    assert post.length == 500  # every boundary between these characters may be cut
    assert post.hashtags == ("#日本",)
    headline = headline_of(post).removesuffix("…")
    assert title.startswith(headline)
    assert measure(headline, "mastodon") == 500 - 1 - 2 - 23 - 2 - 3
    assert len(headline) in cluster_ends(title)


def test_a_latin_lead_in_does_not_cost_the_japanese_after_it(composer: SocialComposer) -> None:
    title = "New: " + "日本語のテキスト" * 80
    post = compose(composer, "mastodon", title)
    assert post.length == 500
    assert headline_of(post).startswith("New: 日本語")


def test_greek_and_cyrillic_are_cut_between_words(composer: SocialComposer) -> None:
    for word in ("Καλημέρα", "Привет", "Ελληνικά"):
        title = words(700, word)
        post = compose(composer, "mastodon", title)
        kept = headline_of(post).removesuffix("…")
        assert post.length <= 500
        assert post.length > 500 - len(word) - 2
        assert kept.endswith(word)
        assert title.startswith(kept + " ")


def test_a_url_in_the_headline_is_never_cut(composer: SocialComposer) -> None:
    url = "https://example.com/" + "p" * 60
    title = f"Read {url} today"
    for limit in range(len(LINK) + 3, len(LINK) + len(title) + 2):
        post = compose(composer, "webhook", title, limit=limit)
        headline = post.text.removesuffix(" " + LINK)
        assert post.length <= limit
        assert url in headline or "https" not in headline
    # With room for the URL but not the last word: the ellipsis set apart from the URL.
    post = compose(composer, "webhook", title, limit=len(LINK) + len(title) - 2)
    assert post.text == f"Read {url} … {LINK}"


def test_a_headline_that_is_one_long_url_is_kept_whole_or_refused(
    composer: SocialComposer,
) -> None:
    post = compose(composer, "mastodon", LONG_URL, link=LONG_URL)
    assert post.text == f"{LONG_URL}\n\n{LONG_URL}"
    assert post.length == 48
    with pytest.raises(PostTooLong):
        compose(composer, "linkedin", LONG_URL, limit=400, link=LONG_URL)


# Hashtags


def test_hashtags_are_dropped_whole_from_the_end(composer: SocialComposer) -> None:
    tags = ("alpha", "beta", "gamma")
    full = f"Hi {LINK} #alpha #beta #gamma"
    post = compose(composer, "webhook", "Hi", hashtags=tags, limit=len(full))
    assert (post.text, post.shortened) == (full, False)
    post = compose(composer, "webhook", "Hi", hashtags=tags, limit=len(full) - 1)
    # Without #gamma the whole headline fits again: it is not cut.
    assert post.text == f"Hi {LINK} #alpha #beta"
    assert (post.hashtags, post.shortened) == (("#alpha", "#beta"), True)
    post = compose(composer, "webhook", "Hi", hashtags=tags, limit=len(LINK) + 3)
    assert post.text == f"Hi {LINK}"
    assert post.hashtags == ()


def test_the_headline_is_cut_before_any_hashtag_is_dropped(composer: SocialComposer) -> None:
    tags = ("alpha", "beta")
    post = compose(composer, "webhook", "Hello wonderful world", hashtags=tags, limit=55)
    assert post.text == f"Hello… {LINK} #alpha #beta"
    assert post.hashtags == ("#alpha", "#beta")


# LinkedIn's 3,000 and a webhook's own limit


def test_exactly_3000_on_linkedin_is_untouched_and_3001_is_cut(composer: SocialComposer) -> None:
    title = words(3000 - 2 - len(LINK))
    post = compose(composer, "linkedin", title)
    assert (post.length, post.shortened, post.text) == (3000, False, f"{title}\n\n{LINK}")
    title = words(3001 - 2 - len(LINK))
    post = compose(composer, "linkedin", title)
    assert post.shortened
    assert 2990 < post.length <= 3000
    assert title.startswith(headline_of(post).removesuffix("…") + " ")


def test_linkedin_counts_emoji_in_utf16_units(composer: SocialComposer) -> None:
    post = compose(composer, "linkedin", FAMILY * 400)  # 3,200 units
    families = (3000 - 1 - 2 - len(LINK)) // 8
    assert post.text == FAMILY * families + "…\n\n" + LINK
    assert post.length == families * 8 + 1 + 2 + len(LINK)


def test_a_webhook_with_a_configured_limit(composer: SocialComposer) -> None:
    title = words(200, "partner")
    post = compose(composer, "webhook", title, limit=120, hashtags=("news",))
    assert post.limit == 120
    assert 110 < post.length <= 120
    assert post.text.endswith(f"… {LINK} #news")


def test_a_link_alone_over_a_tiny_limit_is_refused(composer: SocialComposer) -> None:
    with pytest.raises(PostTooLong) as raised:
        compose(composer, "webhook", "Hello world", hashtags=("news",), limit=30)
    error = raised.value
    assert isinstance(error, ValueError)
    assert (error.network, error.limit, error.length) == ("webhook", 30, len(LINK))
    assert "webhook" in str(error)
    assert "30" in str(error)
    assert str(len(LINK)) in str(error)


def test_a_limit_must_be_positive_and_the_network_known(composer: SocialComposer) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        compose(composer, "webhook", "Hi", limit=0)
    with pytest.raises(ValueError, match="unknown network"):
        compose(composer, "../mastodon", "Hi")


def test_a_long_text_is_fitted_in_few_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = SocialComposer(templates_dir())
    calls: list[str] = []
    render = counting._render

    def counted(template: Template, context: dict[str, Any]) -> str:
        calls.append(context["text"])
        return render(template, context)

    monkeypatch.setattr(counting, "_render", counted)
    post = compose(counting, "linkedin", words(20_000), hashtags=("a", "b", "c"))
    assert 2990 < post.length <= 3000
    assert post.hashtags == ("#a", "#b", "#c")
    assert len(calls) < 40  # a binary search, not one render per word


# Templates a team edits


def make_templates(tmp_path: Path, **sources: str) -> Path:
    shutil.copytree(templates_dir() / "social", tmp_path / "social")
    for network, source in sources.items():
        (tmp_path / "social" / f"{network}.txt").write_text(source, encoding="utf-8")
    return tmp_path


def test_a_template_may_place_the_link_and_hashtags_anywhere(tmp_path: Path) -> None:
    source = (
        "{{ link }} {{ hashtags|join(' ') }}\n\n{{ text }}\n\n"
        "{{ item.kind }} by {{ item.speaker }}, {{ item.duration_minutes }} min "
        "({{ series.name }}, {{ account.name }} on {{ account.network }})\n"
    )
    composer = SocialComposer(make_templates(tmp_path, mastodon=source))
    item = SocialItem(words(600), kind="video", speaker="Ada", duration_seconds=845)
    post = composer.compose("mastodon", item, LINK, series_name="Partner News", account_name="main")
    assert post.text.startswith(f"{LINK}\n\nword word")
    assert post.text.endswith("…\n\nvideo by Ada, 14 min (Partner News, main on mastodon)")
    assert post.length <= 500


def test_a_broken_template_raises_template_error_naming_file_and_line(tmp_path: Path) -> None:
    folder = make_templates(
        tmp_path, mastodon="{# vars #}\n{{ text }}\n{{ item.nope }}\n", linkedin="{{ text\n"
    )
    (folder / "social" / "webhook.txt").unlink()
    composer = SocialComposer(folder)
    with pytest.raises(TemplateError) as raised:
        compose(composer, "mastodon", "Hi")
    [problem] = raised.value.problems
    assert problem.source == str(folder / "social" / "mastodon.txt")
    assert problem.line == 3
    assert "nope" in problem.message
    with pytest.raises(TemplateError) as raised:
        compose(composer, "linkedin", "Hi")
    assert raised.value.problems[0].source == str(folder / "social" / "linkedin.txt")
    assert raised.value.problems[0].line == 1
    with pytest.raises(TemplateError, match="no such template"):
        compose(composer, "webhook", "Hi")
    problems = composer.check_templates()
    assert len(problems) == 3
    assert [p.split(":")[0] for p in problems] == [
        str(folder / "social" / f"{network}.txt") for network in ("mastodon", "linkedin", "webhook")
    ]


def test_the_shipped_templates_check_clean(composer: SocialComposer) -> None:
    assert composer.check_templates() == []


def test_templates_are_parsed_once_per_composer(tmp_path: Path) -> None:
    folder = make_templates(tmp_path)
    composer = SocialComposer(folder)
    assert compose(composer, "webhook", "Hi").text == f"Hi {LINK}"
    (folder / "social" / "webhook.txt").write_text("{{ link }} {{ text }}", encoding="utf-8")
    assert compose(composer, "webhook", "Hi").text == f"Hi {LINK}"
    assert compose(SocialComposer(folder), "webhook", "Hi").text == f"{LINK} Hi"


# Many random texts

PIECES = [
    "partner", "news", "Καλημέρα", "Привет", "日本語のテキスト", "中文标题", "ไทย", FAMILY,
    FLAG, THUMB, E_ACUTE, "x" + E_ACUTE * 3, "https://example.com/a/b?c=d", "#inline",
    "#Café", "(see)", "—", ",", "http://localhost/zz", "a" * 40, "https://x.org/" + "q" * 90,
]  # fmt: skip
TAG_POOL = ["partners", "Q1", "日本", "Café", "video", "long_tag_name_here", "x y"]


def test_random_texts_always_fit_and_keep_urls_and_hashtags_whole(
    composer: SocialComposer,
) -> None:
    rng = random.Random(20_260_301)
    fitted = 0
    refused_limits: list[tuple[int, int]] = []
    for _ in range(400):
        network = rng.choice(sorted(LIMITS))
        link = "https://hub.example.com/s/" + "k" * rng.randint(1, 60)
        separator = rng.choice([" ", " ", "", "  \n"])
        title = separator.join(rng.choice(PIECES) for _ in range(rng.randint(1, 300)))
        tags = tuple(rng.sample(TAG_POOL, rng.randint(0, len(TAG_POOL))))
        limit = rng.choice([None, rng.randint(20, 600)])
        try:
            post = compose(composer, network, title, link=link, hashtags=tags, limit=limit)
        except PostTooLong as error:
            refused_limits.append((error.limit, limit or LIMITS[network]))
            continue
        fitted += 1
        assert post.length == measure(post.text, network) <= post.limit
        assert post.limit == (limit or LIMITS[network])
        assert link in post.text.split()
        normalised = normalise_hashtags(tags)
        assert post.hashtags == normalised[: len(post.hashtags)]
        for tag in post.hashtags:
            assert tag in post.text.split()
        headline = post.text.partition(" " + link if network == "webhook" else "\n\n")[0]
        clean = " ".join(title.split())
        if not post.shortened:
            assert headline == clean
            assert post.hashtags == normalised
            continue
        kept = headline.removesuffix("…").removesuffix(" ")
        assert clean.startswith(kept)
        assert len(kept) in cluster_ends(clean)
        # A URL, or a hashtag (a '#' not glued to a word), is kept whole or not at all.
        for match in regex.finditer(r"https?://\S+|(?<![\w])#[\p{L}\p{M}\p{Nd}_]+", clean):
            assert not match.start() < len(kept) < match.end()
    assert fitted > 200
    assert len(refused_limits) > 10
    assert all(told == limit for told, limit in refused_limits)
