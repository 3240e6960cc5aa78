"""editions send, list, show, preview, test, approve, cancel, pause, release, resume,
resend-unknown.

Commands that send return when every message has reached a final state, and exit 0; an
edition left paused or held exits 3, so that a script knows a person has to act.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session

from commhub.addresses import InvalidAddress, normalise_address
from commhub.cli.context import AppContext, pass_app
from commhub.cli.next_steps import with_next_steps
from commhub.cli.posts import post_edition, show_post_previews, show_posts
from commhub.cli.progress import progress_bar
from commhub.contacts import find_user
from commhub.delivery import EditionSender, Outcome, SendReport, send_test
from commhub.editions import (
    EditionDetail,
    Preparation,
    Preview,
    approve_edition,
    cancel_edition,
    describe_state,
    edition_detail,
    editions_to_resume,
    ensure_prepared,
    get_edition,
    list_editions,
    list_posts,
    new_owner,
    next_steps,
    pause_edition,
    prepare_resend_unknown,
    preview_edition,
    reject_edition,
    status_counts,
)
from commhub.errors import EditionUnderWay
from commhub.scheduling import get_series, local_waves, release_now, start_now
from commhub.store import Channel, EditionState, MessageStatus, Series

EXIT_NEEDS_A_PERSON = 3
PENDING = (MessageStatus.QUEUED, MessageStatus.SENDING)


@click.group()
def editions() -> None:
    """Editions: one dated run of a series, sent exactly once to each contact."""


@editions.command("send")
@click.argument("series_slug", metavar="SERIES")
@click.option("--now", "now_flag", is_flag=True, help="Send now (required until scheduling).")
@click.option("--again", is_flag=True, help="Send even if an edition went out in the last 12 h.")
@pass_app
def send_command(app: AppContext, series_slug: str, now_flag: bool, again: bool) -> None:
    """Prepare SERIES's next edition and send it now."""
    if not now_flag:
        raise click.UsageError("say --now to send now; planned editions go out on their dates")
    now = app.runtime.clock.now()
    owner = new_owner()
    try:
        with app.session() as session:
            preparation = start_now(
                session, series_slug, now, app.renderer, app.settings, owner, again
            )
            edition = preparation.edition
            edition_id, state = edition.id, edition.state
            held = with_next_steps(
                f"edition {edition_id} is {describe_state(edition)}", next_steps(edition)
            )
    except EditionUnderWay as exc:
        click.echo(f"commhub: {with_next_steps(str(exc), exc.next_steps)}", err=True)
        sys.exit(EXIT_NEEDS_A_PERSON)
    _describe_preparation(preparation)
    if state is EditionState.EMPTY:
        click.echo(f"edition {edition_id}: {preparation.edition.state_reason}: nothing sent")
        return
    if state is EditionState.HELD:
        click.echo(held, err=True)
        sys.exit(EXIT_NEEDS_A_PERSON)
    _send(app, edition_id, owner)


def _describe_preparation(preparation: Preparation) -> None:
    edition = preparation.edition
    if edition.series.channel is Channel.SOCIAL:
        accounts = ", ".join(f"{n} to {name}" for name, n in sorted(preparation.posts.items()))
        click.echo(
            f"edition {edition.id} of {edition.series.slug}: "
            f"{sum(preparation.posts.values())} posts ({accounts or 'none'})"
        )
        return
    counts = preparation.counts
    role_sets = len(preparation.role_sets)
    click.echo(
        f"edition {edition.id} of {edition.series.slug}: {counts[MessageStatus.QUEUED]} to send, "
        f"{counts[MessageStatus.SKIPPED]} skipped, {role_sets} role set{'s' * (role_sets != 1)}"
    )
    if preparation.role_sets:
        for role_set, contacts in sorted(preparation.nothing_new.items()):
            click.echo(f"  nothing new for {role_set}: {contacts} contacts get no email")
        for role_set, contacts in sorted(preparation.seen_enough.items()):
            click.echo(
                f"  seen enough for {role_set}: {contacts} contacts get no email (they saw "
                "each of its key messages seven times across three formats)"
            )
        for role_set, contacts in sorted(preparation.left_out.items()):
            click.echo(
                f"  rule of seven for {role_set}: {contacts} contacts get an email without "
                "the items whose key message they saw seven times across three formats"
            )
    for role_set, size in sorted(preparation.too_long.items()):
        click.echo(
            f"  warning: the email for {role_set} has {size // 1000} KB of HTML; Gmail clips "
            "past 102 KB, hiding the footer: lower max_items",
            err=True,
        )


def _send(app: AppContext, edition_id: int, owner: str | None = None) -> None:
    """Send an edition in state `sending` to the end, with a progress bar, under owner's
    lease when the command took one with the state change."""
    with app.session() as session:
        edition = ensure_prepared(
            session, edition_id, app.runtime.clock.now(), app.renderer, app.settings, local_waves
        )
        if edition.state is not EditionState.SENDING:
            state = f"edition {edition_id} is {describe_state(edition)}"
            click.echo(with_next_steps(state, next_steps(edition)))
            sys.exit(EXIT_NEEDS_A_PERSON)
        social = edition.series.channel is Channel.SOCIAL
        counts = status_counts(session, edition_id)
    if social:
        post_edition(app, edition_id, owner)
        return
    pending = sum(counts[s] for s in PENDING)
    with progress_bar(pending, f"Sending edition {edition_id}") as advance:
        sender = EditionSender(
            app.runtime.sessions, app.backend, app.settings, app.runtime.clock,
            progress=advance, notice=lambda text: click.echo(f"\n  {text}", err=True),
            owner=owner,
        )  # fmt: skip
        report = sender.send(edition_id)
    _report(report)
    if report.state is not EditionState.SENT:
        sys.exit(EXIT_NEEDS_A_PERSON)


def _report(report: SendReport) -> None:
    counts = report.counts
    parts = ", ".join(f"{counts[s]} {s.value}" for s in MessageStatus if counts[s])
    click.echo(f"edition {report.edition_id}: {report.state.value} ({parts or 'no messages'})")
    if report.in_doubt:
        click.echo(f"  {report.in_doubt} messages were in doubt from an earlier run (unknown)")
    if counts[MessageStatus.UNKNOWN]:
        click.echo(
            f"  {counts[MessageStatus.UNKNOWN]} unknown: see `commhub editions show "
            f"{report.edition_id}`; resend with "
            f"`commhub editions resend-unknown {report.edition_id}`"
        )
    if report.reason:
        click.echo(f"  paused: {report.reason}", err=True)
        click.echo(f"  go on with `commhub editions release {report.edition_id}`", err=True)


@editions.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@pass_app
def list_command(app: AppContext, output: str, limit: int) -> None:
    """List the newest editions with their message counts."""
    with app.session() as session:
        found = list_editions(session, limit)
    if output == "json":
        rows = [
            {
                "id": e.id,
                "series": e.series,
                "channel": e.channel.value,
                "planned_at": e.planned_at.isoformat(),
                "state": e.state.value,
                "state_reason": e.state_reason,
                "recipients": e.recipients,
                "messages": {s.value: e.counts[s] for s in MessageStatus},
            }
            for e in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not found:
        click.echo("No editions yet: `commhub editions send SERIES --now`.", err=True)
        return
    click.echo(f"{'id':>5}  {'planned (UTC)':<16}  {'series':<26} {'state':<9} messages")
    for e in found:
        c = e.counts
        if e.channel is Channel.SOCIAL:
            click.echo(
                f"{e.id:>5}  {e.planned_at:%Y-%m-%d %H:%M}  {e.series:<26} {e.state.value:<9} "
                f"{e.recipients:>7} posts"
            )
            continue
        click.echo(
            f"{e.id:>5}  {e.planned_at:%Y-%m-%d %H:%M}  {e.series:<26} {e.state.value:<9} "
            f"{e.recipients:>7} recipients  {c[MessageStatus.SENT]} sent  "
            f"{c[MessageStatus.FAILED]} failed  {c[MessageStatus.UNKNOWN]} unknown  "
            f"{c[MessageStatus.SKIPPED]} skipped  "
            f"{c[MessageStatus.QUEUED] + c[MessageStatus.SENDING]} pending"
        )


@editions.command("show")
@click.argument("edition_id", type=int, metavar="ID")
@pass_app
def show_command(app: AppContext, edition_id: int) -> None:
    """Counts by state and role set, skip reasons, alerts and messages in doubt."""
    with app.session() as session:
        detail = edition_detail(session, edition_id)
        posts = list_posts(session, edition_id=edition_id)
    s = detail.summary
    click.echo(f"edition {s.id} of {s.series}, planned {s.planned_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"channel: {s.channel.value}")
    click.echo(f"state: {s.state.value}" + (f" ({s.state_reason})" if s.state_reason else ""))
    if detail.approved_at is not None:
        click.echo(f"approved: {detail.approved_at:%Y-%m-%d %H:%M} UTC by {detail.approved_by}")
    if s.channel is Channel.SOCIAL:
        show_posts(posts)
        _show_alerts(detail)
        return
    click.echo(f"recipients: {s.recipients}; compiled role sets: {detail.renders}")
    for status in MessageStatus:
        if s.counts[status]:
            click.echo(f"  {status.value:<8} {s.counts[status]:>7}")
    if detail.skip_reasons:
        reasons = ", ".join(f"{r} {n}" for r, n in detail.skip_reasons.most_common())
        click.echo(f"skipped because: {reasons}")
    click.echo("by role set:")
    for role_set, counts in sorted(detail.by_role_set.items()):
        parts = ", ".join(f"{counts[st]} {st.value}" for st in MessageStatus if counts[st])
        click.echo(f"  {role_set:<40} {parts}")
    for role_set, contacts in sorted(detail.notes.get("nothing_new", {}).items()):
        click.echo(f"  {role_set:<40} nothing new: {contacts} contacts got no email")
    for role_set, contacts in sorted(detail.notes.get("seen_enough", {}).items()):
        click.echo(
            f"  {role_set:<40} seen enough (rule of seven): {contacts} contacts got no email"
        )
    for role_set, contacts in sorted(detail.notes.get("left_out", {}).items()):
        click.echo(
            f"  {role_set:<40} rule of seven: {contacts} contacts got it without items seen enough"
        )
    for label, rows in (("in doubt (unknown)", detail.unknown), ("failed", detail.failed)):
        if rows:
            click.echo(f"{label}: {len(rows)}")
            for message_id, email, error in rows[:20]:
                click.echo(f"  message {message_id}  {email}  {error or ''}")
            if len(rows) > 20:
                click.echo(f"  ... and {len(rows) - 20} more")
    _show_alerts(detail)


def _show_alerts(detail: EditionDetail) -> None:
    for shown in detail.alerts:
        alert = shown.alert
        if alert.resolved_at:
            click.echo(f"alert (resolved): {alert.subject}: {alert.message}")
        else:
            text = f"alert (open): {alert.subject}: {alert.message}"
            click.echo(with_next_steps(text, shown.next_steps))


@editions.command("preview")
@click.argument("series_slug", metavar="SERIES")
@click.option("--role-set", help="Audience slugs, comma-separated (default: all of the series').")
@click.option("--out", "out", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "output", type=click.Choice(["html", "text"]), default="html")
@pass_app
def preview_command(
    app: AppContext, series_slug: str, role_set: str | None, out: str, output: str
) -> None:
    """Write the next edition as ROLE_SET would get it (the held one, if one awaits approval);
    for a social series, the posts it would make."""
    with app.session() as session:
        if get_series(session, series_slug).channel is Channel.SOCIAL:
            show_post_previews(app, session, series_slug)
            return
        _series, preview = _preview(app, session, series_slug, role_set)
    body = preview.html if output == "html" else preview.text
    if out == "-":
        click.echo(body)
    else:
        Path(out).write_text(body, encoding="utf-8")
    click.echo(f"subject: {preview.subject}", err=True)
    click.echo(
        f"{preview.source}, role set {preview.role_set.key}"
        + (f": wrote {out}" if out != "-" else ""),
        err=True,
    )


@editions.command("test")
@click.argument("series_slug", metavar="SERIES")
@click.option("--to", "address", required=True, help="The address to send the test to.")
@click.option("--role-set", help="Audience slugs, comma-separated (default: all of the series').")
@pass_app
def test_command(app: AppContext, series_slug: str, address: str, role_set: str | None) -> None:
    """Send the preview to one address through the configured back end."""
    try:
        address = normalise_address(address)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    with app.session() as session:
        series, preview = _preview(app, session, series_slug, role_set)
        result = send_test(preview, series, address, app.backend, app.settings)
    which = f"{preview.source}, role set {preview.role_set.key}"
    if result.outcome is not Outcome.SENT:
        click.echo(f"test of {series_slug} to {address} not sent: {result.detail}", err=True)
        sys.exit(1)
    where = f" ({result.provider_message_id})" if result.provider_message_id else ""
    click.echo(f"test of {series_slug} ({which}) sent to {address} via {app.backend.name}{where}")


def _preview(
    app: AppContext, session: Session, series_slug: str, role_set: str | None
) -> tuple[Series, Preview]:
    series = get_series(session, series_slug)
    if series.channel is Channel.SOCIAL:
        raise click.ClickException(
            f"{series_slug} is a social series: it posts and sends no email; "
            f"`commhub editions preview {series_slug}` shows its posts"
        )
    wanted = [p.strip().lower() for p in role_set.split(",") if p.strip()] if role_set else None
    now = app.runtime.clock.now()
    return series, preview_edition(session, series, wanted, now, app.renderer, app.settings)


@editions.command("approve")
@click.argument("edition_id", type=int, metavar="ID")
@click.option("--by", "approver", help="The approving staff user's email.")
@click.option("--no-send", is_flag=True, help="Approve only; send later with `resume`.")
@pass_app
def approve_command(app: AppContext, edition_id: int, approver: str | None, no_send: bool) -> None:
    """Approve a held edition; a due one is sent at once."""
    with app.session() as session:
        user = find_user(session, approver) if approver else None
        if approver and user is None:
            raise click.BadParameter(f"no staff user {approver}", param_hint="--by")
        owner = None if no_send else new_owner()
        edition = approve_edition(session, edition_id, app.runtime.clock.now(), user, owner)
        state = edition.state
    click.echo(f"edition {edition_id} approved")
    if state is EditionState.PLANNED:
        click.echo(f"it goes out on its date, {edition.planned_at:%Y-%m-%d %H:%M} UTC, unheld")
    elif state is EditionState.SENDING and no_send:
        click.echo(
            "a running scheduler sends it within a minute; without one, "
            f"`commhub editions resume {edition_id}`"
        )
    elif state is EditionState.SENDING:
        _send(app, edition_id, owner)


@editions.command("reject")
@click.argument("edition_id", type=int, metavar="ID")
@click.option("--comment", required=True, help="What needs to change (kept with the edition).")
@pass_app
def reject_command(app: AppContext, edition_id: int, comment: str) -> None:
    """Send an edition awaiting approval back: it stays held, and nothing goes out, until
    it is approved after all or cancelled."""
    with app.session() as session:
        reject_edition(session, edition_id, app.runtime.clock.now(), comment)
    click.echo(f"edition {edition_id} sent back; it stays held: approve or cancel it")


@editions.command("cancel")
@click.argument("edition_id", type=int, metavar="ID")
@pass_app
def cancel_command(app: AppContext, edition_id: int) -> None:
    """Cancel an edition not yet finished (held, paused, sending): nothing more goes out."""
    with app.session() as session:
        skipped = cancel_edition(session, edition_id, app.runtime.clock.now())
    click.echo(f"edition {edition_id} cancelled; {skipped} unsent messages skipped")


@editions.command("pause")
@click.argument("edition_id", type=int, metavar="ID")
@pass_app
def pause_command(app: AppContext, edition_id: int) -> None:
    """Pause an edition: a planned one is not sent on its date, one under way stops after
    the batch in flight. `release` goes on."""
    with app.session() as session:
        edition = pause_edition(session, edition_id, app.runtime.clock.now())
        started = edition.started_at is not None
    what = "stops after the batch in flight" if started else "will not go out until released"
    click.echo(f"edition {edition_id} paused: it {what} (`commhub editions release {edition_id}`)")


@editions.command("release")
@click.argument("edition_id", type=int, metavar="ID")
@pass_app
def release_command(app: AppContext, edition_id: int) -> None:
    """Let a paused or held edition go on, and send it (one paused before its date is
    planned again)."""
    now = app.runtime.clock.now()
    owner = new_owner()
    with app.session() as session:
        edition = release_now(session, edition_id, now, owner)
        state, due_at = edition.state, edition.due_at
    if state is EditionState.PLANNED:
        click.echo(f"edition {edition_id} released: planned again for {due_at:%Y-%m-%d %H:%M} UTC")
        return
    click.echo(f"edition {edition_id} released")
    _send(app, edition_id, owner)


@editions.command("resume")
@click.argument("edition_id", type=int, required=False, metavar="ID")
@click.option("--all", "resume_all", is_flag=True, help="Every edition left sending.")
@pass_app
def resume_command(app: AppContext, edition_id: int | None, resume_all: bool) -> None:
    """Finish sending an edition whose sender stopped (a crash, a kill, a reboot)."""
    if (edition_id is None) == (not resume_all):
        raise click.UsageError("give an edition ID or --all")
    with app.session() as session:
        if resume_all:
            ids = editions_to_resume(session)
        else:
            edition = get_edition(session, edition_id)  # type: ignore[arg-type]
            if edition.state is not EditionState.SENDING:
                state = f"edition {edition.id} is {describe_state(edition)}"
                click.echo(with_next_steps(state, next_steps(edition)))
                return
            ids = [edition.id]
    if not ids:
        click.echo("no edition to resume")
    for found in ids:
        _send(app, found)


@editions.command("resend-unknown")
@click.argument("edition_id", type=int, metavar="ID")
@pass_app
def resend_unknown_command(app: AppContext, edition_id: int) -> None:
    """Send the edition's in-doubt messages again (some contacts may get it twice)."""
    with app.session() as session:
        owner = new_owner()
        count = prepare_resend_unknown(session, edition_id, app.runtime.clock.now(), owner)
    click.echo(f"edition {edition_id}: resending {count} messages in doubt", err=True)
    _send(app, edition_id, owner)
