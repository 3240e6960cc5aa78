"""The team's calendar of editions as iCalendar (RFC 5545), behind a signed, revocable URL.

A feed is a row; its URL carries a token signed for the calendar purpose that names the row.
Revoking the row turns the URL into a 404 at once, without touching the secret keys (which
would break every link in every inbox).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.actions import Action, NextStep
from commhub.errors import Conflict, NotFound
from commhub.render import FeedTokens
from commhub.scheduling.agenda import CalendarEntry
from commhub.store import CalendarFeed, EditionState

PRODUCT_ID = "-//commhub//planned editions//EN"
# How long a calendar app shows each edition for (it is a moment, not a meeting).
EVENT_LENGTH = timedelta(minutes=30)
_STATUS = {
    EditionState.CANCELLED: "CANCELLED",
    EditionState.MISSED: "CANCELLED",
    EditionState.PLANNED: "TENTATIVE",
    EditionState.HELD: "TENTATIVE",
}


def calendar_ics(
    entries: Sequence[CalendarEntry], name: str, uid_domain: str, now: datetime
) -> bytes:
    """The entries as an iCalendar file, one event per edition, in each series' zone."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", f"edition-{entry.edition_id}@{uid_domain}")
        event.add("dtstamp", now)
        event.add("dtstart", entry.planned_at)
        event.add("dtend", entry.planned_at + EVENT_LENGTH)
        event.add("summary", f"{entry.series_name} ({entry.state.value})")
        audiences = ", ".join(entry.audiences) or "all audiences"
        lines = [
            f"Series: {entry.series}",
            f"Channel: {entry.channel.replace('_', ' ')}",
            f"Audiences: {audiences}",
            "Posts on the series' accounts"
            if entry.channel == "social"
            else f"Expected recipients: {entry.expected_recipients}",
            f"State: {entry.state.value}"
            + (f" ({entry.state_reason})" if entry.state_reason else ""),
        ]
        if entry.local_time:
            lines.append("Sent at this time in each contact's own time zone.")
        event.add("description", "\n".join(lines))
        event.add("status", _STATUS.get(entry.state, "CONFIRMED"))
        event.add("categories", [entry.series, entry.channel])
        cal.add_component(event)
    if entries:
        cal.add_missing_timezones(
            first_date=min(e.planned_at for e in entries).date() - timedelta(days=366),
            last_date=max(e.planned_at for e in entries).date() + timedelta(days=366),
        )
    return bytes(cal.to_ical())


def create_feed(session: Session, label: str, now: datetime) -> CalendarFeed:
    feed = CalendarFeed(
        name=secrets.token_urlsafe(16),
        label=" ".join(label.split())[:200] or "calendar",
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return feed


def revoke_feed(session: Session, feed_id: int, now: datetime) -> CalendarFeed:
    feed = session.get(CalendarFeed, feed_id)
    if feed is None:
        raise NotFound(f"no calendar feed {feed_id}", [NextStep(Action.LIST_CALENDAR_FEEDS)])
    if feed.revoked_at is not None:
        raise Conflict(f"calendar feed {feed_id} was revoked at {feed.revoked_at:%Y-%m-%d %H:%M}")
    feed.revoked_at = now
    return feed


def list_feeds(session: Session) -> list[CalendarFeed]:
    return list(session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)))


def live_feed(session: Session, tokens: FeedTokens, token: str) -> CalendarFeed | None:
    """The feed a genuine calendar token names, unless it was revoked."""
    name = tokens.read(token)
    if name is None:
        return None
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.name == name))
    return feed if feed is not None and feed.revoked_at is None else None


def feed_path(tokens: FeedTokens, feed: CalendarFeed) -> str:
    return f"/calendar/{tokens.sign(feed.name)}.ics"
