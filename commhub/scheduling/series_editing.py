"""Series edited in the browser, held to exactly what `series apply` accepts.

A form is turned into the mapping one entry of a series file would give, and that mapping is
read by the series file's own reader (commhub.scheduling.series), so the web and the files
can never disagree about what a series may be. Each problem names the file's field it is
about, so a page can show it beside the control that holds it.

The database row is what the UI edits: a later `series apply` of a file that lists the same
slug overwrites the UI's changes. series_yaml writes a series back in the file's format, so
a change made here can be put into that file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.editions import accounts_of
from commhub.errors import Conflict, Problem
from commhub.library import ChangeReport
from commhub.scheduling.cadence import (
    BusinessDays,
    CadenceError,
    next_occurrences,
    parse_cadence,
    zone_named,
)
from commhub.scheduling.planning import PlanReport, plan_editions, series_ids_of
from commhub.scheduling.series import (
    DEFAULT_GRACE,
    PARTNER_FILTER_KEYS,
    RESERVED_SLUGS,
    SeriesDefinition,
    SeriesEntryReader,
    apply_series,
    known_audiences,
)
from commhub.store import Channel, Series, Shift

SOURCE = "form"
DEFAULT_SUBJECT = "{{ series.name }}, {{ edition.date_label }}"
_LIST_SEPARATORS = re.compile(r"[\s,;]+")
_NAME_SEPARATORS = re.compile(r"[,;\n]+")  # names may hold spaces: "North America"
_MAX_DIGITS = 6  # more digits than any limit needs: never build a huge int from a form


@dataclass
class SeriesFields:
    """A series as a form holds it: text as typed, lists as checked, flags as ticked."""

    slug: str = ""
    name: str = ""
    channel: str = Channel.NEWSLETTER.value
    all_audiences: bool = True
    audiences: list[str] = field(default_factory=list)
    partner_types: str = ""
    partner_tiers: str = ""
    partner_regions: str = ""
    cadence: str = ""
    start: str = ""
    shift: str = Shift.NONE.value
    holiday_country: str = ""
    company_days: str = ""
    timezone: str = "UTC"
    local_time: bool = False
    grace: str = "6h"
    template: str = ""
    max_items: str = ""
    requires_approval: bool = False
    subject: str = DEFAULT_SUBJECT
    from_address: str = ""
    reply_to: str = ""
    rule_of_seven: bool = False
    kinds: list[str] = field(default_factory=list)  # none ticked: the channel's own


@dataclass(frozen=True)
class NextDates:
    """The dates a cadence gives, or why it gives none. `asked` is False while no cadence
    has been typed: nothing is wrong yet, there is just nothing to show."""

    dates: list[datetime]
    problems: list[Problem]
    zone: str
    asked: bool = True


@dataclass(frozen=True)
class SavedSeries:
    change: ChangeReport
    plan: PlanReport


def series_mapping(fields: SeriesFields) -> dict[str, Any]:
    """The entry a series file would hold for these form fields. Blank optional fields are
    left out, as a file would leave them out, so the reader's defaults apply."""
    entry: dict[str, Any] = {
        "slug": fields.slug.strip(),
        "name": fields.name,
        "channel": fields.channel,
        "audiences": "all" if fields.all_audiences else list(fields.audiences),
        "cadence": fields.cadence,
        "timezone": fields.timezone,
        "subject": fields.subject,
        "from": fields.from_address,
        "shift": fields.shift or Shift.NONE.value,
        "requires_approval": fields.requires_approval,
        "local_time": fields.local_time,
        "rule_of_seven": fields.rule_of_seven,
    }
    optional = {
        "reply_to": fields.reply_to,
        "template": fields.template,
        "start": fields.start,
        "grace": fields.grace,
    }
    entry |= {name: value.strip() for name, value in optional.items() if value.strip()}
    if fields.max_items.strip():
        entry["max_items"] = _whole_number(fields.max_items)
    if fields.kinds:
        entry["kinds"] = list(fields.kinds)
    partner_filter = {
        key: _names(value)
        for key, value in zip(
            PARTNER_FILTER_KEYS,
            (fields.partner_types, fields.partner_tiers, fields.partner_regions),
            strict=True,
        )
        if _names(value)
    }
    if partner_filter:
        entry["partner_filter"] = partner_filter
    holidays = _holidays_entry(fields.holiday_country, fields.company_days)
    if holidays:
        entry["holidays"] = holidays
    return entry


def definition_from_form(
    mapping: Mapping[str, Any],
    audiences: Collection[str],
    has_template: Callable[[str], bool],
) -> tuple[SeriesDefinition | None, list[Problem]]:
    """Read one series entry with the series file's own reader: the definition, or every
    problem with `field` naming the file's field (holidays split into holidays.country and
    holidays.dates, so each can sit beside its own control)."""
    problems: list[Problem] = []
    reader = SeriesEntryReader(SOURCE, 0, dict(mapping), {}, audiences, has_template, problems)
    definition = reader.definition()
    located = [_located(problem, reader.label) for problem in problems]
    return (definition if not located else None), located


def read_series_form(
    session: Session,
    fields: SeriesFields,
    has_template: Callable[[str], bool],
    editing: str | None = None,
) -> tuple[SeriesDefinition | None, list[Problem]]:
    """A form's series, read as `series apply` reads it, so the name of a page is refused
    as a file refuses it. A new series may not take a slug in use (saving would change that
    series instead); an edited one keeps the slug it has."""
    if editing is not None:
        fields.slug = editing
    definition, problems = definition_from_form(
        series_mapping(fields), known_audiences(session), has_template
    )
    if fields.all_audiences and fields.audiences:
        # Ticking some audiences under a ticked "every audience" would be silently ignored.
        problems.append(
            Problem(
                SOURCE,
                "“every audience” is ticked, and so are some audiences: untick one or the other",
                "audiences",
            )
        )
    slug = fields.slug.strip()
    # A page's name is refused by the reader itself, as `series apply` refuses it: one
    # problem about the slug is enough.
    if editing is None and slug and slug not in RESERVED_SLUGS and _taken(session, slug):
        problems.append(
            Problem(SOURCE, f'a series "{slug}" exists already: edit it instead', "slug")
        )
    return (definition if not problems else None), problems


def _taken(session: Session, slug: str) -> bool:
    return session.scalar(select(Series.id).where(Series.slug == slug)) is not None


def save_series(
    session: Session, definition: SeriesDefinition, now: datetime, *, new: bool = False
) -> SavedSeries:
    """Save as `series apply` does, and plan its editions at once, so the calendar shows the
    change before the page does. The audit entry comes from apply_series. The caller
    commits: the series and its plan land together or not at all."""
    exists = session.scalar(select(Series.id).where(Series.slug == definition.slug))
    if new and exists is not None:
        raise Conflict(f'a series "{definition.slug}" exists already')
    if not new and exists is None:
        raise Conflict(f'no series "{definition.slug}" to change')
    change = apply_series(session, [definition])
    changed = series_ids_of(session, [*change.created, *change.updated])
    plan = plan_editions(session, now, changed) if changed else PlanReport()
    return SavedSeries(change, plan)


def fields_of(series: Series) -> SeriesFields:
    """An existing series as its edit form starts."""
    partner = series.partner_filter or {}
    return SeriesFields(
        slug=series.slug,
        name=series.name,
        channel=series.channel.value,
        all_audiences=series.all_audiences,
        audiences=[audience.slug for audience in series.audiences],
        partner_types=", ".join(partner.get("types", [])),
        partner_tiers=", ".join(partner.get("tiers", [])),
        partner_regions=", ".join(partner.get("regions", [])),
        cadence=series.cadence,
        start=series.start_date.isoformat() if series.start_date else "",
        shift=series.shift.value,
        holiday_country=series.holiday_country or "",
        company_days=", ".join(series.company_days or []),
        timezone=series.timezone,
        local_time=series.local_time,
        grace=grace_text(series.grace_minutes),
        template=series.template or "",
        max_items=str(series.max_items) if series.max_items else "",
        requires_approval=series.requires_approval,
        subject=series.subject,
        from_address=series.from_address,
        reply_to=series.reply_to or "",
        rule_of_seven=series.rule_of_seven,
        kinds=list(series.kinds or []),
    )


def series_yaml(series: Series) -> str:
    """The series as a series file holding it alone: what `series apply` needs to recreate
    it exactly, so a change made in the UI can be put back into the file it came from."""
    if series.channel is Channel.SOCIAL:
        return _file_of(series.slug, _social_entry(series))
    entry: dict[str, Any] = {
        "slug": series.slug,
        "name": series.name,
        "channel": series.channel.value,
        "audiences": "all" if series.all_audiences else [a.slug for a in series.audiences],
        "cadence": series.cadence,
        "timezone": series.timezone,
        "subject": series.subject,
        "from": series.from_address,
    }
    if series.reply_to:
        entry["reply_to"] = series.reply_to
    if series.max_items:
        entry["max_items"] = series.max_items
    if series.kinds:
        entry["kinds"] = list(series.kinds)
    if series.template:
        entry["template"] = series.template
    if series.partner_filter:
        entry["partner_filter"] = {k: list(v) for k, v in sorted(series.partner_filter.items())}
    entry["requires_approval"] = series.requires_approval
    entry |= _timing(series)
    entry["local_time"] = series.local_time
    entry["rule_of_seven"] = series.rule_of_seven
    return _file_of(series.slug, entry)


def _social_entry(series: Series) -> dict[str, Any]:
    """A social series' entry: its accounts in place of audiences, subject and sender."""
    entry: dict[str, Any] = {
        "slug": series.slug,
        "name": series.name,
        "channel": series.channel.value,
        "cadence": series.cadence,
        "timezone": series.timezone,
        "accounts": [account.as_json() for account in accounts_of(series.accounts)],
    }
    if series.max_items:
        entry["max_items"] = series.max_items
    if series.kinds:
        entry["kinds"] = list(series.kinds)
    entry["requires_approval"] = series.requires_approval
    return entry | _timing(series)


def _timing(series: Series) -> dict[str, Any]:
    """The start, shift, holidays and grace of a series, as its file writes them."""
    entry: dict[str, Any] = {}
    if series.start_date:
        entry["start"] = series.start_date
    entry["shift"] = series.shift.value
    holidays: dict[str, Any] = {}
    if series.holiday_country:
        holidays["country"] = series.holiday_country
    if series.company_days:
        holidays["dates"] = [date.fromisoformat(day) for day in series.company_days]
    if holidays:
        entry["holidays"] = holidays
    entry["grace"] = grace_text(series.grace_minutes)
    return entry


def _file_of(slug: str, entry: dict[str, Any]) -> str:
    body = yaml.safe_dump(
        {"series": [entry]}, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    header = f"# Series {slug}, as commhub holds it. Apply: commhub series apply FILE\n"
    return header + body


def next_dates_for(
    cadence: str,
    zone: str,
    shift: str,
    start: str,
    holidays: str,
    now: datetime,
    count: int = 5,
    company_days: str = "",
) -> NextDates:
    """The next count dates these schedule fields give after now, in the zone, or what is
    wrong with them, in the words `series apply` would use."""
    if not cadence.strip():
        return NextDates([], [], zone, asked=False)
    entry: dict[str, Any] = {"cadence": cadence, "timezone": zone, "shift": shift or "none"}
    if start.strip():
        entry["start"] = start.strip()
    closures = _holidays_entry(holidays, company_days)
    if closures:
        entry["holidays"] = closures
    problems: list[Problem] = []
    reader = SeriesEntryReader(SOURCE, 0, entry, {}, (), lambda _name: True, problems)
    reader.cadence()
    reader.timezone()
    chosen_shift = reader.shift()
    first_day = reader.start()
    country, days = reader.holidays()
    dates: list[datetime] = []
    if not problems:
        parsed = parse_cadence(cadence)
        if parsed.weeks_apart > 1 and first_day is None:
            reader.problem("start", "required: the cadence counts weeks from the start date")
        else:
            try:
                business = BusinessDays(chosen_shift, country, frozenset(days))
                dates = next_occurrences(
                    parsed, zone_named(zone.strip()), now, count, first_day, business
                )
            except (CadenceError, ValueError) as exc:
                reader.problem("holidays", f"dates: {exc}: a closure this long cannot be moved")
    located = [_located(problem, reader.label) for problem in problems]
    return NextDates(dates if not located else [], located, zone)


def grace_text(minutes: int) -> str:
    """Minutes as a series file writes a duration: "6h", "1d 12h", "90m" as "1h 30m"."""
    minutes = minutes or int(DEFAULT_GRACE.total_seconds() // 60)
    parts = []
    for size, unit in ((24 * 60, "d"), (60, "h"), (1, "m")):
        amount, minutes = divmod(minutes, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts)


def _located(problem: Problem, label: str) -> Problem:
    """The problem with `field` as the file's field name alone (the reader says
    `series[slug].cadence`), holidays split by what they are about."""
    where = problem.field or ""
    name = where.removeprefix(f"{label}.") if where.startswith(f"{label}.") else ""
    if name == "holidays":
        if problem.message.startswith("dates:"):
            name = "holidays.dates"
        elif problem.message.startswith("country"):
            name = "holidays.country"
    return Problem(SOURCE, problem.message, name or None)


def _holidays_entry(country: str, company_days: str) -> dict[str, Any]:
    holidays: dict[str, Any] = {}
    if country.strip():
        holidays["country"] = country.strip()
    days = _words(company_days)
    if days:
        holidays["dates"] = days
    return holidays


def _words(text: str) -> list[str]:
    return [word for word in _LIST_SEPARATORS.split(text) if word]


def _names(text: str) -> list[str]:
    return [name.strip() for name in _NAME_SEPARATORS.split(text) if name.strip()]


def _whole_number(text: str) -> int | str:
    """Digits as the number a file would hold; anything else as typed, for the reader to
    refuse in its own words."""
    clean = text.strip()
    if clean.isascii() and clean.isdigit() and len(clean) <= _MAX_DIGITS:
        return int(clean)
    return clean
