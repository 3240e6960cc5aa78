"""A large, realistic commhub database for the page benchmarks, written with bulk inserts.

100,000 contacts at 2,000 partners (a few large, most small; the demo's mix of roles), 500
content items with key messages, five series planned a year ahead, 40 editions sent over the
past year with their items, links, renders and about 1.9 million messages, and 2,000,000
events on them (opens, machine opens, clicks, votes, a few unsubscribes and complaints),
with the exposures and tallies the tracking code keeps for them; staff users, an audit log.
Deterministic (seeded); rows go in through commhub.store.bulk.BulkInsert, not ORM objects,
and the figures the recording functions would have kept are then worked out from them by
`report rebuild`'s own code (its time on 2M events is printed).

    .venv/bin/python benchmarks/large_db.py DATABASE_URL DATA_DIR   # into an empty database

benchmarks/pages.py runs it and caches what it built under the name VERSION is part of.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from commhub.contacts.demo import FIRST_NAMES, LAST_NAMES, ROLE_MIXES, TIMEZONES, _ascii
from commhub.contacts.users import create_user
from commhub.reports import rebuild_aggregates
from commhub.scheduling import (
    apply_series,
    known_audiences,
    plan_editions,
    read_series_file,
    series_ids_of,
)
from commhub.store.bulk import BulkInsert
from commhub.store.db import session_scope
from commhub.store.models import (
    Alert,
    Audience,
    AuditEntry,
    CalendarFeed,
    Contact,
    ContentItem,
    Edition,
    EditionItem,
    EditionLink,
    EditionRender,
    Event,
    Exposure,
    ExposureTally,
    KeyMessage,
    Message,
    Partner,
    Series,
    UserRole,
    contact_roles,
    content_item_audiences,
)
from commhub.wiring import Runtime, build_renderer

VERSION = "2"  # bump when what this writes changes: pages.py then builds it again
SEED = 20261124
CONTACTS = 100_000
PARTNERS = 2_000
ITEMS = 500
EVENTS = 2_000_000
CHUNK = 100_000  # rows per BulkInsert call (and per transaction for the big tables)
ADMIN_EMAIL = "bench-admin@northwind.example"
ADMIN_PASSWORD = "bench admin password, long enough"  # noqa: S105 - a throwaway database

KEY_MESSAGES = (
    "Deal registration pays", "Security comes first", "Certify to sell more",
    "Marketplace listings close faster", "Co-selling wins bigger deals",
    "Migrations are a service opportunity", "Support is one call away", "Build once, sell twice",
)  # fmt: skip
TOPICS = (
    "pricing", "security", "certification", "marketplace", "api", "events", "programme", "sales",
    "marketing", "executive", "migration", "support", "analytics", "storage",
)  # fmt: skip
TITLE_WORDS = (
    "What changes in", "A guide to", "Five things about", "Webinar:", "Q&A:", "Deep dive:",
    "Announcing", "Case study:", "Checklist for", "Roadmap update:",
)  # fmt: skip
PARTNER_PREFIXES = (
    "Alder", "Birch", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbour", "Iron", "Jade",
    "Kestrel", "Lumen", "Maple", "North", "Onyx", "Pine", "Quartz", "River", "Summit", "Tide",
    "Upland", "Vertex", "West", "Xenon", "Yarrow", "Zephyr", "Amber", "Blue", "Copper", "Dune",
    "East", "Fjord", "Glen", "High", "Indigo", "Juniper", "Kite", "Lake", "Moor", "Nova",
)  # fmt: skip
PARTNER_CORES = (
    "Cloud", "Data", "Systems", "Networks", "Digital", "Software", "Tech", "Consulting",
    "Solutions", "Secure", "Analytics", "Integration", "IT", "Works", "Logic", "Labs",
    "Infrastructure", "Services", "Computing", "Partners", "Stack", "Bridge", "Point", "Line",
    "Gate", "Wave", "Peak", "Field", "Ridge", "Path",
)  # fmt: skip
PARTNER_SUFFIXES = ("Ltd", "Inc", "GmbH", "Group", "& Co", "LLC", "BV", "Pty")
TYPES = (("reseller", 30), ("msp", 25), ("si", 20), ("isv", 15), ("distributor", 3))
TIERS = (("registered", 45), ("silver", 28), ("gold", 19), ("platinum", 8))
REGIONS = (("EMEA", 45), ("AMER", 38), ("APAC", 17))
# (slug, audiences or None for all, days between editions, editions sent, max items, tiers)
SENT = (
    ("partner-newsletter", None, 30, 12, 4, None),
    ("executive-briefing", ("executive",), 91, 4, 5, ("platinum", "gold")),
    ("technical-digest", ("technical",), 30, 12, 3, None),
    ("sales-enablement", ("sales",), 45, 8, 3, None),
    ("events-roundup", ("executive", "marketing"), 91, 4, 3, None),
)
SERIES_YAML = """\
series:
  - slug: partner-newsletter
    name: Partner Newsletter
    channel: newsletter
    audiences: all
    cadence: monthly on the first tuesday at 09:00
    timezone: Europe/London
    subject: "{{ series.name }}: what's new for your role, {{ edition.date_label }}"
    from: Northwind Partner Team <partners@northwind.example>
    max_items: 4
  - slug: executive-briefing
    name: Quarterly Executive Briefing
    channel: newsletter
    audiences: [executive]
    cadence: quarterly on the first monday at 10:00
    timezone: Europe/London
    subject: "{{ series.name }}, {{ edition.date_label }}"
    from: Northwind Partner Leadership <leadership@northwind.example>
    max_items: 5
    partner_filter:
      tiers: [platinum, gold]
    requires_approval: true
  - slug: technical-digest
    name: Technical Digest
    channel: newsletter
    audiences: [technical]
    cadence: monthly on the third thursday at 14:00
    timezone: America/New_York
    subject: "{{ series.name }}: {{ edition.date_label }}"
    from: Northwind Partner Engineering <engineering@northwind.example>
    max_items: 3
    rule_of_seven: true
  - slug: sales-enablement
    name: Sales Enablement
    channel: newsletter
    audiences: [sales]
    cadence: weekly on wednesday at 11:00
    timezone: Europe/Paris
    subject: "{{ series.name }}, week of {{ edition.date_label }}"
    from: Northwind Partner Sales <sales@northwind.example>
    max_items: 3
  - slug: events-roundup
    name: Events Roundup
    channel: newsletter
    audiences: [executive, marketing]
    cadence: quarterly on the first friday at 12:00
    timezone: Australia/Sydney
    subject: "{{ series.name }}, {{ edition.date_label }}"
    from: Northwind Partner Events <events@northwind.example>
    max_items: 3
"""


def _t(model: Any) -> Table:
    return cast(Table, model.__table__)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], [w for _, w in pairs])[0]


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(runtime: Runtime, model: Any, columns: tuple[str, ...], rows: Sequence[Any]) -> None:
    """Rows into model's table in CHUNK-row transactions."""
    writer = BulkInsert(_t(model) if not isinstance(model, Table) else model, columns)
    for chunk in _chunks(rows):
        with session_scope(runtime.sessions) as session:
            _fast(session)
            writer(session, chunk)


def _fast(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        # A throwaway build: no fsyncs, and a cache the indexes fit in (random inserts into
        # them are the cost as the tables grow).
        session.connection().exec_driver_sql("PRAGMA synchronous = OFF")
        session.connection().exec_driver_sql("PRAGMA cache_size = -400000")


class Generator:
    """Builds the large database into an empty, migrated one (audiences synced)."""

    def __init__(self, runtime: Runtime, now: datetime, log: Any = print) -> None:
        self.runtime = runtime
        self.now = now.replace(microsecond=0)
        self.rng = random.Random(SEED)
        self.log = log
        self.started = time.perf_counter()

    def step(self, what: str) -> None:
        self.log(f"  {time.perf_counter() - self.started:6.1f} s  {what}")

    def build(self) -> None:
        with session_scope(self.runtime.sessions) as session:
            self.audiences = {a.slug: a.id for a in session.scalars(select(Audience))}
        self.content()
        self.step(f"{ITEMS} content items")
        self.partners_and_contacts()
        self.step(f"{PARTNERS:,} partners, {CONTACTS:,} contacts")
        self.series()
        self.step("series applied and planned")
        self.editions()
        self.step("editions, messages, events, exposures")
        self.staff()
        self.step("users, audit log, alerts")
        # The rows above went in around the recording functions: the kept figures are worked
        # out from them as `commhub report rebuild` does (timed: the rebuild on 2M events).
        with session_scope(self.runtime.sessions) as session:
            checked = rebuild_aggregates(session)
        self.step(f"kept figures rebuilt from the events ({sum(c.rows for c in checked):,} rows)")

    # -- the library -----------------------------------------------------------------------

    def content(self) -> None:
        rng = self.rng
        with session_scope(self.runtime.sessions) as session:
            for words in KEY_MESSAGES:
                session.add(KeyMessage(text=words, created_at=self.now - timedelta(days=800)))
            session.flush()
            self.key_ids = list(session.scalars(select(KeyMessage.id).order_by(KeyMessage.id)))
        slugs = list(self.audiences)
        rows, links = [], []
        self.items: dict[int, dict[str, Any]] = {}
        paragraph = (
            "Partners asked how this affects their customers, their margins and their "
            "renewals. This item answers the common questions and links to the details. "
        )
        for n in range(1, ITEMS + 1):
            topic = rng.choice(TOPICS)
            title = f"{rng.choice(TITLE_WORDS)} {topic} for partners, part {n}"
            kind = rng.choices(["article", "video", "announcement", "event"], [55, 20, 15, 10])[0]
            status = rng.choices(["published", "draft", "archived"], [90, 5, 5])[0]
            publish = self.now - timedelta(days=rng.uniform(-20, 720))
            key = rng.choice(self.key_ids) if rng.random() < 0.75 else None
            audiences = rng.sample(slugs, rng.choice((1, 1, 1, 2, 2, 3)))
            body = "\n\n".join(paragraph * rng.randint(1, 3) for _ in range(rng.randint(3, 8)))
            html = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
            source = rng.choices(["file", "ui", "feed"], [60, 25, 15])[0]
            rows.append(
                (
                    n,
                    f"{topic}-{n}",
                    title,
                    paragraph,
                    body,
                    html,
                    kind,
                    key,
                    f"https://partners.northwind.example/{topic}/{n}",
                    f"https://video.northwind.example/{n}" if kind == "video" else None,
                    f"https://cdn.northwind.example/{n}.jpg",
                    rng.randint(60, 1800) if kind == "video" else None,
                    [f"#{topic}"],
                    publish,
                    status,
                    source,
                    f"content/{topic}/{n}.md" if source == "file" else None,
                    publish,
                    publish,
                    rng.choice((0, 0, 0, 1, 5)),
                )
            )
            links += [(n, self.audiences[slug]) for slug in audiences]
            self.items[n] = {
                "audiences": {self.audiences[s] for s in audiences},
                "key": key,
                "url": rows[-1][8],
                "publish": publish,
                "ok": status == "published",
            }
        _insert(
            self.runtime,
            ContentItem,
            (
                "id",
                "slug",
                "title",
                "summary",
                "body_markdown",
                "body_html",
                "kind",
                "key_message_id",
                "url",
                "video_url",
                "thumbnail_url",
                "duration_seconds",
                "hashtags",
                "publish_at",
                "status",
                "source",
                "source_ref",
                "created_at",
                "updated_at",
                "priority",
            ),
            rows,
        )
        _insert(self.runtime, content_item_audiences, ("content_item_id", "audience_id"), links)

    # -- the directory ---------------------------------------------------------------------

    def partners_and_contacts(self) -> None:
        rng = self.rng
        names = rng.sample(
            list(product(PARTNER_PREFIXES, PARTNER_CORES, PARTNER_SUFFIXES)), PARTNERS
        )
        partners = []
        for n, (prefix, core, suffix) in enumerate(names, 1):
            name = f"{prefix} {core} {suffix}"
            region = _weighted(rng, REGIONS)
            tier = _weighted(rng, TIERS)
            tags = rng.sample(["cloud", "security", "data", "smb", "enterprise", "public"], 2)
            created = self.now - timedelta(days=rng.uniform(30, 900))
            partners.append(
                (
                    n,
                    name,
                    name.casefold(),
                    _weighted(rng, TYPES),
                    tier,
                    region,
                    tags,
                    created,
                    created,
                )
            )
        _insert(
            self.runtime,
            Partner,
            (
                "id",
                "name",
                "name_key",
                "type",
                "tier",
                "region",
                "tags",
                "created_at",
                "updated_at",
            ),
            partners,
        )
        self.partner_tier = {p[0]: p[4] for p in partners}
        # A few large partners, many small ones (Pareto), at least 3 contacts each.
        weights = [rng.paretovariate(1.2) for _ in partners]
        total = sum(weights)
        sizes = [max(3, round(CONTACTS * w / total)) for w in weights]
        biggest = max(range(len(sizes)), key=sizes.__getitem__)
        sizes[biggest] -= sum(sizes) - CONTACTS
        mixes = [mix for mix, _ in ROLE_MIXES]
        mix_weights = [weight for _, weight in ROLE_MIXES]
        contacts, roles = [], []
        # Per contact: (partner id, role slugs, status), index = contact id - 1.
        self.contacts: list[tuple[int, tuple[str, ...], str]] = []
        contact_id = 0
        for (pid, name, *_rest), size in zip(partners, sizes, strict=True):
            domain = re.sub(r"[^a-z0-9]+", "", name.lower().replace("&", "and")) + ".example"
            region = _rest[3]
            used: Counter[str] = Counter()
            for _ in range(size):
                contact_id += 1
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                local = _ascii(f"{first}.{last}")
                used[local] += 1
                if used[local] > 1:
                    local += str(used[local])
                email = f"{local}@{domain}"
                status = rng.choices(
                    ["active", "unsubscribed", "bounced", "complained"], [94, 3.5, 2.3, 0.2]
                )[0]
                mix = rng.choices(mixes, mix_weights)[0]
                created = self.now - timedelta(days=rng.uniform(1, 700))
                contacts.append(
                    (
                        contact_id,
                        email,
                        email,
                        first,
                        last,
                        pid,
                        rng.choice(TIMEZONES[region]),
                        status,
                        created,
                        "import",
                        "v1",
                        ["newsletter"] if rng.random() < 0.01 else [],
                        created,
                        created,
                    )
                )
                roles += [(contact_id, self.audiences[slug]) for slug in mix]
                self.contacts.append((pid, tuple(sorted(mix)), status))
        _insert(
            self.runtime,
            Contact,
            (
                "id",
                "email",
                "email_key",
                "first_name",
                "last_name",
                "partner_id",
                "timezone",
                "status",
                "consent_at",
                "consent_source",
                "consent_wording",
                "opted_out_channels",
                "created_at",
                "updated_at",
            ),
            contacts,
        )
        _insert(self.runtime, contact_roles, ("contact_id", "audience_id"), roles)

    # -- series and what they sent ---------------------------------------------------------

    def series(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "series.yml"
            path.write_text(SERIES_YAML, encoding="utf-8")
            with session_scope(self.runtime.sessions) as session:
                definitions = read_series_file(
                    path, known_audiences(session), build_renderer().has_template
                )
                report = apply_series(session, definitions)
                changed = series_ids_of(session, [*report.created, *report.updated])
                plan_editions(session, self.now, changed)
        with session_scope(self.runtime.sessions) as session:
            self.series_ids = dict(session.execute(select(Series.slug, Series.id)).all())

    def editions(self) -> None:
        """The sent editions, oldest first, so that an item goes to an audience once."""
        rng = self.rng
        runs = []
        for slug, audiences, every, count, max_items, tiers in SENT:
            first = self.now - timedelta(days=every * count - rng.uniform(1, every / 2))
            for n in range(count):
                planned = (first + timedelta(days=every * n)).replace(second=0)
                runs.append((planned, slug, audiences, max_items, tiers))
        runs.sort()
        carried: dict[int, set[int]] = defaultdict(set)  # audience id -> item ids
        plans = []
        for planned, slug, audiences, max_items, tiers in runs:
            audience_ids = [self.audiences[s] for s in audiences or self.audiences]
            chosen: dict[int, list[int]] = {}
            for audience_id in audience_ids:
                fresh = [
                    item_id
                    for item_id, item in self.items.items()
                    if item["ok"]
                    and audience_id in item["audiences"]
                    and item["publish"] < planned
                    and item_id not in carried[audience_id]
                ]
                fresh.sort(key=lambda i: self.items[i]["publish"], reverse=True)
                chosen[audience_id] = fresh[:max_items]
                carried[audience_id].update(chosen[audience_id])
            plans.append((planned, slug, audiences, tiers, chosen))
        sent_total = 0
        recipients = []
        for _planned, _slug, audiences, tiers, _chosen in plans:
            wanted = set(audiences or self.audiences)
            members = [
                (cid, key)
                for cid, (pid, roles, _status) in enumerate(self.contacts, 1)
                if (key := ",".join(r for r in roles if r in wanted))
                and (tiers is None or self.partner_tier[pid] in tiers)
            ]
            recipients.append(members)
            sent_total += sum(1 for cid, _ in members if self.contacts[cid - 1][2] == "active")
        self.next_ids = {"message": 0, "event": 0, "exposure": 0}
        self.tallies: Counter[tuple[int, int]] = Counter()
        events_left, sent_left = EVENTS, sent_total
        for (planned, slug, _audiences, _tiers, chosen), members in zip(
            plans, recipients, strict=True
        ):
            sent = sum(1 for cid, _ in members if self.contacts[cid - 1][2] == "active")
            quota = events_left if sent == sent_left else round(events_left * sent / sent_left)
            self.edition(planned, slug, chosen, members, quota)
            events_left -= quota
            sent_left -= sent
            self.step(f"edition of {slug} on {planned:%Y-%m-%d}: {len(members):,} messages")
        tallies = [
            (cid, key, count, self.now) for (cid, key), count in sorted(self.tallies.items())
        ]
        _insert(
            self.runtime,
            ExposureTally,
            ("contact_id", "key_message_id", "email", "updated_at"),
            tallies,
        )
        self.step(f"{len(tallies):,} exposure tallies")

    def edition(
        self,
        planned: datetime,
        slug: str,
        chosen: dict[int, list[int]],
        members: list[tuple[int, str]],
        quota: int,
    ) -> None:
        rng = self.rng
        started = planned
        finished = planned + timedelta(minutes=max(2, len(members) // 1500))
        slugs_by_id = {v: k for k, v in self.audiences.items()}
        with session_scope(self.runtime.sessions) as session:
            edition_id = session.execute(
                insert(Edition)
                .values(
                    series_id=self.series_ids[slug],
                    planned_at=planned,
                    due_at=planned,
                    state="sent",
                    started_at=started,
                    prepared_at=started,
                    finished_at=finished,
                    recipient_count=len(members),
                    notes={},
                    created_at=planned - timedelta(days=30),
                    updated_at=finished,
                )
                .returning(Edition.id)
            ).scalar_one()
            link_of: dict[int, int] = {}
            items = []
            for audience_id, item_ids in chosen.items():
                for position, item_id in enumerate(item_ids):
                    items.append((edition_id, audience_id, item_id, position))
                    link_of.setdefault(item_id, len(link_of) + 1)
            BulkInsert(
                _t(EditionItem), ("edition_id", "audience_id", "content_item_id", "position")
            )(session, items)
            BulkInsert(_t(EditionLink), ("edition_id", "link_id", "content_item_id", "url"))(
                session, [(edition_id, n, i, self.items[i]["url"]) for i, n in link_of.items()]
            )
            role_links: dict[str, list[int]] = {}
            for role_set in sorted({key for _, key in members}):
                ids = {
                    item_id
                    for audience_id, item_ids in chosen.items()
                    if slugs_by_id[audience_id] in role_set.split(",")
                    for item_id in item_ids
                }
                role_links[role_set] = sorted(link_of[i] for i in ids)
            renders = [
                (
                    edition_id,
                    role_set,
                    "",
                    f"{slug}: what's new for {role_set}",
                    _render_html(slug, role_set, len(links)),
                    f"{slug} for {role_set}",
                    links,
                    started,
                )
                for role_set, links in role_links.items()
            ]
            BulkInsert(
                _t(EditionRender),
                (
                    "edition_id",
                    "role_set",
                    "variant",
                    "subject",
                    "html",
                    "text",
                    "link_ids",
                    "created_at",
                ),
            )(session, renders)
        # Messages: sent to the active, skipped for the others.
        messages, sent = [], []
        item_of_link = {n: i for i, n in link_of.items()}
        for cid, role_set in members:
            self.next_ids["message"] += 1
            mid = self.next_ids["message"]
            status = self.contacts[cid - 1][2]
            at = started + timedelta(seconds=rng.uniform(0, (finished - started).seconds))
            if status == "active":
                messages.append(
                    (
                        mid,
                        edition_id,
                        cid,
                        "newsletter",
                        role_set,
                        "",
                        "sent",
                        None,
                        1,
                        planned,
                        at,
                        at,
                    )
                )
                sent.append((mid, cid, role_set, at))
            else:
                messages.append(
                    (
                        mid,
                        edition_id,
                        cid,
                        "newsletter",
                        role_set,
                        "",
                        "skipped",
                        status,
                        0,
                        planned,
                        None,
                        planned,
                    )
                )
        _insert(
            self.runtime,
            Message,
            (
                "id",
                "edition_id",
                "contact_id",
                "channel",
                "role_set",
                "variant",
                "status",
                "skip_reason",
                "attempts",
                "queued_at",
                "sent_at",
                "updated_at",
            ),
            messages,
        )
        self.events(sent, role_links, item_of_link, quota)

    def events(
        self,
        sent: list[tuple[int, int, str, datetime]],
        role_links: dict[str, list[int]],
        item_of_link: dict[int, int],
        quota: int,
    ) -> None:
        """quota events over the sent messages, and the exposures the human ones make."""
        rng = self.rng
        keys_of_role_set = {
            role_set: sorted({k for n in links if (k := self.items[item_of_link[n]]["key"])})
            for role_set, links in role_links.items()
        }
        events: list[tuple[Any, ...]] = []
        exposures: dict[tuple[int, int, int], datetime] = {}
        order = list(sent)
        rng.shuffle(order)
        first_pass = True
        while len(events) < quota and order:
            for mid, cid, role_set, at in order:
                if len(events) >= quota:
                    break
                links = role_links[role_set]
                made = self.message_events(mid, cid, at, links, item_of_link, first_pass)
                for kind, when, item_id, data in made:
                    self.next_ids["event"] += 1
                    events.append(
                        (self.next_ids["event"], kind, mid, cid, item_id, "email", when, when, data)
                    )
                    if kind == "open" and not data["machine"]:
                        seen = keys_of_role_set[role_set]
                    elif kind in ("click", "vote") and item_id:
                        key = self.items[item_id]["key"]
                        seen = [key] if key else []
                    else:
                        continue
                    for key in seen:
                        exposures.setdefault((cid, key, mid), when)
            first_pass = False
        del events[quota:]
        _insert(
            self.runtime,
            Event,
            (
                "id",
                "kind",
                "message_id",
                "contact_id",
                "content_item_id",
                "format",
                "occurred_at",
                "recorded_at",
                "data",
            ),
            events,
        )
        rows = []
        for (cid, key, mid), when in sorted(exposures.items()):
            self.next_ids["exposure"] += 1
            rows.append((self.next_ids["exposure"], cid, key, "email", "message", mid, when))
            self.tallies[cid, key] += 1
        _insert(
            self.runtime,
            Exposure,
            (
                "id",
                "contact_id",
                "key_message_id",
                "format",
                "source_kind",
                "source_id",
                "occurred_at",
            ),
            rows,
        )

    def message_events(
        self,
        mid: int,
        cid: int,
        at: datetime,
        links: list[int],
        item_of_link: dict[int, int],
        first_pass: bool,
    ) -> list[tuple[str, datetime, int | None, dict[str, Any]]]:
        """What one contact did with one message: (kind, when, item id, data)."""
        rng = self.rng
        made: list[tuple[str, datetime, int | None, dict[str, Any]]] = []
        if first_pass and rng.random() < 0.25:
            made.append(
                (
                    "open",
                    at + timedelta(seconds=rng.uniform(1, 9)),
                    None,
                    {"machine": True, "why": "within seconds of delivery"},
                )
            )
        if rng.random() < (0.35 if first_pass else 0.5):
            when = at + timedelta(minutes=rng.expovariate(1 / 600))
            for n in range(rng.choice((1, 1, 2, 3))):
                made.append(("open", when + timedelta(hours=n * 5), None, {"machine": False}))
            if links and rng.random() < 0.3:
                link = rng.choice(links)
                url = self.items[item_of_link[link]]["url"]
                data = {"link_id": link, "url": url}
                made.append(("click", when + timedelta(minutes=1), item_of_link[link], data))
            if links and rng.random() < 0.08:
                link = rng.choice(links)
                vote = {"link_id": link, "answer": rng.choice(("yes", "yes", "no"))}
                made.append(("vote", when + timedelta(minutes=2), item_of_link[link], vote))
            if first_pass and rng.random() < 0.005:
                made.append(("unsubscribe", when + timedelta(minutes=3), None, {}))
        if first_pass and rng.random() < 0.0002:
            made.append(("complaint", at + timedelta(hours=rng.uniform(1, 48)), None, {}))
        return made

    # -- staff -----------------------------------------------------------------------------

    def staff(self) -> None:
        rng = self.rng
        with session_scope(self.runtime.sessions) as session:
            create_user(session, ADMIN_EMAIL, UserRole.ADMIN, ADMIN_PASSWORD)
            for n, role in enumerate([UserRole.EDITOR] * 4 + [UserRole.VIEWER] * 8, 1):
                create_user(session, f"staff{n}@northwind.example", role, ADMIN_PASSWORD)
            session.add(CalendarFeed(name="bench-feed", label="Partner team calendar"))
            for n in range(3):
                session.add(
                    Alert(
                        kind="delivery",
                        subject=f"Edition {n + 1}: 12 messages failed",
                        message="The relay refused them; `commhub editions show ID` lists them.",
                        raised_at=self.now - timedelta(days=n),
                    )
                )
        actors = [ADMIN_EMAIL, *(f"staff{n}@northwind.example" for n in range(1, 5))]
        actors += ["cli:ops", "scheduler"]
        entries = []
        for _ in range(20_000):
            action, object_type = rng.choice(
                (
                    ("signed in", "user"),
                    ("sent", "edition"),
                    ("imported", "content"),
                    ("edited", "series"),
                    ("approved", "edition"),
                    ("imported", "contacts"),
                )
            )
            at = self.now - timedelta(minutes=rng.uniform(0, 365 * 24 * 60))
            object_id = str(rng.randint(1, 500))
            entries.append(
                (
                    at,
                    rng.choice(actors),
                    action,
                    object_type,
                    object_id,
                    f"{object_type} {object_id} {action}",
                )
            )
        entries.sort()
        _insert(
            self.runtime,
            AuditEntry,
            ("at", "actor", "action", "object_type", "object_id", "summary"),
            entries,
        )


def _render_html(slug: str, role_set: str, links: int) -> str:
    block = (
        '<tr><td style="padding:16px;font-family:Arial,sans-serif">'
        "<h2>An item for {role_set}</h2><p>{text}</p>"
        '<a href="{{{{link_{n}}}}}">Read more</a></td></tr>'
    )
    text_ = "A short summary of the item, as the newsletter shows it. " * 4
    rows = "".join(block.format(role_set=role_set, text=text_, n=n) for n in range(links))
    return f"<html><body><h1>{slug}</h1><table>{rows}</table></body></html>"


def fix_sequences(runtime: Runtime) -> None:
    """PostgreSQL: explicit ids leave the id sequences behind; move them past the rows."""
    if runtime.engine.dialect.name != "postgresql":
        return
    with runtime.engine.begin() as connection:
        for table in ("content_items", "partners", "contacts", "messages", "events", "exposures"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )


def generate(runtime: Runtime, now: datetime, log: Any = print) -> None:
    """Fill a migrated database (audiences synced, nothing else) with the large data set."""
    Generator(runtime, now, log).build()
    fix_sequences(runtime)
    # As autovacuum would, by and by (it vacuums insert-only tables too, since PostgreSQL 13):
    # statistics, and the visibility map that lets counts read an index alone.
    if runtime.engine.dialect.name == "postgresql":
        with runtime.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )
    with session_scope(runtime.sessions) as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Contact, ContentItem, Edition, Message, Event, Exposure, ExposureTally)
        }
    log("  " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))


def main() -> None:
    from send import settings_for  # benchmarks/, beside this script
    from throwaway_db import migrated_runtime

    sys.tracebacklimit = 3  # a failed INSERT's message lists thousands of parameters
    url, data_dir = sys.argv[1], Path(sys.argv[2])
    runtime = migrated_runtime(settings_for(url, data_dir))
    generate(runtime, datetime.now(UTC), lambda line: print(line, file=sys.stderr, flush=True))
    runtime.close()


if __name__ == "__main__":
    main()
