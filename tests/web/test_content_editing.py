"""Writing and changing library items in the browser: the importer's own rules, errors beside
their fields with nothing saved, a preview by the email's Markdown code, items from files
left read-only, and every save in the audit log."""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import func, select

from commhub.delivery.outbox import OutboxBackend
from commhub.store.models import (
    AuditEntry,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    UserRole,
)
from tests.builders import World
from tests.web.staff import csrf_token, staff_session

SCRIPT_TITLE = '<script>alert(1)</script><img src=x onerror="alert(2)"> Launch'


def form(client: FlaskClient, **fields: str | list[str]) -> dict[str, str | list[str]]:
    base: dict[str, str | list[str]] = {
        "csrf_token": csrf_token(client, "/content/new"),
        "title": "Partner summit 2027",
        "kind": "article",
        "audiences": ["sales", "technical"],
        "status": "published",
        "body": "## Agenda\n\nTalks and **workshops**.",
        "action": "save",
    }
    return {**base, **fields}


def items(world: World) -> dict[str, ContentItem]:
    with world.session() as session:
        found = {item.slug: item for item in session.scalars(select(ContentItem))}
        for item in found.values():
            _ = item.audiences, item.key_message
        session.expunge_all()
        return found


def audit(world: World) -> list[tuple[str, str, str, str, str]]:
    with world.session() as session:
        return [
            (e.actor, e.action, e.object_type, e.object_id, e.summary)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.object_type == "content"
        ]


def test_an_editor_creates_an_item_for_two_audiences(world: World) -> None:
    client, email = staff_session(world)
    page = client.get("/content/new").get_data(as_text=True)
    assert 'name="audiences" type="checkbox" value="sales"' in page
    answer = client.post(
        "/content/new",
        data=form(
            client,
            new_key_message="Meet us in Lisbon.",
            publish_at="2026-12-01T09:00",
            url="https://partners.example/summit",
            hashtags="summit #partners",
            priority="5",
        ),
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/content/partner-summit-2027"
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Content item “Partner summit 2027” (partner-summit-2027) created." in shown
    item = items(world)["partner-summit-2027"]
    assert item.source is ContentSource.UI
    assert item.source_ref is None
    assert [a.slug for a in item.audiences] == ["sales", "technical"]
    assert item.key_message is not None
    assert item.key_message.text == "Meet us in Lisbon."
    # No zone chosen: the page's times are UTC, and so was what was typed.
    assert item.publish_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert item.body_html == "<h2>Agenda</h2>\n<p>Talks and <strong>workshops</strong>.</p>\n"
    assert item.hashtags == ["summit", "partners"]
    assert (item.priority, item.status) == (5, ContentStatus.PUBLISHED)
    assert audit(world) == [
        (
            email,
            "created",
            "content",
            "partner-summit-2027",
            '"Partner summit 2027": article, published',
        )
    ]


def test_times_are_read_in_the_editors_zone(world: World) -> None:
    client, _ = staff_session(world)
    client.set_cookie("commhub_tz", "Europe/Berlin")
    fields = form(client, publish_at="2026-12-01T09:00", expires_at="2027-07-01T00:00")
    assert client.post("/content/new", data=fields).status_code == 303
    item = items(world)["partner-summit-2027"]
    assert item.publish_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert item.expires_at == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)
    page = client.get("/content/partner-summit-2027/edit").get_data(as_text=True)
    assert 'value="2026-12-01T09:00"' in page


def test_every_wrong_field_is_named_beside_it_and_nothing_is_saved(world: World) -> None:
    client, _ = staff_session(world)
    answer = client.post(
        "/content/new",
        data=form(
            client,
            title="",
            kind="video",
            audiences=[],
            url="javascript:alert(1)",
            duration="forever",
            priority="high",
            publish_at="2026-12-01T09:00",
            expires_at="2026-11-01T09:00",
            summary="Kept as typed",
        ),
    )
    assert answer.status_code == 400
    page = html.unescape(answer.get_data(as_text=True))
    assert 'id="title-error">required' in page
    assert 'id="audiences-error">required: a list of audience slugs' in page
    assert 'id="url-error">not an http(s) URL: "javascript:alert(1)"' in page
    assert 'id="video_url-error">required for a video' in page
    assert 'id="duration-error">"forever" is not mm:ss, h:mm:ss or seconds' in page
    assert 'id="priority-error">"high" is not a whole number' in page
    assert 'id="expires_at-error">must be after publish_at' in page
    assert "Nothing was saved: 7 problems" in page
    assert "Kept as typed</textarea>" in page
    assert 'value="forever"' in page
    assert items(world) == {}
    assert audit(world) == []


def test_the_slug_is_checked_where_only_the_database_knows(world: World) -> None:
    world.item("launch", ["sales"])
    client, _ = staff_session(world)
    for slug, message in [
        ("launch", '"launch" is already used by another item'),
        ("new", '"new" is reserved for a page'),
        ("News Item", '"News Item" is not a slug'),
    ]:
        answer = client.post("/content/new", data=form(client, slug=slug))
        assert answer.status_code == 400
        assert message in html.unescape(answer.get_data(as_text=True))
    assert set(items(world)) == {"launch"}
    # Left empty, a slug is made from the title, numbered past one already used.
    client.post("/content/new", data=form(client, title="Launch"))
    assert set(items(world)) == {"launch", "launch-2"}


def test_a_title_with_markup_is_text_everywhere(world: World) -> None:
    client, _ = staff_session(world)
    assert client.post("/content/new", data=form(client, title=SCRIPT_TITLE)).status_code == 303
    (slug,) = items(world)
    for path in (f"/content/{slug}", f"/content/{slug}/edit", "/content"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_preview_renders_the_body_as_the_email_does_and_saves_nothing(world: World) -> None:
    client, _ = staff_session(world)
    body = "# Hello\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) *there*"
    answer = client.post("/content/new", data=form(client, body=body, action="preview"))
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Preview of the body" in page
    assert "<h1>Hello</h1>" in page
    assert "<em>there</em>" in page
    assert "<script>alert(1)</script>" not in page
    # What was typed is kept, as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "(javascript:alert(2)) *there*</textarea>" in page
    assert 'href="javascript' not in page
    assert items(world) == {}


def test_an_editor_changes_an_item_made_in_the_ui(world: World) -> None:
    world.item("launch", ["sales"], title="Launch")
    client, email = staff_session(world)
    page = client.get("/content/launch").get_data(as_text=True)
    assert 'href="/content/launch/edit"' in page
    page = client.get("/content/launch/edit").get_data(as_text=True)
    assert 'value="Launch"' in page
    assert re.search(r'<input checked id="audiences-\d" name="audiences" [^>]*value="sales">', page)
    answer = client.post(
        "/content/launch/edit",
        data=form(client, title="Launch day", audiences=["sales", "executive"], status="draft"),
    )
    assert answer.status_code == 303
    assert "Content item “Launch day” (launch) saved." in client.get("/content/launch").get_data(
        as_text=True
    )
    item = items(world)["launch"]
    assert (item.title, item.status) == ("Launch day", ContentStatus.DRAFT)
    assert [a.slug for a in item.audiences] == ["executive", "sales"]
    (entry,) = audit(world)
    assert entry[:4] == (email, "edited", "content", "launch")
    assert entry[4].startswith("changed title, audiences, ")
    assert "status" in entry[4]


def test_a_wrong_edit_changes_nothing(world: World) -> None:
    world.item("launch", ["sales"], title="Launch")
    client, _ = staff_session(world)
    answer = client.post(
        "/content/launch/edit", data=form(client, title="New", audiences=["nobody"])
    )
    assert answer.status_code == 400
    assert 'unknown audience "nobody"' in html.unescape(answer.get_data(as_text=True))
    assert items(world)["launch"].title == "Launch"
    assert audit(world) == []


def test_an_item_from_a_file_is_read_only_here(world: World) -> None:
    world.item("guide", ["sales"], title="Guide", source_ref="api/guide.md")
    with world.session() as session:
        session.scalars(select(ContentItem)).one().source = ContentSource.FILE
    client, _ = staff_session(world)
    assert "/content/guide/edit" not in client.get("/content/guide").get_data(as_text=True)
    page = client.get("/content/guide/edit").get_data(as_text=True)
    assert "content/api/guide.md" in page
    assert "<code>commhub content import</code>" in page
    assert "disabled" in page
    assert 'value="save"' not in page
    answer = client.post("/content/guide/edit", data=form(client, title="Changed"))
    assert answer.status_code == 409
    assert "This item is read-only here." in answer.get_data(as_text=True)
    assert items(world)["guide"].title == "Guide"
    assert audit(world) == []


def test_new_item_buttons_are_for_editors_only(world: World) -> None:
    world.item("launch", ["sales"])
    editor, _ = staff_session(world)
    assert 'href="/content/new"' in editor.get("/content").get_data(as_text=True)
    viewer, _ = staff_session(world, UserRole.VIEWER)
    assert 'href="/content/new"' not in viewer.get("/content").get_data(as_text=True)
    assert "/content/launch/edit" not in viewer.get("/content/launch").get_data(as_text=True)
    assert viewer.get("/content/new").status_code == 403
    token = csrf_token(viewer, "/account")
    assert (
        viewer.post("/content/new", data={**form(editor), "csrf_token": token}).status_code == 403
    )
    with world.session() as session:
        assert session.scalar(select(func.count(ContentItem.id))) == 1


def test_a_video_keeps_its_fields(world: World) -> None:
    client, _ = staff_session(world)
    fields = form(
        client,
        kind="video",
        video_url="https://video.example/watch/42",
        thumbnail="https://cdn.example/42.jpg",
        duration="1:02:03",
        speaker="Ada Lovelace",
    )
    assert client.post("/content/new", data=fields).status_code == 303
    item = items(world)["partner-summit-2027"]
    assert item.kind is ContentKind.VIDEO
    assert (item.video_url, item.thumbnail_url, item.duration_seconds, item.speaker) == (
        "https://video.example/watch/42",
        "https://cdn.example/42.jpg",
        3723,
        "Ada Lovelace",
    )
    page = client.get("/content/partner-summit-2027/edit").get_data(as_text=True)
    assert 'value="1:02:03"' in page


def test_an_unknown_item_is_404(world: World) -> None:
    client, _ = staff_session(world)
    assert client.get("/content/nothing/edit").status_code == 404


def test_a_title_with_markup_typed_in_the_form_arrives_as_text_in_every_email_part(
    world: World,
) -> None:
    client, _ = staff_session(world)
    assert client.post("/content/new", data=form(client, title=SCRIPT_TITLE)).status_code == 303
    world.series(audiences=["sales"])
    world.contact("ann@partner.example", ["sales"])
    edition_id = world.prepare().edition.id
    outbox = world.runtime.settings.data_dir / "outbox"
    world.send(edition_id, OutboxBackend(outbox))
    [written] = (outbox / str(edition_id)).glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert html_part is not None
    assert text_part is not None
    shown = html_part.get_content()
    assert "<script>alert(1)" not in shown
    assert "<img src=x" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert SCRIPT_TITLE in text_part.get_content()  # plain text: the title as typed


def test_a_social_post_line_is_saved_shown_and_cleared(world: World) -> None:
    client, email = staff_session(world)
    assert "Social post line" in client.get("/content/new").get_data(as_text=True)
    line = "Meet us in Lisbon: 3 days, 1,500 partners & one “big” announcement"
    answer = client.post("/content/new", data=form(client, social=f"  {line}\r\n "))
    assert answer.status_code == 303
    assert items(world)["partner-summit-2027"].social_line == line
    shown = client.get("/content/partner-summit-2027").get_data(as_text=True)
    assert f"<dt>Social post line</dt><dd>{html.escape(line, quote=False)}</dd>" in shown
    page = client.get("/content/partner-summit-2027/edit").get_data(as_text=True)
    assert f'value="{html.escape(line)}"' in page
    answer = client.post("/content/partner-summit-2027/edit", data=form(client, social=" "))
    assert answer.status_code == 303
    assert items(world)["partner-summit-2027"].social_line is None
    assert "Social post line" not in client.get("/content/partner-summit-2027").get_data(
        as_text=True
    )
    assert audit(world)[-1] == (
        email,
        "edited",
        "content",
        "partner-summit-2027",
        "changed social line",
    )


def test_a_wrong_social_post_line_is_named_beside_it_and_nothing_is_saved(world: World) -> None:
    client, _ = staff_session(world)
    for typed, message in [
        ("x" * 281, "longer than 280 characters: social posts are short"),
        ("Launch\x1bday", "control character U+001B (ESC): refused"),
    ]:
        answer = client.post("/content/new", data=form(client, social=typed))
        assert answer.status_code == 400
        page = html.unescape(answer.get_data(as_text=True))
        assert f'id="social-error">{message}' in page
        assert 'aria-describedby="social-hint social-error"' in page
        assert "Nothing was saved: 1 problem" in page
    assert items(world) == {}
