"""kill -9 in the middle of a send, then resume: every contact gets the edition at most once,
a newsletter's or a video digest's.

The sender is a real `commhub` process talking to a real SMTP server, or through the
official SendGrid library to a local fake of SendGrid's API; the receiving end counts what
it received, which is the only honest witness of what was sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from commhub.store.models import Channel, ContentKind, MessageStatus
from tests.builders import World
from tests.conftest import TEST_SECRET
from tests.sendgrid_fake import FakeSendGrid
from tests.smtp_sink import SmtpSink


@dataclass(frozen=True)
class Receiver:
    """Where the killed sender sends, and how much of a send makes a meaningful kill."""

    env: dict[str, str]
    counts: Callable[[], Counter[str]]
    contacts: int
    batch: int  # the most messages a crash can leave in doubt
    kill_after: int  # received messages before the kill
    # The receiver holds each batch long enough that the kill lands before its answer.
    kill_lands_in_flight: bool = False


@pytest.fixture(params=["smtp", "sendgrid"])
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    if request.param == "smtp":
        sink = SmtpSink.start()
        sink.slow_down(0.004)
        yield Receiver(
            {"COMMHUB_DELIVERY": "smtp", "COMMHUB_SMTP_URL": sink.url}, sink.counts,
            contacts=300, batch=50, kill_after=120,
        )  # fmt: skip
        sink.stop()
    else:
        fake = FakeSendGrid().start()
        fake.slow_down(1.0)  # each request is held a while: the kill lands before its answer
        yield Receiver(
            {
                "COMMHUB_DELIVERY": "sendgrid",
                "SENDGRID_API_KEY": fake.api_key,
                "COMMHUB_SENDGRID_HOST": fake.url,
            },
            fake.counts, contacts=3500, batch=1000, kill_after=1000, kill_lands_in_flight=True,
        )  # fmt: skip
        fake.stop()


def commhub(world: World, extra_env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """A `commhub` process on the world's database, with extra_env set."""
    settings = world.runtime.settings
    env = {
        **os.environ,
        "COMMHUB_DATA_DIR": str(settings.data_dir),
        "COMMHUB_DATABASE_URL": settings.database_url,
        "COMMHUB_SECRET_KEY": TEST_SECRET,
        "COMMHUB_POSTAL_ADDRESS": settings.postal_address,
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "commhub", *args], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize("channel", [Channel.NEWSLETTER, Channel.VIDEO_DIGEST])
def test_kill_9_mid_send_then_resume_sends_everyone_and_no_one_twice(
    world: World, receiver: Receiver, channel: Channel
) -> None:
    world.series(audiences=["sales"], channel=channel)
    # A video: what a digest carries, and a newsletter carries as well.
    world.item("price-update", ["sales"], kind=ContentKind.VIDEO,
               video_url="https://video.example/watch/1",
               thumbnail_url="https://cdn.example/thumbs/1.jpg")  # fmt: skip
    emails = world.many_contacts(receiver.contacts, ["sales"])

    sender = commhub(world, receiver.env, "editions", "send", "news", "--now")
    deadline = time.monotonic() + 60
    while sum(receiver.counts().values()) < receiver.kill_after:
        assert sender.poll() is None, sender.communicate()
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.01)
    os.kill(sender.pid, signal.SIGKILL)
    sender.communicate()  # reaps it and closes its pipes
    received_before = sum(receiver.counts().values())
    assert received_before < receiver.contacts, "killed too late to prove anything"

    resumed = commhub(world, receiver.env, "editions", "resume", "--all")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()

    received = receiver.counts()
    assert max(received.values()) == 1, "a contact got the edition twice"
    statuses = {email: m.status for email, m in world.messages(1).items()}
    by_status = Counter(statuses.values())
    assert sum(by_status.values()) == receiver.contacts
    assert set(by_status) <= {MessageStatus.SENT, MessageStatus.UNKNOWN}
    assert by_status[MessageStatus.UNKNOWN] <= receiver.batch
    if receiver.kill_lands_in_flight:
        assert by_status[MessageStatus.UNKNOWN] == receiver.batch, "the request left unanswered"
    sent = {email for email, status in statuses.items() if status is MessageStatus.SENT}
    assert all(received[email] == 1 for email in sent), "recorded sent but never received"
    # Whatever the receiver got and we could not confirm is in doubt, never silently resent.
    assert set(received) - sent <= {e for e, s in statuses.items() if s is MessageStatus.UNKNOWN}
    assert set(received) | {e for e, s in statuses.items() if s is MessageStatus.UNKNOWN} == set(
        emails
    )
    assert (
        "were in doubt from an earlier run" in out.decode() or by_status[MessageStatus.UNKNOWN] == 0
    )
