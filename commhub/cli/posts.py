"""posts list and settle; and posting a social edition's posts for `editions send`.

A post in doubt (the network may have published it without answering) waits for a person:
`posts settle ID --posted [--url URL]` when it is live, `--again` when it is not.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import click
from sqlalchemy.orm import Session

from commhub.cli.context import AppContext, os_user, pass_app
from commhub.delivery import PostReport, PostSender
from commhub.editions import PostRow, list_posts, settle_post, social_preview
from commhub.render import SocialComposer
from commhub.scheduling import get_series
from commhub.store import PostState
from commhub.wiring import build_poster_for

EXIT_NEEDS_A_PERSON = 3


def post_edition(app: AppContext, edition_id: int, owner: str | None) -> None:
    """Post a social edition's planned posts to the end (exit 3 if some need a person)."""
    sender = PostSender(
        app.sessions, build_poster_for(app.settings), app.runtime.clock, owner=owner
    )
    report = sender.send(edition_id)
    _report(report)
    if report.counts[PostState.FAILED] or report.counts[PostState.UNKNOWN]:
        sys.exit(EXIT_NEEDS_A_PERSON)


def _report(report: PostReport) -> None:
    counts = report.counts
    parts = ", ".join(f"{counts[s]} {s.value}" for s in PostState if counts[s])
    click.echo(f"edition {report.edition_id}: {report.state.value} ({parts or 'no posts'})")
    if counts[PostState.UNKNOWN]:
        click.echo(
            f"  {counts[PostState.UNKNOWN]} in doubt: check the account, then "
            "`commhub posts settle ID --posted` or `--again` (IDs: `commhub posts list`)",
            err=True,
        )
    if counts[PostState.FAILED]:
        click.echo(
            f"  {counts[PostState.FAILED]} failed: see why with `commhub posts list`", err=True
        )


def show_posts(rows: list[PostRow]) -> None:
    """An edition's posts for `editions show`: counts by state, then each post."""
    counts = Counter(row.state for row in rows)
    parts = ", ".join(f"{counts[s]} {s.value}" for s in PostState if counts[s])
    click.echo(f"posts: {parts or 'none'}")
    for row in reversed(rows):
        click.echo("  " + _line(row))


def show_post_previews(app: AppContext, session: Session, series_slug: str) -> None:
    """The posts a social series' next edition would make (the held one's, word for word),
    each with its account, audiences and length; nothing is posted or tracked."""
    series = get_series(session, series_slug)
    composer = SocialComposer(app.renderer.templates_dir)
    preview = social_preview(session, series, app.runtime.clock.now(), composer, app.settings)
    if preview.awaiting_approval is not None:
        click.echo(f"edition {preview.awaiting_approval}, awaiting approval:", err=True)
    if not preview.posts:
        click.echo(f"nothing new to post: no item for {series_slug}'s accounts", err=True)
    for post in preview.posts:
        audiences = ", ".join(post.audiences)
        click.echo(f"--- {post.account} ({post.network.value}) for {audiences}: {post.item}")
        click.echo(post.text)
        cut = ", shortened to fit" if post.shortened else ""
        click.echo(f"({post.length} of {post.limit}{cut})")


@click.group()
def posts() -> None:
    """Social posts: one item on one account, posted exactly once."""


@posts.command("list")
@click.option("--series", "series_slug", help="Only this series' posts.")
@click.option("--edition", "edition_id", type=int, help="Only this edition's posts.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000))
@pass_app
def list_command(
    app: AppContext, series_slug: str | None, edition_id: int | None, output: str, limit: int
) -> None:
    """Every post, newest first: its state, why it failed, where it is live, its clicks."""
    with app.session() as session:
        found = list_posts(session, series_slug, edition_id, limit)
    if output == "json":
        click.echo(json.dumps([row.as_json() for row in found], indent=2))
        return
    if not found:
        click.echo("No posts yet: a social series posts on its dates.", err=True)
        return
    click.echo(f"{'id':>5}  {'edition':>7}  {'account':<20} {'item':<30} {'state':<8} clicks")
    for row in found:
        click.echo(_line(row))


def _line(row: PostRow) -> str:
    where = row.url or row.reason or ""
    return (
        f"{row.id:>5}  {row.edition_id:>7}  {row.account[:20]:<20} {row.item[:30]:<30} "
        f"{row.state.value:<8} {row.clicks:>6}  {where}"
    )


@posts.command("settle")
@click.argument("post_id", type=int, metavar="ID")
@click.option("--posted", "posted", flag_value=True, default=None, help="It is live.")
@click.option("--again", "posted", flag_value=False, help="It is not: post it again.")
@click.option("--url", help="Where it is live (with --posted).")
@click.option("--by", default=None, help="Who says so (default: the operating system user).")
@pass_app
def settle_command(
    app: AppContext, post_id: int, posted: bool | None, url: str | None, by: str | None
) -> None:
    """Settle a post in doubt or failed: --posted (it is live) or --again (post it again,
    at the scheduler's next sweep)."""
    if posted is None:
        raise click.UsageError("say --posted (it is live) or --again (post it again)")
    who = by or os_user()
    with app.session() as session:
        try:
            post = settle_post(session, post_id, posted, who, app.runtime.clock.now(), url)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        state = post.state.value
    click.echo(f"post {post_id}: {state}" + ("" if posted else " (posted at the next sweep)"))
