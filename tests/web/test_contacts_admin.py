"""The contacts file through the browser: an upload checked and previewed with nothing
written, then imported all or nothing on confirmation (as `commhub contacts import`); the
export streamed as `commhub contacts export` writes it; an erasure on request by an admin."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from commhub.contacts import export_contacts, write_contacts_csv
from commhub.contacts.erasure import email_hash
from commhub.contacts.uploads import MAX_UPLOAD_BYTES, UPLOADS_DIR
from commhub.delivery.outbox import OutboxBackend
from commhub.store.models import AuditEntry, Contact, Partner, Suppression, UserRole
from commhub.web import create_app
from tests.builders import World
from tests.web.staff import add_user, csrf_token, sign_in, staff_session

HEADER = "email,first_name,last_name,partner,roles,timezone\r\n"
GOOD = (
    HEADER
    + "ann@partner.example,Ann,Lee,Acme Partners,sales,Europe/London\r\n"
    + "bob@new.example,Bob,Ray,Newco Systems,sales;executive,\r\n"
)
_TICKET = re.compile(r'name="ticket" type="hidden" value="([^"]+)"')


def upload(client: FlaskClient, text: str | bytes, name: str = "contacts.csv") -> tuple[int, str]:
    """Send a file from the import form; the answer's status and page."""
    data = text.encode() if isinstance(text, str) else text
    # Encoded here, in memory: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/account"),
            "file": FileStorage(io.BytesIO(data), filename=name),
        }
    )
    answer = client.post(
        "/contacts/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    return answer.status_code, answer.get_data(as_text=True)


def ticket_of(page: str) -> str:
    found = _TICKET.search(page)
    assert found, "no confirm form on the page"
    return found.group(1)


def confirm(client: FlaskClient, ticket: str, **fields: str) -> tuple[int, str]:
    """Press Confirm (or another button); the status and the page it leads to."""
    answer = client.post(
        "/contacts/import/confirm",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "ticket": ticket,
            **(fields or {"confirm": "yes"}),
        },
    )
    if answer.status_code != 303:
        return answer.status_code, answer.get_data(as_text=True)
    return 303, unescape(client.get(answer.headers["Location"]).get_data(as_text=True))


def emails(world: World) -> list[str]:
    with world.session() as session:
        return list(session.scalars(select(Contact.email).order_by(Contact.email)))


def audit(world: World) -> list[tuple[str, str, str, str]]:
    with world.session() as session:
        return [
            (e.actor, e.action, e.object_id, e.summary)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action in ("imported", "erased")
        ]


def kept_files(world: World) -> list[str]:
    folder = world.runtime.settings.data_dir / UPLOADS_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_upload_is_previewed_with_nothing_written_then_imported_on_confirmation(
    world: World,
) -> None:
    world.contact("ann@partner.example", ["sales"])
    client, email = staff_session(world)
    status, page = upload(client, GOOD)
    assert status == 200
    page = unescape(page)
    assert "Confirm the import of contacts.csv" in page
    assert re.search(r"<dt>Rows read</dt><dd>2</dd>", page)
    assert re.search(r"<dt>New contacts</dt><dd>1</dd>", page)
    assert re.search(r"<dt>Contacts on file already</dt><dd>1 ", page)
    assert "1: Newco Systems" in page
    assert "Import 2 contacts" in page
    # Nothing written: the contacts, the partners and the audit log are as they were.
    assert emails(world) == ["ann@partner.example"]
    assert audit(world) == []
    assert len(kept_files(world)) == 1

    status, page = confirm(client, ticket_of(page))
    assert status == 303
    assert "contacts.csv imported: 1 created, 1 updated, 0 unchanged; 1 new partners." in page
    assert emails(world) == ["ann@partner.example", "bob@new.example"]
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Partner)) == 2
    assert audit(world) == [
        (email, "imported", "contacts.csv", "1 created, 1 updated, 0 unchanged; 1 new partners")
    ]
    assert kept_files(world) == []  # the kept copy is gone once imported


def test_every_problem_is_listed_with_its_line_and_column_and_nothing_is_written(
    world: World,
) -> None:
    client, _email = staff_session(world)
    bad = (
        HEADER
        + "ann@partner.example,Ann,Lee,Acme,sales,Europe/London\r\n"
        + "not-an-address,Bob,Ray,Acme,sales,\r\n"
        + "cy@partner.example,Cy,<script>alert(1)</script>,Acme,astronauts,Mars/Base\r\n"
    )
    status, page = upload(client, bad, "team list.csv")
    assert status == 400
    assert "problems in team list.csv: nothing was imported." in page
    rows = re.findall(
        r'<tr><td class="num">(\d+|—)</td><td>([^<]*)</td><td>(.*?)</td></tr>', page, re.S
    )
    assert {(line, column) for line, column, _message in rows} == {
        ("3", "email"),
        ("4", "roles"),
        ("4", "timezone"),
    }
    assert "<script>alert(1)</script>" not in page  # nothing from the file unescaped
    assert 'name="ticket"' not in page  # no way to confirm a file with problems
    assert emails(world) == []
    assert audit(world) == []
    assert kept_files(world) == []


def test_a_file_that_is_not_a_contacts_csv_is_refused_beside_the_field(world: World) -> None:
    client, _email = staff_session(world)
    status, page = upload(client, GOOD, "contacts.xlsx")
    assert status == 400
    assert 'id="file-error"' in page
    assert "a .csv file, please" in page
    status, page = upload(client, HEADER + "x" * (MAX_UPLOAD_BYTES + 10))
    assert status == 400
    assert "larger than 2 MB" in unescape(page)
    status, page = upload(client, b"\xff\xfe" + GOOD.encode("utf-16-le"))
    assert status == 400
    assert "not UTF-8 text" in page
    status, page = upload(client, HEADER)
    assert status == 400
    assert "no contacts" in page
    assert emails(world) == []
    assert kept_files(world) == []


def test_an_altered_expired_or_borrowed_ticket_imports_nothing(world: World) -> None:
    client, _email = staff_session(world)
    ticket = ticket_of(upload(client, GOOD)[1])
    altered = ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")
    status, page = confirm(client, altered)
    assert status == 303
    assert "Nothing imported: this upload has expired" in page
    # Another editor cannot confirm the upload of the first.
    other = create_app(runtime=replace(world.runtime, clock=world.clock)).test_client()
    sign_in(other, add_user(world.runtime, UserRole.ADMIN, "boss@vendor.example"))
    status, page = confirm(other, ticket)
    assert status == 303
    assert "Nothing imported: this upload has expired" in page
    world.clock.current += timedelta(minutes=61)
    status, page = confirm(client, ticket)
    assert status == 303
    assert "Nothing imported: this upload has expired" in page
    assert emails(world) == []
    assert audit(world) == []


def test_a_confirmation_sent_twice_imports_once_and_cancel_deletes_the_file(
    world: World,
) -> None:
    client, _email = staff_session(world)
    ticket = ticket_of(upload(client, GOOD)[1])
    assert confirm(client, ticket)[0] == 303
    _status, page = confirm(client, ticket)
    assert "Nothing imported this time: contacts.csv was imported or cancelled already." in page
    assert len([a for a in audit(world) if a[1] == "imported"]) == 1

    ticket = ticket_of(upload(client, GOOD.replace("Ann", "Anne"))[1])
    _status, page = confirm(client, ticket, cancel="yes")
    assert "Nothing imported from contacts.csv: the upload is deleted." in page
    assert kept_files(world) == []
    with world.session() as session:
        assert session.scalar(select(Contact.first_name).where(Contact.last_name == "Lee")) == "Ann"


def test_a_person_erased_since_the_preview_is_skipped_at_the_import(world: World) -> None:
    client, _email = staff_session(world)
    ticket = ticket_of(upload(client, GOOD)[1])
    # Between the preview and the confirmation, a row is erased at the person's request:
    # the import skips it, as the command line's does.
    admin = create_app(runtime=replace(world.runtime, clock=world.clock)).test_client()
    sign_in(admin, add_user(world.runtime, UserRole.ADMIN, "boss@vendor.example"))
    token = csrf_token(admin, "/contacts/erase")
    erased = admin.post(
        "/contacts/erase",
        data={"csrf_token": token, "address": "bob@new.example", "again": "BOB@new.example"},
    )
    assert erased.status_code == 303
    _status, page = confirm(client, ticket)
    assert "1 created, 0 updated, 0 unchanged; 2 new partners; 1 skipped (erased" in page
    assert emails(world) == ["ann@partner.example"]


def test_viewers_may_not_import_or_erase(world: World) -> None:
    client, _email = staff_session(world, UserRole.VIEWER)
    assert client.get("/contacts/import").status_code == 403
    token = csrf_token(client, "/account")
    answer = client.post(
        "/contacts/import",
        data={"csrf_token": token, "file": (io.BytesIO(GOOD.encode()), "contacts.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 403
    assert client.get("/contacts/erase").status_code == 403
    editor, _ = staff_session(world)
    assert editor.get("/contacts/erase").status_code == 403
    assert emails(world) == []
    assert kept_files(world) == []
    page = client.get("/contacts").get_data(as_text=True)
    assert "Export CSV" in page
    assert "Import contacts" not in page
    assert "Erase a person" not in page
    page = editor.get("/contacts").get_data(as_text=True)
    assert "Import contacts" in page
    assert "Erase a person" not in page


def test_the_export_is_the_command_lines_file_streamed(world: World) -> None:
    world.contact("ann@partner.example", ["sales", "executive"], first_name="=HYPERLINK(1)")
    world.contact("bob@partner.example", ["technical"], partner="Bobco")
    client, _email = staff_session(world, UserRole.VIEWER)
    answer = client.get("/contacts/export")
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.mimetype == "text/csv"
    assert answer.mimetype_params["charset"] == "utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="contacts-2026-11-23.csv"'
    assert answer.headers["Cache-Control"] == "no-store"
    written = io.StringIO(newline="")
    with world.session() as session:
        assert write_contacts_csv(written, export_contacts(session)) == 2
    body = answer.get_data(as_text=True)
    assert body == written.getvalue()
    assert "'=HYPERLINK(1)" in body  # spreadsheet-safe


def test_an_exported_file_imports_back_unchanged(world: World) -> None:
    world.contact("ann@partner.example", ["sales"])
    client, _email = staff_session(world)
    exported = client.get("/contacts/export").get_data()
    status, page = upload(client, exported)
    assert status == 200
    assert re.search(r"<dt>New contacts</dt><dd>0</dd>", page)
    status, page = confirm(client, ticket_of(page))
    assert "0 created, 0 updated, 1 unchanged; 0 new partners" in page


def test_an_admin_erases_a_person_with_the_address_typed_twice(world: World) -> None:
    world.item("launch", ["sales"], title="Launch")
    world.contact("ann@partner.example", ["sales"])
    world.contact("bob@partner.example", ["sales"])
    world.series("news", audiences=["sales"])
    edition_id = world.prepare("news").edition.id
    outbox = world.runtime.settings.data_dir / "outbox"
    world.send(edition_id, OutboxBackend(outbox))
    files_before = sorted(p for p in outbox.rglob("*") if p.is_file())
    client, email = staff_session(world, UserRole.ADMIN)
    page = client.get("/contacts/erase").get_data(as_text=True)
    assert "This cannot be undone." in page

    token = csrf_token(client, "/contacts/erase")
    answer = client.post(
        "/contacts/erase",
        data={"csrf_token": token, "address": "ann@partner.example", "again": "ann@partner.exampl"},
    )
    assert answer.status_code == 400
    page = unescape(answer.get_data(as_text=True))
    assert "the two addresses differ" in page
    assert 'value="ann@partner.example"' in page  # what was typed is kept
    assert emails(world) == ["ann@partner.example", "bob@partner.example"]

    answer = client.post(
        "/contacts/erase",
        data={
            "csrf_token": token,
            "address": "Ann@Partner.example ",
            "again": "ann@partner.example",
        },
    )
    assert answer.status_code == 303
    page = unescape(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "The person is erased: their contact, 1 messages and 0 events." in page
    assert "ann@partner.example" not in page
    assert emails(world) == ["bob@partner.example"]
    files_after = sorted(p for p in outbox.rglob("*") if p.is_file())
    assert len(files_after) < len(files_before)  # the copy of Ann's message is gone
    erasures = [a for a in audit(world) if a[1] == "erased"]
    assert erasures == [(email, "erased", email_hash("ann@partner.example")[:16], erasures[0][3])]
    assert "ann" not in erasures[0][3]


def test_erasing_an_unknown_address_erases_nothing_but_suppresses_it(world: World) -> None:
    world.contact("bob@partner.example", ["sales"])
    client, _email = staff_session(world, UserRole.ADMIN)
    token = csrf_token(client, "/contacts/erase")
    answer = client.post(
        "/contacts/erase",
        data={"csrf_token": token, "address": "gone@else.example", "again": "gone@else.example"},
    )
    page = unescape(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "No contact had that address, so nothing was erased" in page
    assert emails(world) == ["bob@partner.example"]
    with world.session() as session:
        hashes = list(session.scalars(select(Suppression.email_hash)))
    assert hashes == [email_hash("gone@else.example")]


def test_a_kept_file_with_problems_at_confirmation_imports_nothing(world: World) -> None:
    client, _email = staff_session(world)
    ticket = ticket_of(upload(client, GOOD)[1])
    # Whatever changed since the preview (here the kept copy itself), the import is still
    # the command line's: all or nothing, every problem listed.
    (kept,) = kept_files(world)
    path = world.runtime.settings.data_dir / UPLOADS_DIR / kept
    path.write_text(GOOD + "carl@x.example,Carl,Fox,Acme,pilots,\r\n", encoding="utf-8")
    status, page = confirm(client, ticket)
    assert status == 400
    assert re.search(r'<td class="num">4</td><td>roles</td>', page)
    assert "nothing was imported" in page
    assert emails(world) == []
    assert audit(world) == []
    assert kept_files(world) == []
