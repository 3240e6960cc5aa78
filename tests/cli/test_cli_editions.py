"""series and editions from the command line, as a marketing operator runs them."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.cli.test_cli import Commhub
from tests.sendgrid_fake import FakeSendGrid

REPO = Path(__file__).parents[2]


@pytest.fixture
def ready(tmp_path: Path) -> Commhub:
    """An initialised data dir with the content library, demo contacts and the demo series."""
    commhub = Commhub(tmp_path / "var")
    commhub.env["COMMHUB_POSTAL_ADDRESS"] = "1 Harbour Street, Bristol"
    for args in (("init",), ("content", "import"), ("demo-data",)):
        result = commhub(*args)
        assert result.exit_code == 0, result.output
    applied = commhub("series", "apply", str(REPO / "series.yml"))
    assert applied.exit_code == 0, applied.output
    # The newsletter, the briefing, the video digest and the social series.
    assert "4 created" in applied.stdout
    return commhub


def outbox_messages(tmp_path: Path, edition_id: int) -> list[email.message.EmailMessage]:
    files = sorted((tmp_path / "var" / "outbox" / str(edition_id)).glob("*.eml"))
    return [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for f in files
    ]


def test_send_now_delivers_the_newsletter_to_the_outbox_and_lists_it(
    ready: Commhub, tmp_path: Path
) -> None:
    assert ready("editions", "send", "partner-newsletter").exit_code == 2

    sent = ready("editions", "send", "partner-newsletter", "--now")

    assert sent.exit_code == 0, sent.output
    assert "edition 1: sent" in sent.stdout
    [listed] = json.loads(ready("editions", "list", "--format", "json").stdout)
    assert listed["state"] == "sent"
    assert listed["messages"]["sent"] == listed["recipients"] >= 300
    messages = outbox_messages(tmp_path, 1)
    assert len(messages) == listed["recipients"]
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in messages)
    shown = ready("editions", "show", "1").stdout
    assert "by role set:" in shown
    assert "sales,technical" in shown


def test_the_demo_video_digest_sends_and_lists_with_its_channel(
    ready: Commhub, tmp_path: Path
) -> None:
    assert ready("editions", "send", "partner-newsletter", "--now").exit_code == 0
    sent = ready("editions", "send", "video-digest", "--now")
    assert sent.exit_code == 0, sent.output
    listed = json.loads(ready("editions", "list", "--format", "json").stdout)
    assert {e["series"]: e["channel"] for e in listed} == {
        "video-digest": "video_digest", "partner-newsletter": "newsletter",
    }  # fmt: skip
    [digest] = [e for e in listed if e["series"] == "video-digest"]
    assert "channel: video_digest" in ready("editions", "show", str(digest["id"])).stdout
    [message] = outbox_messages(tmp_path, digest["id"])[:1]
    assert message["Subject"].startswith("Partner Video Digest")


def test_the_demo_social_series_previews_its_posts_and_has_no_test_send(ready: Commhub) -> None:
    preview = ready("editions", "preview", "partner-social")
    assert preview.exit_code == 0, preview.output
    assert "--- northwind-dev (mastodon) for " in preview.stdout
    assert "/s/preview" in preview.stdout
    assert " of 500)" in preview.stdout
    refused = ready("editions", "test", "partner-social", "--to", "ann@vendor.example")
    assert refused.exit_code == 1
    assert "partner-social is a social series" in refused.output


def test_the_demo_social_series_posts_to_the_outbox_and_lists_its_posts(
    ready: Commhub, tmp_path: Path
) -> None:
    sent = ready("editions", "send", "partner-social", "--now")
    assert sent.exit_code == 0, sent.output
    assert "posts (" in sent.stdout
    posts = json.loads(
        ready("posts", "list", "--series", "partner-social", "--format", "json").stdout
    )
    assert posts
    assert {p["state"] for p in posts} == {"posted"}
    assert {p["network"] for p in posts} == {"mastodon", "linkedin", "webhook"}
    edition_id = posts[0]["edition_id"]
    files = list((tmp_path / "var" / "social-outbox" / str(edition_id)).glob("*.json"))
    assert len(files) == len(posts)
    assert all(p["text"] and "/s/" in p["text"] for p in posts)
    shown = ready("editions", "show", str(edition_id)).stdout
    assert "channel: social" in shown
    assert f"posts: {len(posts)} posted" in shown
    table = ready("posts", "list").stdout
    assert "northwind-dev" in table
    assert f"{len(posts):>7} posts" in ready("editions", "list").stdout
    # Only a post in doubt or failed may be settled.
    refused = ready("posts", "settle", str(posts[0]["id"]), "--again")
    assert refused.exit_code == 1
    assert "only unknown or failed posts" in refused.output


def test_an_edition_needing_approval_is_held_then_approved_and_sent(
    ready: Commhub, tmp_path: Path
) -> None:
    held = ready("editions", "send", "executive-briefing", "--now")
    assert held.exit_code == 3
    found = re.search(r"approve it with `commhub editions approve (\d+)`", held.stderr)
    assert found, held.stderr
    edition_id = found[1]
    assert "needs approval" in ready("alerts", "list").stdout
    assert outbox_messages(tmp_path, int(edition_id)) == []

    preview = ready("editions", "preview", "executive-briefing", "--out", str(tmp_path / "p.html"))
    assert preview.exit_code == 0, preview.output
    assert f"held edition {edition_id}, role set executive" in preview.stderr
    assert "Quarterly Executive Briefing" in (tmp_path / "p.html").read_text()

    approved = ready("editions", "approve", edition_id)
    assert approved.exit_code == 0, approved.output
    assert f"edition {edition_id}: sent" in approved.stdout
    assert len(outbox_messages(tmp_path, int(edition_id))) > 0
    assert "No open alerts" in ready("alerts", "list").stderr


def test_a_test_send_goes_to_one_address_marked_test(ready: Commhub, tmp_path: Path) -> None:
    result = ready("editions", "test", "partner-newsletter", "--to", "me@vendor.example",
                   "--role-set", "technical,development")  # fmt: skip
    assert result.exit_code == 0, result.output
    [message] = outbox_messages(tmp_path, 0)
    assert message["To"] == "me@vendor.example"
    assert str(message["Subject"]).startswith("[Test] Partner Newsletter")
    assert json.loads(ready("editions", "list", "--format", "json").stdout) == []


def test_preview_of_a_role_set_the_series_does_not_serve_is_refused(ready: Commhub) -> None:
    result = ready("editions", "preview", "executive-briefing", "--role-set", "sales")
    assert result.exit_code == 1
    assert "sales not served by executive-briefing" in result.stderr


def test_a_broken_series_file_changes_nothing(ready: Commhub, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (REPO / "series.yml").read_text()
    broken.write_text(
        text.replace("Europe/London", "Europe/Atlantis", 1).replace(
            "name: Partner", "name: Changed"
        )
    )
    result = ready("series", "apply", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:9:series[partner-newsletter].timezone:" in result.stderr
    assert "Changed" not in ready("series", "list").stdout


def test_a_second_send_soon_after_needs_again_and_a_held_one_exits_3(ready: Commhub) -> None:
    assert ready("editions", "send", "partner-newsletter", "--now").exit_code == 0
    refused = ready("editions", "send", "partner-newsletter", "--now")
    assert refused.exit_code == 1
    assert "went out 0 minutes ago" in refused.stderr
    assert "--again" in refused.stderr
    assert ready("editions", "send", "partner-newsletter", "--now", "--again").exit_code == 0

    assert ready("editions", "send", "executive-briefing", "--now").exit_code == 3
    under_way = ready("editions", "send", "executive-briefing", "--now")
    assert under_way.exit_code == 3
    assert "is held (awaiting approval): preview it with" in under_way.stderr
    assert re.search(r"; approve it with `commhub editions approve \d+`", under_way.stderr)


def test_with_nothing_new_a_preview_shows_the_last_edition_as_sent(
    ready: Commhub, tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "one.md").write_text("---\ntitle: Only item\naudiences: [executive]\n---\nBody\n")
    briefing = tmp_path / "briefing.yml"
    briefing.write_text(
        (REPO / "series.yml")
        .read_text()
        .split("  - slug: executive-briefing")[0]
        .replace("slug: partner-newsletter", "slug: solo")
        .replace("audiences: all", "audiences: [executive]")
        .replace("max_items: 4", "max_items: 50")
    )
    assert ready("content", "import", str(library)).exit_code == 0
    assert ready("series", "apply", str(briefing)).exit_code == 0
    assert ready("editions", "send", "solo", "--now").exit_code == 0

    preview = ready("editions", "preview", "solo", "--format", "text")

    assert preview.exit_code == 0, preview.output
    assert "as sent (nothing new since)" in preview.stderr
    assert "Only item" in preview.stdout


def test_resume_with_nothing_to_resume_says_so(ready: Commhub) -> None:
    result = ready("editions", "resume", "--all")
    assert result.exit_code == 0
    assert "no edition to resume" in result.stdout


def sendgrid_env(fake: FakeSendGrid) -> dict[str, str]:
    return {
        "COMMHUB_DELIVERY": "sendgrid",
        "SENDGRID_API_KEY": fake.api_key,
        "COMMHUB_SENDGRID_HOST": fake.url,
    }


def test_the_demo_newsletter_goes_through_sendgrid_in_few_requests(
    ready: Commhub, sendgrid_fake: FakeSendGrid
) -> None:
    sent = ready("editions", "send", "partner-newsletter", "--now", **sendgrid_env(sendgrid_fake))

    assert sent.exit_code == 0, sent.output
    [listed] = json.loads(ready("editions", "list", "--format", "json").stdout)
    assert (
        listed["messages"]["sent"] == listed["recipients"] == sum(sendgrid_fake.counts().values())
    )
    assert max(sendgrid_fake.counts().values()) == 1
    # One request per role set: the demo's contacts hold a handful of role combinations.
    requests = sendgrid_fake.requests()
    assert len({r["content"][1]["value"] for r in requests}) == len(requests)
    assert len(requests) < listed["recipients"] / 10


def test_a_test_send_through_sendgrid(ready: Commhub, sendgrid_fake: FakeSendGrid) -> None:
    result = ready("editions", "test", "partner-newsletter", "--to", "me@vendor.example",
                   **sendgrid_env(sendgrid_fake))  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "via sendgrid" in result.stdout
    [request] = sendgrid_fake.requests()
    assert request["subject"].startswith("[Test] Partner Newsletter")
    assert request["personalizations"][0]["to"] == [{"email": "me@vendor.example"}]


def test_a_refused_api_key_pauses_the_send_with_exit_3(
    ready: Commhub, sendgrid_fake: FakeSendGrid
) -> None:
    env = {**sendgrid_env(sendgrid_fake), "SENDGRID_API_KEY": "SG.revoked"}

    result = ready("editions", "send", "partner-newsletter", "--now", **env)

    assert result.exit_code == 3
    assert "the API key was refused (SENDGRID_API_KEY)" in result.stderr
    assert "commhub editions release 1" in ready("alerts", "list").stdout


NEWSLETTER_DATES = [  # the first Tuesday of each month, 09:00 in London
    "2026-12-01T09:00:00+00:00", "2027-01-05T09:00:00+00:00", "2027-02-02T09:00:00+00:00",
    "2027-03-02T09:00:00+00:00", "2027-04-06T09:00:00+01:00", "2027-05-04T09:00:00+01:00",
    "2027-06-01T09:00:00+01:00", "2027-07-06T09:00:00+01:00", "2027-08-03T09:00:00+01:00",
    "2027-09-07T09:00:00+01:00", "2027-10-05T09:00:00+01:00", "2027-11-02T09:00:00+00:00",
]  # fmt: skip
BRIEFING_DATES = [  # the first Monday of each quarter, 10:00 in London
    "2027-01-04T10:00:00+00:00", "2027-04-05T10:00:00+01:00", "2027-07-05T10:00:00+01:00",
    "2027-10-04T10:00:00+01:00",
]  # fmt: skip


def test_the_calendar_lists_the_demo_series_for_a_year_as_json_and_as_a_table(
    tmp_path: Path,
) -> None:
    commhub = Commhub(tmp_path / "cal")
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), tick=False):
        for args in (("init",), ("demo-data",), ("series", "apply", str(REPO / "series.yml"))):
            assert commhub(*args).exit_code == 0
        listed = commhub("calendar", "--months", "12", "--format", "json")
        table = commhub("calendar", "--months", "2").stdout
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)
    newsletters = [e for e in entries if e["series"] == "partner-newsletter"]
    briefings = [e for e in entries if e["series"] == "executive-briefing"]
    assert [e["planned_at"] for e in newsletters] == NEWSLETTER_DATES
    assert [e["planned_at"] for e in briefings] == BRIEFING_DATES
    for entry in entries:
        assert entry["timezone"] == "Europe/London"
        assert entry["state"] == "planned"
        assert entry["expected_recipients"] > 0
    assert newsletters[0]["audiences"] == ["all"]
    assert briefings[0]["audiences"] == ["executive"]
    # Gold and platinum partners' executives only.
    assert briefings[0]["expected_recipients"] < newsletters[0]["expected_recipients"]

    assert "December 2026" in table
    assert "Tue 01 Dec 09:00  Europe/London" in table
    assert "partner-newsletter" in table


def test_a_calendar_link_serves_ics_until_revoked(ready: Commhub) -> None:
    made = ready("calendar", "link", "Marketing team")
    assert made.exit_code == 0, made.output
    found = re.search(r"calendar feed (\d+) \(Marketing team\): (http\S+\.ics)", made.stdout)
    assert found, made.stdout
    assert "Marketing team" in ready("calendar", "links").stdout
    assert ready("calendar", "revoke", found[1]).exit_code == 0
    assert "revoked" in ready("calendar", "links").stdout
    again = ready("calendar", "revoke", found[1])
    assert again.exit_code == 1
    assert "was revoked at" in again.stderr
