"""The library as a catalogue: search and filter the items a page at a time, and one item
with its body as the email shows it and the editions that carried it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from commhub.library.markdown import render_markdown, sanitise_html
from commhub.store import (
    Audience,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    Edition,
    EditionItem,
    EditionState,
    KeyMessage,
    Series,
)

_HEADING = re.compile(r"<(/?)h([1-6])>")

SEARCH_LENGTH = 200  # longer search text is cut: no title is that long


@dataclass(frozen=True)
class ContentFilter:
    """What a list of the library is narrowed to; None (or "") is no filter."""

    audience: str | None = None  # an audience slug
    kind: ContentKind | None = None
    status: ContentStatus | None = None
    key_message_id: int | None = None
    source: ContentSource | None = None
    text: str | None = None  # in the title, summary or slug, case ignored

    @property
    def is_empty(self) -> bool:
        return not (
            self.audience
            or self.kind
            or self.status
            or self.key_message_id is not None
            or self.source
            or self.text
        )


@dataclass(frozen=True)
class ContentChoices:
    """What the filters can choose from: audiences (slug, name) and key messages (id, text)."""

    audiences: list[tuple[str, str]]
    key_messages: list[tuple[int, str]]


@dataclass(frozen=True)
class ItemSending:
    """An edition that carried an item to one audience."""

    edition_id: int
    series_slug: str
    series_name: str
    series_timezone: str
    planned_at: datetime
    started_at: datetime | None
    state: EditionState
    audience_slug: str
    audience_name: str


@dataclass(frozen=True)
class ItemDetail:
    """One item as it will appear, with its body as sanitised HTML (what the email carries)."""

    item: ContentItem
    body_html: str


def content_choices(session: Session) -> ContentChoices:
    """The audiences and key messages the library's filters offer, by slug and by text."""
    audiences = session.execute(select(Audience.slug, Audience.name).order_by(Audience.slug))
    key_messages = session.execute(select(KeyMessage.id, KeyMessage.text).order_by(KeyMessage.text))
    return ContentChoices(
        [(slug, name) for slug, name in audiences],
        [(km_id, text) for km_id, text in key_messages],
    )


def count_content(session: Session, where: ContentFilter) -> int:
    """How many items match (one COUNT in SQL)."""
    query = select(func.count()).select_from(ContentItem).where(*_conditions(where))
    return int(session.scalar(query) or 0)


def search_content(
    session: Session, where: ContentFilter, offset: int = 0, limit: int = 50
) -> list[ContentItem]:
    """One page of the items that match, newest first (items without a publish date first of
    all, as `commhub content list` has them), audiences and key message loaded."""
    query = (
        select(ContentItem)
        .where(*_conditions(where))
        .options(selectinload(ContentItem.audiences), selectinload(ContentItem.key_message))
        .order_by(ContentItem.publish_at.desc().nulls_first(), ContentItem.slug)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def _conditions(where: ContentFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.audience:
        found.append(ContentItem.audiences.any(Audience.slug == where.audience))
    if where.kind is not None:
        found.append(ContentItem.kind == where.kind)
    if where.status is not None:
        found.append(ContentItem.status == where.status)
    if where.key_message_id is not None:
        found.append(ContentItem.key_message_id == where.key_message_id)
    if where.source is not None:
        found.append(ContentItem.source == where.source)
    text = (where.text or "").strip()[:SEARCH_LENGTH]
    if text:
        found.append(
            or_(
                ContentItem.title.icontains(text, autoescape=True),
                ContentItem.summary.icontains(text, autoescape=True),
                ContentItem.slug.icontains(text, autoescape=True),
            )
        )
    return found


def content_item_detail(session: Session, slug: str) -> ItemDetail | None:
    """The item with this slug, audiences and key message loaded, and its body as the email
    carries it: the HTML sanitised on import (sanitised again here, so that what a page marks
    safe is what the sanitiser gave back), or its Markdown rendered if it has no HTML yet.
    None for an unknown slug."""
    item = session.scalar(
        select(ContentItem)
        .where(ContentItem.slug == slug)
        .options(selectinload(ContentItem.audiences), selectinload(ContentItem.key_message))
    )
    if item is None:
        return None
    if item.body_html:
        body = sanitise_html(item.body_html)
    elif item.body_markdown:
        body = render_markdown(item.body_markdown)
    else:
        body = ""
    return ItemDetail(item, body)


def demote_headings(html: str, levels: int) -> str:
    """Sanitised HTML with each heading `levels` lower (h1 -> h3 for 2; h6 at most), for a
    page whose own headings are above it. Sanitised HTML writes a heading tag only as
    `<hN>`/`</hN>` (no attributes are kept on headings and a `<` in text is escaped), so the
    tags are found exactly; the result is as safe as what went in."""
    return _HEADING.sub(
        lambda found: f"<{found.group(1)}h{min(6, int(found.group(2)) + levels)}>", html
    )


def count_item_sendings(session: Session, item_id: int) -> int:
    """How many (edition, audience) carried this item."""
    query = (
        select(func.count()).select_from(EditionItem).where(EditionItem.content_item_id == item_id)
    )
    return int(session.scalar(query) or 0)


def item_sendings(
    session: Session, item_id: int, offset: int = 0, limit: int = 50
) -> list[ItemSending]:
    """The editions that carried this item, to which audience, newest first (one query)."""
    rows = session.execute(
        select(
            Edition.id,
            Series.slug,
            Series.name,
            Series.timezone,
            Edition.planned_at,
            Edition.started_at,
            Edition.state,
            Audience.slug,
            Audience.name,
        )
        .select_from(EditionItem)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .join(Series, Series.id == Edition.series_id)
        .join(Audience, Audience.id == EditionItem.audience_id)
        .where(EditionItem.content_item_id == item_id)
        .order_by(Edition.planned_at.desc(), Edition.id.desc(), Audience.slug)
        .offset(offset)
        .limit(limit)
    )
    return [ItemSending(*row) for row in rows]
