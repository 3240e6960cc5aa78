"""The analytics page's charts: each report's rows drawn as an SVG image on the server, with
the words that go with it (a one-sentence alt text, and a summary everyone can read).

pygal draws them, and only here. Its SVG is made to stand alone under the staff pages'
Content-Security-Policy: no script (pygal's tooltips need one, and its default config fetches
one from a CDN), no comment or reference to another site, a <title> and a <desc>. Values and
labels are printed on the bars, so that a chart reads without telling colours apart.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pygal
from pygal.etree import etree
from pygal.style import Style

from commhub.reports import (
    BOUNCE_ALARM,
    BOUNCE_WARN,
    AudienceRelevance,
    EditionBounces,
    EditionFigures,
    ItemReach,
    KeyMessageReach,
    KeyMessageTrend,
    PartnerMonth,
    PartnerTrend,
    ReachTrend,
    RelevanceTrend,
)
from commhub.tracking import SEVEN, THREE

# Importing pygal appends a finder of the old protocol (no find_spec) to sys.meta_path, for
# map plugins commhub never uses; imports that walk the meta path then fail (feedgen's
# extensions raise AttributeError). Taken off again here, the one place pygal is imported.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

RELEVANCE_TOP = 20
RELEVANCE = "Relevance: yes votes over all votes, least relevant first"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
WIDTH = 900
WIDE = 1100  # for long labels beside the bars
INK, MUTED, LINE = "#1d2733", "#52606d", "#dde2e8"
ACCENT, GOOD, WARN, BAD = "#1a5fb4", "#1e6b34", "#7a4d00", "#8a1c27"
NOT_SEEN = "#eef1f4"
# Light to dark: the further along, the darker (printed values turn white on the dark ones).
BLUES = ("#d6e4f5", "#adc8ea", "#80a9de", "#3d78c4", "#1f5ca8", "#174a8b", "#0b2f5c")
DARK = frozenset(BLUES[3:])
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Ubuntu, 'Helvetica Neue', sans-serif"
# Verbs for "most ..." and for "the largest group ...".
STAND, SEEN = ("stand at", "stands at"), ("have seen", "has seen")
NOT_YET = ("have not seen it yet", "has not seen it yet")
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class Words:
    """What a chart says in words: its title, the image's alt (one sentence), and the summary
    shown under it for everyone."""

    title: str
    alt: str
    summary: list[str]


# -- Rule of seven: formats, and exposures, per key message -------------------------------


def reach_words(reaches: Sequence[KeyMessageReach]) -> Words:
    sent = [r for r in reaches if r.targeted]
    best = max(sent, key=lambda r: (r.share, r.key_message), default=None)
    alt = (
        f"Stacked bars, one per key message ({len(sent)}): the contacts each was sent to by "
        f"how many formats they saw it in, 1, 2 or {THREE}+"
        + (f"; {best.key_message} is furthest, at {_pct(best.share)} seen {_times(SEVEN)} "
           f"in {_number(THREE)} formats." if best else ".")
    )  # fmt: skip
    summary = []
    for reach in sent:
        groups = {_formats_words(n): reach.by_formats[n] for n in range(1, THREE + 1)}
        summary.append(
            f"{_subject(reach.key_message)}: {_count(reach.seven_across_three)} of "
            f"{_count(reach.targeted)} contacts ({_pct(reach.share)}) have seen it "
            f"{_times(SEVEN)} in {_number(THREE)} formats; "
            + _largest(groups, _unseen(reach), reach.targeted, STAND)
            + "."
        )
    return Words("Formats each key message was seen in", alt, summary)


def reach_svg(reaches: Sequence[KeyMessageReach]) -> str:
    sent = [r for r in reaches if r.targeted]
    steps = [
        (_formats_phrase(n), [r.by_formats[n] for r in sent], BLUES[2 * n - 2])
        for n in range(1, THREE + 1)
    ]
    steps.append(("not seen yet", [_unseen(r) for r in sent], NOT_SEEN))
    return _stacked(reach_words(reaches), [r.key_message for r in sent], steps)


def exposures_words(reaches: Sequence[KeyMessageReach]) -> Words:
    sent = [r for r in reaches if r.targeted]
    alt = (
        f"Stacked bars, one per key message ({len(sent)}): the contacts each was sent to by "
        f"how often they saw it, once to {_number(SEVEN)} or more times."
    )
    summary = []
    for reach in sent:
        enough = reach.by_exposures[SEVEN]
        groups = {_exposures_phrase(n): reach.by_exposures[n] for n in range(1, SEVEN + 1)}
        summary.append(
            f"{_subject(reach.key_message)}: {_count(enough)} of {_count(reach.targeted)} contacts "
            f"({_pct(enough / reach.targeted)}) have seen it {_number(SEVEN)} or more times; "
            + _largest(groups, _unseen(reach), reach.targeted, SEEN)
            + "."
        )
    return Words("How often each key message was seen", alt, summary)


def exposures_svg(reaches: Sequence[KeyMessageReach]) -> str:
    sent = [r for r in reaches if r.targeted]
    steps = [
        (
            f"{n}+ times" if n == SEVEN else "once" if n == 1 else f"{n} times",
            [r.by_exposures[n] for r in sent],
            BLUES[min(n, len(BLUES)) - 1],
        )
        for n in range(1, SEVEN + 1)
    ]
    steps.append(("not seen yet", [_unseen(r) for r in sent], NOT_SEEN))
    return _stacked(exposures_words(reaches), [r.key_message for r in sent], steps)


def _unseen(reach: KeyMessageReach) -> int:
    return max(0, reach.targeted - sum(reach.by_formats.values()))


def _formats_phrase(n: int) -> str:
    return f"{n}+ formats" if n == THREE else "1 format" if n == 1 else f"{n} formats"


def _formats_words(n: int) -> str:
    if n == THREE:
        return f"{_number(n)} or more formats"
    return f"{_number(n)} format{'' if n == 1 else 's'}"


def _exposures_phrase(n: int) -> str:
    if n == SEVEN:
        return f"it {_number(n)} or more times"
    return {1: "it once", 2: "it twice"}.get(n, f"it {_number(n)} times")


def _largest(groups: dict[str, int], unseen: int, total: int, verbs: tuple[str, str]) -> str:
    """The largest group in words: "most stand at one format" (most: over half of them), or
    "the largest group has not seen it yet"."""
    name, size = max(groups.items(), key=lambda kv: kv[1])
    if unseen > size:
        name, size, verbs = "", unseen, NOT_YET
    said = f"most {verbs[0]}" if size * 2 > total else f"the largest group {verbs[1]}"
    return f"{said} {name}".rstrip()


def _subject(text: str) -> str:
    """A key message as a sentence's start: its own full stop dropped before our colon."""
    return text.rstrip().rstrip(".")


# -- Relevance per item and audience --------------------------------------------------------


def voted(items: Sequence[ItemReach]) -> list[ItemReach]:
    """The items (in the order given: worst first) that someone voted on, the top 20."""
    return [item for item in items if item.relevance is not None][:RELEVANCE_TOP]


def relevance_words(items: Sequence[ItemReach]) -> Words:
    shown = voted(items)
    if not shown:
        return Words(RELEVANCE, "No item has a relevance vote yet.", [])
    worst, best = shown[0], shown[-1]
    alt = (
        f"Bars of the share of yes votes for the {len(shown)} least relevant items and "
        f"audiences, worst first: {_item(worst)} at {_relevance(worst)}."
    )
    summary = [f"Least relevant: {_item(worst)}, {_relevance(worst)}."]
    if best is not worst:
        summary.append(f"Best of those shown: {_item(best)}, {_relevance(best)}.")
    unvoted = sum(1 for item in items if item.relevance is None)
    if unvoted:
        summary.append(f"{_count(unvoted)} with no votes yet are left out of the chart.")
    return Words(RELEVANCE, alt, summary)


def relevance_svg(items: Sequence[ItemReach]) -> str:
    shown = voted(items)
    labels = [f"{item.item} · {item.audience} ({_votes(item)})" for item in shown]
    # Under half: red, a second cue beside the printed share.
    values = [
        {"value": item.relevance, "color": BAD if (item.relevance or 0) < 0.5 else ACCENT}
        for item in shown
    ]
    chart = pygal.HorizontalBar(
        _config(
            width=WIDE, height=_bars_height(len(shown), 36), show_legend=False, range=(0, 1),
            value_formatter=lambda v: f"{v:.0%}", print_values_position="top",
            y_labels=[0, 0.25, 0.5, 0.75, 1],
            show_x_guides=True, colors=(ACCENT,), value_colors=(INK,),
            css_rules="text.value { text-anchor: start }", margin_right=48,
        )
    )  # fmt: skip
    # Drawn bottom up: reversed, the worst stands at the top as in the table.
    chart.x_labels = labels[::-1]
    chart.add("Relevance", values[::-1])
    return _render(chart, relevance_words(items))


def _item(item: ItemReach) -> str:
    return f"{item.item} for {item.audience}"


def _votes(item: ItemReach) -> str:
    votes = item.yes + item.no
    return f"{_count(votes)} vote{'' if votes == 1 else 's'}"


def _relevance(item: ItemReach) -> str:
    return f"{_pct(item.relevance or 0.0)} of {_votes(item)}"


# -- Complaint rates per recent edition -----------------------------------------------------


@dataclass(frozen=True)
class EditionRate:
    """One edition's complaint rate, as the chart draws it."""

    label: str  # "#12 Partner News"
    complaints: int
    sent: int
    state: str  # ok, alert or hold

    @property
    def rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0


def complaints_words(editions: Sequence[EditionRate], alert: float, hold: float) -> Words:
    sent = [e for e in editions if e.sent]
    over_hold = [e for e in sent if e.rate >= hold]
    over_alert = [e for e in sent if alert <= e.rate < hold]
    alt = (
        f"Bars of the spam complaint rate of the {len(editions)} editions started in the last "
        f"7 days, against the alert line at {_pct(alert, 1)} and the hold line at "
        f"{_pct(hold, 1)}: {len(over_hold)} at or over the hold line, {len(over_alert)} more "
        "at or over the alert line."
    )
    summary = []
    if sent:
        top = max(sent, key=lambda e: (e.rate, e.label))
        line = (
            "at or over the hold line" if top.rate >= hold
            else "at or over the alert line" if top.rate >= alert else "under the alert line"
        )  # fmt: skip
        summary.append(
            f"Highest: {top.label} at {_pct(top.rate, 2)} ({_count(top.complaints)} of "
            f"{_count(top.sent)} sent), {line}."
        )
    summary.append(
        f"Of {len(editions)} editions, {len(over_hold)} at or over the hold line "
        f"({_pct(hold, 1)}), {len(over_alert)} more at or over the alert line ({_pct(alert, 1)})."
    )
    return Words("Spam complaint rate per edition", alt, summary)


def complaints_svg(editions: Sequence[EditionRate], alert: float, hold: float) -> str:
    tone = {"ok": GOOD, "alert": WARN, "hold": BAD}
    top = max([hold, *(e.rate for e in editions)]) * 1.2
    chart = pygal.Bar(
        _config(
            show_legend=False, range=(0, top), print_values_position="top",
            value_formatter=lambda v: f"{v:.2%}", x_label_rotation=20 if len(editions) > 6 else 0,
            colors=(ACCENT,), value_colors=(INK,), margin_right=90, margin_top=30, margin_bottom=32,
        )
    )  # fmt: skip
    chart.x_labels = [f"{e.label} ({e.state if e.sent else 'nothing sent'})" for e in editions]
    chart.add(
        "Complaint rate",
        [
            {"value": e.rate, "color": tone.get(e.state, ACCENT)} if e.sent else None
            for e in editions
        ],
    )
    lines = (
        (f"hold {_pct(hold, 1)}", hold, BAD, "8,4"),
        (f"alert {_pct(alert, 1)}", alert, WARN, "3,3"),
    )
    return _render(
        chart, complaints_words(editions, alert, hold), lambda _: _thresholds(chart, lines)
    )


def _thresholds(chart: Any, lines: Sequence[tuple[str, float, str, str]]) -> None:
    """Each threshold as a dashed line across the plot, named at its right end (outside the
    bars), the lower name below its line when the two would overlap."""
    view = chart.view
    group = _overlay(chart, "thresholds")
    ys = [view.y(value) for _, value, _, _ in lines]
    for index, (label, value, colour, dashes) in enumerate(lines):
        y = view.y(value)
        crowded = any(abs(y - other) < 16 for other in ys[:index])
        chart.svg.node(
            group, "path", d=f"M0 {y:.1f} H{view.width:.1f}", stroke=colour,
            **{"stroke-width": "2", "stroke-dasharray": dashes, "fill": "none"},
        )  # fmt: skip
        text = chart.svg.node(
            group, "text", x=f"{view.width + 6:.1f}", y=f"{y + (14 if crowded else 4):.1f}",
            fill=colour, **{"font-size": "13", "font-weight": "600"},
        )  # fmt: skip
        text.text = label


# -- Per series over time -------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One line of the series chart: its name and how to read it off an edition."""

    name: str
    of: Callable[[EditionFigures], int]
    one: str = ""  # the name for one of them, where it differs

    def counted(self, figures: EditionFigures) -> str:
        n = self.of(figures)
        return f"{_count(n)} {self.one if n == 1 and self.one else self.name}"


EMAIL_MEASURES = (
    Measure("recipients", lambda f: f.recipients, "recipient"),
    Measure("delivered", lambda f: f.delivered),
    Measure("opened", lambda f: f.human_opens),
    Measure("clicked", lambda f: f.clicks),
    Measure("votes", lambda f: f.votes, "vote"),
    Measure("unsubscribes", lambda f: f.unsubscribes, "unsubscribe"),
    Measure("bounces", lambda f: f.bounces, "bounce"),
    Measure("complaints", lambda f: f.complaints, "complaint"),
)
SOCIAL_MEASURES = (
    Measure("posts", lambda f: f.posts, "post"),
    Measure("post clicks", lambda f: f.post_clicks, "post click"),
)
_LINE_COLOURS = (ACCENT, GOOD, "#613583", "#0b6e6e", WARN, BAD, INK, MUTED)
_DASHES = ("", "8,4", "2,3", "10,3,2,3", "4,4", "12,6", "1,5", "6,2,2,2")


def measures(figures: Sequence[EditionFigures]) -> tuple[Measure, ...]:
    """The lines a series' chart draws: a social series' posts, an email series' messages."""
    social = bool(figures) and all(f.channel == "social" for f in figures)
    return SOCIAL_MEASURES if social else EMAIL_MEASURES


def edition_label(figures: EditionFigures, zone: ZoneInfo) -> str:
    return f"{figures.started_at.astimezone(zone):%-d %b %Y}"


def series_words(figures: Sequence[EditionFigures], name: str, zone: ZoneInfo) -> Words:
    lines = measures(figures)
    alt = (
        f"Lines of {name} over its last {len(figures)} editions, one per measure: "
        f"{_listed([m.name for m in lines])}."
    )
    title = f"{name} over time"
    if not figures:
        return Words(title, alt, [])
    latest = figures[-1]
    said = ", ".join(m.counted(latest) for m in lines)
    summary = [f"Latest edition ({edition_label(latest, zone)}): {said}."]
    if lines is EMAIL_MEASURES and latest.delivered_from != "delivered events":
        summary.append("Delivered counts the messages sent: the back end reports no deliveries.")
    if len(figures) > 1:
        before = figures[-2]
        key = lines[2] if lines is EMAIL_MEASURES else lines[-1]
        summary.append(
            f"{key.name.capitalize()}: {_count(key.of(latest))}, against "
            f"{_count(key.of(before))} the edition before ({edition_label(before, zone)})."
        )
    return Words(title, alt, summary)


def series_svg(figures: Sequence[EditionFigures], name: str, zone: ZoneInfo) -> str:
    lines = measures(figures)
    last = [
        (m.name, m.of(figures[-1]) if figures else 0, _LINE_COLOURS[i]) for i, m in enumerate(lines)
    ]
    chart = pygal.Line(
        _config(
            print_values=False, show_x_guides=False, dots_size=4, stroke_width=3,
            x_label_rotation=20 if len(figures) > 6 else 0, colors=_LINE_COLOURS,
            truncate_legend=-1, include_x_axis=True, margin_bottom=32,
            margin_right=24 + 8 * max(len(f"{n} {_count(v)}") for n, v, _ in last),
        )
    )  # fmt: skip
    chart.x_labels = [edition_label(f, zone) for f in figures]
    for index, measure in enumerate(lines):
        dashes = _DASHES[index % len(_DASHES)]
        chart.add(
            measure.name, [measure.of(f) for f in figures], stroke_style={"dasharray": dashes}
        )
    words = series_words(figures, name, zone)
    draw = (lambda _: _line_names(chart, last)) if figures else None
    return _render(chart, words, draw)


def _named_count(name: str, value: float) -> str:
    return f"{name} {_count(int(value))}"


def _line_names(
    chart: Any,
    last: Sequence[tuple[str, float, str]],
    say: Callable[[str, float], str] = _named_count,
) -> None:
    """Each line named, with its last value (as `say` puts them), right of its last point:
    the names stacked without overlapping, so that a line is known without telling its
    colour."""
    view = chart.view
    ys: list[float] = []
    rows = sorted(last, key=lambda row: -row[1])
    for _, value, _ in rows:  # top down, each at least a line below the one above
        ys.append(max(view.y(value) + 4, ys[-1] + 15) if ys else view.y(value) + 4)
    bottom = view.height + 4
    for index in range(len(ys) - 1, -1, -1):  # bottom up, none below the plot
        ys[index] = min(ys[index], bottom)
        bottom = ys[index] - 15
    group = _overlay(chart, "line-names")
    for y, (name, value, colour) in zip(ys, rows, strict=True):
        node = chart.svg.node(
            group, "text", x=f"{view.width + 10:.1f}", y=f"{y:.1f}", fill=colour,
            **{"font-size": "13", "font-weight": "600"},
        )  # fmt: skip
        node.text = say(name, value)


# -- Rule of seven, week by week ------------------------------------------------------------

REACH_TREND = "Seven across three, week by week"
_SHORT = 32  # a key message's length beside its line (the legend holds it whole)


def week_label(end: datetime) -> str:
    """A week's end as the chart and the table name it: "30 Nov" (a Monday, 00:00 UTC)."""
    return f"{end:%-d %b}"


def share_label(share: float | None) -> str:
    """A share as the trend prints it: whole percents, a tenth under one percent; a dash
    for a week before anyone was sent the key message."""
    if share is None:
        return "—"
    return _pct(share, 1 if 0 < share < 0.01 else 0)


def reach_trend_words(trend: ReachTrend) -> Words:
    lines = trend.sent
    if not lines:
        return Words(REACH_TREND, "No key message has been sent yet.", [])
    first, last = week_label(trend.week_ends[0]), week_label(trend.week_ends[-1])
    best = max(lines, key=lambda line: (line.shares[-1] or 0.0, line.key_message))
    alt = (
        f"Lines of the share of contacts at {_number(trend.seven)} exposures across "
        f"{_number(trend.three)} formats, one per key message ({len(lines)}), at each of the "
        f"last {len(trend.week_ends)} week ends from {first} to {last}: "
        f"{_subject(best.key_message)} is highest, at {share_label(best.shares[-1])}."
    )
    return Words(REACH_TREND, alt, [_trend_sentence(trend, line) for line in lines])


def _trend_sentence(trend: ReachTrend, line: KeyMessageTrend) -> str:
    """One key message's line in words, as in "Deal registration: 4% at seven across three
    by 15 Feb (3 of 80 contacts), up from 0% by 30 Nov." """
    shares = line.shares
    now, start = shares[-1] or 0.0, next(n for n, s in enumerate(shares) if s is not None)
    said = (
        f"{_subject(line.key_message)}: {share_label(now)} at {_number(trend.seven)} across "
        f"{_number(trend.three)} by {week_label(trend.week_ends[-1])} "
        f"({_count(line.reached[-1])} of {_count(line.targeted[-1])} contacts)"
    )
    if start == len(shares) - 1:
        return f"{said}, its first week sent."
    before = shares[start] or 0.0
    change = "up from" if now > before else "down from" if now < before else "the same as"
    since = week_label(trend.week_ends[start])
    first_sent = ", its first week sent" if start else ""
    return f"{said}, {change} {share_label(before)} by {since}{first_sent}."


def reach_trend_svg(trend: ReachTrend) -> str:
    lines = trend.sent
    top = max((s or 0.0 for line in lines for s in line.shares), default=0.0)
    # Room above the highest line, in tenths: small shares are not pressed to the axis.
    ceiling = min(1.0, max(0.1, math.ceil(top * 10 + 1e-9) / 10))
    names = [(_short(line.key_message), line.shares[-1] or 0.0, _LINE_COLOURS[i % 8])
             for i, line in enumerate(lines)]  # fmt: skip
    chart = pygal.Line(
        _config(
            width=WIDE, print_values=False, show_x_guides=False, dots_size=4, stroke_width=3,
            x_label_rotation=20 if len(trend.week_ends) > 6 else 0, colors=_LINE_COLOURS,
            truncate_legend=-1, range=(0, ceiling), value_formatter=share_label,
            include_x_axis=True, margin_bottom=32,
            margin_right=24 + 8 * max((len(_say_share(n, v)) for n, v, _ in names), default=0),
        )
    )  # fmt: skip
    chart.x_labels = [week_label(end) for end in trend.week_ends]
    for index, line in enumerate(lines):
        dashes = _DASHES[index % len(_DASHES)]
        chart.add(line.key_message, list(line.shares), stroke_style={"dasharray": dashes})
    draw = (lambda _: _line_names(chart, names, _say_share)) if lines else None
    return _render(chart, reach_trend_words(trend), draw)


def _short(text: str) -> str:
    text = _subject(text)
    return text if len(text) <= _SHORT else text[: _SHORT - 1].rstrip() + "…"


def _say_share(name: str, value: float) -> str:
    return f"{name} {share_label(value)}"


# -- One partner, month by month ------------------------------------------------------------

PARTNER_LINES = (
    ("email", "email", "by email"),
    ("video", "video", "by video"),
    ("social", "social", "on social"),
    ("rss", "RSS", "in a feed"),
)
ENGAGED = "opened or clicked"


def month_label(month: PartnerMonth, zone: tzinfo) -> str:
    return f"{month.start.astimezone(zone):%b %Y}"


def partner_trend_words(trend: PartnerTrend, zone: tzinfo) -> Words:
    title = f"{trend.partner}, month by month"
    months = trend.months
    alt = (
        f"Lines of how many of {trend.partner}'s {_count(trend.contacts)} contacts were "
        f"reached each month over the last {_number(len(months))} months, one per format "
        f"({_listed([name for _, name, _ in PARTNER_LINES])}), and one of those who opened "
        "or clicked anything."
    )
    if not trend.anything:
        return Words(title, alt, [])
    summary = [f"{month_label(months[-1], zone)} so far: {_month_words(months[-1])}."]
    if len(months) > 1:
        summary.append(f"{month_label(months[-2], zone)}: {_month_words(months[-2])}.")
    return Words(title, alt, summary)


def _month_words(month: PartnerMonth) -> str:
    """As in "7 contacts reached by email, 1 by video, none on social and none in a feed;
    5 opened or clicked something"."""
    said: list[str] = []
    for fmt, _, how in PARTNER_LINES:
        n = month.in_format(fmt)
        if said:
            said.append(f"{_count(n) if n else 'none'} {how}")
        else:
            contacts = "no contacts" if not n else f"{_count(n)} contact{'' if n == 1 else 's'}"
            said.append(f"{contacts} reached {how}")
    engaged = (
        f"{_count(month.engaged)} {ENGAGED} something" if month.engaged
        else f"none {ENGAGED} anything"
    )  # fmt: skip
    return f"{_listed(said)}; {engaged}"


def partner_trend_svg(trend: PartnerTrend, zone: tzinfo) -> str:
    months = trend.months
    series = [
        *((name, [m.in_format(fmt) for m in months]) for fmt, name, _ in PARTNER_LINES),
        (ENGAGED, [m.engaged for m in months]),
    ]
    names = [(name, values[-1], _LINE_COLOURS[i]) for i, (name, values) in enumerate(series)]
    top = max(4, *(max(values) for _, values in series))
    step = math.ceil(top / 4)  # whole contacts on the axis, four or five of them
    chart = pygal.Line(
        _config(
            print_values=False, show_x_guides=False, dots_size=4, stroke_width=3,
            colors=_LINE_COLOURS, truncate_legend=-1, include_x_axis=True, margin_bottom=32,
            range=(0, step * 4),
            value_formatter=lambda v: f"{v:,.0f}",
            margin_right=24 + 8 * max(len(_named_count(n, v)) for n, v, _ in names),
        )
    )  # fmt: skip
    chart.x_labels = [month_label(m, zone) for m in months]
    if trend.anything:  # pygal draws no axis labels without a line: set only with lines
        chart.config.y_labels = list(range(0, step * 4 + 1, step))
        for index, (name, values) in enumerate(series):
            chart.add(name, values, stroke_style={"dasharray": _DASHES[index % len(_DASHES)]})
    draw = (lambda _: _line_names(chart, names)) if trend.anything else None
    return _render(chart, partner_trend_words(trend, zone), draw)


# -- Relevance per audience, month by month -------------------------------------------------

RELEVANCE_TREND = "Relevance per audience, month by month"


def month_name(start: datetime) -> str:
    """A month as the relevance trend names it: "Feb 2027" (months in UTC)."""
    return f"{start:%b %Y}"


def votes_label(yes: int, no: int) -> str:
    """A month's relevance as the table prints it: "67% (12 votes)"; a dash with no votes."""
    votes = yes + no
    if not votes:
        return "—"
    return f"{_pct(yes / votes)} ({_count(votes)} vote{'' if votes == 1 else 's'})"


def relevance_trend_words(trend: RelevanceTrend) -> Words:
    lines = trend.audiences
    if not lines:
        return Words(RELEVANCE_TREND, "No audience has a relevance vote in these months yet.", [])
    latest = max(n for n in range(len(trend.months)) if any(line.votes[n] for line in lines))
    worst = min(
        (line for line in lines if line.votes[latest]),
        key=lambda line: (line.relevance[latest] or 0.0, line.name),
    )
    month = _month_so_far(trend, latest)
    alt = (
        f"Lines of the share of yes votes per audience ({len(lines)}), on the items of the "
        f"editions started in each of the last {_number(len(trend.months))} months, "
        f"{month_name(trend.months[0])} to {month_name(trend.months[-1])}: {worst.name} is "
        f"the least relevant in {month}, at {_pct(worst.relevance[latest] or 0.0)}."
    )
    summary = [
        f"Least relevant in {month}: {worst.name}, at {_share_of_votes(worst, latest)}, "
        f"{_moved(trend, worst, latest)}."
    ]
    for line in lines:
        if line is not worst:
            n = _last_voted(line)
            summary.append(
                f"{line.name}: {_share_of_votes(line, n)} in {_month_so_far(trend, n)}, "
                f"{_moved(trend, line, n)}."
            )
    return Words(RELEVANCE_TREND, alt, summary)


def _month_so_far(trend: RelevanceTrend, n: int) -> str:
    return month_name(trend.months[n]) + (" so far" if n == len(trend.months) - 1 else "")


def _last_voted(line: AudienceRelevance, before: int | None = None) -> int:
    """The last month (before `before`) the audience has votes in; -1 if none."""
    months = range(len(line.votes) if before is None else before)
    return max((n for n in months if line.votes[n]), default=-1)


def _share_of_votes(line: AudienceRelevance, n: int) -> str:
    """As in "33% of 3 votes"."""
    votes = line.votes[n]
    return f"{_pct(line.relevance[n] or 0.0)} of {_count(votes)} vote{'' if votes == 1 else 's'}"


def _moved(trend: RelevanceTrend, line: AudienceRelevance, n: int) -> str:
    """How an audience's relevance in month n moved from its month with votes before, as in
    "down from 67% of 6 votes in Jan 2027"."""
    before = _last_voted(line, n)
    if before < 0:
        return f"its first month with votes of these {_number(len(trend.months))}"
    was, is_ = line.relevance[before] or 0.0, line.relevance[n] or 0.0
    change = "up from" if is_ > was else "down from" if is_ < was else "the same as"
    return f"{change} {_share_of_votes(line, before)} in {month_name(trend.months[before])}"


def relevance_trend_svg(trend: RelevanceTrend) -> str:
    lines = trend.audiences
    names = []
    for index, line in enumerate(lines):
        last = _last_voted(line)
        share = line.relevance[-1]
        label = _short(line.name) + (f" {_pct(share)}" if share is not None else "")
        names.append((label, line.relevance[last] or 0.0, _LINE_COLOURS[index % 8]))
    chart = pygal.Line(
        _config(
            width=WIDE, show_x_guides=False, dots_size=4, stroke_width=3, colors=_LINE_COLOURS,
            truncate_legend=-1, range=(0, 1),
            value_formatter=lambda v: f"{v:.0%}", print_zeroes=True, allow_interruptions=True,
            include_x_axis=True, margin_bottom=32,
            margin_right=24 + 8 * max((len(label) for label, _, _ in names), default=0),
        )
    )  # fmt: skip
    chart.x_labels = [month_name(start) for start in trend.months]
    if lines:  # pygal draws no axis labels without a line: set only with lines
        chart.config.y_labels = [0, 0.25, 0.5, 0.75, 1]
    for index, line in enumerate(lines):
        dashes = _DASHES[index % len(_DASHES)]
        chart.add(line.name, list(line.relevance), stroke_style={"dasharray": dashes})
    draw = (lambda _: _line_names(chart, names, _name_only)) if lines else None
    return _render(chart, relevance_trend_words(trend), draw)


def _name_only(name: str, _value: float) -> str:
    return name


# -- Bounce rate per edition ----------------------------------------------------------------

BOUNCES = "Bounce rate per edition"


def bounce_label(edition: EditionBounces) -> str:
    return f"#{edition.edition_id} {edition.series_name}"


def bounced(edition: EditionBounces) -> str:
    """As in "1.5% (3 of 200 messages bounced)"."""
    return (
        f"{_pct(edition.rate or 0.0, 1)} ({_count(edition.bounces)} of {_count(edition.tried)} "
        f"message{'' if edition.tried == 1 else 's'} bounced)"
    )


def _against_lines(edition: EditionBounces) -> str:
    rate = edition.rate or 0.0
    if rate >= BOUNCE_ALARM:
        return "at or over the alarm line"
    return "at or over the warning line" if rate >= BOUNCE_WARN else "under the warning line"


def bounces_words(editions: Sequence[EditionBounces]) -> Words:
    tried = [e for e in editions if e.tried]
    alarm = [e for e in tried if (e.rate or 0.0) >= BOUNCE_ALARM]
    warn = [e for e in tried if BOUNCE_WARN <= (e.rate or 0.0) < BOUNCE_ALARM]
    alt = (
        f"Bars of the bounce rate of the last {len(editions)} editions that sent email, oldest "
        f"first, against the warning line at {_pct(BOUNCE_WARN)} and the alarm line at "
        f"{_pct(BOUNCE_ALARM)}: {len(alarm)} at or over the alarm line, {len(warn)} more at or "
        "over the warning line."
    )
    summary = []
    if tried:
        latest = tried[-1]
        summary.append(
            f"Latest: {bounce_label(latest)} at {bounced(latest)}, {_against_lines(latest)}."
        )
        top = max(tried, key=lambda e: (e.rate or 0.0, e.edition_id))
        if top is not latest and (top.rate or 0.0) > (latest.rate or 0.0):
            summary.append(
                f"Highest: {bounce_label(top)} at {bounced(top)}, {_against_lines(top)}."
            )
    summary.append(
        f"Of {len(editions)} editions, {len(alarm)} at or over the alarm line "
        f"({_pct(BOUNCE_ALARM)}), where mailbox providers take a list for a dirty one and block "
        f"its sender; {len(warn)} more at or over the warning line ({_pct(BOUNCE_WARN)})."
    )
    return Words(BOUNCES, alt, summary)


def bounces_svg(editions: Sequence[EditionBounces]) -> str:
    tone = {"ok": GOOD, "warn": WARN, "alarm": BAD}
    top = max([BOUNCE_ALARM, *(e.rate or 0.0 for e in editions)]) * 1.2
    chart = pygal.Bar(
        _config(
            show_legend=False, range=(0, top), print_values_position="top", print_zeroes=True,
            value_formatter=lambda v: f"{v:.1%}", x_label_rotation=20 if len(editions) > 6 else 0,
            colors=(ACCENT,), value_colors=(INK,), margin_right=90, margin_top=30, margin_bottom=32,
        )
    )  # fmt: skip
    # Each bar says its state in words beside its colour: ok, warn (over the warning line) or
    # alarm (over the alarm line).
    chart.x_labels = [
        f"{bounce_label(e)} ({e.state if e.tried else 'nothing sent'})" for e in editions
    ]
    chart.add(
        "Bounce rate",
        [{"value": e.rate, "color": tone[e.state]} if e.tried else None for e in editions],
    )
    lines = (
        (f"alarm {_pct(BOUNCE_ALARM)}", BOUNCE_ALARM, BAD, "8,4"),
        (f"warn {_pct(BOUNCE_WARN)}", BOUNCE_WARN, WARN, "3,3"),
    )
    return _render(chart, bounces_words(editions), lambda _: _thresholds(chart, lines))


# -- Drawing --------------------------------------------------------------------------------


def _config(**options: Any) -> Any:
    """The settings every chart shares: the site's palette and type, values printed, and no
    script or outside reference of any kind."""
    colours = options.pop("colors", BLUES)
    value_colours = options.pop("value_colors", ())
    rules = options.pop("css_rules", "")
    stroke = options.pop("stroke_width", 1)
    config = pygal.Config(
        js=[], disable_xml_declaration=True, explicit_size=True, width=WIDTH,
        height=420, print_values=True, print_zeroes=False, legend_at_bottom=True,
        legend_at_bottom_columns=4, truncate_label=48, margin=16, spacing=12,
        no_data_text="Nothing to show yet",
        style=_style(colours, value_colours, stroke), title=None,
    )  # fmt: skip
    if rules:  # inlined, as pygal's own are: never a link
        config.css = [*config.css, f"inline:{rules}"]
    for key, value in options.items():
        setattr(config, key, value)
    return config


def _style(colours: Sequence[str], value_colours: Sequence[str], stroke: int) -> Any:
    return Style(
        font_family=_FONT, background="#ffffff", plot_background="#ffffff",
        foreground=INK, foreground_strong=INK, foreground_subtle=MUTED,
        colors=tuple(colours), value_colors=tuple(value_colours),
        opacity="1", opacity_hover="1", stroke_opacity="1", stroke_opacity_hover="1",
        stroke_width=str(stroke), stroke_width_hover=str(stroke),
        transition="0s", guide_stroke_color=LINE, major_guide_stroke_color=LINE,
        label_font_size=13, major_label_font_size=13, value_font_size=13,
        value_label_font_size=13, legend_font_size=14, title_font_size=16,
        no_data_font_size=20,
    )  # fmt: skip


def _stacked(words: Words, categories: list[str], steps: list[tuple[str, list[int], str]]) -> str:
    """Stacked horizontal bars, a bar per category and a segment per step; each segment
    prints its count, and its step's name too where it is wide enough to hold it."""
    widest = max(
        (sum(values[i] for _, values, _ in steps) for i in range(len(categories))), default=0
    )
    chart = pygal.HorizontalStackedBar(
        _config(
            height=_bars_height(len(categories)) + 30 * ((len(steps) + 3) // 4),
            colors=[colour for _, _, colour in steps], print_labels=True,
            value_colors=["#ffffff" if colour in DARK else INK for _, _, colour in steps],
            value_formatter=lambda v: f"{v:,.0f}", show_y_guides=True, truncate_legend=-1,
            css_rules="text.label { text-anchor: middle }",
        )
    )  # fmt: skip
    chart.x_labels = categories[::-1]  # drawn bottom up: the first on top
    for name, values, _ in steps:
        chart.add(
            name,
            [_segment(name, v, widest) if v else None for v in values[::-1]],
        )
    return _render(chart, words)


def _overlay(chart: Any, name: str) -> Any:
    """A group over the plot, in its coordinates, for what pygal does not draw itself."""
    box = chart.margin_box
    return chart.svg.node(
        chart.nodes["graph"], class_=name, transform=f"translate({box.left}, {box.top})"
    )


def _segment(name: str, value: int, widest: int) -> dict[str, Any]:
    """A stacked segment: its count printed where about that many digits fit, its step's
    name too where the name does (the plot is some 420 units wide at the least)."""
    room = 420 * value / widest
    fits = room >= 8 * len(f"{value:,}") + 6
    return {
        "value": value,
        "label": name if room >= 7.5 * len(name) + 10 else "",
        **({} if fits else {"formatter": lambda _: ""}),
    }


def _bars_height(bars: int, each: int = 48) -> int:
    return 100 + each * max(bars, 1)


def _render(chart: Any, words: Words, draw_more: Callable[[Any], None] | None = None) -> str:
    """The chart's SVG, titled and described; scripts, comments, and the <desc>s pygal
    leaves in each bar for its tooltip script, taken out."""

    def finish(root: Any) -> Any:
        if draw_more is not None:
            draw_more(root)
        for parent in list(root.iter()):
            for child in list(parent):
                if (
                    child.tag is etree.Comment
                    or child.tag == "script"
                    or (child.tag == "desc" and parent is not root)
                ):
                    parent.remove(child)
        [heading] = [child for child in root if child.tag == "title"]
        heading.text = words.title
        described = etree.Element("desc")
        described.text = words.alt
        root.insert(list(root).index(heading) + 1, described)
        if not etree.lxml:
            return root
        # lxml's root declares xlink, used or not: a new root declares SVG's namespace alone.
        bare = etree.Element(root.tag, dict(root.attrib), nsmap={None: SVG_NAMESPACE})
        bare.extend(list(root))
        return bare

    chart.add_xml_filter(finish)
    return str(chart.render(is_unicode=True))


# -- Words ----------------------------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n:,}"


def _pct(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}%}"


def _number(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{_number(n)} times")


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
