"""Feed sources as rows, and what their entries become: every wrong field of a new source
named at once with nothing stored; entries turned into drafts (or published items) for the
source's audiences plus those whose keywords match; a re-import of the same entries writes
nothing; a changed draft is updated, a changed published item is never rewritten."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from commhub.errors import Conflict, InvalidInput
from commhub.feeds import (
    FeedEntry,
    NewSource,
    ParsedFeed,
    add_source,
    backoff,
    import_entries,
    parse_interval,
    parse_rule,
    remove_source,
)
from commhub.store import (
    AuditEntry,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    FeedEntryRecord,
    FeedSource,
)
from tests.builders import NOW, World

URL = "https://blog.vendor.example/feed.xml"


def entry(key: str, title: str, **fields: object) -> FeedEntry:
    values: dict[str, object] = {
        "key": key,
        "title": title,
        "link": f"https://blog.vendor.example/{key}",
        "summary": f"About {title}.",
        "body_html": "<p>Body</p>",
        "published": datetime(2026, 11, 20, 9, tzinfo=UTC),
        "updated": None,
        "author": "Dana Writer",
        "tags": (),
        "video_url": None,
        "thumbnail_url": None,
        "duration_seconds": None,
        "is_video": False,
    }
    values.update(fields)
    return FeedEntry(**values)  # type: ignore[arg-type]


def feed(*entries: FeedEntry) -> ParsedFeed:
    return ParsedFeed(title="Vendor blog", link=None, entries=entries, format="rss20")


def add(world: World, **changes: object) -> int:
    wanted = dataclasses.replace(NewSource(URL, ["technical"]), **changes)  # type: ignore[arg-type]
    with world.session() as session:
        return add_source(session, wanted, NOW).id


def run_import(world: World, source_id: int, parsed: ParsedFeed) -> str:
    with world.session() as session:
        source = session.get(FeedSource, source_id)
        assert source is not None
        return str(import_entries(session, source, parsed, world.clock.now()))


def items(world: World) -> dict[str, ContentItem]:
    with world.session() as session:
        found = {i.title: i for i in session.scalars(select(ContentItem))}
        for item in found.values():
            _ = item.audiences
            session.expunge(item)
        return found


def test_a_source_is_checked_whole_and_nothing_is_stored_when_anything_is_wrong(
    world: World,
) -> None:
    wanted = NewSource(
        url="http://127.0.0.1/feed",
        audiences=["technical", "nobody"],
        rules=["keyword=api => development", "keyword=api -> nobody"],
        kind="podcast",
        every="1 fortnight",
    )
    with pytest.raises(InvalidInput) as refused, world.session() as session:
        add_source(session, wanted, NOW)
    said = {(p.field, p.message) for p in refused.value.problems}
    fields = [field for field, _ in said]
    assert sorted(fields) == ["audiences", "every", "kind", "rule", "rule", "url"]
    assert any("loopback" in message for field, message in said if field == "url")
    with world.session() as session:
        assert session.scalar(select(func.count(FeedSource.id))) == 0


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://files.vendor.example/feed", "http or https"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://2130706433/feed", "loopback"),
        ("http://[::ffff:10.0.0.1]/feed", "private"),
    ],
)
def test_an_unsafe_url_is_refused_without_connecting(world: World, url: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused, world.session() as session:
        add_source(session, NewSource(url, ["technical"]), NOW)
    assert why in str(refused.value)


def test_a_source_is_stored_due_now_logged_and_unique(world: World) -> None:
    source_id = add(world, rules=["keyword=API -> development"], every="30m", publish=True)
    with world.session() as session:
        source = session.get(FeedSource, source_id)
        assert source is not None
        assert source.rules == ["keyword=api -> development"]
        assert source.interval_seconds == 1800
        assert source.next_fetch_at == NOW
        assert source.publish
        logged = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "feed source"))
        assert logged is not None
        assert logged.action == "created"
    with pytest.raises(Conflict, match=f"is feed source {source_id} already"):
        add(world)


def test_rules_and_intervals_read_as_people_write_them() -> None:
    rule = parse_rule("keyword = Release Notes -> technical")
    assert rule is not None
    assert (rule.keyword, rule.audience) == ("release notes", "technical")
    assert parse_rule("api -> technical") is None
    assert parse_interval("1h30m") == timedelta(minutes=90)
    assert parse_interval("2d") == timedelta(days=2)
    assert parse_interval("soon") is None
    assert parse_interval("1h later") is None


def test_the_back_off_doubles_and_stops_at_a_day() -> None:
    hour = 3600
    assert [backoff(hour, n) for n in (1, 2, 3)] == [timedelta(hours=h) for h in (1, 2, 4)]
    assert backoff(hour, 6) == timedelta(days=1)
    assert backoff(hour, 500) == timedelta(days=1)


def test_entries_become_drafts_for_the_sources_audiences_and_the_matching_keywords(
    world: World,
) -> None:
    source_id = add(world, rules=["keyword=pricing -> sales"])
    said = run_import(
        world,
        source_id,
        feed(
            entry("a", "New pricing for partners"),
            entry("b", "Webhooks are here", tags=("changelog",)),  # development's own keyword
            entry("c", "Nothing special"),
        ),
    )
    assert said == "3 new, 0 updated, 0 unchanged"
    found = items(world)
    assert [a.slug for a in found["New pricing for partners"].audiences] == ["sales", "technical"]
    assert [a.slug for a in found["Webhooks are here"].audiences] == ["development", "technical"]
    assert [a.slug for a in found["Nothing special"].audiences] == ["technical"]
    item = found["Nothing special"]
    assert item.status is ContentStatus.DRAFT
    assert item.source is ContentSource.FEED
    assert item.source_ref == URL
    assert item.slug == f"feeds/{source_id}/nothing-special"
    assert item.url == "https://blog.vendor.example/c"
    assert item.speaker == "Dana Writer"
    assert item.body_html == "<p>Body</p>"


def test_a_source_that_publishes_and_one_without_audience_keywords(world: World) -> None:
    source_id = add(world, publish=True, use_audience_keywords=False)
    run_import(world, source_id, feed(entry("b", "Webhooks are here", tags=("changelog",))))
    item = items(world)["Webhooks are here"]
    assert item.status is ContentStatus.PUBLISHED
    assert [a.slug for a in item.audiences] == ["technical"]


def test_a_video_entry_becomes_a_video_item(world: World) -> None:
    source_id = add(world)
    run_import(
        world,
        source_id,
        feed(
            entry(
                "yt:video:abc", "Partner webinar", is_video=True,
                video_url="https://www.youtube.com/watch?v=abc",
                thumbnail_url="https://i.ytimg.com/vi/abc/hqdefault.jpg", duration_seconds=754,
            )
        ),
    )  # fmt: skip
    item = items(world)["Partner webinar"]
    assert item.kind is ContentKind.VIDEO
    assert item.video_url == "https://www.youtube.com/watch?v=abc"
    assert item.thumbnail_url == "https://i.ytimg.com/vi/abc/hqdefault.jpg"
    assert item.duration_seconds == 754


def test_the_same_entries_again_write_nothing_even_without_dates(world: World) -> None:
    source_id = add(world)
    undated = entry("https://blog.vendor.example/x", "Undated", published=None)
    run_import(world, source_id, feed(undated, entry("a", "Dated")))
    first = items(world)
    assert first["Undated"].publish_at == world.clock.now()  # dated when first fetched
    world.clock.current += timedelta(hours=3)
    assert run_import(world, source_id, feed(undated, entry("a", "Dated"))) == (
        "0 new, 0 updated, 2 unchanged"
    )
    again = items(world)
    assert again["Undated"].publish_at == first["Undated"].publish_at
    assert again["Undated"].updated_at == first["Undated"].updated_at


def test_a_changed_draft_is_updated_and_a_changed_published_item_waits(world: World) -> None:
    source_id = add(world)
    run_import(world, source_id, feed(entry("a", "First"), entry("b", "Second")))
    with world.session() as session:
        published = session.scalar(select(ContentItem).where(ContentItem.title == "Second"))
        assert published is not None
        published.status = ContentStatus.PUBLISHED
    said = run_import(
        world,
        source_id,
        feed(entry("a", "First, revised"), entry("b", "Second, revised")),
    )
    assert said == "0 new, 1 updated, 0 unchanged, 1 waiting for an editor"
    found = items(world)
    assert "First, revised" in found  # the draft took the new text
    assert "Second" in found  # the published item did not
    assert "Second, revised" not in found
    with world.session() as session:
        waiting = session.scalar(
            select(FeedEntryRecord).where(FeedEntryRecord.pending.is_not(None))
        )
        assert waiting is not None
        assert waiting.pending is not None
        assert waiting.pending["title"] == "Second, revised"


def test_removing_a_source_keeps_its_items(world: World) -> None:
    source_id = add(world)
    run_import(world, source_id, feed(entry("a", "Kept")))
    with world.session() as session:
        remove_source(session, source_id, NOW)
    with world.session() as session:
        assert session.scalar(select(func.count(FeedSource.id))) == 0
        assert session.scalar(select(func.count(FeedEntryRecord.id))) == 0
    assert "Kept" in items(world)
