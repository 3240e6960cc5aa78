"""The fake SendGrid answers the official `sendgrid` library as SendGrid documents."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from python_http_client.exceptions import (
    BadRequestsError,
    HTTPError,
    InternalServerError,
    TooManyRequestsError,
    UnauthorizedError,
)
from sendgrid import SendGridAPIClient

from tests.sendgrid_fake import MAX_BODY_BYTES, FakeSendGrid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as server:
        yield server


def client_for(fake: FakeSendGrid, api_key: str | None = None) -> Any:
    return SendGridAPIClient(api_key or fake.api_key, host=fake.url)


def send(fake: FakeSendGrid, body: dict[str, Any], **kwargs: Any) -> Any:
    return client_for(fake).client.mail.send.post(request_body=body, **kwargs)


def rejection(fake: FakeSendGrid, body: dict[str, Any]) -> HTTPError:
    with pytest.raises(HTTPError) as caught:
        send(fake, body)
    return caught.value


def fields(exc: HTTPError) -> list[str | None]:
    return [e["field"] for e in json.loads(exc.body)["errors"]]


def mail(*addresses: str, **extra: Any) -> dict[str, Any]:
    """A valid message with one personalization per address."""
    return {
        "personalizations": [{"to": [{"email": a, "name": "Someone"}]} for a in addresses],
        "from": {"email": "news@example.org", "name": "News"},
        "subject": "Hello",
        "content": [
            {"type": "text/plain", "value": "Hi"},
            {"type": "text/html", "value": "<p>Hi</p>"},
        ],
        **extra,
    }


def test_a_valid_message_is_accepted_with_a_message_id_and_recorded(fake: FakeSendGrid) -> None:
    first = send(fake, mail("ann@example.com", "bob@example.com"))
    second = send(fake, mail("Ann@Example.com"))

    assert (first.status_code, first.body) == (202, b"")
    ids = [first.headers["X-Message-Id"], second.headers["X-Message-Id"]]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    assert ids[0] != ids[1]
    assert fake.message_ids() == ids
    assert fake.requests() == [mail("ann@example.com", "bob@example.com"), mail("Ann@Example.com")]
    assert fake.counts() == {"ann@example.com": 2, "bob@example.com": 1}
    assert [p["to"][0]["email"] for p in fake.personalizations()] == [
        "ann@example.com",
        "bob@example.com",
        "Ann@Example.com",
    ]
    assert (fake.attempts, fake.statuses) == (2, [202, 202])


def test_a_wrong_or_missing_key_is_refused_with_401(fake: FakeSendGrid) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        client_for(fake, "SG.other").client.mail.send.post(request_body=mail("a@example.com"))
    assert caught.value.status_code == 401
    assert json.loads(caught.value.body) == {
        "errors": [
            {
                "message": "The provided authorization grant is invalid, expired, or revoked",
                "field": None,
                "help": None,
            }
        ]
    }
    body = json.dumps(mail("a@example.com")).encode()
    assert raw_request(fake, "POST", body=body, authorize=False)[0] == 401
    assert (fake.requests(), fake.statuses) == ([], [401, 401])


def test_more_than_1000_personalizations_are_refused(fake: FakeSendGrid) -> None:
    exc = rejection(fake, mail(*(f"user{i}@example.com" for i in range(1001))))

    assert isinstance(exc, BadRequestsError)
    messages = {e["message"]: e["field"] for e in json.loads(exc.body)["errors"]}
    assert messages == {
        "The personalization block is limited to 1000 personalizations per API request. "
        "You have provided 1001 personalizations. Please consider splitting this into "
        "multiple requests and resending your request.": "personalizations",
        "There is a limit of 1000 total recipients (to + cc + bcc) per request.": (
            "personalizations"
        ),
    }
    assert fake.requests() == []
    assert send(fake, mail(*(f"user{i}@example.com" for i in range(1000)))).status_code == 202


def test_an_address_twice_is_refused_at_its_second_occurrence(fake: FakeSendGrid) -> None:
    body = mail("ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com")
    body["personalizations"][3]["bcc"] = [{"email": "BOB@example.com"}]

    exc = rejection(fake, body)

    [problem] = json.loads(exc.body)["errors"]
    assert problem["field"] == "personalizations.3.bcc.0.email"
    assert problem["message"] == (
        "Each unique email address in the personalizations array should only be included "
        "once. You have included BOB@example.com more than once."
    )


def test_custom_args_merged_must_stay_under_10000_bytes(fake: FakeSendGrid) -> None:
    def body(size: int) -> dict[str, Any]:
        """Merged custom_args of `size` bytes as compact JSON in UTF-8 (é takes 2)."""
        message = mail("ann@example.com", "bob@example.com", custom_args={"edition": "7"})
        value = size - len('{"edition":"7","x":""}')
        message["personalizations"][1]["custom_args"] = {
            "x": "é" * (value // 2) + "a" * (value % 2)
        }
        return message

    exc = rejection(fake, body(10_000))
    assert fields(exc) == ["personalizations.1.custom_args"]
    assert "may not exceed 10,000 bytes" in json.loads(exc.body)["errors"][0]["message"]
    assert send(fake, body(9_999)).status_code == 202


def test_substitutions_must_stay_under_50000_bytes(fake: FakeSendGrid) -> None:
    def body(size: int) -> dict[str, Any]:
        message = mail("ann@example.com")
        message["personalizations"][0]["substitutions"] = {"-name-": "x" * (size - 6)}
        return message

    exc = rejection(fake, body(50_000))
    assert fields(exc) == ["personalizations.0.substitutions"]
    assert send(fake, body(49_999)).status_code == 202


def test_every_problem_is_reported_at_once(fake: FakeSendGrid) -> None:
    body = mail("not-an-address", headers={"Reply-To": "x@example.com", "X-Count": 3})
    body["from"] = {"email": "news@"}
    del body["subject"]
    body["content"].reverse()
    body["personalizations"][0]["custom_args"] = {"n": 1}

    exc = rejection(fake, body)

    assert fields(exc) == [
        "personalizations.0.to.0.email",
        "personalizations.0.custom_args",
        "from.email",
        "subject",
        "content.1.value",
        "headers",
        "headers",
    ]
    assert json.loads(exc.body)["errors"][0] == {
        "message": "Does not contain a valid address.",
        "field": "personalizations.0.to.0.email",
        "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
        "#message.personalizations.to",
    }


def test_a_rejected_address_is_refused_as_invalid(fake: FakeSendGrid) -> None:
    fake.reject_address("Bob@Example.com", "The recipient bounced.")

    exc = rejection(fake, mail("ann@example.com", "bob@example.com"))

    assert json.loads(exc.body)["errors"] == [
        {
            "message": "The recipient bounced.",
            "field": "personalizations.1.to.0.email",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
            "#message.personalizations.to",
        }
    ]
    assert fake.counts() == {}


def test_a_scripted_429_carries_retry_after_and_rate_limit_headers(fake: FakeSendGrid) -> None:
    fake.answer_next(429, retry_after=1.2, rate_limit_reset=1_700_000_000.5)

    with pytest.raises(TooManyRequestsError) as caught:
        send(fake, mail("ann@example.com"))

    exc = caught.value
    assert exc.headers["Retry-After"] == "2"
    assert exc.headers["X-RateLimit-Remaining"] == "0"
    assert exc.headers["X-RateLimit-Reset"] == "1700000001"
    assert json.loads(exc.body)["errors"][0]["message"] == "too many requests"
    assert fake.requests() == []
    assert send(fake, mail("ann@example.com")).status_code == 202  # only the next one
    assert fake.statuses == [429, 202]


def test_scripted_500_and_202(fake: FakeSendGrid) -> None:
    fake.answer_next(500, times=2)
    fake.answer_next(202)

    for _ in range(2):
        with pytest.raises(InternalServerError) as caught:
            send(fake, mail("ann@example.com"))
        assert json.loads(caught.value.body)["errors"][0]["field"] is None
    accepted = send(fake, {"scripted": True})

    assert accepted.status_code == 202
    assert accepted.headers["X-Message-Id"]
    assert fake.requests() == [{"scripted": True}]
    assert fake.statuses == [500, 500, 202]


def test_a_hung_request_is_recorded_and_does_not_block_others(fake: FakeSendGrid) -> None:
    fake.hang_next()
    client = client_for(fake)
    client.client.timeout = 0.3

    with pytest.raises(TimeoutError):
        client.client.mail.send.post(request_body=mail("ann@example.com"))

    assert fake.counts() == {"ann@example.com": 1}  # SendGrid may well have taken it
    assert fake.message_ids() == [None]
    assert send(fake, mail("bob@example.com")).status_code == 202  # still hanging, not blocking
    fake.release()
    assert send(fake, mail("cat@example.com")).status_code == 202
    assert (fake.attempts, fake.statuses) == (3, [202, 202])


def test_stop_closes_a_hung_connection_without_an_answer() -> None:
    fake = FakeSendGrid().start()
    fake.hang_next()
    host, port = fake.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("POST", "/v3/mail/send", body=b"{}", headers=auth(fake))
    time.sleep(0.05)

    started = time.perf_counter()
    fake.stop()

    assert time.perf_counter() - started < 1
    with pytest.raises(http.client.RemoteDisconnected):
        connection.getresponse()


def test_slow_down_delays_each_answer(fake: FakeSendGrid) -> None:
    fake.slow_down(0.1)
    started = time.perf_counter()
    send(fake, mail("ann@example.com"))
    assert time.perf_counter() - started >= 0.1


def test_an_oversize_body_is_refused_with_413_unread(fake: FakeSendGrid) -> None:
    host, port = fake.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.putrequest("POST", "/v3/mail/send")
    for name, value in auth(fake).items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()  # and no body: the fake must answer on the header alone

    response = connection.getresponse()

    assert response.status == 413
    assert json.loads(response.read())["errors"][0]["message"] == (
        "The JSON payload you have included in your request is too large."
    )
    connection.close()
    assert (fake.attempts, fake.requests()) == (1, [])


def test_wrong_path_method_media_type_and_body(fake: FakeSendGrid) -> None:
    body = json.dumps(mail("ann@example.com")).encode()
    assert raw_request(fake, "POST", "/v3/mail/sendx", body)[0] == 404
    assert raw_request(fake, "GET", "/v3/mail/send")[:2] == (405, {"Allow": "POST"})
    assert raw_request(fake, "POST", body=body, content_type="text/plain")[0] == 415
    status, _, answer = raw_request(fake, "POST", body=b"\xff{}")
    assert (status, answer["errors"][0]["message"]) == (415, "Invalid UTF8 in request")
    status, _, answer = raw_request(fake, "POST", body=b'{"personalizations": [')
    assert status == 400
    assert "not valid JSON" in answer["errors"][0]["message"]
    ok = raw_request(fake, "POST", body=body, content_type="application/json; charset=utf-8")
    assert ok[0] == 202
    assert fake.statuses == [404, 405, 415, 415, 400, 202]


def test_runs_as_a_process_until_sigterm() -> None:
    command = [sys.executable, "-m", "tests.sendgrid_fake", "--api-key", "SG.bench"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            client = SendGridAPIClient("SG.bench", host=url)
            response = client.client.mail.send.post(request_body=mail("a@example.com"))
            assert response.status_code == 202
        finally:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0


def auth(fake: FakeSendGrid) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}", "Content-Type": "application/json"}


def raw_request(
    fake: FakeSendGrid,
    method: str,
    path: str = "/v3/mail/send",
    body: bytes | None = None,
    content_type: str = "application/json",
    *,
    authorize: bool = True,
) -> tuple[int, dict[str, str], Any]:
    """Send one request with http.client: status, the Allow header if any, parsed body."""
    host, port = fake.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {**auth(fake), "Content-Type": content_type}
    if not authorize:
        del headers["Authorization"]
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    allow = {"Allow": response.headers["Allow"]} if response.headers["Allow"] else {}
    return response.status, allow, json.loads(data) if data else None
