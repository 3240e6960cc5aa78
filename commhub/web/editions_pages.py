"""/editions, /editions/<id>: what went out and how it did."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.delivery import count_outbox, has_message
from commhub.editions import (
    PostRow,
    actions_for,
    count_started_editions,
    edition_detail,
    edition_times,
    engagement_of,
    get_edition,
    list_posts,
    post_counts,
    progress_note,
    started_editions,
)
from commhub.store import Channel, MessageStatus, PostState
from commhub.web.auth import staff_only
from commhub.web.outbox import outbox_dir
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("editions_pages", __name__)
staff_only(blueprint)

LISTED = 50  # failed and in-doubt messages shown on an edition's page
REFRESH_SECONDS = 3  # how often live.js fetches the page of an edition that is moving
POSTS_LISTED = 1000  # an edition's posts shown on its page (the newest, if it has more)
SHORT_POST = 280  # characters of a post shown whole in its row; a longer one folds away
# The posts a person settles: the network may have made them (unknown), or refused (failed).
SETTLED_BY_A_PERSON = (PostState.UNKNOWN, PostState.FAILED)


@blueprint.get("/editions")
def index() -> ResponseReturnValue:
    session = db_session()
    pager = Pager.from_request(count_started_editions(session))
    return render_template(
        "editions/index.html",
        editions=started_editions(session, pager.offset, pager.per_page),
        pager=pager,
    )


@blueprint.get("/editions/<row_id:edition_id>")
def detail(edition_id: int) -> ResponseReturnValue:
    session = db_session()
    times = edition_times(session, edition_id)
    found = edition_detail(session, edition_id)
    edition = get_edition(session, edition_id)
    outbox = outbox_dir()
    shown = [*found.failed[:LISTED], *found.unknown[:LISTED]]
    in_outbox = {mid for mid, _email, _error in shown if has_message(outbox, edition_id, mid)}
    social = times.channel is Channel.SOCIAL
    # In the order they were planned: account by account, as the edition posts them.
    found_posts = list_posts(session, edition_id=edition_id, limit=POSTS_LISTED) if social else []
    posts = sorted(found_posts, key=lambda row: row.id)
    return render_template(
        "editions/detail.html",
        detail=found,
        s=found.summary,
        times=times,
        alerts=found.alerts,
        engagement=engagement_of(session, [edition_id]).get(edition_id),
        actions=actions_for(edition),
        progress=progress_note(edition, runtime().clock.now()),
        refresh_seconds=REFRESH_SECONDS,
        statuses=list(MessageStatus),
        in_outbox=in_outbox,
        outbox_count=count_outbox(outbox, edition_id),
        listed=LISTED,
        social=social,
        posts=posts,
        post_counts=post_counts(session, edition_id) if social else Counter(),
        post_states=list(PostState),
        accounts=len({(row.network, row.account) for row in posts}),
        clicks=sum(row.clicks for row in posts),
        live=_live_urls(posts),
        settled_by_a_person=SETTLED_BY_A_PERSON,
        short_post=SHORT_POST,
    )


def _live_urls(posts: list[PostRow]) -> dict[int, str]:
    """Each post's URL that may be linked: only http(s), whatever a network or a person
    gave (a javascript: or data: URL is never made a link)."""
    return {row.id: row.url for row in posts if row.url and is_web_url(row.url)}


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host, and nothing in it a browser would read apart."""
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
