"""A realistic sample partner ecosystem, the same on every run (so it is idempotent)."""

from __future__ import annotations

import os
import random
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from commhub.contacts.csv_format import Consent, ContactRow, PartnerFields
from commhub.contacts.directory import ContactImportReport, import_contacts
from commhub.contacts.users import create_user, find_user, set_password
from commhub.store import UserRole

SEED = 20261122


@dataclass(frozen=True)
class DemoPartner:
    name: str
    type: str
    tier: str
    region: str


# (name, type, tier, region): a spread of types and tiers across three regions.
PARTNERS: Sequence[DemoPartner] = [
    DemoPartner(*p)
    for p in [
        ("Altamira Systems", "reseller", "platinum", "EMEA"),
        ("Bluewater IT Services", "msp", "gold", "EMEA"),
        ("Corvid Consulting", "si", "gold", "AMER"),
        ("Dunmore Data", "isv", "silver", "EMEA"),
        ("Eastbridge Distribution", "distributor", "platinum", "APAC"),
        ("Fjordline Networks", "msp", "silver", "EMEA"),
        ("Granite Peak Solutions", "reseller", "gold", "AMER"),
        ("Harbourside Cloud", "msp", "platinum", "APAC"),
        ("Ironbark Integration", "si", "silver", "APAC"),
        ("Juniper Lane Software", "isv", "gold", "AMER"),
        ("Kestrel Managed Services", "msp", "registered", "AMER"),
        ("Lumen & Co", "reseller", "silver", "EMEA"),
        ("Meridian Tech Group", "si", "platinum", "EMEA"),
        ("Northgate Analytics", "isv", "registered", "AMER"),
        ("Oakridge IT", "reseller", "registered", "AMER"),
        ("Pinnacle Cloudworks", "msp", "gold", "AMER"),
        ("Quayside Digital", "reseller", "gold", "EMEA"),
        ("Redwood Secure", "isv", "silver", "AMER"),
        ("Saltmarsh Systems", "si", "registered", "EMEA"),
        ("Tidewater Technologies", "distributor", "gold", "AMER"),
        ("Upland Networks", "msp", "silver", "APAC"),
        ("Vantage Point Partners", "si", "gold", "APAC"),
        ("Westerly Software", "isv", "platinum", "EMEA"),
        ("Xylo Data Services", "msp", "registered", "EMEA"),
        ("Yarra Valley IT", "reseller", "silver", "APAC"),
        ("Zenith Infrastructure", "si", "silver", "AMER"),
        ("Arcadia Cloud Partners", "reseller", "gold", "APAC"),
        ("Brightwell MSP", "msp", "gold", "EMEA"),
        ("Cobalt Coast Consulting", "si", "registered", "AMER"),
        ("Delta Ridge Software", "isv", "gold", "APAC"),
        ("Evergreen Resellers", "reseller", "platinum", "AMER"),
        ("Foxglove Distribution", "distributor", "silver", "EMEA"),
    ]
]

TIMEZONES = {
    "EMEA": ["Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Stockholm",
             "Africa/Johannesburg", "Asia/Dubai"],
    "AMER": ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
             "America/Toronto", "America/Sao_Paulo"],
    "APAC": ["Australia/Sydney", "Asia/Singapore", "Asia/Tokyo", "Asia/Kolkata",
             "Pacific/Auckland"],
}  # fmt: skip
FIRST_NAMES = [
    "Aisha", "Ben", "Carmen", "Dmitri", "Elena", "Farid", "Grace", "Hiroshi", "Ingrid", "Jamal",
    "Kavya", "Liam", "Maya", "Niamh", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoë", "Amara", "Bruno", "Chloé", "Diego",
    "Emeka", "Freya", "Gabriel", "Hana", "Isaac", "Jun", "Katarzyna", "Lucas", "Mei", "Nikos",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Schmidt", "García", "Ivanova", "Rossi", "Haddad", "Nakamura", "Larsen", "Patel",
    "O'Brien", "Kowalski", "Nguyen", "Müller", "Silva", "Dubois", "Chen", "Andersson", "Kaur",
    "Moreau", "Tanaka", "Fischer", "Hughes", "Mensah", "Novak", "Ortiz", "Park", "Quinn",
    "Reyes", "Sato", "Van Dijk",
]  # fmt: skip
# Role mixes seen at partners: people hold one role, sometimes two.
ROLE_MIXES: Sequence[tuple[tuple[str, ...], int]] = [
    (("sales",), 22), (("technical",), 20), (("marketing",), 12), (("development",), 12),
    (("executive",), 8), (("sales", "executive"), 6), (("technical", "development"), 8),
    (("sales", "marketing"), 5), (("technical", "sales"), 4), (("executive", "marketing"), 3),
]  # fmt: skip
CONTACTS_PER_PARTNER = (6, 14)


def demo_contacts(now: datetime) -> list[ContactRow]:
    """About 320 contacts at 32 partners, every role and many time zones, deterministic."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible sample data, not secrets
    rows: list[ContactRow] = []
    mixes = [mix for mix, _ in ROLE_MIXES]
    weights = [weight for _, weight in ROLE_MIXES]
    for partner in PARTNERS:
        domain = re.sub(r"[^a-z0-9]+", "", partner.name.lower().replace("&", "and")) + ".example"
        count = rng.randint(*CONTACTS_PER_PARTNER)
        # Every partner starts with one executive and one technical contact, like a real org
        # chart; the rest follow the weighted mix.
        roles_for = [("executive",), ("technical",), *rng.choices(mixes, weights, k=count - 2)]
        used: set[str] = set()
        for roles in roles_for:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = _ascii(f"{first}.{last}")
            while local in used:
                local += str(rng.randint(2, 9))
            used.add(local)
            rows.append(
                ContactRow(
                    line=len(rows) + 2,
                    email=f"{local}@{domain}",
                    first_name=first,
                    last_name=last,
                    partner=PartnerFields(partner.name, partner.type, partner.tier, partner.region),
                    roles=tuple(sorted(roles)),
                    timezone=rng.choice(TIMEZONES[partner.region]),
                    consent=Consent(given=True, at=now.replace(microsecond=0)),
                    status=None,
                )
            )
    return rows


def _ascii(name: str) -> str:
    table = str.maketrans({"é": "e", "ë": "e", "ü": "u", "í": "i", "ó": "o", "á": "a", "'": ""})
    return re.sub(r"[^a-z.]", "", name.lower().translate(table).replace(" ", ""))


def load_demo_data(session: Session, now: datetime) -> ContactImportReport:
    """Write the demo partners and contacts (a second run changes nothing)."""
    return import_contacts(session, demo_contacts(now), now)


DEMO_ADMIN_EMAIL = "admin@northwind.example"
DEMO_PASSWORD_FILE = "demo-admin-password"  # noqa: S105 - a file name


def ensure_demo_admin(session: Session, data_dir: Path) -> tuple[str, str]:
    """The demo admin's address and password; created with a random password kept (0600)
    in the data dir, so every `make run` can print how to sign in."""
    password_file = data_dir / DEMO_PASSWORD_FILE
    if find_user(session, DEMO_ADMIN_EMAIL) is not None and password_file.exists():
        return DEMO_ADMIN_EMAIL, password_file.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(12)
    user = find_user(session, DEMO_ADMIN_EMAIL)
    if user is None:
        create_user(session, DEMO_ADMIN_EMAIL, UserRole.ADMIN, password)
    else:
        set_password(user, password)
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return DEMO_ADMIN_EMAIL, password
