"""`demo-data --history N`: the past months of every demo series, sent through the outbox (even
with another back end set) and answered through the same recording functions as real
signals, so that every report has something in it; once only."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from commhub.config import load_settings
from commhub.store import (
    Channel,
    Contact,
    Edition,
    EditionState,
    Event,
    EventKind,
    Exposure,
    Partner,
    Series,
    SocialPost,
    session_scope,
)
from commhub.wiring import build_runtime
from tests.cli.test_cli import Commhub

REPO = Path(__file__).parents[2]


def test_six_months_of_history_fill_every_report_through_the_real_paths(tmp_path: Path) -> None:
    commhub = Commhub(tmp_path / "var")
    commhub.env["COMMHUB_POSTAL_ADDRESS"] = "1 Harbour Street, Bristol"
    # Whatever back end is configured, a simulation mails no one: this relay does not exist.
    commhub.env["COMMHUB_DELIVERY"] = "smtp"
    commhub.env["COMMHUB_SMTP_URL"] = "smtp://127.0.0.1:9"
    for args in (("init",), ("content", "import"), ("series", "apply", str(REPO / "series.yml"))):
        assert commhub(*args).exit_code == 0
    made = commhub("demo-data", "--history", "6")
    assert made.exit_code == 0, made.output
    assert "demo history: " in made.stdout

    runtime = build_runtime(load_settings(commhub.env))
    try:
        with session_scope(runtime.sessions) as session:
            started = session.execute(
                select(Series.channel, Edition.started_at)
                .join(Series, Series.id == Edition.series_id)
                .where(Edition.state == EditionState.SENT)
            ).all()
            kinds = dict(
                session.execute(select(Event.kind, func.count()).group_by(Event.kind)).all()
            )
            formats = set(session.scalars(select(Exposure.format).distinct()))
            machine = session.scalar(
                select(func.count()).where(
                    Event.kind == EventKind.OPEN, Event.data["machine"].as_boolean().is_(True)
                )
            )
            posts = session.scalar(select(func.count(SocialPost.id)))
            first_sent = session.scalar(select(func.min(Edition.started_at)))
            latest_contact, latest_consent, latest_partner = session.execute(
                select(
                    func.max(Contact.created_at),
                    func.max(Contact.consent_at),
                    select(func.max(Partner.created_at)).scalar_subquery(),
                )
            ).one()
    finally:
        runtime.close()
    # Every channel went out in the past, each edition on its own date.
    assert {channel for channel, _ in started} == {
        Channel.NEWSLETTER, Channel.VIDEO_DIGEST, Channel.SOCIAL,
    }  # fmt: skip
    now = datetime.now().astimezone()
    assert all(at is not None and at < now for _, at in started)
    assert len({at.date() for _, at in started if at is not None}) >= 10
    # Answered as people do, each kind through its own recording function.
    for kind in ("open", "click", "vote", "delivered", "bounce", "unsubscribe"):
        assert kinds.get(kind, 0) > 0, kind
    assert machine
    assert posts
    # The partners and contacts were there, and had consented, before the first edition.
    assert first_sent is not None
    assert max(latest_contact, latest_consent, latest_partner) < first_sent
    assert formats >= {"email", "video", "social", "rss"}
    # Through the outbox, never the configured relay.
    assert list((tmp_path / "var" / "outbox").glob("*/*.eml"))
    assert list((tmp_path / "var" / "social-outbox").glob("*/*.json"))

    partners = json.loads(commhub("report", "partners", "--format", "json").stdout)
    assert partners
    items = json.loads(commhub("report", "items", "--format", "json").stdout)
    assert any(row["votes_yes"] for row in items)
    assert any(row["social_clicks"] for row in items)

    again = commhub("demo-data", "--history", "6")
    assert again.exit_code == 0
    assert "editions have gone out already; none simulated" in again.stdout
