"""/feed-sources and what editors do with a feed's items in the browser: everyone sees each
source's state (its last error included); editors add one (every problem beside its field,
nothing stored), make one due, remove one (its items stay); a feed's draft is published or
archived from its page, and a newer version of a published item is taken only by a person."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.feeds import FeedEntry, NewSource, ParsedFeed, add_source, import_entries
from commhub.store import (
    AuditEntry,
    ContentItem,
    ContentSource,
    ContentStatus,
    FeedSource,
    UserRole,
)
from tests.builders import NOW, World
from tests.web.staff import csrf_token, staff_session

URL = "https://blog.vendor.example/feed.xml"


def post(client: FlaskClient, path: str, **fields: str | list[str]) -> tuple[int, str]:
    answer = client.post(path, data={"csrf_token": csrf_token(client, "/account"), **fields})
    if answer.status_code == 303:
        return 303, client.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.status_code, answer.get_data(as_text=True)


def a_source(world: World, failing: bool = False) -> int:
    with world.session() as session:
        source = add_source(session, NewSource(URL, ["technical"], ["keyword=api -> development"]),
                            NOW)  # fmt: skip
        if failing:
            source.failures = 2
            source.last_error = "HTTP 404 Not Found"
        return source.id


def feed_item(world: World, source_id: int, title: str = "From the blog") -> str:
    entry = FeedEntry(
        key="https://blog.vendor.example/a", title=title, link="https://blog.vendor.example/a",
        summary="Said upstream.", body_html="", published=datetime(2026, 11, 20, tzinfo=UTC),
        updated=None, author=None, tags=(), video_url=None, thumbnail_url=None,
        duration_seconds=None, is_video=False,
    )  # fmt: skip
    with world.session() as session:
        source = session.get(FeedSource, source_id)
        assert source is not None
        import_entries(session, source, ParsedFeed("Blog", None, (entry,), "rss20"), NOW)
        slug = session.scalar(select(ContentItem.slug).where(ContentItem.url == entry.link))
    assert slug is not None
    return slug


def status_of(world: World, slug: str) -> ContentStatus:
    with world.session() as session:
        found = session.scalar(select(ContentItem.status).where(ContentItem.slug == slug))
    assert found is not None
    return found


def test_everyone_sees_the_sources_and_their_errors_but_only_editors_act(world: World) -> None:
    a_source(world, failing=True)
    viewer, _ = staff_session(world, UserRole.VIEWER)
    page = viewer.get("/feed-sources").get_data(as_text=True)
    assert URL in page
    assert "HTTP 404 Not Found" in page
    assert "(2 in a row)" in page
    assert "keyword=api -&gt; development" in page
    assert "Add a feed source" not in page
    assert 'action="/feed-sources/1/remove"' not in page
    token = csrf_token(viewer, "/account")
    for path in ("/feed-sources", "/feed-sources/1/fetch", "/feed-sources/1/remove"):
        assert viewer.post(path, data={"csrf_token": token, "url": URL}).status_code == 403
    editor, _ = staff_session(world)
    page = editor.get("/feed-sources").get_data(as_text=True)
    assert "Add a feed source" in page
    assert 'action="/feed-sources/1/remove"' in page


def test_an_empty_list_says_how_to_add_one(world: World) -> None:
    viewer, _ = staff_session(world, UserRole.VIEWER)
    page = viewer.get("/feed-sources").get_data(as_text=True)
    assert "No feed sources yet." in page
    assert "commhub feeds add URL" in page


def test_every_problem_is_beside_its_field_and_nothing_is_stored(world: World) -> None:
    editor, _ = staff_session(world)
    status, page = post(
        editor, "/feed-sources", url="http://10.0.0.7/feed", rules="api => development",
        every="soon", kind="",
    )  # fmt: skip
    assert status == 400
    shown = html.unescape(page)
    assert "Nothing was added." in shown
    assert "10.0.0.7 is a private address" in shown
    assert "name at least one audience" in shown
    assert '"api => development" is not a rule' in shown
    assert '"soon" is not an interval' in shown
    assert 'value="http://10.0.0.7/feed"' in page  # what was typed is kept
    with world.session() as session:
        assert session.scalars(select(FeedSource)).all() == []


def test_an_editor_adds_fetches_soon_and_removes_a_source(world: World) -> None:
    editor, email = staff_session(world)
    status, page = post(
        editor, "/feed-sources", url=URL, audiences=["technical", "development"],
        rules="keyword=pricing -> sales\n", every="30m", kind="video", publish="y",
    )  # fmt: skip
    assert status == 303
    assert f"Feed source 1 added: {URL}" in page
    with world.session() as session:
        source = session.get(FeedSource, 1)
        assert source is not None
        assert source.audiences == ["technical", "development"]
        assert source.rules == ["keyword=pricing -> sales"]
        assert (source.interval_seconds, source.kind, source.publish) == (1800, "video", True)
        assert not source.use_audience_keywords  # the box was not ticked
        source.next_fetch_at = datetime(2027, 1, 1, tzinfo=UTC)
    slug = feed_item(world, 1)
    status, page = post(editor, "/feed-sources/1/fetch")
    assert "is due now: a scheduler fetches it within a minute" in page
    with world.session() as session:
        source = session.get(FeedSource, 1)
        assert source is not None
        assert source.next_fetch_at == world.clock.now()
    status, page = post(editor, "/feed-sources/1/remove")
    assert "removed; the items it brought stay in the library" in page
    assert status_of(world, slug) is ContentStatus.PUBLISHED
    with world.session() as session:
        logged = [
            (e.actor, e.action)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "feed source")
            )
        ]
    assert logged == [(email, "created"), (email, "removed")]


def test_a_feeds_draft_is_published_and_archived_from_its_page(world: World) -> None:
    slug = feed_item(world, a_source(world))
    editor, _ = staff_session(world)
    page = editor.get(f"/content/{slug}").get_data(as_text=True)
    assert f'action="/content/{slug}/status"' in page
    assert "From the feed source" in page
    _status, page = post(editor, f"/content/{slug}/status", status="published")
    assert "is published" in page
    assert status_of(world, slug) is ContentStatus.PUBLISHED
    post(editor, f"/content/{slug}/status", status="archived")
    assert status_of(world, slug) is ContentStatus.ARCHIVED
    _status, page = post(editor, f"/content/{slug}/status", status="gone")
    assert "Nothing changed: choose published, archived or draft." in page
    viewer, _ = staff_session(world, UserRole.VIEWER)
    assert f'action="/content/{slug}/status"' not in viewer.get(f"/content/{slug}").get_data(
        as_text=True
    )


def test_a_files_item_keeps_the_status_its_file_gives(world: World) -> None:
    world.item("from-a-file", ["technical"])
    with world.session() as session:
        item = session.scalar(select(ContentItem).where(ContentItem.slug == "from-a-file"))
        assert item is not None
        item.source, item.source_ref = ContentSource.FILE, "from-a-file.md"
    editor, _ = staff_session(world)
    page = editor.get("/content/from-a-file").get_data(as_text=True)
    assert 'action="/content/from-a-file/status"' not in page
    _status, page = post(editor, "/content/from-a-file/status", status="archived")
    assert "Nothing changed:" in page
    assert status_of(world, "from-a-file") is ContentStatus.PUBLISHED


def test_a_newer_version_of_a_published_item_waits_for_a_person(world: World) -> None:
    source_id = a_source(world)
    slug = feed_item(world, source_id)
    editor, _ = staff_session(world)
    post(editor, f"/content/{slug}/status", status="published")
    feed_item(world, source_id, title="From the blog, corrected")  # the same entry, changed
    page = editor.get(f"/content/{slug}").get_data(as_text=True)
    assert "The feed has a newer version of this item" in page
    assert "From the blog, corrected" in page
    assert "<h1>From the blog</h1>" in page  # still as published
    _status, page = post(editor, f"/content/{slug}/feed-version")
    assert "now says what the feed says" in page
    assert "<h1>From the blog, corrected</h1>" in page
    assert "The feed has a newer version" not in page
    assert status_of(world, slug) is ContentStatus.PUBLISHED
    _status, page = post(editor, f"/content/{slug}/feed-version")
    assert "no newer version from the feed waits" in page
