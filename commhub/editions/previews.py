"""Previews and test sends: an edition as one role set would get it, before anyone does.

A preview shows the edition that awaits approval, if there is one, and otherwise what an
edition started now would carry. Its item links lead straight to the items and nothing in
it is tracked; a test send (delivery) is the same message, through the real back end, to one
address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from commhub.config import Settings
from commhub.editions.lifecycle import AWAITING_APPROVAL, REJECTED, edition_facts
from commhub.editions.selection import carried_content, pick_content, series_audiences
from commhub.errors import Conflict, InvalidInput, Problem
from commhub.render import (
    PREVIEW_TOKEN,
    CompiledMessage,
    ContactValues,
    EditionFacts,
    PreviewLinks,
    Renderer,
    Sender,
)
from commhub.store import Edition, EditionState, RoleSet, Series

SAMPLE_CONTACT = ContactValues(
    first_name="Alex",
    last_name="Example",
    email="alex@partner.example",
    partner="Example Partner Ltd",
    token=PREVIEW_TOKEN,
)


@dataclass(frozen=True)
class Preview:
    series: str
    role_set: RoleSet
    source: str  # which edition this is: held, sent, or one started now
    compiled: CompiledMessage
    values: ContactValues
    awaiting_approval: int | None = None  # the held edition shown, which needs approving

    @property
    def subject(self) -> str:
        return self.compiled.subject.fill(self.values.tags())

    @property
    def html(self) -> str:
        return self.compiled.html.fill(self.values.tags())

    @property
    def text(self) -> str:
        return self.compiled.text.fill(self.values.tags())


def preview_edition(
    session: Session,
    series: Series,
    role_set: Sequence[str] | None,
    now: datetime,
    renderer: Renderer,
    settings: Settings,
    values: ContactValues = SAMPLE_CONTACT,
) -> Preview:
    """Compile the series' next edition for role_set (default: all its audiences)."""
    audiences = [a.slug for a in series_audiences(session, series)]
    wanted = RoleSet(role_set or audiences)
    unknown = [slug for slug in wanted if slug not in audiences]
    if unknown:
        raise InvalidInput(
            [Problem("--role-set", f"{', '.join(unknown)} not served by {series.slug} "
                     f"(its audiences: {', '.join(audiences)})")]
        )  # fmt: skip
    shown = _edition_awaiting_approval(session, series)
    source = f"held edition {shown.id}" if shown else "an edition sent now"
    plan = carried_content(session, shown) if shown else pick_content(session, series, now)
    sections = plan.sections(wanted)
    if not sections and shown is None:
        # Nothing new: show the last edition as it went out, so a design can still be checked.
        shown = _last_sent(session, series)
        if shown is not None:
            source = f"edition {shown.id} as sent (nothing new since)"
            plan = carried_content(session, shown)
            sections = plan.sections(wanted)
    if not sections:
        raise Conflict(f"nothing for {','.join(wanted)} in {series.slug} yet: no email to show")
    link_ids = {item.id: link_id for link_id, item in enumerate(plan.items(), start=1)}
    facts = (
        edition_facts(shown)
        if shown
        else EditionFacts(series.name, series.slug, series.subject, now, series.timezone)
    )
    links = PreviewLinks(settings.base_url)
    compiled = renderer.compile(
        series.template or series.channel.value, facts, sections,
        Sender(settings.org_name, settings.postal_address), link_ids, links, links,
    )  # fmt: skip
    held = shown.id if shown is not None and shown.state is EditionState.HELD else None
    return Preview(series.slug, wanted, source, compiled, values, held)


def _edition_awaiting_approval(session: Session, series: Series) -> Edition | None:
    return session.scalar(
        select(Edition)
        .where(
            Edition.series_id == series.id,
            Edition.state == EditionState.HELD,
            or_(
                Edition.state_reason == AWAITING_APPROVAL,
                Edition.state_reason.startswith(REJECTED),
            ),
        )
        .order_by(Edition.id.desc())
        .limit(1)
    )


def _last_sent(session: Session, series: Series) -> Edition | None:
    return session.scalar(
        select(Edition)
        .where(Edition.series_id == series.id, Edition.state == EditionState.SENT)
        .order_by(Edition.planned_at.desc())
        .limit(1)
    )
