"""The post sender against local fakes of Mastodon, LinkedIn and a webhook, through the real
posters: 429 with Retry-After and 500 retried, a timeout after the request left settled by
Mastodon's Idempotency-Key and held for a person elsewhere, a refusal failed with its reason;
every post accounted for and none published twice."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from commhub.delivery import PosterFor, PostPolicy, PostReport, PostSender
from commhub.editions import list_posts, settle_post
from commhub.scheduling.due import interrupted
from commhub.store import POSTS_ALERT, Alert, Edition, EditionState, PostState
from commhub.wiring import build_poster_for
from tests.builders import World
from tests.social_fakes import FakeLinkedIn, FakeMastodon, FakeWebhook

QUICK = PostPolicy(max_attempts=4, base_delay=1.0, max_delay=60.0)


def _items(world: World, count: int = 2) -> None:
    for n in range(count):
        world.item(f"item-{n}", ["sales"], title=f"News number {n}",
                   published=world.clock.now() - timedelta(hours=n + 1))  # fmt: skip


def _live(world: World, accounts: dict[str, str]) -> PosterFor:
    """The posters of `live` delivery, the accounts' settings in the environment's form."""
    settings = dataclasses.replace(
        world.runtime.settings,
        social_delivery="live",
        social_allow_private=True,  # the fakes listen on 127.0.0.1
        social_accounts=tuple(sorted(accounts.items())),
    )
    return build_poster_for(settings, timeout_seconds=0.5)


def _mastodon(world: World, fake: FakeMastodon) -> PosterFor:
    world.social_series(accounts=[{"network": "mastodon", "name": "dev", "audiences": "all"}])
    return _live(
        world, {"COMMHUB_SOCIAL_DEV_URL": fake.url, "COMMHUB_SOCIAL_DEV_TOKEN": fake.token}
    )


def _states(world: World, edition_id: int) -> list[PostState]:
    with world.session() as session:
        return [row.state for row in reversed(list_posts(session, edition_id=edition_id))]


def _alerts(world: World) -> list[str]:
    with world.session() as session:
        return [a.kind for a in session.scalars(select(Alert).where(Alert.resolved_at.is_(None)))]


def test_a_429_waits_for_its_retry_after_and_a_500_is_tried_again(
    world: World, mastodon_fake: FakeMastodon
) -> None:
    _items(world)
    poster_for = _mastodon(world, mastodon_fake)
    edition_id = world.prepare("social").edition.id
    mastodon_fake.answer_next(429, retry_after=7)
    mastodon_fake.answer_next(500)
    report = world.post(edition_id, poster_for, QUICK)
    assert report.state is EditionState.SENT
    assert _states(world, edition_id) == [PostState.POSTED, PostState.POSTED]
    assert len(mastodon_fake.statuses()) == 2
    assert mastodon_fake.answered[:2] == [429, 500]
    # It waited what Retry-After asked before the second try, then backed off after the 500.
    assert world.clock.slept[0] >= 7 or sum(world.clock.slept) >= 7
    with world.session() as session:
        [first, second] = reversed(list_posts(session, edition_id=edition_id))
    # While the first waited out its 429, the second went (and met the 500).
    assert (first.attempts, second.attempts) == (2, 2)
    assert first.url is not None
    assert first.url.startswith("https://mastodon.example/@")


def test_a_long_retry_after_hands_the_edition_back_until_it_is_due(
    world: World, mastodon_fake: FakeMastodon
) -> None:
    _items(world, 1)
    poster_for = _mastodon(world, mastodon_fake)
    edition_id = world.prepare("social").edition.id
    mastodon_fake.answer_next(429, retry_after=600)
    sender_report: PostReport = _sender(world, poster_for, max_wait=60).send(edition_id)
    assert sender_report.state is EditionState.SENDING
    assert sender_report.waiting_until == world.clock.now() + timedelta(seconds=600)
    with world.session() as session:
        assert edition_id not in interrupted(session, world.clock.now())
        assert edition_id in interrupted(session, world.clock.now() + timedelta(seconds=601))
    world.clock.current += timedelta(seconds=601)
    assert _sender(world, poster_for).send(edition_id).state is EditionState.SENT
    assert len(mastodon_fake.statuses()) == 1


def _sender(world: World, poster_for: PosterFor, max_wait: float | None = None) -> PostSender:
    return PostSender(world.runtime.sessions, poster_for, world.clock, QUICK, max_wait=max_wait)


def test_a_mastodon_timeout_after_the_request_left_is_settled_by_its_idempotency_key(
    world: World, mastodon_fake: FakeMastodon
) -> None:
    _items(world, 1)
    poster_for = _mastodon(world, mastodon_fake)
    edition_id = world.prepare("social").edition.id
    mastodon_fake.hang_next()  # the status is made; its answer never comes in time
    report = world.post(edition_id, poster_for, QUICK)
    mastodon_fake.release()
    assert report.state is EditionState.SENT
    assert _states(world, edition_id) == [PostState.POSTED]
    assert mastodon_fake.attempts == 2  # asked again ...
    assert len(mastodon_fake.statuses()) == 1  # ... and still one status
    keys = {r.header("Idempotency-Key") for r in mastodon_fake.requests()}
    assert len(keys) == 1


def test_a_linkedin_timeout_is_held_for_a_person_never_repeated(
    world: World, linkedin_fake: FakeLinkedIn
) -> None:
    _items(world, 2)
    world.social_series(accounts=[{"network": "linkedin", "name": "co", "audiences": "all"}])
    poster_for = _live(world, {
        "COMMHUB_SOCIAL_CO_URL": linkedin_fake.url, "COMMHUB_SOCIAL_CO_TOKEN": linkedin_fake.token,
        "COMMHUB_SOCIAL_CO_AUTHOR": "urn:li:organization:42",
    })  # fmt: skip
    edition_id = world.prepare("social").edition.id
    linkedin_fake.hang_next()
    report = world.post(edition_id, poster_for, QUICK)
    linkedin_fake.release()
    assert report.state is EditionState.SENT
    assert _states(world, edition_id) == [PostState.UNKNOWN, PostState.POSTED]
    assert linkedin_fake.attempts == 2  # one each: the one in doubt was not asked again
    assert POSTS_ALERT in _alerts(world)
    with world.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        assert edition.state_reason == "1 unknown"
        [_posted, doubtful] = list_posts(session, edition_id=edition_id)
    assert doubtful.reason is not None
    assert "in doubt" in doubtful.reason
    # A person who checked and found it not live has it posted again.
    with world.session() as session:
        settle_post(session, doubtful.id, False, "ed@vendor.example", world.clock.now())
        assert edition_id in interrupted(session, world.clock.now())
    world.post(edition_id, poster_for, QUICK)
    assert _states(world, edition_id) == [PostState.POSTED, PostState.POSTED]
    assert linkedin_fake.attempts == 3
    assert POSTS_ALERT not in _alerts(world)  # settled: nothing waits for a person now
    with world.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        assert (edition.state, edition.state_reason) == (EditionState.SENT, None)


def test_a_refused_webhook_post_fails_with_the_networks_reason_and_an_alert(
    world: World, webhook_fake: FakeWebhook
) -> None:
    _items(world, 1)
    world.social_series(accounts=[{"network": "webhook", "name": "hook", "audiences": "all"}])
    poster_for = _live(world, {
        "COMMHUB_SOCIAL_HOOK_URL": webhook_fake.url + "/hook",
        "COMMHUB_SOCIAL_HOOK_SECRET": "webhook-secret-0123456789",
    })  # fmt: skip
    edition_id = world.prepare("social").edition.id
    webhook_fake.answer_next(400, body="invalid_payload")
    report = world.post(edition_id, poster_for, QUICK)
    assert report.counts == {PostState.FAILED: 1}
    with world.session() as session:
        [failed] = list_posts(session, edition_id=edition_id)
    assert failed.reason is not None
    assert "400" in failed.reason
    assert POSTS_ALERT in _alerts(world)


def test_retries_give_up_after_the_last_attempt_and_say_so(
    world: World, mastodon_fake: FakeMastodon
) -> None:
    _items(world, 1)
    poster_for = _mastodon(world, mastodon_fake)
    edition_id = world.prepare("social").edition.id
    mastodon_fake.answer_next(503, times=QUICK.max_attempts)
    world.post(edition_id, poster_for, QUICK)
    with world.session() as session:
        [post] = list_posts(session, edition_id=edition_id)
    assert post.state is PostState.FAILED
    assert post.attempts == QUICK.max_attempts
    assert post.reason is not None
    assert post.reason.startswith(f"gave up after {QUICK.max_attempts} attempts")
    assert mastodon_fake.statuses() == []


def test_no_credential_reaches_a_reason(world: World, mastodon_fake: FakeMastodon) -> None:
    _items(world, 1)
    world.social_series(accounts=[{"network": "mastodon", "name": "dev", "audiences": "all"}])
    poster_for = _live(world, {
        "COMMHUB_SOCIAL_DEV_URL": mastodon_fake.url, "COMMHUB_SOCIAL_DEV_TOKEN": "wrong-s3cret-x",
    })  # fmt: skip
    edition_id = world.prepare("social").edition.id
    world.post(edition_id, poster_for, QUICK)
    with world.session() as session:
        [post] = list_posts(session, edition_id=edition_id)
    assert post.state is PostState.FAILED
    assert "wrong-s3cret-x" not in (post.reason or "")
    assert "401" in (post.reason or "")
