"""Carries a social edition's posts to their networks, each exactly once.

Each post is claimed (planned -> posting, the attempt counted) and committed before its
network is called, and its answer recorded after: posted, planned again after a delay (429
with its Retry-After, 5xx, no connection), failed (refused for good) or unknown (the request
left and no answer came). A post found `posting` when a sender starts was interrupted by a
crash: where the network settles a repeat by its idempotency key (Mastodon) it is asked
again with the same key; elsewhere it is held as unknown for a person, never repeated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from commhub.clock import Clock
from commhub.delivery.posting import Poster, PostOutcome, PostRequest, PostResult
from commhub.editions import (
    LEASE_SECONDS,
    claim_post,
    earliest_post_retry,
    interrupted_posts,
    lease_for_sending,
    needing_a_person,
    new_owner,
    next_post,
    post_counts,
    record_post,
    release_lease,
    renew_lease,
    retry_delay,
    retry_in_doubt,
)
from commhub.errors import Conflict
from commhub.store import (
    POSTS_ALERT,
    AuditAction,
    Edition,
    EditionState,
    Network,
    PostState,
    SocialPost,
    raise_alert,
    record_action,
    resolve_alerts,
    rowcount,
    session_scope,
)

# Mastodon keeps an idempotency key for an hour: a post in doubt for longer can no longer
# be settled by asking again, so it waits for a person.
IDEMPOTENCY_WINDOW = timedelta(hours=1)

# Makes the poster for one account of one network.
PosterFor = Callable[[Network, str], Poster]


@dataclass(frozen=True)
class PostPolicy:
    max_attempts: int = 6
    base_delay: float = 30.0  # seconds before the second attempt; doubling after
    max_delay: float = 3600.0
    lease_seconds: float = LEASE_SECONDS


@dataclass
class PostReport:
    edition_id: int
    state: EditionState
    counts: Counter[PostState] = field(default_factory=Counter)
    waiting_until: datetime | None = None


class PostSender:
    """Posts one edition's planned posts until none is left to post."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        poster_for: PosterFor,
        clock: Clock,
        policy: PostPolicy | None = None,
        owner: str | None = None,
        max_wait: float | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.sessions = sessions
        self.poster_for = poster_for
        self.clock = clock
        self.policy = policy or PostPolicy()
        self.owner = owner or new_owner()
        # A scheduler's sender gives its thread back rather than wait longer than this for a
        # post's retry; the scheduler resumes the edition when it is due.
        self.max_wait = max_wait
        self.should_stop = should_stop or (lambda: False)
        self._posters: dict[tuple[Network, str], Poster] = {}

    def send(self, edition_id: int) -> PostReport:
        """Post every planned post of an edition in state `sending`."""
        report = PostReport(edition_id, EditionState.SENDING)
        with session_scope(self.sessions) as session:
            now = self.clock.now()
            lease_for_sending(session, edition_id, self.owner, now, self.policy.lease_seconds)
            self._settle_interrupted(session, edition_id, now)
        try:
            self._run(edition_id, report)
        finally:
            for poster in self._posters.values():
                poster.close()
            self._posters.clear()
            with session_scope(self.sessions) as session:
                release_lease(session, edition_id, self.owner)
                report.counts = post_counts(session, edition_id)
        return report

    def _settle_interrupted(self, session: Session, edition_id: int, now: datetime) -> None:
        """Posts a stopped process left `posting`: asked again where the network settles it
        by the same idempotency key, within its window; held as unknown otherwise."""
        held = 0
        for post in interrupted_posts(session, edition_id):
            poster = self._poster(post.network, post.account)
            recent = post.attempted_at is not None and now - post.attempted_at < IDEMPOTENCY_WINDOW
            if poster.settles_by_idempotency and recent:
                retry_in_doubt(
                    session, post.id, now, "interrupted; asked again with the same idempotency key"
                )
            else:
                held += 1
                record_post(
                    session,
                    post.id,
                    PostState.UNKNOWN,
                    now,
                    "in doubt: the process stopped during the call; check the account, then "
                    "mark it posted or post it again",
                )
        if held:
            _alert_doubt(session, edition_id, held, now)

    def _run(self, edition_id: int, report: PostReport) -> None:
        while not self.should_stop():
            now = self.clock.now()
            with session_scope(self.sessions) as session:
                state = session.scalar(select(Edition.state).where(Edition.id == edition_id))
                if state is not EditionState.SENDING:
                    report.state = state or EditionState.SENDING
                    return
                if not renew_lease(session, edition_id, self.owner, now, self.policy.lease_seconds):
                    raise Conflict(f"edition {edition_id}: another process took over the posts")
                post = next_post(session, edition_id, now)
                request = _request(post, edition_id, session) if post else None
                if post is not None and not claim_post(session, post.id, now):
                    continue
            if request is None:
                if self._finish_or_wait(edition_id, report):
                    return
                continue
            # Committed as `posting` above: a crash from here on leaves the post in doubt.
            result = self._post(request)
            with session_scope(self.sessions) as session:
                self._record(session, request, result)

    def _post(self, request: PostRequest) -> PostResult:
        poster = self._poster(request.network, request.account)
        try:
            return poster.post(request)
        except Exception as exc:  # a poster's bug must not leave the post posting forever
            return PostResult(PostOutcome.UNKNOWN, f"the poster failed: {type(exc).__name__}")

    def _record(self, session: Session, request: PostRequest, result: PostResult) -> None:
        now = self.clock.now()
        attempts = session.scalar(
            select(SocialPost.attempts).where(SocialPost.id == request.post_id)
        )
        spent = (attempts or 0) >= self.policy.max_attempts
        poster = self._poster(request.network, request.account)
        outcome = result.outcome
        if outcome is PostOutcome.POSTED:
            record_post(
                session,
                request.post_id,
                PostState.POSTED,
                now,
                remote_id=result.remote_id,
                url=result.url,
            )
        elif outcome is PostOutcome.FAILED or (outcome is PostOutcome.RETRY and spent):
            why = (
                result.reason
                if not spent
                else f"gave up after {attempts} attempts: {result.reason}"
            )
            record_post(session, request.post_id, PostState.FAILED, now, why)
            _alert_failed(session, request, why, now)
        elif outcome is PostOutcome.RETRY:
            delay = retry_delay(
                attempts or 1, result.retry_after, self.policy.base_delay, self.policy.max_delay
            )
            record_post(
                session,
                request.post_id,
                PostState.PLANNED,
                now,
                result.reason,
                retry_at=now + delay,
            )
        elif poster.settles_by_idempotency and not spent:
            retry_in_doubt(
                session,
                request.post_id,
                now,
                f"{result.reason}; asked again with the same idempotency key",
            )
        else:
            record_post(
                session,
                request.post_id,
                PostState.UNKNOWN,
                now,
                f"in doubt: {result.reason}; check the account, then mark it posted "
                "or post it again",
            )
            _alert_doubt(session, request.edition_id, 1, now)

    def _finish_or_wait(self, edition_id: int, report: PostReport) -> bool:
        """Finish the edition when no post is left to post, or stop when the next retry is
        further off than max_wait (True); otherwise wait for it."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            due = earliest_post_retry(session, edition_id)
            if due is None:
                _finish(session, edition_id, now)
                report.state = EditionState.SENT
                return True
        seconds = (due - now).total_seconds()
        if self.max_wait is not None and seconds > self.max_wait:
            report.waiting_until = due
            return True
        # In slices, so that the lease is renewed and a pause is noticed while waiting.
        self.clock.sleep(max(0.0, min(seconds, self.policy.lease_seconds / 3)))
        return False

    def _poster(self, network: Network, account: str) -> Poster:
        key = (network, account)
        if key not in self._posters:
            self._posters[key] = self.poster_for(network, account)
        return self._posters[key]


def _request(post: SocialPost, edition_id: int, session: Session) -> PostRequest:
    edition = session.get(Edition, edition_id)
    assert edition is not None
    return PostRequest(
        post_id=post.id,
        edition_id=edition_id,
        series=edition.series.slug,
        network=post.network,
        account=post.account,
        text=post.text,
        link=post.link,
        item=post.item.slug,
        title=post.item.title,
        idempotency_key=post.idempotency_key,
    )


def _alert_doubt(session: Session, edition_id: int, count: int, now: datetime) -> None:
    raise_alert(
        session,
        POSTS_ALERT,
        f"edition {edition_id}: {count} post(s) in doubt",
        f"A network may have published {count} post(s) of edition {edition_id} without "
        "answering. Check the account; then mark each posted, or post it again.",
        now,
        edition_id,
    )


def _alert_failed(session: Session, request: PostRequest, why: str, now: datetime) -> None:
    raise_alert(
        session,
        POSTS_ALERT,
        f"edition {request.edition_id}: a post to {request.account} failed",
        f"The post of {request.item} to {request.account} ({request.network.value}) failed: "
        f"{why}. Fix the cause, then post it again.",
        now,
        request.edition_id,
    )


def _finish(session: Session, edition_id: int, now: datetime) -> None:
    counts = post_counts(session, edition_id)
    trouble = needing_a_person(counts)
    finished = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.state == EditionState.SENDING)
        .values(
            state=EditionState.SENT,
            finished_at=now,
            state_reason=", ".join(trouble) or None,
        )
    )
    if rowcount(finished):
        record_action(
            session,
            AuditAction.SENT,
            "edition",
            edition_id,
            f"edition {edition_id}: posted ({counts[PostState.POSTED]} posts"
            + (f"; {', '.join(trouble)}" if trouble else "")
            + ")",
            now,
        )
    if not trouble:
        resolve_alerts(session, edition_id, now, (POSTS_ALERT,))
