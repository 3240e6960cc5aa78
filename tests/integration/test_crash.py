"""kill -9 in the middle of a send, then resume: every contact gets the edition at most once.

The sender is a real `commhub` process talking to a real SMTP server in this test; the
server counts what it received, which is the only honest witness of what was sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from commhub.models import MessageStatus
from tests.builders import World
from tests.conftest import TEST_SECRET
from tests.smtp_sink import SmtpSink

CONTACTS = 300
SMTP_BATCH = 50


def commhub(world: World, sink: SmtpSink, *args: str) -> subprocess.Popen[bytes]:
    settings = world.runtime.settings
    env = {
        **os.environ,
        "COMMHUB_DATA_DIR": str(settings.data_dir),
        "COMMHUB_DATABASE_URL": settings.database_url,
        "COMMHUB_SECRET_KEY": TEST_SECRET,
        "COMMHUB_POSTAL_ADDRESS": settings.postal_address,
        "COMMHUB_DELIVERY": "smtp",
        "COMMHUB_SMTP_URL": sink.url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "commhub", *args], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_kill_9_mid_send_then_resume_sends_everyone_and_no_one_twice(
    world: World, smtp_sink: SmtpSink
) -> None:
    world.series(audiences=["sales"])
    world.item("price-update", ["sales"])
    emails = world.many_contacts(CONTACTS, ["sales"])
    smtp_sink.slow_down(0.004)

    sender = commhub(world, smtp_sink, "editions", "send", "news", "--now")
    deadline = time.monotonic() + 60
    while sum(smtp_sink.counts().values()) < 120:
        assert sender.poll() is None, sender.communicate()
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.01)
    os.kill(sender.pid, signal.SIGKILL)
    sender.communicate()  # reaps it and closes its pipes
    received_before = sum(smtp_sink.counts().values())
    assert received_before < CONTACTS, "killed too late to prove anything"

    resumed = commhub(world, smtp_sink, "editions", "resume", "--all")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()

    received = smtp_sink.counts()
    assert max(received.values()) == 1, "a contact got the edition twice"
    statuses = {email: m.status for email, m in world.messages(1).items()}
    by_status = Counter(statuses.values())
    assert sum(by_status.values()) == CONTACTS
    assert set(by_status) <= {MessageStatus.SENT, MessageStatus.UNKNOWN}
    assert by_status[MessageStatus.UNKNOWN] <= SMTP_BATCH
    sent = {email for email, status in statuses.items() if status is MessageStatus.SENT}
    assert all(received[email] == 1 for email in sent), "recorded sent but never received"
    # Whatever the server got and we could not confirm is in doubt, never silently resent.
    assert set(received) - sent <= {e for e, s in statuses.items() if s is MessageStatus.UNKNOWN}
    assert set(received) | {e for e, s in statuses.items() if s is MessageStatus.UNKNOWN} == set(
        emails
    )
    assert (
        "were in doubt from an earlier run" in out.decode() or by_status[MessageStatus.UNKNOWN] == 0
    )
