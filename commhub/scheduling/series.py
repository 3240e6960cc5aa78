"""Series as data: a YAML file with a top-level `series:` list, applied all or nothing.

    series:
      - slug: partner-newsletter
        name: Partner Newsletter
        channel: newsletter
        audiences: all                 # or a list of audience slugs
        cadence: monthly on the first tuesday at 09:00
        timezone: Europe/London
        subject: "{{ series.name }}, {{ edition.date_label }}"
        from: Northwind Partner Team <partners@northwind.example>
        # Optional timing:
        start: 2027-01-05               # the first day; "every N weeks" counts from it
        shift: next                     # none, previous or next business day
        holidays:                       # days that are not business days
          country: GB-ENG               # public holidays (the `holidays` package)
          dates: [2027-12-24]           # and the company's own
        local_time: true                # each contact at that time in their own zone
        grace: 6h                       # how late a missed edition may still go out
        # Optional content rule:
        rule_of_seven: true             # prefer less-seen key messages; leave out saturated ones

Every problem in the file is reported, located by line and by `series[slug].field`, before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.actions import Action, NextStep
from commhub.addresses import InvalidAddress, parse_mailbox
from commhub.editions import AccountSpec, account_audiences
from commhub.errors import NotFound, Problem, SeriesError
from commhub.library import (
    ChangeReport,
    InputProblem,
    audience_slugs,
    excerpt,
    read_audience_list,
    read_limited_text,
    read_yaml,
)
from commhub.render import subject_problem
from commhub.scheduling.cadence import BusinessDays, CadenceError, parse_cadence
from commhub.scheduling.social_accounts import NOT_FOR_POSTS, read_accounts
from commhub.store import (
    Audience,
    AuditAction,
    Channel,
    ContentKind,
    Series,
    Shift,
    record_action,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
# Paths under /series/ that are pages, not series: a series with such a slug could not be
# reached at /series/<slug>. Refused here, so a file and the web form refuse them alike.
RESERVED_SLUGS = frozenset({"new", "dates"})
REQUIRED = ("slug", "name", "channel", "audiences", "cadence", "timezone", "subject", "from")
OPTIONAL = (
    "max_items", "template", "reply_to", "partner_filter", "requires_approval",
    "start", "shift", "holidays", "local_time", "grace", "rule_of_seven", "kinds", "accounts",
)  # fmt: skip
# A social series posts to accounts: no subject, sender or audiences of its own.
REQUIRED_FOR_POSTS = ("slug", "name", "channel", "cadence", "timezone", "accounts")
HOLIDAY_KEYS = ("country", "dates")
DEFAULT_GRACE = timedelta(hours=6)
MAX_GRACE = timedelta(days=7)
# Dates a series may name: well inside what `date` can hold, so that moving a day to the next
# business day, or counting weeks from it, never runs off the calendar (OverflowError).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
_DURATION = re.compile(r"(\d+)\s*(d|h|m)", re.IGNORECASE)
_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}
# A folder (or folders) inside templates/: no leading / and no part starting with a dot, so
# neither an absolute path nor `..` can name a place outside it.
TEMPLATE_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
PARTNER_FILTER_KEYS = ("types", "tiers", "regions")
# Channels this version can send; feeds are published, not sent.
SENDABLE_CHANNELS = (Channel.NEWSLETTER, Channel.VIDEO_DIGEST, Channel.SOCIAL)
MAX_ITEMS_LIMIT = 50


@dataclass(frozen=True)
class SeriesDefinition:
    slug: str
    name: str
    channel: Channel
    audiences: tuple[str, ...] | None  # None: every audience
    cadence: str
    timezone: str
    subject: str
    from_address: str
    reply_to: str | None = None
    max_items: int | None = None
    template: str | None = None
    partner_filter: dict[str, list[str]] = field(default_factory=dict)
    requires_approval: bool = False
    start: date | None = None
    shift: Shift = Shift.NONE
    holiday_country: str | None = None
    company_days: tuple[date, ...] = ()
    local_time: bool = False
    grace: timedelta = DEFAULT_GRACE
    rule_of_seven: bool = False
    kinds: tuple[ContentKind, ...] | None = None  # None: the channel's own (see kinds_of)
    accounts: tuple[AccountSpec, ...] = ()  # a social series' accounts


def read_series_file(
    path: Path, known_audiences: Collection[str], has_template: Callable[[str], bool]
) -> list[SeriesDefinition]:
    """Parse and validate a series file; raises SeriesError listing every problem."""
    source = str(path)
    try:
        text = read_limited_text(path)
    except InputProblem as exc:
        raise SeriesError([Problem(source, exc.message)]) from None
    try:
        document = read_yaml(text)
    except InputProblem as exc:
        raise SeriesError(
            [Problem(source, f"not valid YAML: {exc.message}", line=exc.line)]
        ) from None
    data, root = document.data, document.root
    if not isinstance(data, dict) or not isinstance(data.get("series"), list):
        raise SeriesError([Problem(source, "expected a top-level `series:` list")])
    problems: list[Problem] = [
        Problem(source, "unknown top-level field", excerpt(key)) for key in data if key != "series"
    ]
    definitions: list[SeriesDefinition] = []
    seen: set[str] = set()
    for index, (entry, lines) in enumerate(zip(data["series"], _entry_lines(root), strict=False)):
        reader = SeriesEntryReader(
            source, index, entry, lines, known_audiences, has_template, problems
        )
        definition = reader.definition()
        if definition is None:
            continue
        if definition.slug in seen:
            reader.problem("slug", f'"{definition.slug}" appears twice in this file')
            continue
        seen.add(definition.slug)
        definitions.append(definition)
    if not data["series"]:
        problems.append(Problem(source, "the `series:` list is empty"))
    if problems:
        raise SeriesError(problems)
    return definitions


def _entry_lines(root: yaml.Node | None) -> list[dict[str, int]]:
    """For each series entry, the 1-based line of each of its fields (and "" for the entry)."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "series" and isinstance(value, yaml.SequenceNode):
            found = []
            for item in value.value:
                lines = {"": item.start_mark.line + 1}
                if isinstance(item, yaml.MappingNode):
                    # Only plain keys: a list or mapping as a key has no name to report.
                    lines |= {
                        k.value: k.start_mark.line + 1
                        for k, _ in item.value
                        if isinstance(k, yaml.ScalarNode)
                    }
                found.append(lines)
            return found
    return []


class SeriesEntryReader:
    """Reads one entry of the series list, recording a Problem per bad field."""

    def __init__(
        self,
        source: str,
        index: int,
        entry: Any,
        lines: dict[str, int],
        known_audiences: Collection[str],
        has_template: Callable[[str], bool],
        problems: list[Problem],
    ) -> None:
        self.source = source
        self.entry = entry if isinstance(entry, dict) else {}
        self.lines = lines
        self.known_audiences = known_audiences
        self.has_template = has_template
        self.problems = problems
        self.failed = False
        slug = self.entry.get("slug")
        named = isinstance(slug, str) and slug
        self.label = f"series[{excerpt(slug, 40)}]" if named else f"series[{index}]"
        if not isinstance(entry, dict):
            self.problem("", "each series must be a mapping of fields")

    def problem(self, name: str, message: str) -> None:
        where = f"{self.label}.{name}" if name else self.label
        line = self.lines.get(name) or self.lines.get(name.split("[")[0]) or self.lines.get("")
        self.problems.append(Problem(self.source, message, where, line))
        self.failed = True

    def definition(self) -> SeriesDefinition | None:
        if self.failed:
            return None
        for name in sorted(map(str, set(self.entry) - set(REQUIRED) - set(OPTIONAL))):
            self.problem(excerpt(name), "unknown field")
        # Every field that is there is checked, so one run lists every problem.
        channel = self.channel() if self.entry.get("channel") not in (None, "") else None
        if channel is Channel.SOCIAL:
            return self.social_definition()
        if self.entry.get("accounts") is not None:
            self.problem("accounts", "only a social series posts to accounts")
        missing = {name for name in REQUIRED if self.entry.get(name) in (None, "", [])}
        for name in REQUIRED:
            if name in missing:
                self.problem(name, "required")
        template = self.template(channel)
        holiday_country, company_days = self.holidays()
        definition = SeriesDefinition(
            slug=self.slug() if "slug" not in missing else "",
            name=self.text("name", limit=200) or "",
            channel=channel or Channel.NEWSLETTER,
            audiences=self.audiences() if "audiences" not in missing else (),
            cadence=self.cadence() if "cadence" not in missing else "",
            timezone=self.timezone() if "timezone" not in missing else "",
            subject=self.subject() if "subject" not in missing else "",
            from_address=(self.address("from") if "from" not in missing else None) or "",
            reply_to=self.address("reply_to"),
            max_items=self.max_items(),
            template=template,
            partner_filter=self.partner_filter(),
            requires_approval=self.boolean("requires_approval"),
            start=self.start(),
            shift=self.shift(),
            holiday_country=holiday_country,
            company_days=company_days,
            local_time=self.boolean("local_time"),
            grace=self.grace(),
            rule_of_seven=self.boolean("rule_of_seven"),
            kinds=self.kinds(),
        )
        return self.checked(definition)

    def checked(self, definition: SeriesDefinition) -> SeriesDefinition | None:
        """The definition, once the checks across fields pass (None if any field failed)."""
        has_holidays = definition.holiday_country or definition.company_days
        if has_holidays and definition.shift is Shift.NONE:
            self.problem("holidays", "has no effect without `shift: previous` or `next`")
        elif has_holidays and not self.failed:
            self.closures_fit(definition)
        if definition.start is None and not self.failed and _counts_weeks(definition.cadence):
            self.problem("start", "required: the cadence counts weeks from the start date")
        return None if self.failed else definition

    def social_definition(self) -> SeriesDefinition | None:
        """A social series: the timing and content fields of any series, and its accounts,
        refusing by name what makes no sense for a public post."""
        for name, why in NOT_FOR_POSTS.items():
            if name in self.entry:
                self.problem(name, f"not for a social series: {why}")
        missing = {name for name in REQUIRED_FOR_POSTS if self.entry.get(name) in (None, "", [])}
        for name in REQUIRED_FOR_POSTS:
            if name in missing:
                self.problem(name, "required")
        accounts: tuple[AccountSpec, ...] = ()
        if "accounts" not in missing:
            accounts, problems = read_accounts(self.entry.get("accounts"), self.known_audiences)
            for message in problems:
                where = message.split(":", 1)[0] if message.startswith("[") else ""
                self.problem(f"accounts{where}", message.removeprefix(f"{where}: "))
        holiday_country, company_days = self.holidays()
        definition = SeriesDefinition(
            slug=self.slug() if "slug" not in missing else "",
            name=self.text("name", limit=200) or "",
            channel=Channel.SOCIAL,
            audiences=account_audiences(accounts),
            cadence=self.cadence() if "cadence" not in missing else "",
            timezone=self.timezone() if "timezone" not in missing else "",
            subject="",
            from_address="",
            max_items=self.max_items(),
            requires_approval=self.boolean("requires_approval"),
            start=self.start(),
            shift=self.shift(),
            holiday_country=holiday_country,
            company_days=company_days,
            grace=self.grace(),
            kinds=self.kinds(),
            accounts=accounts,
        )
        return self.checked(definition)

    def text(self, name: str, limit: int = 300) -> str | None:
        value = self.entry.get(name)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem(name, "must be text")
            return None
        text = " ".join(str(value).split())
        if len(text) > limit:
            self.problem(name, f"longer than {limit} characters")
        return text or None

    def template(self, channel: Channel | None) -> str | None:
        """The series' own template folder (None: the channel's), checked to exist now."""
        chosen = self.text("template")
        name = chosen or (channel.value if channel else None)
        if name is None:
            return None
        # Checked before anything touches the disk: an absolute path or a `..` would lead the
        # renderer out of templates/, and even asking whether it exists says too much.
        if not TEMPLATE_PATTERN.match(name):
            self.problem(
                "template",
                f'"{excerpt(name)}" is not a folder inside templates/ '
                "(letters, digits, -, _ and . in names joined by /; no absolute path, no ..)",
            )
            return None
        if not self.has_template(name):
            self.problem("template", f'no template "{excerpt(name)}" (templates/{excerpt(name)}/)')
        return chosen

    def cadence(self) -> str:
        text = self.text("cadence", limit=200) or ""
        try:
            parse_cadence(text)
        except CadenceError as exc:
            self.problem("cadence", exc.message)
        return text

    def slug(self) -> str:
        slug = self.text("slug") or ""
        if not SLUG_PATTERN.match(slug):
            self.problem("slug", f'"{excerpt(slug)}" is not a slug (lowercase a-z, 0-9 and -)')
        elif slug in RESERVED_SLUGS:
            self.problem(
                "slug", f'"{slug}" is the name of a page (/series/{slug}): pick another slug'
            )
        return slug

    def channel(self) -> Channel | None:
        value = str(self.entry.get("channel")).strip().lower()
        try:
            channel = Channel(value)
        except ValueError:
            known = ", ".join(c.value for c in Channel)
            self.problem("channel", f'unknown channel "{excerpt(value)}" (known: {known})')
            return None
        if channel not in SENDABLE_CHANNELS:
            sendable = ", ".join(c.value for c in SENDABLE_CHANNELS)
            self.problem("channel", f'"{value}" cannot be sent yet (available: {sendable})')
            return None
        return channel

    def audiences(self) -> tuple[str, ...] | None:
        value = self.entry.get("audiences")
        if value == "all":
            return None
        slugs, problems = read_audience_list(
            value, self.known_audiences, "must be `all` or a list of audience slugs"
        )
        for message in problems:
            self.problem("audiences", message)
        return slugs

    def timezone(self) -> str:
        name = self.text("timezone", limit=64) or ""
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
            self.problem(
                "timezone", f'"{excerpt(name)}" is not an IANA time zone (e.g. Europe/London)'
            )
        return name

    def subject(self) -> str:
        subject = self.text("subject") or ""
        try:
            SandboxedEnvironment().parse(subject)
        except TemplateSyntaxError as exc:
            self.problem("subject", f"not a valid template: {exc.message}")
            return subject
        problem = subject_problem(subject, str(self.entry.get("name") or ""))
        if problem:
            self.problem("subject", problem)
        return subject

    def address(self, name: str) -> str | None:
        value = self.text(name, limit=400)
        if value is None:
            return None
        try:
            display, address = parse_mailbox(value)
        except InvalidAddress as exc:
            self.problem(
                name, f'"{excerpt(value)}" is not an address or `Name <address>`: {excerpt(exc)}'
            )
            return None
        return _name_and_address(display, address)

    def kinds(self) -> tuple[ContentKind, ...] | None:
        """The kinds of item an edition may carry: a list of kinds, or absent (the
        channel's own: every kind for a newsletter, video for a video digest)."""
        value = self.entry.get("kinds")
        if value is None:
            return None
        known = [kind.value for kind in ContentKind]
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            self.problem("kinds", f"must be a list of kinds ({', '.join(known)})")
            return None
        wrong = [v for v in values if v.strip().lower() not in known]
        if wrong:
            self.problem("kinds", f"unknown kind {excerpt(wrong[0])!r} (known: {', '.join(known)})")
            return None
        return tuple(dict.fromkeys(ContentKind(v.strip().lower()) for v in values))

    def max_items(self) -> int | None:
        value = self.entry.get("max_items")
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1 <= value <= MAX_ITEMS_LIMIT
        ):
            self.problem("max_items", f"must be a whole number from 1 to {MAX_ITEMS_LIMIT}")
            return None
        return value

    def partner_filter(self) -> dict[str, list[str]]:
        value = self.entry.get("partner_filter")
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem("partner_filter", "must be a mapping of types, tiers and regions")
            return {}
        found: dict[str, list[str]] = {}
        for key, values in value.items():
            if key not in PARTNER_FILTER_KEYS:
                self.problem(
                    "partner_filter",
                    f'unknown key "{excerpt(key)}" (known: types, tiers, regions)',
                )
                continue
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.problem("partner_filter", f"{key} must be a list of names")
                continue
            found[key] = sorted({v.strip() for v in values if v.strip()})
        return found

    def start(self) -> date | None:
        value = self.entry.get("start")
        if value is None:
            return None
        day = _as_date(value)
        if day is None:
            self.problem("start", f'"{excerpt(value)}" is not a date (YYYY-MM-DD)')
        elif not FIRST_DAY <= day <= LAST_DAY:
            self.problem("start", f"{day} is not between {FIRST_DAY} and {LAST_DAY}")
            return None
        return day

    def shift(self) -> Shift:
        value = self.entry.get("shift", Shift.NONE.value)
        try:
            return Shift(str(value).strip().lower())
        except ValueError:
            self.problem("shift", f'"{excerpt(value)}" is not one of: none, previous, next')
            return Shift.NONE

    def holidays(self) -> tuple[str | None, tuple[date, ...]]:
        value = self.entry.get("holidays")
        if value is None:
            return None, ()
        if not isinstance(value, dict):
            self.problem("holidays", "must be a mapping with `country` and/or `dates`")
            return None, ()
        for key in sorted(map(str, set(value) - set(HOLIDAY_KEYS))):
            self.problem("holidays", f'unknown key "{excerpt(key)}" (known: country, dates)')
        country = value.get("country")
        if country is not None:
            country = str(country).strip()
            try:
                BusinessDays(country=country)
            except ValueError as exc:
                self.problem(
                    "holidays", f"country {excerpt(exc)} (an ISO code such as GB-ENG, US, DE)"
                )
        dates = value.get("dates") or []
        if not isinstance(dates, list):
            dates = [dates]
        days: list[date] = []
        for raw in dates:
            day = _as_date(raw)
            if day is None:
                self.problem("holidays", f'dates: "{excerpt(raw)}" is not a date (YYYY-MM-DD)')
            elif not FIRST_DAY <= day <= LAST_DAY:
                self.problem("holidays", f"dates: {day} is not between {FIRST_DAY} and {LAST_DAY}")
            else:
                days.append(day)
        return country or None, tuple(sorted(set(days)))

    def closures_fit(self, definition: SeriesDefinition) -> None:
        """Every listed day must be able to move to a business day, or the series cannot be
        planned around it: say so now rather than on the date."""
        days = BusinessDays(
            definition.shift, definition.holiday_country, frozenset(definition.company_days)
        )
        for day in definition.company_days:
            try:
                days.shifted(day)
            except ValueError as exc:
                self.problem("holidays", f"dates: {exc}: a closure this long cannot be moved")
                return

    def grace(self) -> timedelta:
        value = self.entry.get("grace")
        if value is None:
            return DEFAULT_GRACE
        text = str(value).strip()
        parts = _DURATION.findall(text)
        if not parts or _DURATION.sub("", text).strip():
            self.problem("grace", f'"{excerpt(text)}" is not a duration such as 6h, 90m or 1d 12h')
            return DEFAULT_GRACE
        # Counted in whole minutes and capped as it goes: 10**20 days is no timedelta
        # (OverflowError), and 5,000 digits are no int Python will build.
        limit = int(MAX_GRACE.total_seconds() // 60)
        minutes = 0
        for number, unit in parts:
            digits = number.lstrip("0") or "0"
            # Seven digits pass 7 days in any unit: longer numbers are never built.
            minutes += limit + 1 if len(digits) > 6 else int(digits) * _MINUTES[unit.lower()]
            if minutes > limit:
                self.problem("grace", f'"{excerpt(text)}" is longer than 7 days')
                return DEFAULT_GRACE
        if not minutes:
            self.problem("grace", f'"{excerpt(text)}" is not a duration such as 6h, 90m or 1d 12h')
            return DEFAULT_GRACE
        return timedelta(minutes=minutes)

    def boolean(self, name: str) -> bool:
        value = self.entry.get(name, False)
        if not isinstance(value, bool):
            self.problem(name, "must be true or false")
            return False
        return value


def _counts_weeks(cadence: str) -> bool:
    return parse_cadence(cadence).weeks_apart > 1


def _as_date(value: object) -> date | None:
    """A date from YAML: a date already, or text in ISO form."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _name_and_address(display: str, address: str) -> str:
    """`Name <address>`, quoted where the name needs it (a comma, a dot), never encoded."""
    if not display:
        return address
    if re.search(r'[][\\()<>@,:;".]', display):
        display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{display} <{address}>"


def apply_series(session: Session, definitions: list[SeriesDefinition]) -> ChangeReport:
    """Create or update each series by slug; series not in the list are left alone."""
    audiences = {a.slug: a for a in session.scalars(select(Audience))}
    existing = {
        s.slug: s
        for s in session.scalars(
            select(Series).where(Series.slug.in_([d.slug for d in definitions]))
        )
    }
    report = ChangeReport()
    for definition in definitions:
        series = existing.get(definition.slug)
        if series is None:
            series = Series(slug=definition.slug)
            session.add(series)
            report.created.append(definition.slug)
            _apply(series, definition, audiences)
        elif _apply(series, definition, audiences):
            report.updated.append(definition.slug)
        else:
            report.unchanged.append(definition.slug)
    for slug in report.created:
        record_action(session, AuditAction.CREATED, "series", slug, f"series {slug} created")
    for slug in report.updated:
        record_action(session, AuditAction.EDITED, "series", slug, f"series {slug} changed")
    session.flush()
    return report


def _apply(series: Series, definition: SeriesDefinition, audiences: dict[str, Audience]) -> bool:
    values: dict[str, Any] = {
        "name": definition.name,
        "channel": definition.channel,
        "all_audiences": definition.audiences is None,
        "cadence": definition.cadence,
        "timezone": definition.timezone,
        "subject": definition.subject,
        "from_address": definition.from_address,
        "reply_to": definition.reply_to,
        "template": definition.template,
        "max_items": definition.max_items,
        "partner_filter": definition.partner_filter,
        "requires_approval": definition.requires_approval,
        "start_date": definition.start,
        "shift": definition.shift,
        "holiday_country": definition.holiday_country,
        "company_days": [day.isoformat() for day in definition.company_days],
        "local_time": definition.local_time,
        "grace_minutes": int(definition.grace.total_seconds() // 60),
        "rule_of_seven": definition.rule_of_seven,
        "kinds": [kind.value for kind in definition.kinds] if definition.kinds else None,
        "accounts": [a.as_json() for a in definition.accounts] or None,
    }
    changed = False
    for key, value in values.items():
        if getattr(series, key, None) != value:
            setattr(series, key, value)
            changed = True
    wanted = [audiences[slug] for slug in definition.audiences or ()]
    if [a.slug for a in series.audiences or []] != [a.slug for a in wanted]:
        series.audiences = wanted
        changed = True
    return changed


def get_series(session: Session, slug: str) -> Series:
    """The series with this slug; NotFound lists the ones there are."""
    series = session.scalar(select(Series).where(Series.slug == slug))
    if series is None:
        known = ", ".join(session.scalars(select(Series.slug).order_by(Series.slug))) or "none yet"
        raise NotFound(f'no series "{slug}" (known: {known})', [NextStep(Action.APPLY_SERIES)])
    return series


def list_series(session: Session) -> list[Series]:
    """Every series, by slug."""
    return list(session.scalars(select(Series).order_by(Series.slug)))


def known_audiences(session: Session) -> set[str]:
    """The audience slugs a series may name."""
    return set(audience_slugs(session))
