"""/outbox and /outbox/<edition>/<message>: the outbox's files, as the contact sees them."""

from __future__ import annotations

import html
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.outbox_reader import (
    MAX_MESSAGE_BYTES,
    count_outbox,
    message_path,
    outbox_page,
    read_message,
)
from commhub.errors import NotFound
from commhub.store.models import UserRole
from commhub.web import create_app
from commhub.wiring import OUTBOX_DIR, Runtime
from tests.builders import World
from tests.web.staff import add_user, sign_in


def _client(runtime: Runtime) -> FlaskClient:
    client = create_app(runtime=runtime).test_client()
    sign_in(client, add_user(runtime, UserRole.VIEWER))
    return client


def _outbox(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / OUTBOX_DIR


def _sent(world: World, *emails: str, first_names: tuple[str, ...] = ()) -> int:
    edition_id = world.newsletter_to(*emails, first_names=first_names)
    world.send(edition_id, OutboxBackend(_outbox(world.runtime)))
    return edition_id


def _eml(directory: Path, edition_id: int, message_id: int, subject: str, body: str = "") -> None:
    path = message_path(directory, edition_id, message_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        f"From: team@vendor.example\r\nTo: c{message_id}@acme.example\r\n"
        f"Subject: {subject}\r\n\r\n{body}".encode()
    )


def test_the_reader_finds_the_files_where_the_back_end_writes_them(tmp_path: Path) -> None:
    assert OutboxBackend(tmp_path).path_for(12, 345) == message_path(tmp_path, 12, 345)


def test_an_empty_outbox_says_how_to_fill_it(runtime: Runtime) -> None:
    page = _client(runtime).get("/outbox").get_data(as_text=True)
    assert "<title>Outbox · commhub</title>" in page
    assert page.count("<h1") == 1
    assert "The outbox is empty." in page
    assert "COMMHUB_DELIVERY=outbox commhub editions send SERIES --now" in page


def test_another_back_end_is_named_in_the_empty_state(runtime: Runtime) -> None:
    smtp = replace(runtime, settings=replace(runtime.settings, delivery="smtp"))
    page = _client(smtp).get("/outbox").get_data(as_text=True)
    assert "this commhub sends through smtp" in page
    assert "COMMHUB_DELIVERY=outbox" in page


def test_sent_messages_are_listed_and_shown_as_the_contact_sees_them(world: World) -> None:
    edition_id = _sent(
        world,
        "ana@acme.example",
        "bo@acme.example",
        first_names=("Ana", "<script>alert(1)</script>"),
    )
    client = _client(world.runtime)
    page = client.get("/outbox").get_data(as_text=True)
    assert "ana@acme.example" in page
    assert "bo@acme.example" in page
    assert "Partner News for Ana" in page
    assert "<script>alert(1)</script>" not in page
    assert "Partner News for &lt;script&gt;alert(1)&lt;/script&gt;" in page
    messages = world.messages(edition_id)
    link = f'href="/outbox/{edition_id}/{messages["bo@acme.example"].id}"'
    assert link in page
    shown = client.get(f"/outbox/{edition_id}/{messages['bo@acme.example'].id}")
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert body.count("<h1") == 1
    for header in ("From", "To", "Subject", "Date", "List-Unsubscribe"):
        assert f"<dt>{header}</dt>" in body
    assert "<script>alert(1)</script>" not in body
    frame = re.search(r'<iframe [^>]*sandbox srcdoc="([^"]*)"', body)
    assert frame, body
    assert "allow-scripts" not in body
    srcdoc = html.unescape(frame.group(1))
    assert "<html" in srcdoc.lower()
    # the contact's name in the HTML part: escaped by the renderer, then again in the attribute
    assert "&lt;script&gt;" in srcdoc
    # viewing the copy records nothing: no pixel loads, no link opens
    assert '<meta http-equiv="Content-Security-Policy" content="img-src data:' in srcdoc
    assert '<base target="_blank">' in srcdoc
    assert srcdoc.lower().index("<head") < srcdoc.index("<meta http-equiv")
    text = re.search(r"<pre[^>]*>(.*?)</pre>", body, re.S)
    assert text
    assert "&lt;script&gt;" in text.group(1)


def test_the_outbox_is_paged_and_filtered_by_edition(runtime: Runtime) -> None:
    directory = _outbox(runtime)
    for message_id in range(1, 41):
        _eml(directory, 3, message_id, f"Old {message_id}")
    for message_id in range(41, 71):
        _eml(directory, 7, message_id, f"New {message_id}")
    assert count_outbox(directory) == 70
    assert count_outbox(directory, 3) == 40
    first = [e.message_id for e in outbox_page(directory, 0, 50)]
    assert first[:2] == [70, 69]
    assert first[29:31] == [41, 40]
    assert len(first) == 50
    assert [e.message_id for e in outbox_page(directory, 50, 50)] == list(range(20, 0, -1))
    client = _client(runtime)
    page = client.get("/outbox").get_data(as_text=True)
    assert "Showing 1–50 of 70 messages" in page
    assert "New 70" in page
    assert "Old 20" not in page
    second = client.get("/outbox?page=2").get_data(as_text=True)
    assert "Old 20" in second
    assert "Old 1<" in second
    assert "New" not in second
    only = client.get("/outbox?edition=7").get_data(as_text=True)
    assert "Showing 1–30 of 30 messages" in only
    assert "Old" not in only
    none = client.get("/outbox?edition=5").get_data(as_text=True)
    assert "The outbox holds no message of edition #5." in none
    # a filter that is not an edition id is no filter
    assert "of 70 messages" in client.get("/outbox?edition=../../etc").get_data(as_text=True)


def test_unknown_messages_and_path_tricks_are_404(runtime: Runtime, tmp_path: Path) -> None:
    directory = _outbox(runtime)
    _eml(directory, 1, 1, "Hello")
    secret = tmp_path / "secret.eml"
    secret.write_bytes(b"Subject: secret\r\n\r\nsecret")
    (directory / "1" / "2.eml").symlink_to(secret)
    (directory / "1" / "3.eml").mkdir()
    client = _client(runtime)
    assert client.get("/outbox/1/1").status_code == 200
    for path in ("/outbox/1/2", "/outbox/1/3", "/outbox/1/4", "/outbox/2/1", "/outbox/0/1",
                 f"/outbox/1/{10**30}", "/outbox/1/..%2F1", "/outbox/-1/1"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert "secret" not in client.get("/outbox").get_data(as_text=True)
    assert count_outbox(directory) == 1


def test_a_huge_message_is_shown_by_its_headers(runtime: Runtime) -> None:
    directory = _outbox(runtime)
    _eml(directory, 1, 1, "Big", "x" * 10)
    with message_path(directory, 1, 1).open("ab") as file:
        file.truncate(MAX_MESSAGE_BYTES + 1)
    found = read_message(directory, 1, 1)
    assert found.truncated
    assert found.html is None
    assert found.text is None
    assert ("Subject", "Big") in found.headers
    page = _client(runtime).get("/outbox/1/1").get_data(as_text=True)
    assert "only its headers are shown" in page
    with pytest.raises(NotFound):
        read_message(directory, 1, 2)


def test_a_plain_message_has_no_frame(runtime: Runtime) -> None:
    directory = _outbox(runtime)
    _eml(directory, 1, 1, "=?utf-8?q?Caf=C3=A9?=", "Just text")
    client = _client(runtime)
    page = client.get("/outbox/1/1").get_data(as_text=True)
    assert "<iframe" not in page
    assert "This message has no HTML part." in page
    assert "Café" in page
    assert "Just text" in page
    os.utime(message_path(directory, 1, 1), (0, 0))
    assert "1 Jan 1970, 00:00 UTC" in client.get("/outbox").get_data(as_text=True)
