"""Content items written in the browser: checked by the file importer's own reader, stored
with source `ui`, and exported as a Markdown file that the importer reads back unchanged.

An editor's form is turned into the front matter a file would hold and read by the same
FrontMatterReader as `content import`, so the web and the files can never disagree on what an
item may be. Only what a form adds is checked here: the slug (derived from the title when
left empty, never one already used or one a page's address needs) and the body's control
characters (a file's are refused before its front matter is read).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from commhub.errors import Conflict, ContentError, NotFound, Problem
from commhub.library.content_files import SLUG_PATTERN, ContentDraft, FrontMatterReader
from commhub.library.library import apply_draft, key_messages_for
from commhub.library.markdown import render_markdown
from commhub.library.yaml_reader import MAX_FILE_BYTES
from commhub.store import (
    Audience,
    AuditAction,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    record_action,
)
from commhub.text import REFUSED_CHARACTERS, describe_character

FORM = "form"  # the Problem.source of everything typed in the browser
MAX_SLUG = 200  # the database's column: a longer slug would fail the write, unnamed
DERIVED_SLUG = 80  # a slug made from a long title is cut here, at a word
# Room left in an exported file for its front matter: a body may not make it too big to import.
MAX_BODY_BYTES = MAX_FILE_BYTES - 100_000
# "new" is the address of the form; a slug whose last part names one of an item's own pages
# or buttons (/content/<slug>/edit, .../status, .../feed-version) would be read as that page.
RESERVED_SLUGS = frozenset({"new"})
PAGE_SUFFIXES = frozenset({"edit", "status", "feed-version"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# How a browser's datetime-local control writes a time: to the minute.
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class ItemFields:
    """What an editor typed, as text, each named as the front-matter field it becomes.

    publish_at and expires_at are a date and time in the editor's own zone ("2026-11-03T09:00");
    key_message is the text of the key message, existing or new; hashtags are words apart;
    social is the line social posts say instead of the title (empty: the title).
    """

    title: str = ""
    kind: str = ContentKind.ARTICLE.value
    audiences: tuple[str, ...] = ()
    key_message: str = ""
    summary: str = ""
    body: str = ""
    url: str = ""
    video_url: str = ""
    thumbnail: str = ""
    duration: str = ""
    speaker: str = ""
    hashtags: str = ""
    social: str = ""
    priority: str = "0"
    publish_at: str = ""
    expires_at: str = ""
    # A new item waits as a draft until someone publishes it on purpose.
    status: str = ContentStatus.DRAFT.value
    slug: str = ""


def fields_of(item: ContentItem, zone: tzinfo = UTC) -> ItemFields:
    """An item's fields as its edit form shows them, times in the editor's zone."""
    return ItemFields(
        title=item.title,
        kind=item.kind.value,
        audiences=tuple(a.slug for a in item.audiences),
        key_message=item.key_message.text if item.key_message else "",
        summary=item.summary,
        body=item.body_markdown,
        url=item.url or "",
        video_url=item.video_url or "",
        thumbnail=item.thumbnail_url or "",
        duration=_duration_text(item.duration_seconds),
        speaker=item.speaker or "",
        hashtags=" ".join(item.hashtags),
        social=item.social_line or "",
        priority=str(item.priority),
        publish_at=_local(item.publish_at, zone),
        expires_at=_local(item.expires_at, zone),
        status=item.status.value,
        slug=item.slug,
    )


def find_item(session: Session, slug: str) -> ContentItem | None:
    """The item with this slug, its audiences and key message loaded."""
    return session.scalar(
        select(ContentItem)
        .options(selectinload(ContentItem.audiences), selectinload(ContentItem.key_message))
        .where(ContentItem.slug == slug)
    )


def editable(item: ContentItem) -> bool:
    """Whether the browser may change item: only its own; a file's next import would undo it."""
    return item.source is ContentSource.UI


def item_form_problems(
    session: Session, slug: str | None, fields: ItemFields, zone: tzinfo = UTC
) -> list[Problem]:
    """Everything wrong with the form, each named by its field; empty when it can be saved."""
    problems: list[Problem] = []
    _check(session, slug, fields, zone, problems)
    return problems


def preview_html(body: str) -> str:
    """The body as the email carries it: rendered and sanitised by the email's own code."""
    return render_markdown(_body_text(body))


def save_item(
    session: Session,
    slug: str | None,
    fields: ItemFields,
    now: datetime,
    zone: tzinfo = UTC,
) -> ContentItem:
    """Create (slug None) or change a UI item, in the caller's transaction, logged.

    ContentError lists every problem and nothing is written (the caller rolls back); an item
    from a file or a feed is refused (Conflict): its source would overwrite the change.
    """
    item = None
    if slug is not None:
        item = find_item(session, slug)
        if item is None:
            raise NotFound(f"no content item {slug}")
        if not editable(item):
            raise Conflict(read_only_reason(item))
    problems: list[Problem] = []
    draft = _check(session, slug, fields, zone, problems)
    if draft is None:
        raise ContentError(problems)
    audiences = {a.slug: a for a in session.scalars(select(Audience))}
    key_messages = key_messages_for(session, {draft.key_message} if draft.key_message else set())
    before = _stored(item) if item is not None else None
    if item is None:
        item = ContentItem(slug=draft.slug, source=ContentSource.UI)
        session.add(item)
    apply_draft(item, draft, draft.digest(), audiences, key_messages)
    item.source_ref = None  # no file: the database is where it lives
    if before is None:
        summary = f'"{draft.title}": {draft.kind.value}, {draft.status.value}'
        record_action(session, AuditAction.CREATED, "content", item.slug, summary[:500], now)
    else:
        after = _stored(item)
        changed = [name for name in after if after[name] != before[name]] or ["nothing"]
        record_action(
            session, AuditAction.EDITED, "content", item.slug, "changed " + ", ".join(changed), now
        )
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Someone saved the same slug between the check and this write.
        raise ContentError([Problem(FORM, "already used by another item", "slug")]) from None
    return item


def set_item_status(
    session: Session, slug: str, status: ContentStatus, now: datetime
) -> ContentItem:
    """Publish, archive or return to draft an item made in the browser or brought by a feed
    (a feed's drafts wait for exactly this); logged. A file's item is refused: its file
    says what its status is, and the next import would say it again."""
    item = find_item(session, slug)
    if item is None:
        raise NotFound(f"no content item {slug}")
    if item.source is ContentSource.FILE:
        raise Conflict(read_only_reason(item))
    if item.status is not status:
        before = item.status
        item.status = status
        record_action(
            session, AuditAction.EDITED, "content", item.slug,
            f"{before.value} -> {status.value}", now,
        )  # fmt: skip
    return item


def read_only_reason(item: ContentItem) -> str:
    """Why the browser may not change item, and where to change it instead."""
    if item.source is ContentSource.FILE:
        where = f"content/{item.source_ref}" if item.source_ref else "its file under content/"
        return (
            f"{item.slug} comes from {where}: edit that file and run `commhub content import` "
            "(the next import would overwrite a change made here)"
        )
    return f"{item.slug} comes from a {item.source.value}: change it there"


def export_item(session: Session, slug: str) -> str:
    """A UI item as a content file (front matter, then the body) that imports as the same item.

    Every text is double-quoted on one line: no value can end the front matter early or be
    read back as another type (a title "yes", a slug "1").
    """
    item = find_item(session, slug)
    if item is None:
        raise NotFound(f"no content item {slug}")
    if item.source is ContentSource.FILE:
        raise Conflict(f"{slug} already is a file: content/{item.source_ref}")
    lines = ["---", f"slug: {_quoted(item.slug)}", f"title: {_quoted(item.title)}"]
    lines.append(f"kind: {item.kind.value}")
    lines.append(f"audiences: [{', '.join(_quoted(a.slug) for a in item.audiences)}]")
    lines.append(f"status: {item.status.value}")
    lines.append(f"priority: {item.priority}")
    optional: list[tuple[str, str | None]] = [
        ("key_message", item.key_message.text if item.key_message else None),
        ("summary", item.summary or None),
        ("url", item.url),
        ("video_url", item.video_url),
        ("thumbnail", item.thumbnail_url),
        ("duration", _duration_text(item.duration_seconds) or None),
        ("speaker", item.speaker),
        ("publish_at", _utc_text(item.publish_at)),
        ("expires_at", _utc_text(item.expires_at)),
    ]
    lines += [f"{name}: {_quoted(value)}" for name, value in optional if value is not None]
    if item.hashtags:
        lines.append(f"hashtags: [{', '.join(_quoted(tag) for tag in item.hashtags)}]")
    if item.social_line is not None:
        lines.append(f"social: {_quoted(item.social_line)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + item.body_markdown


def derive_slug(title: str) -> str:
    """A slug from a title: its Latin letters and digits, words joined by "-", cut at a word."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")
    if len(slug) > DERIVED_SLUG:
        slug = slug[:DERIVED_SLUG].rsplit("-", 1)[0] if "-" in slug[:DERIVED_SLUG] else slug
        slug = slug[:DERIVED_SLUG].strip("-")
    return slug or "item"


def _check(
    session: Session, slug: str | None, fields: ItemFields, zone: tzinfo, problems: list[Problem]
) -> ContentDraft | None:
    """The draft a file with these fields would give, or None with every problem appended."""
    body = _body_text(fields.body)
    found = REFUSED_CHARACTERS.search(body)
    if found is not None:
        character = describe_character(found.group())
        problems.append(Problem(FORM, f"control character {character}: refused", "body"))
    if len(body.encode()) > MAX_BODY_BYTES:
        problems.append(Problem(FORM, f"longer than {MAX_BODY_BYTES:,} bytes", "body"))
    resolved = slug if slug is not None else _new_slug(session, fields, problems)
    data = _front_matter(resolved, fields, zone)
    known = list(session.scalars(select(Audience.slug)))
    reader = FrontMatterReader(FORM, data, {}, known, problems)
    draft = reader.draft(f"{resolved}.md", body)
    return None if draft is None or problems else draft


def _new_slug(session: Session, fields: ItemFields, problems: list[Problem]) -> str:
    """The slug typed, checked for what only the database and the addresses know; else one
    derived from the title, made unique with a number."""
    typed = fields.slug.strip()
    if typed:
        if typed in RESERVED_SLUGS or typed.rsplit("/", 1)[-1] in PAGE_SUFFIXES:
            problems.append(
                Problem(FORM, f'"{typed}" is reserved for a page: choose another', "slug")
            )
        elif len(typed) > MAX_SLUG:
            problems.append(Problem(FORM, f"longer than {MAX_SLUG} characters", "slug"))
        elif SLUG_PATTERN.fullmatch(typed) and _slug_taken(session, typed):
            problems.append(Problem(FORM, f'"{typed}" is already used by another item', "slug"))
        return typed
    base = derive_slug(fields.title)
    if base in RESERVED_SLUGS or base in PAGE_SUFFIXES:
        base = f"{base}-item"
    candidate, number = base, 1
    while _slug_taken(session, candidate):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _slug_taken(session: Session, slug: str) -> bool:
    return session.scalar(select(ContentItem.id).where(ContentItem.slug == slug)) is not None


def _front_matter(slug: str, fields: ItemFields, zone: tzinfo) -> dict[str, Any]:
    """The front matter a file with these fields would hold: left-out fields left out, and
    numbers typed as numbers, as YAML would read them."""
    data: dict[str, Any] = {
        "slug": slug,
        "title": fields.title,
        "kind": fields.kind,
        "status": fields.status,
        "audiences": list(fields.audiences),
    }
    texts = {
        "summary": fields.summary,
        "url": fields.url,
        "video_url": fields.video_url,
        "thumbnail": fields.thumbnail,
        "speaker": fields.speaker,
        "key_message": fields.key_message,
        "hashtags": fields.hashtags,
        "social": fields.social,
    }
    data.update({name: value for name, value in texts.items() if value.strip()})
    duration = fields.duration.strip()
    if duration:
        data["duration"] = int(duration) if duration.isascii() and duration.isdigit() else duration
    if fields.priority.strip():
        data["priority"] = fields.priority
    for name in ("publish_at", "expires_at"):
        moment = _zoned(getattr(fields, name), zone)
        if moment is not None:
            data[name] = moment
    return data


def _zoned(text: str, zone: tzinfo) -> str | None:
    """A local date and time as an instant with its offset; anything else as typed, for the
    reader to name."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _body_text(body: str) -> str:
    """The body as a file's would be read: a browser's CRLF line breaks made LF, the ends
    trimmed, one final line break."""
    return body.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def _stored(item: ContentItem) -> dict[str, object]:
    """What an edit can change, to name the fields it changed in the audit log."""
    return {
        "title": item.title,
        "kind": item.kind,
        "audiences": [a.slug for a in item.audiences],
        "key message": item.key_message.text if item.key_message else None,
        "summary": item.summary,
        "body": item.body_markdown,
        "link": item.url,
        "video": (item.video_url, item.thumbnail_url, item.duration_seconds, item.speaker),
        "hashtags": list(item.hashtags),
        "social line": item.social_line,
        "priority": item.priority,
        "publish window": (item.publish_at, item.expires_at),
        "status": item.status,
    }


def _local(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime(LOCAL_MINUTE)


def _utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _duration_text(seconds: int | None) -> str:
    """Seconds as h:mm:ss or m:ss, as the content file writes a duration."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _quoted(text: str) -> str:
    """text as one double-quoted YAML scalar on one line."""
    dumped = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=float("inf"))
    return dumped.strip()
