"""kill -9 in the middle of posting, then resume: no post published twice, every post
accounted for.

The poster is a real `commhub` process posting through Mastodon.py and the LinkedIn poster to
local fakes of their APIs; the fakes' records of what was published are the honest witness.
The kill lands while one request is in flight (the fake made the post and holds its answer):
Mastodon's is settled by asking again with the same Idempotency-Key, LinkedIn's is held as
unknown for a person.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest

from commhub.editions import list_posts
from commhub.store import Network, PostState
from tests.builders import World
from tests.delivery.test_crash import commhub
from tests.social_fakes import FakeApi, FakeLinkedIn, FakeMastodon

ITEMS = 4


@pytest.mark.parametrize("in_flight", [Network.MASTODON, Network.LINKEDIN])
def test_kill_9_mid_post_then_resume_posts_everything_once(
    world: World, mastodon_fake: FakeMastodon, linkedin_fake: FakeLinkedIn, in_flight: Network
) -> None:
    for n in range(ITEMS):
        world.item(f"item-{n}", ["sales"], title=f"News number {n}",
                   published=world.clock.now() - timedelta(hours=n + 1))  # fmt: skip
    world.social_series(
        "social",
        accounts=[
            {"network": "mastodon", "name": "dev", "audiences": "all"},
            {"network": "linkedin", "name": "co", "audiences": "all"},
        ],
    )
    env = {
        "COMMHUB_SOCIAL_DELIVERY": "live",
        "COMMHUB_SOCIAL_ALLOW_PRIVATE": "yes",
        "COMMHUB_SOCIAL_DEV_URL": mastodon_fake.url,
        "COMMHUB_SOCIAL_DEV_TOKEN": mastodon_fake.token,
        "COMMHUB_SOCIAL_CO_URL": linkedin_fake.url,
        "COMMHUB_SOCIAL_CO_TOKEN": linkedin_fake.token,
        "COMMHUB_SOCIAL_CO_AUTHOR": "urn:li:organization:42",
    }
    held: FakeApi = mastodon_fake if in_flight is Network.MASTODON else linkedin_fake
    held.hang_next()  # its first post is made, and its answer held until after the kill

    poster = commhub(world, env, "editions", "send", "social", "--now")
    deadline = time.monotonic() + 60
    while held.attempts < 1:
        assert poster.poll() is None, poster.communicate()
        assert time.monotonic() < deadline, "the posting did not get going"
        time.sleep(0.01)
    os.kill(poster.pid, signal.SIGKILL)
    poster.communicate()
    held.release()

    resumed = commhub(world, env, "editions", "resume", "--all")
    out, err = resumed.communicate(timeout=120)

    with world.session() as session:
        posts = list_posts(session, "social")
    states = Counter(post.state for post in posts)
    assert len(posts) == 2 * ITEMS, "every post accounted for"
    assert set(states) <= {PostState.POSTED, PostState.UNKNOWN}
    # What each network published: never one post twice.
    texts = [s["content"] for s in mastodon_fake.statuses()]
    assert len(texts) == len(set(texts)) == ITEMS
    commentaries = [p["commentary"] for p in linkedin_fake.posts()]
    assert len(commentaries) == len(set(commentaries)) == ITEMS
    if in_flight is Network.MASTODON:
        # Settled by the same key: asked again, one status.
        assert states == {PostState.POSTED: 2 * ITEMS}
        assert mastodon_fake.attempts == ITEMS + 1
        assert resumed.returncode == 0, err.decode()
    else:
        # In doubt and held for a person: not asked again.
        assert states == {PostState.POSTED: 2 * ITEMS - 1, PostState.UNKNOWN: 1}
        assert linkedin_fake.attempts == ITEMS
        assert resumed.returncode == 3, err.decode()
        assert "in doubt" in err.decode()
        assert "1 unknown" in out.decode()
        # The alert says what a person does about it, as commands.
        alerts, _err = commhub(world, env, "alerts", "list").communicate(timeout=60)
        assert "post(s) in doubt" in alerts.decode()
        assert "`commhub posts list --edition 1`" in alerts.decode()
        assert "resend-unknown" not in alerts.decode()
