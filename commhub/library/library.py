"""The content library: import files all-or-nothing, list what is there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from commhub.errors import ContentError, Problem
from commhub.library.changes import ChangeReport
from commhub.library.content_files import ContentDraft, find_content_files, parse_library
from commhub.store import (
    Audience,
    AuditAction,
    ContentItem,
    ContentSource,
    KeyMessage,
    record_action,
)


def count_content_files(root: Path) -> int:
    """How many files an import of root will read (for a progress bar)."""
    return len(find_content_files(root))


def import_library(
    session: Session, root: Path, progress: Callable[[int], None] | None = None
) -> ChangeReport:
    """Create or update a content item for every file under root.

    All or nothing: if any file has a problem, ContentError lists every problem and the
    session is left untouched. Re-importing an unchanged file changes nothing.
    """
    if not root.is_dir():
        raise ContentError([Problem(str(root), "not a directory")])
    if not find_content_files(root):
        raise ContentError([Problem(str(root), "no content files (*.md) here")])
    audiences = {a.slug: a for a in session.scalars(select(Audience))}
    drafts, problems = parse_library(root, audiences.keys(), progress)
    existing = {
        item.slug: item
        for item in session.scalars(
            select(ContentItem).where(ContentItem.slug.in_([d.slug for d in drafts]))
        )
    }
    for draft in drafts:
        item = existing.get(draft.slug)
        if item is not None and item.source is not ContentSource.FILE:
            problems.append(
                Problem(
                    str(root / draft.source_ref),
                    f'slug "{draft.slug}" belongs to an item from {item.source.value}; rename one',
                    "slug",
                )
            )
    if problems:
        raise ContentError(problems)

    key_messages = key_messages_for(session, {d.key_message for d in drafts if d.key_message})
    report = ChangeReport()
    for draft in drafts:
        item = existing.get(draft.slug)
        digest = draft.digest()
        if item is not None and item.content_hash == digest:
            report.unchanged.append(draft.slug)
            continue
        if item is None:
            item = ContentItem(slug=draft.slug, source=ContentSource.FILE)
            session.add(item)
            report.created.append(draft.slug)
        else:
            report.updated.append(draft.slug)
        apply_draft(item, draft, digest, audiences, key_messages)
    if report.created or report.updated:
        record_action(session, AuditAction.IMPORTED, "content", root.name, report.summary())
    session.flush()
    return report


def key_messages_for(session: Session, texts: set[str]) -> dict[str, KeyMessage]:
    """The key messages with these texts, those not on file yet created (an import and the
    web's form share them)."""
    found = {
        km.text: km for km in session.scalars(select(KeyMessage).where(KeyMessage.text.in_(texts)))
    }
    for text in texts - found.keys():
        found[text] = KeyMessage(text=text)
        session.add(found[text])
    return found


def apply_draft(
    item: ContentItem,
    draft: ContentDraft,
    digest: str,
    audiences: dict[str, Audience],
    key_messages: dict[str, KeyMessage],
) -> None:
    """Set an item's fields from a checked draft (a file's, or the web form's)."""
    item.source_ref = draft.source_ref
    item.title = draft.title
    item.summary = draft.summary
    item.body_markdown = draft.body_markdown
    item.body_html = draft.body_html
    item.kind = draft.kind
    item.status = draft.status
    item.url = draft.url
    item.video_url = draft.video_url
    item.thumbnail_url = draft.thumbnail_url
    item.duration_seconds = draft.duration_seconds
    item.speaker = draft.speaker
    item.hashtags = list(draft.hashtags)
    item.social_line = draft.social_line
    item.key_message = key_messages[draft.key_message] if draft.key_message else None
    item.publish_at = draft.publish_at
    item.expires_at = draft.expires_at
    item.priority = draft.priority
    item.audiences = [audiences[slug] for slug in draft.audiences]
    item.content_hash = digest


def list_content(session: Session) -> list[ContentItem]:
    """Every content item, newest first (items without a publish date first of all)."""
    return list(
        session.scalars(
            select(ContentItem)
            .options(selectinload(ContentItem.audiences), selectinload(ContentItem.key_message))
            .order_by(ContentItem.publish_at.desc().nulls_first(), ContentItem.slug)
        )
    )
