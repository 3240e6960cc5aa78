from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from commhub.contacts.csv_format import write_contacts_csv
from commhub.contacts.directory import export_contacts, import_contacts_file
from commhub.errors import ContactImportError
from commhub.store.db import session_scope
from commhub.store.models import Contact, ContactStatus, Partner
from commhub.wiring import Runtime

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HEADER = "email,first_name,last_name,partner,roles,timezone"


def run_import(runtime: Runtime, text: str, **options: bool):  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return import_contacts_file(session, io.StringIO(text), "in.csv", NOW, **options)


def contacts(runtime: Runtime) -> dict[str, Contact]:
    with session_scope(runtime.sessions) as session:
        return {c.email_key: c for c in session.scalars(select(Contact))}


def export_text(runtime: Runtime) -> str:
    out = io.StringIO()
    with session_scope(runtime.sessions) as session:
        write_contacts_csv(out, export_contacts(session))
    return out.getvalue()


def test_import_creates_partners_roles_and_consent(runtime: Runtime) -> None:
    result = run_import(
        runtime,
        f"{HEADER},partner_type,partner_tier,partner_region\n"
        "ana@example.com,Ana,Silva,Acme,sales;executive,Europe/Lisbon,MSP,gold,EMEA\n"
        "bo@example.com,Bo,Ng,Acme,technical,,,,\n",
    )
    assert result.report.created == 2
    with session_scope(runtime.sessions) as session:
        ana = session.scalar(select(Contact).where(Contact.email_key == "ana@example.com"))
        assert ana is not None
        assert [r.slug for r in ana.roles] == ["executive", "sales"]
        assert ana.partner is not None
        assert (ana.partner.type, ana.partner.tier) == ("msp", "gold")
        assert ana.consent_at == NOW
        assert ana.consent_source == "import"
        assert ana.status is ContactStatus.ACTIVE
        assert session.scalar(select(func.count(Partner.id))) == 1


def test_a_bad_row_changes_nothing_and_every_problem_is_reported(runtime: Runtime) -> None:
    run_import(runtime, f"{HEADER}\nkeep@example.com,K,L,Acme,sales,\n")
    with pytest.raises(ContactImportError) as raised:
        run_import(
            runtime,
            f"{HEADER}\n"
            "keep@example.com,Changed,L,Acme,sales,\n"
            "new@example.com,N,M,Acme,sales,\n"
            "not-an-email,N,M,Acme,sales,\n"
            "NEW@example.com,N,M,Acme,sales,\n",
        )
    lines = str(raised.value).splitlines()
    assert lines[0].startswith('in.csv:4:email: "not-an-email" is not a valid address')
    assert lines[1] == "in.csv:5:email: repeats the address on line 3"
    found = contacts(runtime)
    assert set(found) == {"keep@example.com"}
    assert found["keep@example.com"].first_name == "K"


def test_skip_invalid_lands_the_good_rows(runtime: Runtime) -> None:
    result = run_import(
        runtime,
        f"{HEADER}\ngood@example.com,G,H,Acme,sales,\nbad@,B,C,Acme,sales,\n",
        skip_invalid=True,
    )
    assert result.report.created == 1
    assert [p.line for p in result.skipped] == [3]
    assert set(contacts(runtime)) == {"good@example.com"}


def test_email_is_unique_case_insensitively(runtime: Runtime) -> None:
    run_import(runtime, f"{HEADER}\nAna@Example.com,Ana,S,Acme,sales,\n")
    result = run_import(runtime, f"{HEADER}\nana@EXAMPLE.COM,Anna,S,Acme,technical,\n")
    assert (result.report.created, result.report.updated) == (0, 1)
    (only,) = contacts(runtime).values()
    assert only.first_name == "Anna"
    with pytest.raises(IntegrityError), session_scope(runtime.sessions) as session:
        session.add(Contact(email="ANA@example.com"))


def test_reimport_changes_nothing(runtime: Runtime) -> None:
    text = f"{HEADER}\na@example.com,A,B,Acme,sales;technical,Asia/Tokyo\n"
    run_import(runtime, text)
    before = contacts(runtime)["a@example.com"].updated_at
    result = run_import(runtime, text)
    assert (result.report.created, result.report.updated, result.report.unchanged) == (0, 0, 1)
    assert contacts(runtime)["a@example.com"].updated_at == before


def test_an_import_never_resubscribes(runtime: Runtime) -> None:
    run_import(runtime, f"{HEADER},status\ngone@example.com,G,H,Acme,sales,,unsubscribed\n")
    run_import(runtime, f"{HEADER},status\ngone@example.com,G,H,Acme,sales,,active\n")
    assert contacts(runtime)["gone@example.com"].status is ContactStatus.UNSUBSCRIBED


def test_consent_no_withdraws_and_explicit_times_are_kept(runtime: Runtime) -> None:
    run_import(runtime, f"{HEADER},consent\na@example.com,A,B,Acme,sales,,2025-05-01T10:00:00Z\n")
    assert contacts(runtime)["a@example.com"].consent_at == datetime(2025, 5, 1, 10, tzinfo=UTC)
    run_import(runtime, f"{HEADER},consent\na@example.com,A,B,Acme,sales,,no\n")
    assert contacts(runtime)["a@example.com"].consent_at is None


def test_export_round_trips_into_a_fresh_database(runtime: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run_import(
        runtime,
        f"{HEADER},consent,status,partner_type,partner_tier,partner_region\n"
        '"=HYPERLINK(""http://evil"")",x,y,Acme,sales,,yes,,,,\n'.replace(
            '"=HYPERLINK(""http://evil"")"', "formula@example.com"
        )
        + "-dash@example.com,=SUM(A1),+1 555,@Acme,sales;marketing,America/New_York,"
        "2025-01-01T00:00:00Z,bounced,msp,gold,AMER\n"
        + "plain@example.com,Zoë,O'Brien,Acme,executive,,no,,,,\n",
    )
    exported = export_text(runtime)
    assert ",'=SUM(A1),'+1 555,'@Acme," in exported
    assert "\n'-dash@example.com," in exported
    # Re-importing the export into the same database changes nothing ...
    result = run_import(runtime, exported)
    assert (result.report.created, result.report.updated) == (0, 0)
    # ... and into an empty one reproduces the same export.
    with session_scope(runtime.sessions) as session:
        for contact in session.scalars(select(Contact)):
            session.delete(contact)
        for partner in session.scalars(select(Partner)):
            session.delete(partner)
    run_import(runtime, exported)
    assert export_text(runtime) == exported


def test_consent_changes_record_their_source(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as session:
        session.add(
            Contact(
                email="form@example.com",
                consent_at=NOW,
                consent_source="web-form",
                consent_wording="v3",
            )
        )
    run_import(runtime, f"{HEADER},consent\nform@example.com,A,B,Acme,sales,,no\n")
    withdrawn = contacts(runtime)["form@example.com"]
    assert (withdrawn.consent_at, withdrawn.consent_source, withdrawn.consent_wording) == (
        None,
        "import",
        None,
    )
    run_import(runtime, f"{HEADER},consent\nform@example.com,A,B,Acme,sales,,yes\n")
    regiven = contacts(runtime)["form@example.com"]
    assert (regiven.consent_at, regiven.consent_source) == (NOW, "import")


def test_a_file_that_is_not_utf8_is_refused_cleanly(runtime: Runtime) -> None:
    raw = f"{HEADER}\ncafé@example.com,Zoë,B,Acme,sales,\n".encode("cp1252")
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    with (
        pytest.raises(ContactImportError, match="not UTF-8 text"),
        session_scope(runtime.sessions) as session,
    ):
        import_contacts_file(session, stream, "in.csv", NOW)
    assert contacts(runtime) == {}


def test_partners_match_by_name_ignoring_case_and_spacing(runtime: Runtime) -> None:
    run_import(runtime, f"{HEADER},partner_tier\na@example.com,A,B,Acme  Cloud,sales,,Gold\n")
    result = run_import(runtime, f"{HEADER},partner_tier\nb@example.com,A,B,ACME cloud,sales,,\n")
    assert result.report.partners_created == []
    with session_scope(runtime.sessions) as session:
        (partner,) = session.scalars(select(Partner))
        assert (partner.name, partner.tier) == ("Acme Cloud", "gold")
        assert len(partner.contacts) == 2
