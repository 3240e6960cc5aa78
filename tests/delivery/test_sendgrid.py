"""Sending an edition through SendGrid: the official library against a local fake of its API.

The fake validates every request as SendGrid documents it and counts what it accepted; each
test scripts one of SendGrid's answers and checks what became of every message.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

import pytest
from sqlalchemy import select

from commhub.actions import Action, NextStep
from commhub.delivery.backend import BackendBlocked, DeliveryResult, Outcome
from commhub.delivery.sendgrid import (
    CONTENT_TYPE,
    HttpAnswer,
    NoAnswerError,
    NotSentError,
    SendGridBackend,
    TransportError,
)
from commhub.store import next_steps_for
from commhub.store.models import Alert, EditionState, MessageStatus
from tests.builders import (
    SAMPLE_ENVELOPE,
    FixedClock,
    World,
    compiled_content,
    outgoing_message,
)
from tests.sendgrid_fake import FakeSendGrid


def sendgrid(world: World, fake: FakeSendGrid, timeout: float = 5.0) -> SendGridBackend:
    return SendGridBackend(
        fake.api_key, fake.url, timeout=timeout, now=world.clock.now, rng=random.Random(7)
    )


def statuses(world: World, edition_id: int) -> Counter[MessageStatus]:
    return Counter(m.status for m in world.messages(edition_id).values())


def filled(text: str, substitutions: dict[str, str]) -> str:
    """What SendGrid does with a personalization's substitutions."""
    for tag, value in substitutions.items():
        text = text.replace(tag, value)
    return text


def test_one_request_per_role_set_carries_every_contact_and_their_values(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    world.series(audiences=["sales", "technical"])
    world.item("price-update", ["sales"], title="Q1 price update")
    world.item("api-guide", ["technical"], title="API guide")
    for n in range(30):
        world.contact(f"s{n}@p.example", ["sales"], first_name=f"Sam <{n}>")
    world.contact("t@p.example", ["technical"], first_name="Tess")
    edition_id = world.prepare().edition.id

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.SENT
    requests = sendgrid_fake.requests()
    assert len(requests) == 2, "one request per role set, never one per contact"
    assert sorted(len(r["personalizations"]) for r in requests) == [1, 30]
    assert sendgrid_fake.counts() == Counter(
        [f"s{n}@p.example" for n in range(30)] + ["t@p.example"]
    )
    messages = world.messages(edition_id)
    assert {m.status for m in messages.values()} == {MessageStatus.SENT}
    sales = next(r for r in requests if len(r["personalizations"]) == 30)
    assert {m.provider_message_id for e, m in messages.items() if e.startswith("s")} == {
        sendgrid_fake.message_ids()[requests.index(sales)]
    }
    personalization = sales["personalizations"][3]
    assert personalization["custom_args"] == {
        "commhub_message_id": str(messages["s3@p.example"].id)
    }
    assert sales["custom_args"]["commhub_edition_id"] == str(edition_id)
    unsubscribe = personalization["headers"]["List-Unsubscribe"]
    assert re.fullmatch(r"<http://127\.0\.0\.1:5000/u/[\w.-]+>", unsubscribe)
    assert personalization["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # What the contact reads once SendGrid fills the tags: escaped in HTML, raw in text.
    text, html = (c["value"] for c in sales["content"])
    substitutions = personalization["substitutions"]
    assert "Hi Sam &lt;3&gt;," in filled(html, substitutions)
    assert "Hi Sam <3>," in filled(text, substitutions)
    assert filled(sales["subject"], substitutions) == "Partner News for Sam <3>"
    token = unsubscribe.rsplit("/", 1)[1].rstrip(">")
    assert f"/u/{token}" in filled(html, substitutions)
    assert "%%" not in filled(html, substitutions) + filled(text, substitutions)


def test_1001_contacts_take_two_requests_and_each_gets_one_email(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    world.series(audiences=["sales"])
    world.item("price-update", ["sales"])
    emails = world.many_contacts(1001, ["sales"])
    edition_id = world.prepare().edition.id

    world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert [len(r["personalizations"]) for r in sendgrid_fake.requests()] == [1000, 1]
    assert sendgrid_fake.counts() == Counter(emails)
    assert statuses(world, edition_id) == Counter({MessageStatus.SENT: 1001})


def test_a_429_waits_as_told_sends_nothing_before_and_fails_no_one(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    sendgrid_fake.answer_next(429, retry_after=40)
    start = world.clock.now()

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.SENT
    assert sendgrid_fake.statuses == [429, 202], "no request went out during the wait"
    assert (world.clock.now() - start).total_seconds() >= 40
    messages = world.messages(edition_id).values()
    assert {m.status for m in messages} == {MessageStatus.SENT}
    assert {m.attempts for m in messages} == {1}, "a rate limit spends no attempt"
    assert any("slow down" in notice for notice in world.notices)


def test_a_429_with_only_a_reset_time_waits_until_then(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    start = world.clock.now()
    sendgrid_fake.answer_next(429, rate_limit_reset=start.timestamp() + 75)

    world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert sendgrid_fake.statuses == [429, 202]
    assert (world.clock.now() - start).total_seconds() >= 75
    assert statuses(world, edition_id) == Counter({MessageStatus.SENT: 1})


def test_a_500_is_retried_with_backoff_without_spending_attempts(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    sendgrid_fake.answer_next(500, times=2)

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.SENT
    assert sendgrid_fake.statuses == [500, 500, 202]
    assert len(world.clock.slept) >= 2, "it waited before each retry"
    assert {m.attempts for m in world.messages(edition_id).values()} == {1}


def test_an_unreachable_api_defers_and_then_pauses_the_edition(world: World) -> None:
    edition_id = world.newsletter_to("a@p.example")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    backend = SendGridBackend("SG.key", f"http://127.0.0.1:{port}", timeout=2, now=world.clock.now)

    report = world.send(edition_id, backend)

    assert report.state is EditionState.PAUSED
    assert "has taken nothing since" in (report.reason or "")
    assert "cannot reach SendGrid" in (report.reason or "")
    (message,) = world.messages(edition_id).values()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)


def test_no_answer_after_the_request_left_puts_its_messages_in_doubt(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    sendgrid_fake.hang_next()

    report = world.send(edition_id, sendgrid(world, sendgrid_fake, timeout=0.5))

    # SendGrid got the request and kept no key to tell a resend from a new one: the
    # messages are `unknown`, never sent again by themselves.
    assert sendgrid_fake.counts() == Counter(["a@p.example", "b@p.example"])
    assert sendgrid_fake.attempts == 1
    assert report.state is EditionState.SENT
    messages = world.messages(edition_id).values()
    assert {m.status for m in messages} == {MessageStatus.UNKNOWN}
    assert all("no answer from SendGrid after the request was sent" in (m.last_error or "")
               for m in messages)  # fmt: skip
    with world.session() as session:
        alert = session.scalars(select(Alert).where(Alert.edition_id == edition_id)).one()
    assert "resend them once you know they did not arrive" in alert.message
    assert next_steps_for(alert, "news") == (
        NextStep(Action.SHOW_EDITION, edition_id, "news"),
        NextStep(Action.RESEND_UNKNOWN, edition_id, "news"),
    )


def test_a_400_fails_the_contact_it_names_and_sends_the_rest(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to(
        "a@p.example", "bad@p.example", "c@p.example", "worse@p.example"
    )
    sendgrid_fake.reject_address("bad@p.example")
    sendgrid_fake.reject_address("worse@p.example", "The email address is not allowed.")

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.SENT
    assert sendgrid_fake.statuses == [400, 202]
    assert sendgrid_fake.counts() == Counter(["a@p.example", "c@p.example"])
    messages = world.messages(edition_id)
    assert messages["bad@p.example"].status is MessageStatus.FAILED
    assert "Does not contain a valid address." in (messages["bad@p.example"].last_error or "")
    assert "personalizations." in (messages["bad@p.example"].last_error or "")
    assert messages["a@p.example"].status is messages["c@p.example"].status is MessageStatus.SENT
    assert messages["worse@p.example"].status is MessageStatus.FAILED
    assert "The email address is not allowed." in (messages["worse@p.example"].last_error or "")


def test_a_400_that_names_no_contact_pauses_rather_than_fail_everyone(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    sendgrid_fake.answer_next(
        400, body={"errors": [{"field": "from.email", "message": "The from address is invalid."}]}
    )

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.PAUSED
    assert "The from address is invalid. (from.email)" in (report.reason or "")
    assert statuses(world, edition_id) == Counter({MessageStatus.QUEUED: 2})


def test_a_contact_whose_values_break_a_limit_fails_alone(sendgrid_fake: FakeSendGrid) -> None:
    # The database caps names far below SendGrid's limits, so the contact is built here.
    shared = compiled_content()
    batch = [
        outgoing_message(1, "a@p.example", shared),
        outgoing_message(2, "huge@p.example", shared, "Ü" * 9_000),
    ]
    backend = SendGridBackend(sendgrid_fake.api_key, sendgrid_fake.url)

    results = {r.message_id: r for r in backend.send(batch)}

    assert results[2].outcome is Outcome.FAILED
    assert "substitutions; SendGrid takes under 50,000" in results[2].detail
    assert results[1].outcome is Outcome.SENT
    assert sendgrid_fake.statuses == [202], "the limit was kept before SendGrid saw it"
    assert sendgrid_fake.counts() == Counter(["a@p.example"])


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        (401, "the API key was refused"),
        (403, "the API key may not send this"),
        (413, "the request was too large"),
    ],
)
def test_refusals_only_a_person_can_fix_pause_the_edition_with_an_alert(
    world: World, sendgrid_fake: FakeSendGrid, status: int, meaning: str
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    sendgrid_fake.answer_next(status, times=5)

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.PAUSED
    assert sendgrid_fake.attempts == 1, f"a {status} is never retried"
    assert meaning in (report.reason or "")
    assert statuses(world, edition_id) == Counter({MessageStatus.QUEUED: 2})
    with world.session() as session:
        alert = session.scalars(select(Alert).where(Alert.edition_id == edition_id)).one()
        assert meaning in alert.message
        assert alert.message.endswith("Fix the cause, then release it.")
        assert next_steps_for(alert, "news") == (NextStep(Action.RELEASE, edition_id, "news"),)


def test_a_wrong_api_key_is_a_401_from_the_fake_itself(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    backend = SendGridBackend("SG.wrong", sendgrid_fake.url, now=world.clock.now)

    report = world.send(edition_id, backend)

    assert report.state is EditionState.PAUSED
    assert "SENDGRID_API_KEY" in (report.reason or "")
    assert sendgrid_fake.statuses == [401]


def test_the_api_key_stays_out_of_debug_logs(
    sendgrid_fake: FakeSendGrid, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = SendGridBackend(sendgrid_fake.api_key, sendgrid_fake.url)

    backend.send([outgoing_message(1, "a@p.example", compiled_content())])

    assert sendgrid_fake.statuses == [202]
    assert sendgrid_fake.api_key not in caplog.text


def test_each_400_round_names_contacts_by_their_place_in_that_round(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example", "c@p.example", "d@p.example")
    second = {"errors": [{"field": "personalizations.1.to.0.email", "message": "no"}]}
    sendgrid_fake.answer_next(400, body=second, times=2)  # b, then c once b is taken out

    world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert sendgrid_fake.statuses == [400, 400, 202]
    messages = world.messages(edition_id)
    assert {e: m.status for e, m in messages.items()} == {
        "a@p.example": MessageStatus.SENT,
        "b@p.example": MessageStatus.FAILED,
        "c@p.example": MessageStatus.FAILED,
        "d@p.example": MessageStatus.SENT,
    }
    assert sendgrid_fake.counts() == Counter(["a@p.example", "d@p.example"])


def test_after_a_429_the_backend_itself_sends_nothing_until_the_time(
    sendgrid_fake: FakeSendGrid,
) -> None:
    clock = FixedClock()
    backend = SendGridBackend(sendgrid_fake.api_key, sendgrid_fake.url, now=clock.now)
    shared = compiled_content()
    sendgrid_fake.answer_next(429, retry_after=60)

    first = backend.send([outgoing_message(1, "a@p.example", shared)])
    clock.sleep(30)
    second = backend.send([outgoing_message(1, "a@p.example", shared)])
    clock.sleep(40)  # past 60 s and its jitter (at most 6 s)
    third = backend.send([outgoing_message(1, "a@p.example", shared)])

    assert [r.outcome for r in first + second + third] == [
        Outcome.DEFERRED, Outcome.DEFERRED, Outcome.SENT,
    ]  # fmt: skip
    assert 60 <= (first[0].retry_after or 0) <= 66
    assert 30 <= (second[0].retry_after or 0) <= 36
    assert sendgrid_fake.statuses == [429, 202], "nothing went out before the time"


def test_two_role_sets_in_one_batch_are_two_requests(sendgrid_fake: FakeSendGrid) -> None:
    sales, other = compiled_content(), compiled_content(html="<p>Other %%token%%</p>")
    backend = SendGridBackend(sendgrid_fake.api_key, sendgrid_fake.url)

    results = backend.send(
        [outgoing_message(1, "a@p.example", sales), outgoing_message(2, "b@p.example", other),
         outgoing_message(3, "c@p.example", sales)]
    )  # fmt: skip

    assert {r.message_id: r.outcome for r in results} == dict.fromkeys([1, 2, 3], Outcome.SENT)
    bodies = sendgrid_fake.requests()
    assert [len(b["personalizations"]) for b in bodies] == [2, 1]


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_timeout_leaves_the_request_in_doubt(
    world: World, sendgrid_fake: FakeSendGrid, status: int
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    sendgrid_fake.answer_next(status)

    world.send(edition_id, sendgrid(world, sendgrid_fake))

    (message,) = world.messages(edition_id).values()
    assert message.status is MessageStatus.UNKNOWN, "it may have reached SendGrid"
    assert sendgrid_fake.attempts == 1


def test_a_redirect_is_never_followed_with_the_key(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    with FakeSendGrid() as elsewhere:
        edition_id = world.newsletter_to("a@p.example")
        sendgrid_fake.answer_next(302, location=f"{elsewhere.url}/v3/mail/send")

        report = world.send(edition_id, sendgrid(world, sendgrid_fake))

        assert elsewhere.attempts == 0
    assert report.state is EditionState.PAUSED
    assert "302" in (report.reason or "")
    assert statuses(world, edition_id) == Counter({MessageStatus.QUEUED: 1})


def test_an_answer_other_than_202_is_not_taken_for_sent(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    sendgrid_fake.answer_next(200, body={"html": "a captive portal"})

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.PAUSED
    assert "answered 200, not SendGrid's 202" in (report.reason or "")
    assert statuses(world, edition_id) == Counter({MessageStatus.UNKNOWN: 1})


def test_custom_args_too_big_for_everyone_pause_instead_of_failing_all(
    sendgrid_fake: FakeSendGrid,
) -> None:
    huge = compiled_content(replace(SAMPLE_ENVELOPE, installation="i" * 10_000))
    backend = SendGridBackend(sendgrid_fake.api_key, sendgrid_fake.url)

    with pytest.raises(BackendBlocked, match="custom_args are 10,0"):
        backend.send([outgoing_message(1, "a@p.example", huge)])
    assert sendgrid_fake.attempts == 0


def test_a_400_refusing_every_contact_for_what_they_share_pauses(
    world: World, sendgrid_fake: FakeSendGrid
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    header_refused = {
        "errors": [
            {"field": f"personalizations.{i}.headers", "message": "Invalid header"} for i in (0, 1)
        ]
    }
    sendgrid_fake.answer_next(400, body=header_refused)

    report = world.send(edition_id, sendgrid(world, sendgrid_fake))

    assert report.state is EditionState.PAUSED
    assert statuses(world, edition_id) == Counter({MessageStatus.QUEUED: 2}), "no one failed"


def test_an_unexpected_failure_keeps_the_key_out_of_the_reason(
    sendgrid_fake: FakeSendGrid,
) -> None:
    # http.client refuses a header with a line break, quoting the whole value in its error.
    backend = SendGridBackend("SG.secret\nrest", sendgrid_fake.url)

    with pytest.raises(BackendBlocked) as caught:
        backend.send([outgoing_message(1, "a@p.example", compiled_content())])

    assert "sending to SendGrid failed unexpectedly: ValueError" in caught.value.reason
    assert "secret" not in caught.value.reason
    assert [r.outcome for r in caught.value.results] == [Outcome.UNKNOWN]
    assert "secret" not in caught.value.results[0].detail


class ScriptedTransport:
    """A transport that answers from a script and keeps every request it was handed."""

    def __init__(self, *script: HttpAnswer | TransportError) -> None:
        self.script = list(script)
        self.posts: list[tuple[str, dict[str, str], bytes, float]] = []

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpAnswer:
        self.posts.append((url, dict(headers), body, timeout))
        answer = self.script.pop(0)
        if isinstance(answer, TransportError):
            raise answer
        return answer


def test_a_transport_passed_in_carries_each_request_as_the_library_makes_it() -> None:
    transport = ScriptedTransport(HttpAnswer(202, headers={"x-message-id": "sg-1"}))
    backend = SendGridBackend(
        "SG.key", "https://api.eu.sendgrid.com", timeout=7, transport=transport
    )

    results = backend.send([outgoing_message(1, "a@p.example", compiled_content())])

    assert results == [DeliveryResult(1, Outcome.SENT, provider_message_id="sg-1")]
    [(url, headers, body, timeout)] = transport.posts
    assert url == "https://api.eu.sendgrid.com/v3/mail/send"
    assert headers["Authorization"] == "Bearer SG.key"
    assert headers["Content-Type"] == CONTENT_TYPE
    assert headers["User-Agent"].startswith("sendgrid/")
    assert timeout == 7
    (personalization,) = json.loads(body)["personalizations"]
    assert [to["email"] for to in personalization["to"]] == ["a@p.example"]


@pytest.mark.parametrize(
    ("failure", "outcome", "detail"),
    [
        (NotSentError("[Errno 111] Connection refused"), Outcome.DEFERRED,
         "cannot reach SendGrid at https://api.sendgrid.com: [Errno 111] Connection refused"),
        (NoAnswerError("TimeoutError: timed out"), Outcome.UNKNOWN,
         "no answer from SendGrid after the request was sent: TimeoutError: timed out"),
    ],
)  # fmt: skip
def test_a_transport_tells_a_request_that_never_left_from_one_whose_answer_was_lost(
    failure: TransportError, outcome: Outcome, detail: str
) -> None:
    backend = SendGridBackend(
        "SG.key", "https://api.sendgrid.com", transport=ScriptedTransport(failure)
    )

    (result,) = backend.send([outgoing_message(1, "a@p.example", compiled_content())])

    assert (result.outcome, result.detail) == (outcome, detail)
