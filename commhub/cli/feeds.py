"""feeds add, list, remove, fetch: upstream RSS, Atom and YouTube feeds whose entries become
library items (drafts, or published when the source says so)."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from commhub.cli.context import AppContext, pass_app
from commhub.feeds import (
    NewSource,
    SourceFetcher,
    add_source,
    list_sources,
    personal_feed_of,
    personal_feed_path,
    remove_source,
    revoke_personal_feed,
)
from commhub.render import personal_feed_tokens
from commhub.store import FeedSource, PersonalFeed, session_scope
from commhub.wiring import build_fetch_policy


@click.group("feeds")
def feeds() -> None:
    """Follow upstream feeds (RSS, Atom, YouTube) into the library."""


@feeds.command("add")
@click.argument("url")
@click.option(
    "--audiences", required=True, help="The audiences its items are for, comma-separated."
)
@click.option("--kind", help="Every entry's kind (article, video, ...). Default: each entry's own.")
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="'keyword=WORD -> AUDIENCE'",
    help="Also send an entry to AUDIENCE when WORD is in its title, summary or tags. Repeatable.",
)
@click.option(
    "--publish", is_flag=True, help="Publish new entries at once (default: they arrive as drafts)."
)
@click.option("--every", default="1h", show_default=True, help="How often: 30m, 1h, 1d...")
@click.option(
    "--no-audience-keywords",
    is_flag=True,
    help="Do not use the audiences' own keywords (audiences/*.yml) as rules.",
)
@pass_app
def add_command(
    app: AppContext,
    url: str,
    audiences: str,
    kind: str | None,
    rules: tuple[str, ...],
    publish: bool,
    every: str,
    no_audience_keywords: bool,
) -> None:
    """Follow the feed at URL (checked, not fetched: `feeds fetch` or the scheduler does)."""
    wanted = NewSource(
        url=url,
        audiences=audiences.split(","),
        rules=rules,
        kind=kind,
        publish=publish,
        every=every,
        use_audience_keywords=not no_audience_keywords,
    )
    with app.session() as session:
        now = app.runtime.clock.now()
        source = add_source(session, wanted, now, app.settings.feeds_allow_private)
        source_id = source.id
    click.echo(f"feed source {source_id} added: {url} (first fetch: now, then every {every})")


@feeds.command("list")
@pass_app
def list_command(app: AppContext) -> None:
    """Each feed source: URL, audiences, rules, last fetch, last error, next try."""
    with app.session() as session:
        sources = list_sources(session)
        if not sources:
            click.echo(
                "No feed sources yet: `commhub feeds add URL --audiences technical`.", err=True
            )
            return
        for source in sources:
            click.echo(_describe(source))


@feeds.command("remove")
@click.argument("source_id", type=int, metavar="ID")
@pass_app
def remove_command(app: AppContext, source_id: int) -> None:
    """Stop following a feed source; the items it brought stay in the library."""
    with app.session() as session:
        source = remove_source(session, source_id, app.runtime.clock.now())
        url = source.url
    click.echo(f"feed source {source_id} removed: {url} (its items stay in the library)")


@feeds.command("fetch")
@click.argument("source_id", type=int, metavar="[ID]", required=False)
@click.option("--all", "every_source", is_flag=True, help="Every feed source, due or not.")
@pass_app
def fetch_command(app: AppContext, source_id: int | None, every_source: bool) -> None:
    """Fetch one source (ID) or all of them now; one line per source. Exits 1 when any
    failed, after importing every good one."""
    if (source_id is None) == (not every_source):
        raise click.UsageError("name one source ID, or --all")
    sessions = app.sessions
    if every_source:
        with session_scope(sessions) as session:
            ids = [source.id for source in list_sources(session)]
    else:
        ids = [source_id] if source_id is not None else []
    if not ids:
        click.echo("No feed sources to fetch.", err=True)
        return
    fetcher = SourceFetcher(sessions, app.runtime.clock, build_fetch_policy(app.settings))
    try:
        outcomes = fetcher.fetch_many(ids, lambda outcome: click.echo(outcome.line()))
    finally:
        fetcher.close()
    failed = sum(outcome.failed or outcome.state == "busy" for outcome in outcomes)
    if failed:
        click.echo(f"commhub: {failed} of {len(outcomes)} sources failed", err=True)
        sys.exit(1)


def _describe(source: FeedSource) -> str:
    lines = [f"{source.id:>4}  {source.url}" + (f"  ({source.title})" if source.title else "")]
    lines.append(f"      audiences: {', '.join(source.audiences)}")
    extras = [f"every {_interval(source.interval_seconds)}"]
    extras.append("published at once" if source.publish else "drafts")
    if source.kind is not None:
        extras.append(f"kind {source.kind.value}")
    if not source.use_audience_keywords:
        extras.append("no audience keywords")
    lines.append("      " + ", ".join(extras))
    for rule in source.rules:
        lines.append(f"      rule: {rule}")
    lines.append(f"      last fetch: {_when(source.last_success_at)}; next try: "
                 f"{_when(source.next_fetch_at)}")  # fmt: skip
    if source.last_error:
        lines.append(f"      last error ({source.failures} in a row): {source.last_error}")
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _interval(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@feeds.command("personal")
@click.argument("email")
@pass_app
def personal_command(app: AppContext, email: str) -> None:
    """Print a contact's personal feed URL (made on first use)."""
    with app.session() as session:
        url = _personal_url(app, personal_feed_of(session, email, app.runtime.clock.now()))
    click.echo(url)


@feeds.command("revoke-personal")
@click.argument("email")
@pass_app
def revoke_personal_command(app: AppContext, email: str) -> None:
    """Turn a contact's personal feed URL off for good, and print their new one."""
    with app.session() as session:
        url = _personal_url(app, revoke_personal_feed(session, email, app.runtime.clock.now()))
    click.echo("the old URL now answers 404; the new one:", err=True)
    click.echo(url)


def _personal_url(app: AppContext, feed: PersonalFeed) -> str:
    path = personal_feed_path(personal_feed_tokens(app.settings.secret_keys), feed)
    return app.settings.base_url.rstrip("/") + path
