"""SendGrid's Event Webhook: signed batches only, each event stored once, states forward only.

Batches are signed here as SendGrid signs them (ECDSA P-256 over timestamp + raw body) with
a key made for the test; the endpoint verifies with the sendgrid library's own helper.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.errors import SettingsError
from commhub.store.models import Contact, ContactStatus, Event, Message, MessageStatus
from commhub.web import create_app
from commhub.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.builders import NOW, World


class Signer:
    """SendGrid's side: a key pair, and batches signed with it."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: str) -> dict[str, str]:
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: timestamp,
            "Content-Type": "application/json",
        }


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def sent(world: World, tmp_path: Path) -> dict[str, int]:
    """An edition sent to two contacts; their message ids by address."""
    edition_id = world.newsletter_to("ana@partner.example", "ben@partner.example")
    world.send(edition_id, OutboxBackend(tmp_path))
    return {address: m.id for address, m in world.messages(edition_id).items()}


def client_for(world: World, public_key: str | None) -> FlaskClient:
    settings = dataclasses.replace(world.runtime.settings, sendgrid_webhook_public_key=public_key)
    runtime = dataclasses.replace(world.runtime, settings=settings, clock=world.clock)
    return create_app(runtime=runtime).test_client()


def event(world: World, message_id: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "email": "someone@partner.example",
        "timestamp": int(NOW.timestamp()) - 60,
        "event": kind,
        "sg_event_id": f"{kind}-{message_id}",
        "sg_message_id": "abc.filter0001",
        "commhub_message_id": str(message_id),
        "commhub_installation": installation_id(world.runtime.settings.secret_key),
        **fields,
    }


def post(
    client: FlaskClient, signer: Signer, events: list[dict[str, Any]], *, at: int | None = None
) -> Any:
    body = json.dumps(events).encode()
    timestamp = str(at if at is not None else int(NOW.timestamp()))
    return client.post("/webhooks/sendgrid", data=body, headers=signer.headers(body, timestamp))


def stored_events(world: World) -> int:
    with world.session() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def status_of(world: World, message_id: int) -> MessageStatus:
    with world.session() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message.status


def test_a_signed_batch_is_stored_once_and_sent_again_changes_nothing(
    world: World, signer: Signer, sent: dict[str, int]
) -> None:
    client = client_for(world, signer.public_key)
    batch = [event(world, mid, "delivered") for mid in sent.values()]
    batch.append(event(world, sent["ana@partner.example"], "open"))

    first = post(client, signer, batch)
    assert first.status_code == 200
    assert first.json["stored"] == 3
    again = post(client, signer, batch)
    assert again.status_code == 200
    assert (again.json["stored"], again.json["duplicates"]) == (0, 3)
    assert stored_events(world) == 3


def test_events_without_an_id_are_deduplicated_by_message_kind_and_time(
    world: World, signer: Signer, sent: dict[str, int]
) -> None:
    client = client_for(world, signer.public_key)
    batch = [event(world, sent["ana@partner.example"], "open", sg_event_id=None)]
    assert post(client, signer, batch).json["stored"] == 1
    assert post(client, signer, batch).json["duplicates"] == 1
    later = [{**batch[0], "timestamp": batch[0]["timestamp"] + 1}]
    assert post(client, signer, later).json["stored"] == 1


@pytest.mark.parametrize(
    "forgery",
    ["tampered body", "re-serialised JSON", "wrong key", "old", "future", "no signature"],
)
def test_a_batch_not_signed_by_sendgrid_just_now_is_refused_and_nothing_stored(
    world: World, signer: Signer, sent: dict[str, int], forgery: str
) -> None:
    client = client_for(world, signer.public_key)
    events = [event(world, sent["ana@partner.example"], "bounce", type="bounce")]
    body = json.dumps(events).encode()
    now = int(NOW.timestamp())
    headers = signer.headers(body, str(now))
    if forgery == "tampered body":
        body = body.replace(b'"bounce"', b'"bouncd"', 1)
    elif forgery == "re-serialised JSON":
        body = json.dumps(events, indent=1).encode()
    elif forgery == "wrong key":
        headers = Signer().headers(body, str(now))
    elif forgery == "old":
        headers = signer.headers(body, str(now - 301))
    elif forgery == "future":
        headers = signer.headers(body, str(now + 301))
    else:
        del headers[SIGNATURE_HEADER]
    answer = client.post("/webhooks/sendgrid", data=body, headers=headers)
    assert answer.status_code == 403
    assert stored_events(world) == 0
    assert status_of(world, sent["ana@partner.example"]) is MessageStatus.SENT


def test_delivered_resolves_a_message_in_doubt(
    world: World, signer: Signer, sent: dict[str, int]
) -> None:
    mid = sent["ana@partner.example"]
    with world.session() as session:
        session.execute(
            update(Message).where(Message.id == mid).values(status=MessageStatus.UNKNOWN)
        )
    answer = post(client_for(world, signer.public_key), signer, [event(world, mid, "delivered")])
    assert answer.json["resolved"] == 1
    assert status_of(world, mid) is MessageStatus.SENT


def test_a_hard_bounce_fails_the_message_suppresses_the_contact_and_stays(
    world: World, signer: Signer, sent: dict[str, int]
) -> None:
    client = client_for(world, signer.public_key)
    mid = sent["ana@partner.example"]
    bounce = event(world, mid, "bounce", type="bounce", reason="550 5.1.1 no such user")
    answer = post(client, signer, [bounce])
    assert (answer.json["failed"], answer.json["suppressed"]) == (1, 1)
    # A delivered that arrives later (out of order) does not undo the bounce.
    late = event(world, mid, "delivered", timestamp=bounce["timestamp"] + 5)
    assert post(client, signer, [late]).json["resolved"] == 0
    with world.session() as session:
        message = session.get(Message, mid)
        contact = session.scalar(select(Contact).where(Contact.email == "ana@partner.example"))
        assert message is not None
        assert contact is not None
        assert (message.status, message.last_error) == (
            MessageStatus.FAILED, "bounce: 550 5.1.1 no such user",
        )  # fmt: skip
        assert contact.status is ContactStatus.BOUNCED


@pytest.mark.parametrize(
    ("kind", "fields", "status"),
    [
        ("spamreport", {}, ContactStatus.COMPLAINED),
        ("unsubscribe", {}, ContactStatus.UNSUBSCRIBED),
        ("group_unsubscribe", {}, ContactStatus.UNSUBSCRIBED),
        ("bounce", {"type": "blocked"}, ContactStatus.ACTIVE),  # refused for now: no suppression
    ],
)
def test_complaints_and_unsubscribes_suppress_at_once(
    world: World,
    signer: Signer,
    sent: dict[str, int],
    kind: str,
    fields: dict[str, str],
    status: ContactStatus,
) -> None:
    mid = sent["ben@partner.example"]
    post(client_for(world, signer.public_key), signer, [event(world, mid, kind, **fields)])
    with world.session() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "ben@partner.example"))
        assert contact is not None
        assert contact.status is status


def test_events_of_another_installation_or_of_no_message_are_ignored(
    world: World, signer: Signer, sent: dict[str, int]
) -> None:
    mid = sent["ana@partner.example"]
    batch = [
        event(world, mid, "open", commhub_installation="someone-else"),
        event(world, mid, "open", commhub_message_id=None, sg_event_id="x"),
        event(world, 999_999, "open"),
        event(world, mid, "made_up_event"),
        "not an object",
    ]
    answer = post(client_for(world, signer.public_key), signer, batch)
    assert answer.status_code == 200
    assert answer.json["stored"] == 0
    assert sum(answer.json["ignored"].values()) == 5
    assert stored_events(world) == 0


def test_without_a_key_the_webhook_is_off(world: World, signer: Signer) -> None:
    answer = post(client_for(world, None), signer, [])
    assert answer.status_code == 404


def test_a_key_that_is_not_a_key_stops_the_app_with_the_setting_named(world: World) -> None:
    with pytest.raises(SettingsError, match="COMMHUB_SENDGRID_WEBHOOK_PUBLIC_KEY"):
        client_for(world, "not-a-key")


def test_a_body_that_is_not_json_is_a_400_after_the_signature(world: World, signer: Signer) -> None:
    client = client_for(world, signer.public_key)
    body = b"{not json"
    headers = signer.headers(body, str(int(NOW.timestamp())))
    assert client.post("/webhooks/sendgrid", data=body, headers=headers).status_code == 400


def test_the_window_is_a_setting(world: World, signer: Signer, sent: dict[str, int]) -> None:
    settings = dataclasses.replace(
        world.runtime.settings,
        sendgrid_webhook_public_key=signer.public_key,
        sendgrid_webhook_window=3600,
    )
    runtime = dataclasses.replace(world.runtime, settings=settings, clock=world.clock)
    client = create_app(runtime=runtime).test_client()
    old = int((NOW - timedelta(minutes=30)).timestamp())
    assert post(client, signer, [], at=old).status_code == 200


def test_a_batch_over_two_megabytes_is_taken_whole(
    world: World, signer: Signer, sent: dict[str, int]
) -> None:
    mid = sent["ana@partner.example"]
    batch = [
        event(world, mid, "open", sg_event_id=f"open-{n}", useragent="Mozilla/5.0 " * 100)
        for n in range(1_700)
    ]
    assert len(json.dumps(batch)) > 2_000_000
    answer = post(client_for(world, signer.public_key), signer, batch)
    assert answer.status_code == 200
    assert answer.json["stored"] == 1_700
