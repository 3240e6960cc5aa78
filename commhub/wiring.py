"""The composition root: settings in, concrete parts out. The web app, the CLI and (later)
the scheduler and workers all build their parts here, and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from commhub.clock import Clock, SystemClock
from commhub.config import Settings, check_smtp_url
from commhub.delivery import DeliveryBackend, Poster, PosterFor, PostingPolicy, account_settings
from commhub.delivery.linkedin import LinkedInPoster
from commhub.delivery.mastodon import MastodonPoster
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.post_outbox import OutboxPoster
from commhub.delivery.sendgrid import SendGridBackend
from commhub.delivery.smtp import SmtpBackend
from commhub.delivery.webhook import WebhookPoster
from commhub.outbound import FetchPolicy
from commhub.render import Renderer, Tokens, message_tokens
from commhub.resources import templates_dir
from commhub.store import Network, make_engine, make_session_factory

OUTBOX_DIR = "outbox"
SOCIAL_OUTBOX_DIR = "social-outbox"


@dataclass(frozen=True)
class Runtime:
    """The parts a running commhub process shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: Tokens
    clock: Clock

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Connect the parts settings describe (no connection is opened until first use)."""
    engine = make_engine(settings.database_url, pool_pre_ping=True)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        tokens=message_tokens(settings.secret_keys),
        clock=clock or SystemClock(),
    )


def build_delivery_backend(settings: Settings) -> DeliveryBackend:
    """The back end COMMHUB_DELIVERY names."""
    if settings.delivery == "sendgrid":
        assert settings.sendgrid_api_key is not None  # load_settings requires it for sendgrid
        return SendGridBackend(settings.sendgrid_api_key, settings.sendgrid_host)
    if settings.delivery == "smtp":
        assert settings.smtp_url is not None  # load_settings requires it for smtp
        return SmtpBackend(check_smtp_url(settings.smtp_url))
    return OutboxBackend(settings.data_dir / OUTBOX_DIR)


def build_poster_for(settings: Settings, timeout_seconds: float = 20.0) -> PosterFor:
    """Makes the poster of one account: the outbox's files when COMMHUB_SOCIAL_DELIVERY is
    outbox (the default, needing no account), else the account's network, its endpoint and
    credentials from COMMHUB_SOCIAL_<ACCOUNT>_<KEY>."""
    policy = PostingPolicy(timeout_seconds, allow_private=settings.social_allow_private)

    def poster_for(network: Network, account: str) -> Poster:
        if settings.social_delivery == "outbox":
            return OutboxPoster(settings.data_dir / SOCIAL_OUTBOX_DIR, network)
        found = account_settings(settings, account, network)
        if network is Network.MASTODON:
            return MastodonPoster(found, policy)
        if network is Network.LINKEDIN:
            return LinkedInPoster(found, policy)
        return WebhookPoster(found, policy)

    return poster_for


def build_message_copies(settings: Settings) -> OutboxBackend:
    """Where copies of sent messages lie on disk (the outbox's files), for erasure: whatever
    back end sends today, earlier editions may have gone to the outbox."""
    return OutboxBackend(settings.data_dir / OUTBOX_DIR)


def build_renderer() -> Renderer:
    """The renderer for the project's message templates."""
    return Renderer(templates_dir())


def build_fetch_policy(settings: Settings) -> FetchPolicy:
    """How feed sources (and, later, every URL from content or users) are fetched."""
    return FetchPolicy(
        max_bytes=settings.feeds_max_bytes, allow_private=settings.feeds_allow_private
    )
