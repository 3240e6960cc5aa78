"""Video digests, first slice: a series with `channel: video_digest` reads and carries only
videos (its `kinds`, as a newsletter's, a series choice); a digest goes out through the
outbox with its own template; a contact whose roles have no new video gets none; a click in
it is a `video` exposure, tagged `utm_medium=video`."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.editions.selection import pick_content
from commhub.errors import SeriesError
from commhub.scheduling.series import read_series_file
from commhub.store import Channel, ContentKind, Exposure, MessageStatus, Series
from tests.builders import World

AUDIENCES = {"sales", "technical", "marketing", "development", "executive"}
DIGEST = """\
series:
  - slug: videos
    name: Partner Videos
    channel: video_digest
    audiences: [sales, technical]
    cadence: monthly on day 1 at 09:00
    timezone: Europe/London
    subject: "{{ series.name }}"
    from: "Team <team@vendor.example>"
"""


def read(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "series.yml"
    path.write_text(text, encoding="utf-8")
    return read_series_file(path, AUDIENCES, lambda name: name in ("newsletter", "video_digest"))


def test_a_digest_series_reads_and_kinds_are_a_series_choice(tmp_path: Path) -> None:
    [digest] = read(tmp_path, DIGEST)
    assert digest.channel is Channel.VIDEO_DIGEST
    assert digest.kinds is None  # the channel's own: videos
    [chosen] = read(tmp_path, DIGEST + "    kinds: [video, event]\n")
    assert chosen.kinds == (ContentKind.VIDEO, ContentKind.EVENT)
    with pytest.raises(SeriesError, match=r"series\[videos\]\.kinds: unknown kind 'podcast'"):
        read(tmp_path, DIGEST + "    kinds: [video, podcast]\n")


def _library(world: World) -> None:
    now = world.clock.now()
    title = "Deal registration in 10 minutes"
    world.item("webinar", ["sales"], kind=ContentKind.VIDEO, title=title,
               video_url="https://video.example/watch/1", url="https://video.example/watch/1",
               thumbnail_url="https://cdn.example/thumbs/1.jpg", duration_seconds=600,
               key_message="Register deals early", published=now - timedelta(days=1))  # fmt: skip
    world.item("price-list", ["sales"], title="New price list", url="https://vendor.example/p",
               published=now - timedelta(days=1))  # fmt: skip
    world.item("release-notes", ["technical"], title="Release notes", url="https://vendor.example/r",
               published=now - timedelta(days=1))  # fmt: skip


def _picked(world: World, slug: str) -> dict[str, list[str]]:
    with world.session() as session:
        series = session.scalar(select(Series).where(Series.slug == slug))
        assert series is not None
        plan = pick_content(session, series, world.clock.now())
    return {audience: [p.slug for p in picks] for audience, picks in plan.picks.items()}


def test_a_digest_carries_only_videos_and_a_newsletter_what_its_kinds_say(world: World) -> None:
    _library(world)
    world.series("videos", audiences=["sales", "technical"], channel=Channel.VIDEO_DIGEST)
    world.series("news", audiences=["sales", "technical"])
    world.series("articles", audiences=["sales"], kinds=["article"])
    assert _picked(world, "videos") == {"sales": ["webinar"]}
    assert sorted(_picked(world, "news")["sales"]) == ["price-list", "webinar"]
    assert _picked(world, "articles") == {"sales": ["price-list"]}


def test_a_digest_goes_out_with_its_own_template_and_counts_as_video(
    world: World, tmp_path: Path
) -> None:
    _library(world)
    world.series("videos", audiences=["sales", "technical"], channel=Channel.VIDEO_DIGEST)
    world.contact("sam@partner.example", ["sales"])
    world.contact("tess@partner.example", ["technical"])  # no video for technical
    outbox = tmp_path / "outbox"
    edition_id = world.prepare("videos").edition.id
    world.send(edition_id, OutboxBackend(outbox))
    written = list((outbox / str(edition_id)).glob("*.eml"))
    assert len(written) == 1, "only the contact with a video gets a digest"
    message = email.message_from_bytes(written[0].read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "sam@partner.example"
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert 'src="https://cdn.example/thumbs/1.jpg"' in html
    assert "Deal registration in 10 minutes" in html
    assert "New price list" not in html  # an article never appears in a digest
    target = world.click_first_link(edition_id, "sam@partner.example")
    assert "utm_medium=video" in target
    with world.session() as session:
        formats = {e.format for e in session.scalars(select(Exposure))}
    assert formats == {"video"}


def test_a_contact_who_opted_out_of_the_digest_gets_none(world: World, tmp_path: Path) -> None:
    _library(world)
    world.series("videos", audiences=["sales"], channel=Channel.VIDEO_DIGEST)
    world.contact("sam@partner.example", ["sales"])
    world.contact("opted@partner.example", ["sales"], opted_out_channels=["video_digest"])
    outbox = tmp_path / "outbox"
    edition_id = world.prepare("videos").edition.id
    world.send(edition_id, OutboxBackend(outbox))
    messages = world.messages(edition_id)
    assert messages["opted@partner.example"].status is MessageStatus.SKIPPED
    assert messages["opted@partner.example"].skip_reason == "opted_out"
    assert messages["sam@partner.example"].status is MessageStatus.SENT
    assert len(list((outbox / str(edition_id)).glob("*.eml"))) == 1
