"""Test data with names a reader understands: items, contacts, series, and sending them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.clock import Clock
from commhub.delivery.backend import DeliveryBackend, MessageContent, OutgoingMessage
from commhub.delivery.pacing import SendPolicy
from commhub.delivery.post_sender import PosterFor, PostPolicy, PostReport, PostSender
from commhub.delivery.sender import EditionSender, SendReport
from commhub.editions.lifecycle import start_edition
from commhub.editions.preparation import Preparation, prepare_edition
from commhub.render.mime import Envelope, Mailbox, Recipient
from commhub.render.placeholders import ContactValues, Personalisable
from commhub.render.renderer import CompiledMessage, Renderer
from commhub.render.tokens import message_tokens
from commhub.resources import templates_dir
from commhub.scheduling.due import local_waves
from commhub.store.db import session_scope
from commhub.store.models import (
    Audience,
    Channel,
    Contact,
    ContactStatus,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    KeyMessage,
    Message,
    Partner,
    Series,
)
from commhub.tracking import (
    MessageOwner,
    find_message,
    link_target,
    record_click,
)
from commhub.tracking.subscriptions import CarriedLink
from commhub.wiring import Runtime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Short waits, so that retries in tests take virtual seconds, not minutes.
QUICK = SendPolicy(retry_base=1.0, retry_cap=4.0, outage_base=1.0, outage_cap=2.0, max_outage=30.0)


class FixedClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, now: datetime = NOW) -> None:
        self.current = now
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=max(seconds, 0.001))


@dataclass
class World:
    """A database to fill with a partner ecosystem, and ways to send editions to it."""

    runtime: Runtime
    renderer: Renderer
    clock: FixedClock
    # What senders told a person watching (why they wait).
    notices: list[str] = field(default_factory=list)

    def count_compiles(self) -> list[str]:
        """From now on, each MJML source the renderer compiles is appended to the list."""
        compiled: list[str] = []
        real = self.renderer.compile_html

        def counting(source: str) -> str:
            compiled.append(source)
            return real(source)

        self.renderer = Renderer(templates_dir(), compile_html=counting)
        return compiled

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.runtime.sessions) as session:
            yield session

    def item(
        self,
        slug: str,
        audiences: list[str],
        *,
        priority: int = 0,
        published: datetime | None = None,
        kind: ContentKind = ContentKind.ARTICLE,
        status: ContentStatus = ContentStatus.PUBLISHED,
        expires: datetime | None = None,
        key_message: str | None = None,
        **fields: Any,
    ) -> None:
        with self.session() as session:
            km = None
            if key_message:
                km = session.scalar(select(KeyMessage).where(KeyMessage.text == key_message))
                km = km or KeyMessage(text=key_message)
            session.add(
                ContentItem(
                    slug=slug,
                    title=fields.pop("title", slug.replace("-", " ").title()),
                    summary=fields.pop("summary", f"What {slug} means for you."),
                    kind=kind,
                    status=status,
                    source=ContentSource.UI,
                    url=fields.pop("url", f"https://partners.example/{slug}"),
                    publish_at=published or NOW - timedelta(days=1),
                    expires_at=expires,
                    priority=priority,
                    key_message=km,
                    audiences=_audiences(session, audiences),
                    **fields,
                )
            )

    def contact(
        self,
        email: str,
        roles: list[str],
        *,
        partner: str = "Acme Partners",
        tier: str = "gold",
        first_name: str = "Pat",
        last_name: str = "Partner",
        status: ContactStatus = ContactStatus.ACTIVE,
        consent: bool = True,
        **fields: Any,
    ) -> None:
        with self.session() as session:
            found = session.scalar(select(Partner).where(Partner.name == partner))
            found = found or Partner(
                name=partner, tier=tier, type="reseller", region="EMEA", tags=[]
            )
            session.add(
                Contact(
                    email=email,
                    first_name=first_name,
                    last_name=last_name,
                    partner=found,
                    status=status,
                    consent_at=NOW - timedelta(days=30) if consent else None,
                    opted_out_channels=fields.pop("opted_out_channels", []),
                    roles=_audiences(session, roles),
                    **fields,
                )
            )

    def many_contacts(
        self, count: int, roles: list[str], domain: str = "bulk.example"
    ) -> list[str]:
        """count active contacts with these roles, added in one transaction; their emails."""
        emails = [f"contact{n:05}@{domain}" for n in range(count)]
        with self.session() as session:
            partner = Partner(
                name=f"Bulk {domain}", tier="gold", type="msp", region="EMEA", tags=[]
            )
            audiences = _audiences(session, roles)
            session.add_all(
                Contact(
                    email=address,
                    first_name=f"N{n}",
                    last_name="Bulk",
                    partner=partner,
                    consent_at=NOW - timedelta(days=1),
                    opted_out_channels=[],
                    roles=audiences,
                )
                for n, address in enumerate(emails)
            )
        return emails

    def series(self, slug: str = "news", audiences: list[str] | None = None, **fields: Any) -> None:
        with self.session() as session:
            session.add(
                Series(
                    slug=slug,
                    name=fields.pop("name", "Partner News"),
                    channel=fields.pop("channel", Channel.NEWSLETTER),
                    all_audiences=audiences is None,
                    audiences=_audiences(session, audiences or []),
                    cadence="monthly on day 1 at 09:00",
                    timezone=fields.pop("timezone", "Europe/London"),
                    subject=fields.pop("subject", "{{ series.name }} for {{ contact.first_name }}"),
                    from_address=fields.pop("from_address", "Partner Team <team@vendor.example>"),
                    partner_filter=fields.pop("partner_filter", {}),
                    **fields,
                )
            )

    def social_series(
        self, slug: str = "social", accounts: list[dict[str, Any]] | None = None, **fields: Any
    ) -> None:
        """A social series posting to accounts ({network, name, audiences}); its audiences
        are the accounts' between them, as `series apply` stores them."""
        accounts = accounts or [{"network": "mastodon", "name": "vendor", "audiences": "all"}]
        audiences = [a for account in accounts for a in account["audiences"]]
        every = any(account["audiences"] == "all" for account in accounts)
        self.series(
            slug, None if every else sorted(set(audiences)), channel=Channel.SOCIAL,
            name=fields.pop("name", "Partner Social"), subject="", from_address="",
            accounts=accounts, **fields,
        )  # fmt: skip

    def post(
        self, edition_id: int, poster_for: PosterFor, policy: PostPolicy | None = None
    ) -> PostReport:
        """Post a prepared social edition's posts through poster_for's posters."""
        sender = PostSender(self.runtime.sessions, poster_for, self.clock, policy)
        return sender.send(edition_id)

    def prepare(self, slug: str = "news") -> Preparation:
        """Start and prepare the series' next edition now (no sending)."""
        with self.session() as session:
            series = session.scalar(select(Series).where(Series.slug == slug))
            assert series is not None
            edition = start_edition(session, series, self.clock.now())
            return prepare_edition(
                session,
                edition,
                self.clock.now(),
                self.renderer,
                self.runtime.settings,
                local_waves,
            )

    def newsletter_to(self, *emails: str, first_names: Sequence[str] = ()) -> int:
        """A prepared edition of a sales newsletter for these contacts; returns its id."""
        self.series(audiences=["sales"])
        self.item("price-update", ["sales"], title="Q1 price update")
        for index, address in enumerate(emails):
            name = first_names[index] if index < len(first_names) else "Pat"
            self.contact(address, ["sales"], first_name=name)
        return self.prepare().edition.id

    def send(
        self,
        edition_id: int,
        backend: DeliveryBackend,
        policy: SendPolicy = QUICK,
        clock: Clock | None = None,
    ) -> SendReport:
        sender = EditionSender(
            self.runtime.sessions, backend, self.runtime.settings, clock or self.clock, policy,
            notice=self.notices.append,
        )  # fmt: skip
        try:
            return sender.send(edition_id)
        finally:
            backend.close()  # as the CLI does when its command ends

    def click_first_link(self, edition_id: int, address: str) -> str:
        """Click the first tracked link of the contact's message, as the link route does;
        where it leads."""
        message = self.messages(edition_id)[address]
        tokens = message_tokens(self.runtime.settings.secret_keys)
        with self.session() as session:
            owner = find_message(session, tokens, tokens.sign(message.id))
            assert owner is not None
            links = [(i, link_target(session, owner, i)) for i in sorted(owner.link_ids)]
            link_id, link = next((i, lk) for i, lk in links if lk is not None and lk.url)
            return record_click(session, owner, link_id, link, self.clock.now())

    def item_link(
        self, session: Session, edition_id: int, address: str, item_slug: str
    ) -> tuple[MessageOwner, int, CarriedLink]:
        """The contact's message as its signed token names it (as the tracking routes find
        it), and the id and target of its link to the item."""
        message = self.messages(edition_id)[address]
        tokens = message_tokens(self.runtime.settings.secret_keys)
        owner = find_message(session, tokens, tokens.sign(message.id))
        assert owner is not None
        item_id = session.scalar(select(ContentItem.id).where(ContentItem.slug == item_slug))
        link_id, link = next(
            (i, found)
            for i in sorted(owner.link_ids)
            if (found := link_target(session, owner, i)) and found.content_item_id == item_id
        )
        return owner, link_id, link

    def messages(self, edition_id: int) -> dict[str, Message]:
        """The edition's messages by contact email."""
        with self.session() as session:
            rows = session.execute(
                select(Contact.email, Message)
                .join(Message, Message.contact_id == Contact.id)
                .where(Message.edition_id == edition_id)
            )
            return {email: message for email, message in rows}  # noqa: C416


def _audiences(session: Session, slugs: list[str]) -> list[Audience]:
    found = list(session.scalars(select(Audience).where(Audience.slug.in_(slugs))))
    assert len(found) == len(set(slugs)), f"unknown audience in {slugs}"
    return found


def default_renderer() -> Renderer:
    return Renderer(templates_dir())


# A compiled role set and its messages, for back ends tested without a database.
SAMPLE_ENVELOPE = Envelope(
    sender=Mailbox("Partner Team", "team@vendor.example"),
    reply_to=Mailbox("Help", "help@vendor.example"),
    message_id_domain="vendor.example",
    installation="abc123",
    unsubscribe_mailto="leave@vendor.example",
)


def compiled_content(
    envelope: Envelope = SAMPLE_ENVELOPE,
    html: str = "<p>Hi %%greeting_name%% & co</p><a href='/u/%%token%%'>x</a>",
) -> MessageContent:
    """A sales role set of edition 4 with placeholders in every part."""
    return MessageContent(
        4,
        "sales",
        envelope,
        CompiledMessage(
            subject=Personalisable.parse("News for %%first_name.raw%%", html=False),
            html=Personalisable.parse(html, html=True),
            text=Personalisable.parse("Hi %%greeting_name.raw%%\n/u/%%token.raw%%", html=False),
        ),
    )


def outgoing_message(
    message_id: int, email: str, shared: MessageContent, first_name: str = "Ana"
) -> OutgoingMessage:
    token = f"T{message_id}"
    return OutgoingMessage(
        Recipient(
            message_id, 4, email, f"{first_name} Silva", f"https://hub.example/u/{token}", token
        ),
        shared,
        ContactValues(first_name, "Silva", email, "Acme & Sons", token),
    )
