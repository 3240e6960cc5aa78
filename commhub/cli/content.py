"""content import, content list, content export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from commhub.cli.context import AppContext, pass_app
from commhub.cli.progress import progress_bar
from commhub.library import count_content_files, export_item, import_library, list_content
from commhub.resources import content_dir
from commhub.store import ContentItem


@click.group()
def content() -> None:
    """The content library."""


@content.command("import")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@pass_app
def import_command(app: AppContext, directory: Path | None) -> None:
    """Import content/**/*.md (default: the project's content/ directory), all or nothing."""
    root = directory or content_dir()
    with app.session() as session, progress_bar(count_content_files(root), "Reading") as advance:
        report = import_library(session, root, advance)
    click.echo(f"content from {root}: {report.summary()}")


@content.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@pass_app
def list_command(app: AppContext, output: str) -> None:
    """List the library, newest first."""
    with app.session() as session:
        items = [_as_dict(item) for item in list_content(session)]
    if output == "json":
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    if not items:
        click.echo("The library is empty: run `commhub content import`.", err=True)
        return
    for item in items:
        date = str(item["publish_at"] or "-")[:10]
        audiences = ",".join(map(str, item["audiences"]))  # type: ignore[call-overload]
        click.echo(
            f"{date:<10}  {item['status']:<9}  {item['kind']:<12}  {item['slug']:<48}  {audiences}"
        )


@content.command("export")
@click.argument("slug")
@click.option(
    "--out",
    "out",
    default="-",
    show_default=True,
    help="The file to write (its folder must exist), or - for standard output.",
)
@pass_app
def export_command(app: AppContext, slug: str, out: str) -> None:
    """Write an item made in the web UI as a content file (front matter, then the body).

    Put the file under content/ and `content import` reads it back as the same item; the
    file then becomes its source (delete the UI item first: a slug has one source).
    """
    with app.session() as session:
        text = export_item(session, slug)
    if out == "-":
        click.echo(text, nl=False)
        return
    target = Path(out)
    if target.exists() and target.is_dir():
        raise click.BadParameter(f"{out} is a folder: name the file", param_hint="--out")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"{slug} written to {out}", err=True)


def _as_dict(item: ContentItem) -> dict[str, object]:
    return {
        "slug": item.slug,
        "title": item.title,
        "kind": item.kind.value,
        "audiences": [a.slug for a in item.audiences],
        "status": item.status.value,
        "publish_at": item.publish_at.isoformat() if item.publish_at else None,
        "expires_at": item.expires_at.isoformat() if item.expires_at else None,
        "priority": item.priority,
        "key_message": item.key_message.text if item.key_message else None,
        "summary": item.summary,
        "url": item.url,
        "video_url": item.video_url,
        "thumbnail": item.thumbnail_url,
        "duration": item.duration_seconds,
        "source": item.source.value,
        "source_ref": item.source_ref,
    }
