"""Public audience feeds: `/feeds/<audience>.rss|.atom` and the page that lists them, `/feeds`.

No sign-in, nothing per person: anyone may follow what is published for an audience. Feed
readers poll, so each feed answers a conditional request with a 304 before building anything;
and a feed built once is kept, by its ETag, for the next reader who has not seen it (the ETag
changes whenever its items do, so a kept feed is never stale).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from werkzeug.http import is_resource_modified

from commhub.feeds import ALL_AUDIENCES, feed_audience, feed_version
from commhub.feeds import audience_feed as feed_document
from commhub.library import list_audiences
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("public_feeds", __name__)
MIMETYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
# Readers poll every few minutes; a shared cache may answer for us that long.
CACHE_CONTROL = "public, max-age=300"
UNKNOWN = "There is no feed for that audience. The list of feeds is at /feeds."
KEPT = 64  # feeds kept built, per process: every audience in both kinds, and then some


class _BuiltFeeds:
    """The last feeds built, by (audience, kind, ETag), the least recently used dropped."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._feeds: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self._lock:
            body = self._feeds.get(key)
            if body is not None:
                self._feeds.move_to_end(key)
            return body

    def put(self, key: tuple[str, str, str], body: bytes) -> None:
        with self._lock:
            self._feeds[key] = body
            self._feeds.move_to_end(key)
            while len(self._feeds) > self._size:
                self._feeds.popitem(last=False)


def _built() -> _BuiltFeeds:
    """This app's kept feeds (one app, one database: an ETag names one feed)."""
    kept: _BuiltFeeds = current_app.extensions.setdefault("commhub.built_feeds", _BuiltFeeds(KEPT))
    return kept


@blueprint.get("/feeds")
def index() -> str:
    return render_template(
        "public/feeds.html",
        audiences=list_audiences(db_session()),
        all_slug=ALL_AUDIENCES,
        org=runtime().settings.org_name,
    )


@blueprint.get("/feeds/<audience>.<any(rss, atom):kind>")
def audience_feed(audience: str, kind: str) -> Response:
    session = db_session()
    rt = runtime()
    now = rt.clock.now()
    wanted = None if audience == ALL_AUDIENCES else audience
    if wanted is not None and feed_audience(session, wanted) is None:
        abort(404, description=UNKNOWN)
    etag, last_modified = feed_version(session, None if wanted is None else [wanted], now)
    if not is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        response = Response(status=304)
    else:
        key = (audience, kind, etag)
        body = _built().get(key)
        if body is None:
            built = feed_document(
                session, wanted, rt.settings, now, "rss" if kind == "rss" else "atom"
            )
            if built is None:  # the audience went between the two queries
                abort(404, description=UNKNOWN)
            body = built
            _built().put(key, body)
        response = Response(body, mimetype=MIMETYPES[kind])
    return _with_validators(response, etag, last_modified)


def _with_validators(response: Response, etag: str, last_modified: datetime | None) -> Response:
    # Weak: the same items may come out with another build date (an empty feed's is now).
    response.set_etag(etag, weak=True)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
