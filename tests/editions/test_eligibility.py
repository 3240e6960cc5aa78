"""One rule for who may be sent to: the number of recipients the calendar promises for a
planned edition is the number of contacts the edition then queues, whoever the contacts are.

A property test: hypothesis makes partner bases (status, consent, opted-out channels, pauses
in the past, today and ahead, roles, partners' type, tier and region) and series (audiences,
partner filter); each example empties the one database of the test and fills it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from commhub.render.renderer import Renderer
from commhub.resources import templates_dir
from commhub.scheduling.agenda import calendar
from commhub.scheduling.planning import plan_editions
from commhub.store.db import Base
from commhub.store.models import (
    Audience,
    Channel,
    Contact,
    ContactStatus,
    ContentItem,
    ContentKind,
    ContentSource,
    EditionState,
    MessageStatus,
    Partner,
    SkipReason,
)
from tests.builders import NOW, World

AUDIENCES = ("development", "executive", "marketing", "sales", "technical")
TYPES = ("reseller", "msp")
TIERS = ("gold", "silver")
REGIONS = ("EMEA", "APAC")
TODAY = NOW.date()
_STATUS_REASONS = {
    ContactStatus.UNSUBSCRIBED: SkipReason.UNSUBSCRIBED,
    ContactStatus.BOUNCED: SkipReason.BOUNCED,
    ContactStatus.COMPLAINED: SkipReason.COMPLAINED,
}


@dataclass(frozen=True)
class PartnerSpec:
    type: str | None
    tier: str | None
    region: str | None


@dataclass(frozen=True)
class ContactSpec:
    roles: frozenset[str]
    partner: int | None  # index into the scenario's partners
    status: ContactStatus
    consent: bool
    opted_out: frozenset[str]
    paused_until: date | None


@dataclass(frozen=True)
class Scenario:
    audiences: tuple[str, ...] | None  # None: `audiences: all`
    partner_filter: dict[str, list[str]]
    partners: tuple[PartnerSpec, ...]
    contacts: tuple[ContactSpec, ...]


def _values(pool: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(pool), unique=True)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    partners = draw(
        st.lists(
            st.builds(
                PartnerSpec,
                st.sampled_from((*TYPES, None)),
                st.sampled_from((*TIERS, None)),
                st.sampled_from((*REGIONS, None)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    # Mostly active and consented, so that many contacts are refused by one rule or none:
    # a rule the calendar reads differently then changes the count.
    contact = st.builds(
        ContactSpec,
        roles=st.frozensets(st.sampled_from(AUDIENCES), max_size=3),
        partner=st.sampled_from((*range(len(partners)), None)),
        status=st.sampled_from([ContactStatus.ACTIVE] * 3 + list(_STATUS_REASONS)),
        consent=st.sampled_from([True, True, True, False]),
        opted_out=st.frozensets(st.sampled_from([c.value for c in Channel]), max_size=2),
        # Ended yesterday, ending today (so still paused), or ending tomorrow.
        paused_until=st.none() | st.sampled_from([TODAY + timedelta(d) for d in (-1, 0, 1)]),
    )
    return Scenario(
        # A series file never names no audience (`audiences: []` is refused as missing).
        audiences=draw(
            st.none() | st.lists(st.sampled_from(AUDIENCES), min_size=1, unique=True).map(tuple)
        ),
        # Half the series filter partners (an empty list filters nothing).
        partner_filter=draw(
            st.just({})
            | st.fixed_dictionaries(
                {},
                optional={
                    "types": _values(TYPES),
                    "tiers": _values(TIERS),
                    "regions": _values(REGIONS),
                },
            )
        ),
        partners=tuple(partners),
        contacts=tuple(draw(st.lists(contact, min_size=6, max_size=20))),
    )


def _one(
    roles: str = "sales",
    partner: int | None = 0,
    status: ContactStatus = ContactStatus.ACTIVE,
    consent: bool = True,
    opted_out: frozenset[str] = frozenset(),
    paused: int | None = None,
) -> ContactSpec:
    """A contact for the example every run checks: sendable but for what is given."""
    paused_until = TODAY + timedelta(paused) if paused is not None else None
    return ContactSpec(
        frozenset(roles.split(",")), partner, status, consent, opted_out, paused_until
    )


# Each rule on its own, at its edges, whatever hypothesis draws besides.
EVERY_RULE = Scenario(
    audiences=("sales", "technical"),
    partner_filter={"tiers": ["gold"], "regions": []},
    partners=(PartnerSpec("reseller", "gold", "EMEA"), PartnerSpec("msp", "silver", None)),
    contacts=(
        _one(),
        _one("sales,technical,marketing"),
        _one("marketing"),
        _one(partner=1),
        _one(partner=None),
        *(_one(status=status) for status in _STATUS_REASONS),
        _one(consent=False),
        _one(opted_out=frozenset({"newsletter"})),
        _one(opted_out=frozenset({"video_digest", "social"})),
        *(_one(paused=days) for days in (-1, 0, 1)),
    ),
)


@settings(
    max_examples=50,
    deadline=None,
    # One database for all examples: each example empties it first (see _fill).
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
@example(scenario=EVERY_RULE)
def test_the_calendar_promises_as_many_recipients_as_the_edition_queues(
    world: World, scenario: Scenario
) -> None:
    # MJML is not under test, and compiling it costs tens of milliseconds per role set.
    world.renderer = Renderer(templates_dir(), compile_html=lambda source: source)
    _fill(world, scenario)
    world.series(
        audiences=list(scenario.audiences) if scenario.audiences is not None else None,
        partner_filter=scenario.partner_filter,
    )
    with world.session() as session:
        plan_editions(session, NOW)
        entries = calendar(session, NOW, months=2, series_slugs=["news"])
    assert entries
    assert {entry.state for entry in entries} == {EditionState.PLANNED}
    promised = entries[0].expected_recipients

    edition_id = world.prepare().edition.id

    messages = world.messages(edition_id)
    queued = {email for email, m in messages.items() if m.status is MessageStatus.QUEUED}
    assert promised == len(queued)
    # And both follow the rule as written out below, reasons and all.
    assert {email: m.skip_reason for email, m in messages.items()} == _expected(scenario)


def _fill(world: World, scenario: Scenario) -> None:
    """Empty the database but for its audiences; add an item for every audience (so that
    no contact is left out for having nothing new), the partners and the contacts."""
    with world.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != Audience.__tablename__:
                session.execute(delete(table))
        audiences = {a.slug: a for a in session.scalars(select(Audience))}
        session.add_all(
            ContentItem(
                slug=f"news-for-{slug}",
                title=f"News for {slug}",
                kind=ContentKind.ARTICLE,
                source=ContentSource.UI,
                url=f"https://partners.example/{slug}",
                publish_at=NOW - timedelta(days=1),
                audiences=[audience],
            )
            for slug, audience in audiences.items()
        )
        partners = [
            Partner(name=f"Partner {n}", type=p.type, tier=p.tier, region=p.region, tags=[])
            for n, p in enumerate(scenario.partners)
        ]
        session.add_all(
            Contact(
                email=f"c{n}@p.example",
                partner=partners[c.partner] if c.partner is not None else None,
                status=c.status,
                consent_at=NOW - timedelta(days=30) if c.consent else None,
                opted_out_channels=sorted(c.opted_out),
                paused_until=c.paused_until,
                roles=[audiences[slug] for slug in sorted(c.roles)],
            )
            for n, c in enumerate(scenario.contacts)
        )


def _expected(scenario: Scenario) -> dict[str, SkipReason | None]:
    """Who of the scenario's contacts gets a message of the newsletter, and why not sent."""
    wanted = set(scenario.audiences) if scenario.audiences is not None else set(AUDIENCES)
    found: dict[str, SkipReason | None] = {}
    for n, c in enumerate(scenario.contacts):
        partner = scenario.partners[c.partner] if c.partner is not None else None
        if not c.roles & wanted or not _passes(partner, scenario.partner_filter):
            continue
        reason = None
        if c.status in _STATUS_REASONS:
            reason = _STATUS_REASONS[c.status]
        elif not c.consent:
            reason = SkipReason.NO_CONSENT
        elif Channel.NEWSLETTER.value in c.opted_out:
            reason = SkipReason.OPTED_OUT
        elif c.paused_until is not None and c.paused_until >= TODAY:
            reason = SkipReason.PAUSED
        found[f"c{n}@p.example"] = reason
    return found


def _passes(partner: PartnerSpec | None, partner_filter: dict[str, list[str]]) -> bool:
    """Whether a contact's partner passes the filter (no partner passes only an empty one)."""
    fields = {"types": "type", "tiers": "tier", "regions": "region"}
    return all(
        partner is not None and getattr(partner, fields[key]) in values
        for key, values in partner_filter.items()
        if values
    )
