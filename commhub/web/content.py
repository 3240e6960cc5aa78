"""/content, /content/<slug>: the library and one item."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from commhub.feeds import waiting_version
from commhub.library import (
    ContentFilter,
    content_choices,
    content_item_detail,
    count_content,
    count_item_sendings,
    demote_headings,
    item_sendings,
    search_content,
)
from commhub.reports import item_report
from commhub.store import ContentKind, ContentSource, ContentStatus
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session

blueprint = Blueprint("content", __name__)
staff_only(blueprint)

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

FILTER_ARGS = ("audience", "kind", "status", "key_message", "source", "q")


@blueprint.get("/content")
def index() -> ResponseReturnValue:
    session = db_session()
    choices = content_choices(session)
    key_message = request.args.get("key_message", "")
    where = ContentFilter(
        audience=_one_of(request.args.get("audience"), [slug for slug, _ in choices.audiences]),
        kind=_member(ContentKind, request.args.get("kind")),
        status=_member(ContentStatus, request.args.get("status")),
        key_message_id=_one_of(
            int(key_message) if key_message.isascii() and key_message.isdigit() else None,
            [km_id for km_id, _ in choices.key_messages],
        ),
        source=_member(ContentSource, request.args.get("source")),
        text=request.args.get("q", "").strip() or None,
    )
    total = count_content(session, where)
    pager = Pager.from_request(total)
    filtered = any(request.args.get(name) for name in FILTER_ARGS)
    return render_template(
        "content/index.html",
        items=search_content(session, where, pager.offset, pager.per_page) if total else [],
        pager=pager,
        where=where,
        choices=choices,
        kinds=list(ContentKind),
        statuses=list(ContentStatus),
        sources=list(ContentSource),
        args=request.args,
        filtered=filtered,
        library_empty=not total and (not filtered or not count_content(session, ContentFilter())),
    )


@blueprint.get("/content/<item_slug:slug>")
def item(slug: str) -> ResponseReturnValue:
    session = db_session()
    detail = content_item_detail(session, slug)
    if detail is None:
        abort(404, description="No content item has this slug.")
    content_item = detail.item
    pager = Pager.from_request(count_item_sendings(session, content_item.id))
    return render_template(
        "content/item.html",
        item=content_item,
        # Safe because our sanitiser (nh3, commhub.library.markdown) produced it, never
        # because of where the text came from. Its headings go under the page's own.
        body_html=Markup(demote_headings(detail.body_html, 2)),  # noqa: S704
        sendings=item_sendings(session, content_item.id, pager.offset, pager.per_page),
        pager=pager,
        reach=item_report(session, content_item.id),
        waiting=waiting_version(session, content_item.id),
    )


def _one_of(value: T | None, allowed: list[T]) -> T | None:
    return value if value in allowed else None


def _member(kind: type[E], value: str | None) -> E | None:
    try:
        return kind(value) if value else None
    except ValueError:
        return None
