"""A demo worth looking at: months of past editions, sent and answered, on a simulated clock.

For each series, every date its cadence gave in the past months becomes an edition started
and prepared on that date and sent (through the outbox: a simulation never mails anyone),
or posted (through the posts' outbox). Then its contacts answer as people do, through the
same recording functions as real signals: opens (a human's hours later, a mail scanner's
seconds after delivery), clicks, relevance votes, delivered, bounces and the odd complaint,
unsubscribes; clicks on the posts, some by contacts the attribution cookie names; clicks in
personal feeds. How likely each is depends on the contact's partner (some engaged, some
cold), their role and the format, from a seeded random generator: the same history each run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commhub.config import Settings
from commhub.delivery import DeliveryBackend, EditionSender, PosterFor, PostSender, installation_id
from commhub.editions import list_posts, prepare_edition, start_edition
from commhub.feeds import open_personal_feed, personal_feed_of, record_feed_click
from commhub.render import Renderer, message_tokens, personal_feed_tokens
from commhub.scheduling.month import cadence_dates
from commhub.store import (
    Channel,
    Contact,
    ContentItem,
    Edition,
    EditionLink,
    EditionState,
    Message,
    MessageStatus,
    Partner,
    PostState,
    Series,
    session_scope,
)
from commhub.tracking import (
    DEFAULT_PROXIES,
    find_message,
    link_target,
    record_click,
    record_events,
    record_open,
    record_post_click,
    record_vote,
    unsubscribe,
)

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"
# How likely a person opens, by format: video digests are opened less, read longer.
OPEN_RATE = {Channel.NEWSLETTER: 0.45, Channel.VIDEO_DIGEST: 0.32}
# How much more (or less) each role engages: executives read least.
ROLE_WEIGHT = {
    "sales": 1.1,
    "technical": 1.0,
    "marketing": 1.2,
    "development": 0.9,
    "executive": 0.6,
}


class SimulatedClock:
    """Time as the simulation moves it: now() is what it was set to; sleep() moves it on."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(seconds, 0.0))


@dataclass
class HistoryReport:
    editions: int = 0
    messages: int = 0
    posts: int = 0
    signals: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, n: int = 1) -> None:
        self.signals[kind] = self.signals.get(kind, 0) + n

    def summary(self) -> str:
        said = ", ".join(f"{n} {kind}" for kind, n in sorted(self.signals.items()))
        return (
            f"{self.editions} editions, {self.messages} messages, {self.posts} posts; "
            f"{said or 'no signals'}"
        )


def has_history(session: Session) -> bool:
    """Whether any edition has started: a history is made once, on a fresh demo."""
    started = select(func.count()).select_from(Edition).where(Edition.started_at.is_not(None))
    return bool(session.scalar(started))


def past_dates(series: Series, start: datetime, end: datetime) -> list[datetime]:
    """The dates the series' cadence gave between start and end (UTC)."""
    return [when.astimezone(UTC) for when in cadence_dates(series, start, 400) if when < end]


def simulate_history(
    sessions: sessionmaker[Session],
    months: int,
    now: datetime,
    renderer: Renderer,
    settings: Settings,
    backend: DeliveryBackend,
    poster_for: PosterFor,
    progress: Callable[[int], None] = lambda _n: None,
    seed: int = 2026,
) -> HistoryReport:
    """Every series' editions of the past months, sent or posted, and answered."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    report = HistoryReport()
    start = now - timedelta(days=30 * months)
    with session_scope(sessions) as session:
        _backdate(session, start)
        plan = sorted(
            (when, series.id)
            for series in session.scalars(select(Series).order_by(Series.slug))
            for when in past_dates(series, start, now)
        )
    for when, series_id in plan:
        clock = SimulatedClock(when)
        edition_id = _prepare(sessions, series_id, when, renderer, settings)
        if edition_id is None:
            progress(1)
            continue
        report.editions += 1
        with session_scope(sessions) as session:
            channel = session.get(Series, series_id).channel  # type: ignore[union-attr]
        if channel is Channel.SOCIAL:
            PostSender(sessions, poster_for, clock).send(edition_id)
            _post_clicks(sessions, edition_id, when, rng, report)
        else:
            EditionSender(sessions, backend, settings, clock).send(edition_id)
            _answer(sessions, settings, edition_id, channel, when, rng, report)
        progress(1)
    _feed_clicks(sessions, settings, now, start, rng, report)
    return report


def _backdate(session: Session, start: datetime) -> None:
    """The demo's partners and contacts were made a moment ago, but in the story the history
    tells they were there before its first edition: their creation and consent move back to a
    day of the month before it (each its own, so that the dates do not all read alike)."""
    for partner in session.scalars(select(Partner).where(Partner.created_at >= start)):
        partner.created_at = start - timedelta(days=30 + partner.id % 28, hours=partner.id % 9)
    for contact in session.scalars(select(Contact).where(Contact.created_at >= start)):
        moved = start - timedelta(days=1 + contact.id % 28, hours=9 + contact.id % 8)
        contact.created_at = moved
        if contact.consent_at is not None and contact.consent_at >= start:
            contact.consent_at = moved + timedelta(minutes=5 + contact.id % 50)


def history_steps(sessions: sessionmaker[Session], months: int, now: datetime) -> int:
    """How many editions simulate_history will go through (for a progress bar)."""
    start = now - timedelta(days=30 * months)
    with session_scope(sessions) as session:
        return sum(len(past_dates(s, start, now)) for s in session.scalars(select(Series)))


def _prepare(
    sessions: sessionmaker[Session],
    series_id: int,
    when: datetime,
    renderer: Renderer,
    settings: Settings,
) -> int | None:
    """An edition of the series planned and started at when, prepared then; None when it
    had nothing new (or waits for approval: a demo approves nothing by itself)."""
    with session_scope(sessions) as session:
        series = session.get(Series, series_id)
        assert series is not None
        session.add(Edition(series=series, planned_at=when, state=EditionState.PLANNED))
        session.flush()
        edition = start_edition(session, series, when)
        edition.approved_at = when  # a demo's series needing approval is approved on time
        prepare_edition(session, edition, when, renderer, settings, lambda _e, _n: None)
        return edition.id if edition.state is EditionState.SENDING else None


def _engagement(partner: str, roles: str, channel: Channel) -> float:
    """How likely this contact answers anything: a partner engaged or cold (from its name,
    so the same partner is the same each run), times its roles' weight."""
    digest = hashlib.sha256(partner.encode()).digest()[0] / 255
    partner_factor = 0.25 if digest < 0.3 else 1.0 if digest < 0.8 else 1.5
    weight = max(ROLE_WEIGHT.get(role, 1.0) for role in roles.split(","))
    return min(OPEN_RATE.get(channel, 0.4) * partner_factor * weight, 0.95)


def _sent(session: Session, edition_id: int) -> Iterator[tuple[int, int, str, str, datetime]]:
    """The edition's sent messages: id, contact id, role set, partner, sent at."""
    yield from session.execute(
        select(Message.id, Message.contact_id, Message.role_set, Partner.name, Message.sent_at)
        .join(Contact, Contact.id == Message.contact_id)
        .join(Partner, Partner.id == Contact.partner_id)
        .where(Message.edition_id == edition_id, Message.status == MessageStatus.SENT)
        .order_by(Message.id)
    )  # type: ignore[misc]


def _answer(
    sessions: sessionmaker[Session],
    settings: Settings,
    edition_id: int,
    channel: Channel,
    when: datetime,
    rng: random.Random,
    report: HistoryReport,
) -> None:
    """The contacts' answers to an email edition, each through its real recording function."""
    tokens = message_tokens(settings.secret_keys)
    installation = installation_id(settings.secret_key)
    with session_scope(sessions) as session:
        sent = list(_sent(session, edition_id))
        link_ids = list(
            session.scalars(
                select(EditionLink.link_id)
                .where(EditionLink.edition_id == edition_id)
                .order_by(EditionLink.link_id)
            )
        )
    provider: list[dict[str, object]] = []
    for message_id, _contact_id, role_set, partner, sent_at in sent:
        report.messages += 1
        at = sent_at or when
        fate = rng.random()
        if fate < 0.01:
            provider.append(_provider_event(message_id, "bounce", at, installation))
            report.count("bounces")
            continue
        provider.append(_provider_event(message_id, "delivered", at, installation))
        likely = _engagement(partner, role_set, channel)
        with session_scope(sessions) as session:
            owner = find_message(session, tokens, tokens.sign(message_id))
            if owner is None:
                continue
            if rng.random() < 0.35:  # a privacy proxy or scanner, seconds after delivery
                record_open(session, owner, at + timedelta(seconds=2), None, BROWSER,
                            DEFAULT_PROXIES)  # fmt: skip
                report.count("machine opens")
            if rng.random() >= likely:
                continue
            opened = at + timedelta(hours=rng.uniform(0.5, 72))
            record_open(session, owner, opened, None, BROWSER, DEFAULT_PROXIES)
            report.count("opens")
            carried = [i for i in link_ids if i in owner.link_ids]
            for link_id in carried:
                link = link_target(session, owner, link_id)
                if link is None:
                    continue
                if link.url and rng.random() < likely * 0.4:
                    record_click(session, owner, link_id, link, opened + timedelta(minutes=2))
                    report.count("clicks")
                if rng.random() < likely * 0.25:
                    answer = "yes" if rng.random() < 0.75 else "no"
                    record_vote(session, owner, link_id, link, answer,
                                opened + timedelta(minutes=3))  # fmt: skip
                    report.count("votes")
            if rng.random() < 0.004:
                provider.append(_provider_event(message_id, "spamreport", opened, installation))
                report.count("complaints")
            elif rng.random() < 0.006:
                unsubscribe(session, owner, opened + timedelta(minutes=5), "demo history")
                report.count("unsubscribes")
    if provider:
        with session_scope(sessions) as session:
            record_events(session, provider, installation, when + timedelta(days=3))


def _provider_event(
    message_id: int, kind: str, at: datetime, installation: str
) -> dict[str, object]:
    return {
        "event": kind,
        "commhub_message_id": str(message_id),
        "commhub_installation": installation,
        "timestamp": int((at + timedelta(minutes=1)).timestamp()),
        **(
            {"reason": "550 5.1.1 mailbox unavailable", "type": "bounce"}
            if kind == "bounce"
            else {}
        ),
    }


def _post_clicks(
    sessions: sessionmaker[Session],
    edition_id: int,
    when: datetime,
    rng: random.Random,
    report: HistoryReport,
) -> None:
    """Clicks on an edition's posts: most by people commhub cannot know, some by consented
    contacts whose browser carries the attribution cookie, and the link previews."""
    with session_scope(sessions) as session:
        posts = [
            p for p in list_posts(session, edition_id=edition_id) if p.state is PostState.POSTED
        ]
        known = list(
            session.scalars(
                select(Contact.id).where(Contact.consent_at.is_not(None)).order_by(Contact.id)
            )
        )
    for post in posts:
        report.posts += 1
        with session_scope(sessions) as session:
            record_post_click(session, post.id, None, "http.rb/5.1 (Mastodon/4.3)", when)
            report.count("link previews")
            for _ in range(rng.randint(0, 12)):
                clicked = when + timedelta(hours=rng.uniform(0.1, 96))
                who = rng.choice(known) if known and rng.random() < 0.3 else None
                found = record_post_click(session, post.id, who, BROWSER, clicked)
                report.count("post clicks")
                if found is not None and found.attributed:
                    report.count("attributed post clicks")


def _feed_clicks(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    start: datetime,
    rng: random.Random,
    report: HistoryReport,
) -> None:
    """A few contacts read their personal feed, and click some of its items."""
    tokens = personal_feed_tokens(settings.secret_keys)
    with session_scope(sessions) as session:
        readers = list(
            session.scalars(
                select(Contact.email)
                .where(Contact.consent_at.is_not(None))
                .order_by(Contact.id)
                .limit(40)
            )
        )
        items = list(session.scalars(select(ContentItem.id).order_by(ContentItem.id)))
    for email in readers:
        if rng.random() > 0.5:
            continue
        with session_scope(sessions) as session:
            feed = personal_feed_of(session, email, start)
            reader = open_personal_feed(session, tokens, tokens.sign(feed.name), now)
            if reader is None:
                continue
            for item_id in rng.sample(items, k=min(len(items), 6)):
                at = start + timedelta(days=rng.uniform(0, (now - start).days or 1))
                if record_feed_click(session, reader, item_id, at) is not None:
                    report.count("feed clicks")
