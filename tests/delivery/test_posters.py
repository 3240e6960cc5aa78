"""The posters against local fakes of the networks' APIs (tests/social_fakes.py): Mastodon
through Mastodon.py, LinkedIn and webhooks through the guarded httpx client, and the outbox.

Each test scripts an answer and checks the PostResult it becomes, and what the fake got.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from commhub.delivery.linkedin import LinkedInPoster, little_text
from commhub.delivery.mastodon import MastodonPoster
from commhub.delivery.post_outbox import OutboxPoster
from commhub.delivery.posting import (
    LINKEDIN_VERSION,
    AccountSettings,
    Network,
    PostingPolicy,
    PostOutcome,
    PostRequest,
    PostResult,
)
from commhub.delivery.webhook import WebhookPoster, verify_signature
from tests.social_fakes import (
    LINKEDIN_AUTHOR,
    FakeLinkedIn,
    FakeMastodon,
    FakeWebhook,
    Reply,
    unescape_little,
    unused_port,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LOCAL = PostingPolicy(timeout_seconds=5.0, allow_private=True)
SHORT = PostingPolicy(timeout_seconds=0.5, allow_private=True)  # for a hung answer
GUARDED = PostingPolicy(timeout_seconds=5.0)  # as in production: no private addresses
TEXT = "New in the library: Pricing (2026) — https://go.example/p/Ab_9-x #partners"
SECRET = "webhook-secret-0123456789"  # the webhook_fake fixture's (tests/conftest.py)


def post_request(network: Network, **changes: object) -> PostRequest:
    request = PostRequest(
        post_id=41,
        edition_id=7,
        series="vendor-news",
        network=network,
        account="vendor-dev",
        text=TEXT,
        link="https://go.example/p/Ab_9-x",
        item="pricing-2026",
        title="Pricing (2026)",
        idempotency_key="commhub-post-41-a1b2c3",
    )
    return replace(request, **changes)  # type: ignore[arg-type]


def mastodon_account(fake: FakeMastodon, **changes: object) -> AccountSettings:
    account = AccountSettings("vendor-dev", Network.MASTODON, url=fake.url, token=fake.token)
    return replace(account, **changes)  # type: ignore[arg-type]


def linkedin_account(fake: FakeLinkedIn, **changes: object) -> AccountSettings:
    account = AccountSettings(
        "vendor-dev", Network.LINKEDIN, url=fake.url, token=fake.token, author=LINKEDIN_AUTHOR
    )
    return replace(account, **changes)  # type: ignore[arg-type]


def webhook_account(fake: FakeWebhook, **changes: object) -> AccountSettings:
    account = AccountSettings(
        "vendor-dev", Network.WEBHOOK, url=f"{fake.url}/hooks/vendor", secret=fake.secret
    )
    return replace(account, **changes)  # type: ignore[arg-type]


def mastodon_post(
    fake: FakeMastodon,
    policy: PostingPolicy = LOCAL,
    request: PostRequest | None = None,
    **a: object,
) -> PostResult:
    poster = MastodonPoster(mastodon_account(fake, **a), policy, now=lambda: NOW)
    try:
        return poster.post(request or post_request(Network.MASTODON))
    finally:
        poster.close()


def linkedin_post(fake: FakeLinkedIn, policy: PostingPolicy = LOCAL, **a: object) -> PostResult:
    poster = LinkedInPoster(linkedin_account(fake, **a), policy, now=lambda: NOW)
    try:
        return poster.post(post_request(Network.LINKEDIN))
    finally:
        poster.close()


def webhook_post(fake: FakeWebhook, policy: PostingPolicy = LOCAL, **a: object) -> PostResult:
    poster = WebhookPoster(webhook_account(fake, **a), policy, now=lambda: NOW)
    try:
        return poster.post(post_request(Network.WEBHOOK))
    finally:
        poster.close()


# -- Mastodon ---------------------------------------------------------------------------


def test_mastodon_posts_a_public_status_once_per_idempotency_key(
    mastodon_fake: FakeMastodon,
) -> None:
    result = mastodon_post(mastodon_fake)

    [status] = mastodon_fake.statuses()
    assert result == PostResult(
        PostOutcome.POSTED,
        remote_id=status["id"],
        url=f"https://mastodon.example/@vendor/{status['id']}",
    )
    [sent] = mastodon_fake.requests()
    assert sent.path == "/api/v1/statuses"
    assert sent.header("Authorization") == f"Bearer {mastodon_fake.token}"
    assert sent.header("Idempotency-Key") == "commhub-post-41-a1b2c3"
    assert sent.form()["status"] == TEXT
    assert sent.form()["visibility"] == "public"


def test_mastodon_429_is_retried_after_retry_after(mastodon_fake: FakeMastodon) -> None:
    mastodon_fake.answer_next(429, retry_after=30)

    result = mastodon_post(mastodon_fake)

    assert result.outcome is PostOutcome.RETRY
    assert result.retry_after == 30
    assert mastodon_fake.statuses() == []


def test_mastodon_429_reads_an_http_date_and_else_mastodons_rate_limit_reset(
    mastodon_fake: FakeMastodon,
) -> None:
    mastodon_fake.answer_next(429, retry_after=format_datetime(NOW + timedelta(seconds=90)))
    reset = (NOW + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    mastodon_fake.answer_next(429, headers=(("X-RateLimit-Reset", reset),))

    assert mastodon_post(mastodon_fake).retry_after == 90
    assert mastodon_post(mastodon_fake).retry_after == 300


def test_mastodon_500_is_retried(mastodon_fake: FakeMastodon) -> None:
    mastodon_fake.answer_next(500)

    result = mastodon_post(mastodon_fake)

    assert result.outcome is PostOutcome.RETRY
    assert "HTTP 500" in result.reason
    assert mastodon_fake.statuses() == []


def test_mastodon_answer_lost_is_unknown_and_asking_again_gives_the_same_status(
    mastodon_fake: FakeMastodon,
) -> None:
    mastodon_fake.hang_next()

    lost = mastodon_post(mastodon_fake, SHORT)
    mastodon_fake.release()
    again = mastodon_post(mastodon_fake)

    assert lost.outcome is PostOutcome.UNKNOWN
    assert "no answer" in lost.reason
    [status] = mastodon_fake.statuses()
    assert again.outcome is PostOutcome.POSTED
    assert again.remote_id == status["id"]
    assert mastodon_fake.attempts == 2
    assert MastodonPoster.settles_by_idempotency


def test_mastodon_connection_broken_after_sending_is_unknown_and_settled_by_the_key(
    mastodon_fake: FakeMastodon,
) -> None:
    mastodon_fake.drop_next()

    broken = mastodon_post(mastodon_fake)
    again = mastodon_post(mastodon_fake)

    assert broken.outcome is PostOutcome.UNKNOWN
    assert "broke after the post was sent" in broken.reason
    [status] = mastodon_fake.statuses()
    assert (again.outcome, again.remote_id) == (PostOutcome.POSTED, status["id"])


def test_mastodon_refusal_is_failed_with_mastodons_words(mastodon_fake: FakeMastodon) -> None:
    request = post_request(Network.MASTODON, text="x" * 501)

    result = mastodon_post(mastodon_fake, request=request)

    assert result == PostResult(
        PostOutcome.FAILED,
        "Mastodon refused the post (HTTP 422): "
        "Validation failed: Text character limit of 500 exceeded",
    )
    assert mastodon_fake.statuses() == []


def test_mastodon_counts_a_url_as_23_characters(mastodon_fake: FakeMastodon) -> None:
    long_link = "https://go.example/" + "a" * 600
    request = post_request(Network.MASTODON, text=f"{'x' * 400} {long_link}")

    assert mastodon_post(mastodon_fake, request=request).outcome is PostOutcome.POSTED


def test_mastodon_redirect_is_not_followed(mastodon_fake: FakeMastodon) -> None:
    mastodon_fake.answer_next(307, headers=(("Location", "http://169.254.169.254/latest"),))

    result = mastodon_post(mastodon_fake)

    assert result.outcome is PostOutcome.FAILED
    assert "redirect (HTTP 307)" in result.reason
    assert mastodon_fake.attempts == 1


def test_mastodon_guard_refuses_a_loopback_instance(mastodon_fake: FakeMastodon) -> None:
    result = mastodon_post(mastodon_fake, GUARDED)

    assert result.outcome is PostOutcome.FAILED
    assert "127.0.0.1 is a loopback address" in result.reason
    assert mastodon_fake.attempts == 0


def test_mastodon_guard_refuses_a_url_with_a_user_name_even_when_private_is_allowed(
    mastodon_fake: FakeMastodon,
) -> None:
    url = mastodon_fake.url.replace("http://", "http://admin@")

    result = mastodon_post(mastodon_fake, url=url)

    assert result.outcome is PostOutcome.FAILED
    assert "a user name or odd characters before the host" in result.reason
    assert mastodon_fake.attempts == 0


def test_mastodon_without_a_connection_is_retried(mastodon_fake: FakeMastodon) -> None:
    result = mastodon_post(mastodon_fake, url=f"http://127.0.0.1:{unused_port()}")

    assert result.outcome is PostOutcome.RETRY
    assert "could not connect to 127.0.0.1" in result.reason


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("url", "COMMHUB_SOCIAL_VENDOR_DEV_URL"), ("token", "COMMHUB_SOCIAL_VENDOR_DEV_TOKEN")],
)
def test_mastodon_without_settings_names_the_variable(
    mastodon_fake: FakeMastodon, missing: str, variable: str
) -> None:
    result = mastodon_post(mastodon_fake, **{missing: None})

    assert result == PostResult(PostOutcome.FAILED, f"{variable} is not set")
    assert mastodon_fake.attempts == 0


# -- LinkedIn ---------------------------------------------------------------------------


def test_linkedin_posts_as_the_author_with_its_headers(linkedin_fake: FakeLinkedIn) -> None:
    result = linkedin_post(linkedin_fake)

    [made] = linkedin_fake.posts()
    assert made["id"].startswith("urn:li:share:")
    assert result == PostResult(
        PostOutcome.POSTED,
        remote_id=made["id"],
        url=f"https://www.linkedin.com/feed/update/{made['id']}",
    )
    [sent] = linkedin_fake.requests()
    assert sent.header("Authorization") == f"Bearer {linkedin_fake.token}"
    assert sent.header("LinkedIn-Version") == LINKEDIN_VERSION
    assert sent.header("X-Restli-Protocol-Version") == "2.0.0"
    assert sent.header("Content-Type") == "application/json"
    assert sent.json() == {
        "author": LINKEDIN_AUTHOR,
        "commentary": little_text(TEXT),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert unescape_little(made["commentary"]) == TEXT


def test_linkedin_sends_the_accounts_api_version(linkedin_fake: FakeLinkedIn) -> None:
    linkedin_post(linkedin_fake, version="202601")

    assert linkedin_fake.requests()[0].header("LinkedIn-Version") == "202601"


@pytest.mark.parametrize(
    ("text", "commentary"),
    [
        ("(a) [b] {c} <d>", r"\(a\) \[b\] \{c\} \<d\>"),
        ("@team | ~x _y_ *z* back\\slash", r"\@team \| \~x \_y\_ \*z\* back\\slash"),
        ("#partners and #Q2 stay hashtags", "#partners and #Q2 stay hashtags"),
        ("read https://go.example/p/Ab_9-x~y*z now", "read https://go.example/p/Ab_9-x~y*z now"),
        ("(see https://go.example/a_b)", r"\(see https://go.example/a_b\)"),
        ("plain text, 50% off!", "plain text, 50% off!"),
    ],
)
def test_little_text_escapes_reserved_characters_but_not_links_or_hashtags(
    text: str, commentary: str
) -> None:
    assert little_text(text) == commentary
    assert unescape_little(little_text(text)) == text


def test_linkedin_429_is_retried_after_retry_after(linkedin_fake: FakeLinkedIn) -> None:
    linkedin_fake.answer_next(429, retry_after=60)

    result = linkedin_post(linkedin_fake)

    assert result.outcome is PostOutcome.RETRY
    assert result.retry_after == 60
    assert linkedin_fake.posts() == []


def test_linkedin_500_is_retried_and_a_gateways_502_is_in_doubt(
    linkedin_fake: FakeLinkedIn,
) -> None:
    linkedin_fake.answer_next(500)
    linkedin_fake.answer_next(502)

    failing, gateway = linkedin_post(linkedin_fake), linkedin_post(linkedin_fake)

    assert failing.outcome is PostOutcome.RETRY
    assert "HTTP 500" in failing.reason
    assert gateway.outcome is PostOutcome.UNKNOWN  # LinkedIn may have it: no second try
    assert "HTTP 502" in gateway.reason


def test_linkedin_answer_lost_is_unknown(linkedin_fake: FakeLinkedIn) -> None:
    linkedin_fake.hang_next()

    result = linkedin_post(linkedin_fake, SHORT)

    assert result.outcome is PostOutcome.UNKNOWN
    assert "within 0.5 s" in result.reason
    assert len(linkedin_fake.posts()) == 1  # it was made: only a person can tell
    assert not LinkedInPoster.settles_by_idempotency


def test_linkedin_connection_broken_after_sending_is_unknown(linkedin_fake: FakeLinkedIn) -> None:
    linkedin_fake.drop_next()

    result = linkedin_post(linkedin_fake)

    assert result.outcome is PostOutcome.UNKNOWN
    assert "broke after the post was sent" in result.reason
    assert len(linkedin_fake.posts()) == 1


def test_linkedin_refusal_is_failed_with_linkedins_message(linkedin_fake: FakeLinkedIn) -> None:
    result = linkedin_post(linkedin_fake, author="urn:li:group:12")

    assert result.outcome is PostOutcome.FAILED
    assert result.reason.startswith("LinkedIn refused the post (HTTP 422): /author ::")
    assert linkedin_fake.posts() == []


def test_linkedin_guard_refuses_a_loopback_api(linkedin_fake: FakeLinkedIn) -> None:
    result = linkedin_post(linkedin_fake, GUARDED)

    assert result.outcome is PostOutcome.FAILED
    assert "127.0.0.1 is a loopback address" in result.reason
    assert linkedin_fake.attempts == 0


def test_linkedin_without_a_connection_is_retried(linkedin_fake: FakeLinkedIn) -> None:
    result = linkedin_post(linkedin_fake, url=f"http://127.0.0.1:{unused_port()}")

    assert result.outcome is PostOutcome.RETRY
    assert "could not connect to 127.0.0.1" in result.reason


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("token", "COMMHUB_SOCIAL_VENDOR_DEV_TOKEN"), ("author", "COMMHUB_SOCIAL_VENDOR_DEV_AUTHOR")],
)
def test_linkedin_without_settings_names_the_variable(
    linkedin_fake: FakeLinkedIn, missing: str, variable: str
) -> None:
    result = linkedin_post(linkedin_fake, **{missing: None})

    assert result == PostResult(PostOutcome.FAILED, f"{variable} is not set")
    assert linkedin_fake.attempts == 0


# -- webhooks ---------------------------------------------------------------------------


def test_webhook_posts_our_json_signed(webhook_fake: FakeWebhook) -> None:
    result = webhook_post(webhook_fake)

    assert result == PostResult(PostOutcome.POSTED)
    [sent] = webhook_fake.requests()
    assert sent.path == "/hooks/vendor"
    assert sent.header("Content-Type") == "application/json"
    assert sent.header("Idempotency-Key") == "commhub-post-41-a1b2c3"
    assert sent.json() == {
        "text": TEXT,
        "link": "https://go.example/p/Ab_9-x",
        "item": "pricing-2026",
        "title": "Pricing (2026)",
        "series": "vendor-news",
        "account": "vendor-dev",
        "post_id": 41,
        "edition_id": 7,
    }
    # What a receiver checks, computed here without commhub's helpers.
    timestamp = sent.header("X-Commhub-Timestamp")
    assert timestamp == str(int(NOW.timestamp()))
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + sent.body, hashlib.sha256)
    assert sent.header("X-Commhub-Signature") == f"sha256={mac.hexdigest()}"


@pytest.mark.parametrize(
    ("style", "body"),
    [
        ("slack", {"text": TEXT}),
        (
            "teams",
            {"@type": "MessageCard", "@context": "http://schema.org/extensions", "text": TEXT},
        ),
    ],
)
def test_webhook_styles(webhook_fake: FakeWebhook, style: str, body: dict[str, str]) -> None:
    assert webhook_post(webhook_fake, style=style).outcome is PostOutcome.POSTED
    assert webhook_fake.bodies() == [body]


def test_webhook_unknown_style_is_failed(webhook_fake: FakeWebhook) -> None:
    result = webhook_post(webhook_fake, style="discord")

    assert result.outcome is PostOutcome.FAILED
    assert "COMMHUB_SOCIAL_VENDOR_DEV_STYLE" in result.reason
    assert webhook_fake.attempts == 0


def test_webhook_with_the_wrong_secret_is_refused_by_the_receiver(
    webhook_fake: FakeWebhook,
) -> None:
    result = webhook_post(webhook_fake, secret="not-the-secret")

    assert result == PostResult(
        PostOutcome.FAILED, "the webhook refused the post (HTTP 401): invalid_signature"
    )
    assert webhook_fake.bodies() == []


def test_webhook_unsigned_is_refused_by_a_receiver_that_wants_a_signature(
    webhook_fake: FakeWebhook,
) -> None:
    result = webhook_post(webhook_fake, secret=None)

    assert result.outcome is PostOutcome.FAILED
    assert webhook_fake.requests()[0].header("X-Commhub-Signature") is None


def test_verify_signature() -> None:
    body = b'{"text": "hi"}'
    signed = "sha256=" + hmac.new(SECRET.encode(), b"1700000000." + body, "sha256").hexdigest()

    assert verify_signature(SECRET, "1700000000", body, signed)
    assert not verify_signature("other", "1700000000", body, signed)
    assert not verify_signature(SECRET, "1700000001", body, signed)
    assert not verify_signature(SECRET, "1700000000", body + b" ", signed)
    assert not verify_signature(SECRET, None, body, signed)
    assert not verify_signature(SECRET, "1700000000", body, None)
    assert verify_signature(SECRET, 1700000000, body, signed, max_age_seconds=300, now=1700000100)
    assert not verify_signature(
        SECRET, 1700000000, body, signed, max_age_seconds=300, now=1700000400
    )


def test_webhook_answer_with_an_id_and_url() -> None:
    answer = Reply(201, {"id": 99, "url": "https://chat.example/m/99"})
    with FakeWebhook(answer=answer) as fake:
        result = webhook_post(fake)

    assert result == PostResult(PostOutcome.POSTED, remote_id="99", url="https://chat.example/m/99")


def test_webhook_429_and_500_are_retried(webhook_fake: FakeWebhook) -> None:
    webhook_fake.answer_next(429, retry_after=12)
    webhook_fake.answer_next(500)

    limited, failing = webhook_post(webhook_fake), webhook_post(webhook_fake)

    assert (limited.outcome, limited.retry_after) == (PostOutcome.RETRY, 12)
    assert failing.outcome is PostOutcome.RETRY
    assert webhook_fake.bodies() == []


def test_webhook_answer_lost_is_unknown(webhook_fake: FakeWebhook) -> None:
    webhook_fake.hang_next()

    result = webhook_post(webhook_fake, SHORT)

    assert result.outcome is PostOutcome.UNKNOWN
    assert len(webhook_fake.bodies()) == 1


def test_webhook_refusal_quotes_the_receiver(webhook_fake: FakeWebhook) -> None:
    webhook_fake.answer_next(404, body="no_service")

    result = webhook_post(webhook_fake)

    assert result == PostResult(
        PostOutcome.FAILED, "the webhook refused the post (HTTP 404): no_service"
    )


def test_webhook_guard_refuses_loopback_and_never_shows_the_url(
    webhook_fake: FakeWebhook,
) -> None:
    # A Slack-style URL is its own credential: the guard's message quotes it, the reason not.
    url = f"http://hook@{webhook_fake.url.removeprefix('http://')}/services/T0/B0/XyZsecret"

    result = webhook_post(webhook_fake, GUARDED, url=url)

    assert result.outcome is PostOutcome.FAILED
    assert "XyZsecret" not in result.reason
    assert webhook_fake.attempts == 0


def test_webhook_guard_refuses_a_loopback_address(webhook_fake: FakeWebhook) -> None:
    result = webhook_post(webhook_fake, GUARDED)

    assert result.outcome is PostOutcome.FAILED
    assert "127.0.0.1 is a loopback address" in result.reason
    assert webhook_fake.attempts == 0


def test_webhook_without_a_connection_is_retried(webhook_fake: FakeWebhook) -> None:
    result = webhook_post(webhook_fake, url=f"http://127.0.0.1:{unused_port()}/hook")

    assert result.outcome is PostOutcome.RETRY


# -- credentials never in a reason ------------------------------------------------------


def test_a_token_echoed_by_a_401_never_reaches_the_reason(
    mastodon_fake: FakeMastodon, linkedin_fake: FakeLinkedIn, webhook_fake: FakeWebhook
) -> None:
    mastodon_fake.answer_next(401, body={"error": f"Bearer {mastodon_fake.token} is invalid"})
    linkedin_fake.answer_next(401, body={"message": f"Bearer {linkedin_fake.token} is invalid"})
    webhook_fake.answer_next(401, body=f"signed with {SECRET}? no")

    results = {
        mastodon_fake.token: mastodon_post(mastodon_fake),
        linkedin_fake.token: linkedin_post(linkedin_fake),
        SECRET: webhook_post(webhook_fake),
    }

    for credential, result in results.items():
        assert result.outcome is PostOutcome.FAILED
        assert "HTTP 401" in result.reason
        assert credential not in result.reason
        assert "***" in result.reason


@pytest.mark.parametrize("network", [Network.MASTODON, Network.LINKEDIN])
def test_a_token_no_header_can_carry_is_failed_without_quoting_it(
    mastodon_fake: FakeMastodon, linkedin_fake: FakeLinkedIn, network: Network
) -> None:
    # requests and h11 quote the refused header value (escaped, past plain redaction).
    token = "pasted-token-0123\nwith-a-newline"

    if network is Network.MASTODON:
        result, fake = mastodon_post(mastodon_fake, token=token), mastodon_fake
    else:
        result, fake = linkedin_post(linkedin_fake, token=token), linkedin_fake

    assert result.outcome is PostOutcome.FAILED
    assert result.reason.startswith("the request could not be made")
    assert "pasted-token" not in result.reason
    assert fake.attempts == 0


# -- the outbox -------------------------------------------------------------------------


def test_outbox_writes_one_file_per_post(tmp_path: Path) -> None:
    poster = OutboxPoster(tmp_path, Network.MASTODON, now=lambda: NOW)

    result = poster.post(post_request(Network.MASTODON))
    other = poster.post(post_request(Network.MASTODON, post_id=42))

    assert result == PostResult(PostOutcome.POSTED, remote_id="41-vendor-dev.json")
    assert other.remote_id == "42-vendor-dev.json"
    written = json.loads((tmp_path / "7" / "41-vendor-dev.json").read_text())
    assert written == {
        "network": "mastodon",
        "account": "vendor-dev",
        "series": "vendor-news",
        "edition_id": 7,
        "post_id": 41,
        "item": "pricing-2026",
        "title": "Pricing (2026)",
        "text": TEXT,
        "link": "https://go.example/p/Ab_9-x",
        "idempotency_key": "commhub-post-41-a1b2c3",
        "written_at": NOW.isoformat(),
    }
    assert sorted(p.name for p in (tmp_path / "7").iterdir()) == [
        "41-vendor-dev.json",
        "42-vendor-dev.json",
    ]


def test_outbox_writing_a_post_again_keeps_one_file(tmp_path: Path) -> None:
    times = iter([NOW, NOW + timedelta(minutes=5)])
    poster = OutboxPoster(tmp_path, Network.WEBHOOK, now=lambda: next(times))

    first = poster.post(post_request(Network.WEBHOOK))
    second = poster.post(post_request(Network.WEBHOOK))

    assert first == second
    assert [p.name for p in (tmp_path / "7").iterdir()] == ["41-vendor-dev.json"]
    written = json.loads((tmp_path / "7" / "41-vendor-dev.json").read_text())
    assert written["written_at"] == (NOW + timedelta(minutes=5)).isoformat()
    assert OutboxPoster.settles_by_idempotency


def test_outbox_keeps_an_odd_account_name_inside_its_directory(tmp_path: Path) -> None:
    poster = OutboxPoster(tmp_path / "posts", Network.LINKEDIN)

    result = poster.post(post_request(Network.LINKEDIN, account="../../etc/x"))

    assert result.remote_id == "41-.._.._etc_x.json"
    assert (tmp_path / "posts" / "7" / "41-.._.._etc_x.json").is_file()


def test_outbox_that_cannot_write_is_retried(tmp_path: Path) -> None:
    blocked = tmp_path / "posts"
    blocked.write_text("a file where the directory should be")

    result = OutboxPoster(blocked, Network.MASTODON).post(post_request(Network.MASTODON))

    assert result.outcome is PostOutcome.RETRY
    assert result.retry_after == 30
    assert "cannot write to the post outbox" in result.reason
