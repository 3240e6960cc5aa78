from __future__ import annotations

import io

from commhub.contacts.csv_format import read_contacts_csv
from commhub.store.models import ContactStatus

ROLES = {"sales", "technical", "marketing", "development", "executive"}
HEADER = "email,first_name,last_name,partner,roles,timezone\n"


def read(text: str):  # type: ignore[no-untyped-def]
    return read_contacts_csv(io.StringIO(text), "contacts.csv", ROLES)


def test_valid_rows_are_read_and_normalised() -> None:
    result = read(HEADER + "Ana@Example.COM,Ana, Silva ,Acme,Sales; technical,Europe/Lisbon\n")
    assert result.problems == []
    (row,) = result.rows
    assert row.email == "Ana@example.com"
    assert row.key == "ana@example.com"
    assert row.roles == ("sales", "technical")
    assert row.last_name == "Silva"
    assert row.timezone == "Europe/Lisbon"
    assert row.consent is None
    assert row.status is None


def test_problems_carry_the_line_in_the_file() -> None:
    text = (
        HEADER
        + "ok@example.com,A,B,Acme,sales,\n"  # line 2
        + 'bad-address,"multi\nline",B,Acme,sales,\n'  # lines 3-4
        + "c@example.com,A,B,Acme,wizards,Mars/Olympus\n"  # line 5
        + "OK@EXAMPLE.com,A,B,Acme,sales,\n"  # line 6: repeats line 2
    )
    result = read(text)
    lines = [str(p) for p in result.problems]
    assert any(
        s.startswith('contacts.csv:3:email: "bad-address" is not a valid address') for s in lines
    )
    assert any(s.startswith('contacts.csv:5:roles: unknown role "wizards"') for s in lines)
    assert any(s.startswith('contacts.csv:5:timezone: "Mars/Olympus"') for s in lines)
    assert "contacts.csv:6:email: repeats the address on line 2" in lines
    assert [r.email for r in result.rows] == ["ok@example.com"]


def test_header_problems_are_on_line_one() -> None:
    result = read("email,first_name,partner,roles,colour\nx@example.com,A,Acme,sales,red\n")
    assert [str(p) for p in result.problems] == [
        "contacts.csv:1:last_name: missing column",
        "contacts.csv:1:colour: unknown column (known: email, first_name, last_name, partner, "
        "roles, timezone, consent, status, partner_type, partner_tier, partner_region)",
    ]


def test_a_partner_gets_one_type_per_file() -> None:
    header = "email,first_name,last_name,partner,roles,partner_type\n"
    result = read(
        header + "a@example.com,A,B,Acme,sales,msp\nb@example.com,A,B,ACME,sales,reseller\n"
    )
    assert [str(p) for p in result.problems] == [
        'contacts.csv:3:partner_type: "reseller" contradicts "msp" for Acme on line 2'
    ]


def test_consent_and_status_columns() -> None:
    header = "email,first_name,last_name,partner,roles,consent,status\n"
    result = read(
        header
        + "a@example.com,A,B,Acme,sales,yes,\n"
        + "b@example.com,A,B,Acme,sales,2026-01-02T03:04:05Z,unsubscribed\n"
        + "c@example.com,A,B,Acme,sales,no,active\n"
        + "d@example.com,A,B,Acme,sales,maybe,gone\n"
    )
    a, b, c = result.rows
    assert a.consent is not None
    assert a.consent.given
    assert a.consent.at is None
    assert b.consent is not None
    assert b.consent.at is not None
    assert b.consent.at.year == 2026
    assert b.status is ContactStatus.UNSUBSCRIBED
    assert c.consent is not None
    assert not c.consent.given
    assert {p.field for p in result.problems} == {"consent", "status"}


def test_neutralised_cells_are_restored_on_read() -> None:
    result = read(HEADER + "a@example.com,'=cmd,B,'+Acme,sales,\n")
    (row,) = result.rows
    assert row.first_name == "=cmd"
    assert row.partner.name == "+Acme"
