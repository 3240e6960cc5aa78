"""Every public endpoint, fed what an attacker or a broken client sends: a 4xx, never a 5xx,
and the database exactly as it was.

The endpoints behind a message's links (/u/, /p/, /w/, /t/), the calendar feed and
SendGrid's webhook, with forged, foreign, oversized and malformed tokens, link ids, form
fields and bodies; then a Hypothesis search over arbitrary text and bytes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from commhub.delivery.outbox import OutboxBackend
from commhub.render.tokens import FeedTokens, TokenPurpose, Tokens, message_tokens
from commhub.store.db import Base
from commhub.store.models import MAX_ID, Contact, ContactStatus, Event
from commhub.web import create_app
from commhub.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.builders import NOW, World
from tests.tracking.test_sendgrid_webhook import Signer, event, post

DEAL_URL = "https://partners.example/deal?sig=a%2Fb%3D&x=1+2&empty=#part"


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def sent(world: World, tmp_path: Path) -> World:
    """An edition sent to one contact (message 1), with one item (link 1)."""
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], title="Deal registration", url=DEAL_URL, priority=1)
    world.contact("ana@p.example", ["sales"])
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    return world


@pytest.fixture
def client(sent: World, signer: Signer) -> FlaskClient:
    settings_ = dataclasses.replace(
        sent.runtime.settings, sendgrid_webhook_public_key=signer.public_key
    )
    runtime = dataclasses.replace(sent.runtime, settings=settings_, clock=sent.clock)
    return create_app(runtime=runtime).test_client()


@pytest.fixture
def token(sent: World) -> str:
    return message_tokens(sent.runtime.settings.secret_keys).sign(1)


def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with world.session() as session:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in session.execute(select(table))), key=str
            )
            for table in Base.metadata.sorted_tables
        }


def malformed_tokens(world: World) -> list[str]:
    keys = world.runtime.settings.secret_keys
    signed = message_tokens(keys)
    return [
        "x",
        ".",
        "..",
        "a" * 5000,
        signed.sign(1)[:-2] + "AA",  # altered signature
        signed.sign(1).replace(".", ".."),
        signed.sign(2**63),  # genuine signature, an id no row can have
        signed.sign(2**70),
        signed.sign(MAX_ID),  # the largest id there can be, naming no message
        signed.sign(999),  # a message that does not exist
        message_tokens(["another installation's key, 32+ characters"]).sign(1),
        Tokens(keys, TokenPurpose.CALENDAR).sign(1),  # signed for another purpose
        FeedTokens(keys).sign("feed-name"),
        "ü",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "1 OR 1=1",
        "eyJhbGciOiJub25lIn0.e30.",
    ]


LINK_IDS = ["0", "2", "-1", "99999999999", str(2**64), str(10**100), "1.5", "١"]


def requests_for(token: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, form) of every public endpoint for one token."""
    form = {"roles": ["sales"], "formats": ["newsletter"], "pause": "0"}
    return [
        ("GET", f"/u/{token}", {}),
        ("POST", f"/u/{token}", {"List-Unsubscribe": "One-Click"}),
        ("GET", f"/p/{token}", {}),
        ("POST", f"/p/{token}", form),
        ("GET", f"/w/{token}", {}),
        ("GET", f"/t/o/{token}.gif", {}),
        ("GET", f"/t/c/{token}/1", {}),
        ("GET", f"/t/v/{token}/1/yes", {}),
        ("POST", f"/t/v/{token}/1/no", {}),
        ("GET", f"/calendar/{token}.ics", {}),
    ]


def assert_refused(client: FlaskClient, method: str, path: str, form: dict[str, Any]) -> int:
    response = client.open(path, method=method, data=form)
    assert response.status_code < 500, (method, path, response.status_code)
    return response.status_code


def test_malformed_tokens_get_a_4xx_and_change_nothing(client: FlaskClient, sent: World) -> None:
    before = snapshot(sent)
    for token in malformed_tokens(sent):
        for method, path, form in requests_for(token):
            assert assert_refused(client, method, path, form) in (400, 404, 405)
    assert snapshot(sent) == before


def test_malformed_link_ids_get_a_404_and_change_nothing(
    client: FlaskClient, sent: World, token: str
) -> None:
    before = snapshot(sent)
    for link_id in LINK_IDS:
        for method, path in (
            ("GET", f"/t/c/{token}/{link_id}"),
            ("GET", f"/t/v/{token}/{link_id}/yes"),
            ("POST", f"/t/v/{token}/{link_id}/yes"),
        ):
            assert assert_refused(client, method, path, {}) == 404
    assert snapshot(sent) == before


@pytest.mark.parametrize(
    "form",
    [
        {"roles": ["nobody"], "pause": "0"},
        {"roles": [], "pause": "0"},
        {"roles": ["sales"], "pause": "٣"},  # a digit int() reads, as no pause offered
        {"roles": ["sales"], "pause": "9" * 5000},  # past int()'s digit limit
        {"roles": ["sales"], "pause": "-30"},
        {"roles": ["sales"], "formats": ["fax"], "pause": "0"},
        {"roles": ["sales\x00"], "pause": "0"},
        {"roles": ["sales"] * 5000 + ["nobody"], "pause": "0"},
    ],
)
def test_a_preference_form_it_cannot_use_is_a_400_and_changes_nothing(
    client: FlaskClient, sent: World, token: str, form: dict[str, Any]
) -> None:
    before = snapshot(sent)
    assert client.post(f"/p/{token}", data=form).status_code == 400
    assert snapshot(sent) == before


def test_a_repeated_choice_counts_once(client: FlaskClient, sent: World, token: str) -> None:
    form = {"roles": ["sales", "sales"], "formats": ["newsletter"] * 3, "pause": "0"}
    assert client.post(f"/p/{token}", data=form).status_code == 200
    with sent.session() as session:
        [saved] = session.scalars(select(Event.data).where(Event.kind == "preferences"))
    assert saved["roles"] == ["sales"]
    assert saved["formats"] == ["newsletter"]


def test_choices_for_an_unsubscribed_contact_are_refused_with_the_reason(
    client: FlaskClient, sent: World, token: str
) -> None:
    with sent.session() as session:
        session.execute(Contact.__table__.update().values(status=ContactStatus.UNSUBSCRIBED))
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "unsubscribed from everything" in page
    before = snapshot(sent)
    response = client.post(f"/p/{token}", data={"roles": ["sales"], "pause": "0"})
    assert response.status_code == 400
    assert "would not be used" in response.get_data(as_text=True)
    assert snapshot(sent) == before


@pytest.mark.parametrize("path", ["/u/{t}", "/p/{t}", "/w/{t}", "/t/v/{t}/1/yes"])
def test_no_page_behind_a_token_can_be_framed(client: FlaskClient, token: str, path: str) -> None:
    response = client.get(path.format(t=token))
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_click_goes_to_the_stored_url_byte_for_byte(client: FlaskClient, token: str) -> None:
    location = client.get(f"/t/c/{token}/1").headers["Location"]
    stored, _, fragment = DEAL_URL.partition("#")
    assert location.startswith(stored + "&utm_source=commhub&utm_medium=email")
    assert location.endswith("#" + fragment)


def signed(client: FlaskClient, signer: Signer, body: bytes) -> Any:
    stamp = str(int(NOW.timestamp()))
    return client.post("/webhooks/sendgrid", data=body, headers=signer.headers(body, stamp))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),  # deeper than Python's parser goes
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400),
        (b"not json", 400),
        (b'{"event": "open"}', 400),  # an object, not a batch
        (b"", 400),
        # SendGrid's helper verifies text: bytes that are not UTF-8 carry no valid signature.
        (b"\xff\xfe\x00", 403),
    ],
)
def test_a_signed_body_that_is_no_batch_is_a_4xx_and_stores_nothing(
    client: FlaskClient, sent: World, signer: Signer, body: bytes, status: int
) -> None:
    before = snapshot(sent)
    assert signed(client, signer, body).status_code == status
    assert snapshot(sent) == before


def test_a_signed_batch_stores_its_good_events_and_counts_the_bad(
    client: FlaskClient, sent: World, signer: Signer
) -> None:
    good = event(sent, 1, "delivered", sg_event_id="good-1")
    bad = [
        {**good, "sg_event_id": "nan", "timestamp": float("nan")},
        {**good, "sg_event_id": "inf", "timestamp": float("inf")},
        {**good, "sg_event_id": "far", "timestamp": 1e300},
        {**good, "sg_event_id": "before", "timestamp": -1e20},
        {**good, "sg_event_id": "bool", "timestamp": True},
        {**good, "sg_event_id": "big", "commhub_message_id": str(2**63)},
        {**good, "sg_event_id": "huge", "commhub_message_id": "9" * 5000},
        {**good, "sg_event_id": "super", "commhub_message_id": "²"},
        {**good, "sg_event_id": "arabic", "commhub_message_id": "١"},
        {**good, "sg_event_id": "neg", "commhub_message_id": "-1"},
        {**good, "sg_event_id": "zero", "commhub_message_id": "0"},
        [1, 2, 3],
        "an event",
    ]
    odd_but_usable = [
        {**good, "sg_event_id": "nul\x00id", "event": "open"},  # an id no id looks like
        {**good, "sg_event_id": "nested", "event": "bounce", "reason": {"a": [[[[]]]]}},
        {**good, "sg_event_id": "nul-reason", "event": "dropped", "reason": "spam\x00" * 500},
    ]
    response = post(client, signer, [good, *bad, *odd_but_usable])
    assert response.status_code == 200
    report = response.get_json()
    assert report["stored"] == 4
    assert sum(report["ignored"].values()) == len(bad)
    with sent.session() as session:
        reasons = [r for (r,) in session.execute(text("SELECT data FROM events")) if r is not None]
    assert all("\\u0000" not in json.dumps(r) and "\x00" not in str(r) for r in reasons)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=300),
    link_id=st.integers(min_value=-(2**70), max_value=2**70),
)
def test_no_text_in_a_token_or_link_id_gives_a_5xx(
    client: FlaskClient, token: str, link_id: int
) -> None:
    for method, path, form in [
        *requests_for(token),
        ("GET", f"/t/c/{token}/{link_id}", {}),
        ("POST", f"/t/v/{token}/{link_id}/yes", {}),
    ]:
        assert_refused(client, method, path, form)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2000))
def test_no_bytes_posted_to_a_public_form_give_a_5xx(
    client: FlaskClient, token: str, body: bytes
) -> None:
    for path in (f"/p/{token}", f"/u/{token}", f"/t/v/{token}/1/yes", "/webhooks/sendgrid"):
        response = client.post(
            path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code < 500, (path, response.status_code)


HOSTILE_HEADERS: list[dict[str, str]] = [
    {"User-Agent": "x" * 20_000},
    {"User-Agent": "\x00\x1b[31m"},
    {"Content-Type": "multipart/form-data; boundary="},
    {"Content-Type": "multipart/form-data"},
    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-7"},
    {"Content-Type": "text/plain; charset=\x00"},
    {"Accept": "application/json;q=NaN"},
    {"Accept-Language": "*;q=2" * 1000},
    {SIGNATURE_HEADER: "%%%", TIMESTAMP_HEADER: "²"},
    {SIGNATURE_HEADER: "AAAA", TIMESTAMP_HEADER: "9" * 5000},
    {SIGNATURE_HEADER: "", TIMESTAMP_HEADER: ""},
]  # fmt: skip


def test_hostile_headers_get_no_5xx_and_change_nothing(
    client: FlaskClient, sent: World, token: str
) -> None:
    before = snapshot(sent)
    forged = malformed_tokens(sent)[4]
    for headers in HOSTILE_HEADERS:
        for method, path, form in [*requests_for(forged), ("POST", "/webhooks/sendgrid", {})]:
            response = client.open(path, method=method, data=form or b"[]", headers=headers)
            assert response.status_code < 500, (path, headers, response.status_code)
    assert snapshot(sent) == before
