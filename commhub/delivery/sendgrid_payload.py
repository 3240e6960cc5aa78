"""SendGrid v3 Mail Send request bodies: one per role set and up to 1,000 contacts, within
SendGrid's documented limits, which the official library leaves to its caller.

A body carries the role set's compiled subject, text and HTML once, with their placeholders
left in, and one personalization per contact: the address, the substitutions for the tags
the content uses, our ids as custom_args and the contact's own List-Unsubscribe headers.
Each personalization is encoded to JSON once, on its own, so that its size is known
exactly before it is packed and the body is a join of ready strings. The library's helper
classes are not used: Mail.add_personalization prepends, and the order of the
personalizations must be ours, since a 400 names the refused ones by their index.

Limits (https://www.twilio.com/docs/sendgrid/api-reference/mail-send):
- at most 1,000 personalizations and 1,000 recipients per request (one recipient each here);
- each address once per request, case-insensitively: a second one waits for the next;
- custom_args under 10,000 bytes and substitutions under 50,000 bytes per personalization:
  a contact whose values break them fails alone, with the reason;
- the whole request under 30 MB.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from commhub.delivery.backend import MessageContent, OutgoingMessage
from commhub.render import LIST_UNSUBSCRIBE_POST, inert_raw_tags, list_unsubscribe

MAX_PERSONALIZATIONS = 1000
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_SUBSTITUTIONS_BYTES = 50_000
MAX_REQUEST_BYTES = 30_000_000  # "30 MB": the smaller reading
# Keys of the custom_args every message carries; provider events come back with them.
MESSAGE_ARG = "commhub_message_id"
EDITION_ARG = "commhub_edition_id"
INSTALLATION_ARG = "commhub_installation"

# ASCII-only output: the length of a string is its size in bytes on the wire.
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False).encode
# A string as a JSON string literal, quotes included (the C encoder's own helper).
_json_string = json.encoder.encode_basestring_ascii
_PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\b")


@dataclass(frozen=True, slots=True)
class EncodedPersonalization:
    """One contact's personalization, ready to join into a request body."""

    message_id: int
    address_key: str  # the address as SendGrid compares it (case-insensitively)
    json: str


@dataclass(frozen=True, slots=True)
class LimitBroken:
    """A contact whose personalization SendGrid would refuse; it fails alone."""

    message_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class SharedBody:
    """What every request of one role set carries: the body around its personalizations."""

    before: str
    after: str
    custom_args: dict[str, str]  # merged by SendGrid into each personalization's own
    custom_args_size: int

    @property
    def size(self) -> int:
        return len(self.before) + len(self.after)


@dataclass(frozen=True, slots=True)
class MailRequest:
    """One request's body and the messages it carries, in personalization order."""

    shared: SharedBody
    parts: tuple[EncodedPersonalization, ...]

    @property
    def message_ids(self) -> list[int]:
        return [part.message_id for part in self.parts]

    def body(self) -> str:
        personalizations = ",".join(part.json for part in self.parts)
        return f"{self.shared.before}{personalizations}{self.shared.after}"

    def without(self, message_ids: Iterable[int]) -> MailRequest:
        """The same request with some personalizations taken out."""
        dropped = set(message_ids)
        return MailRequest(self.shared, tuple(p for p in self.parts if p.message_id not in dropped))


def shared_body(content: MessageContent) -> SharedBody:
    """The role set's request body with a gap for the personalizations."""
    envelope = content.envelope
    compiled = content.compiled
    custom_args = _shared_custom_args(content)
    body: dict[str, object] = {
        "from": _mailbox(envelope.sender.name, envelope.sender.address),
        "subject": compiled.subject.source(),
        "content": [
            {"type": "text/plain", "value": compiled.text.source()},
            # SendGrid fills every tag in every part; a raw tag in the HTML (from an item's
            # text, say) must stay text, as it does when commhub fills the parts itself.
            {"type": "text/html", "value": inert_raw_tags(compiled.html.source())},
        ],
        "custom_args": custom_args,
        # commhub tracks opens and clicks through its own signed links and handles
        # unsubscribes itself: SendGrid must neither rewrite the links nor add a footer.
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "open_tracking": {"enable": False},
            "subscription_tracking": {"enable": False},
        },
    }
    if envelope.reply_to is not None:
        body["reply_to"] = _mailbox(envelope.reply_to.name, envelope.reply_to.address)
    body["personalizations"] = []
    before, _, after = _encode(body).rpartition('"personalizations":[]')
    return SharedBody(
        before + '"personalizations":[', "]" + after, custom_args, len(_encode(custom_args))
    )


def encode_personalization(
    message: OutgoingMessage, shared: SharedBody
) -> EncodedPersonalization | LimitBroken:
    """The contact's personalization, or why SendGrid would refuse it.

    This runs once per contact, so the JSON is written from ready-encoded strings rather than
    through nested dicts and the generic encoder (the tests parse it back).
    """
    recipient = message.recipient
    substitutions = message.values.substitutions(message.content.substitution_plan)
    substitutions_json = ",".join(
        [f"{_json_string(tag)}:{_json_string(value)}" for tag, value in substitutions.items()]
    )
    unsubscribe = _json_string(list_unsubscribe(message.content.envelope, recipient))
    encoded = (
        f'{{"to":[{_encode(_mailbox(recipient.name, recipient.address))}],'
        f'"substitutions":{{{substitutions_json}}},'
        # Only what differs from the request's own custom_args (SendGrid merges the two).
        f'"custom_args":{{"{MESSAGE_ARG}":"{recipient.message_id}"}},'
        f'"headers":{{"List-Unsubscribe":{unsubscribe},'
        f'"List-Unsubscribe-Post":"{LIST_UNSUBSCRIBE_POST}"}}}}'
    )
    # JSON never takes fewer bytes than UTF-8, so a small personalization keeps every
    # limit and only a large one is measured.
    if len(encoded) + shared.custom_args_size >= MAX_CUSTOM_ARGS_BYTES:
        problem = _limit_problem(substitutions, recipient.message_id, shared)
        if problem:
            return LimitBroken(recipient.message_id, problem)
        if shared.size + len(encoded) >= MAX_REQUEST_BYTES:
            return LimitBroken(
                recipient.message_id,
                f"the request would be over SendGrid's {MAX_REQUEST_BYTES:,} bytes with it alone",
            )
    return EncodedPersonalization(recipient.message_id, recipient.address.casefold(), encoded)


def _limit_problem(
    substitutions: Mapping[str, str], message_id: int, shared: SharedBody
) -> str | None:
    size = sum(_utf8_size(tag) + _utf8_size(value) for tag, value in substitutions.items())
    if size >= MAX_SUBSTITUTIONS_BYTES:
        return (
            f"the contact's values make {size:,} bytes of substitutions; "
            f"SendGrid takes under {MAX_SUBSTITUTIONS_BYTES:,}"
        )
    custom_args = {**shared.custom_args, MESSAGE_ARG: str(message_id)}
    size = len(_encode(custom_args))
    if size >= MAX_CUSTOM_ARGS_BYTES:
        return f"custom_args of {size:,} bytes; SendGrid takes under {MAX_CUSTOM_ARGS_BYTES:,}"
    return None


def pack(shared: SharedBody, parts: Sequence[EncodedPersonalization]) -> Iterator[MailRequest]:
    """Requests for one role set's personalizations, in order, each within the limits.

    A personalization whose address the current request already carries starts a new one,
    so a duplicate is sent too, just never twice in one request.
    """
    current: list[EncodedPersonalization] = []
    addresses: set[str] = set()
    size = shared.size
    for part in parts:
        grown = size + len(part.json) + (1 if current else 0)
        if current and (
            len(current) >= MAX_PERSONALIZATIONS
            or part.address_key in addresses
            or grown >= MAX_REQUEST_BYTES
        ):
            yield MailRequest(shared, tuple(current))
            current, addresses = [], set()
            grown = shared.size + len(part.json)
        current.append(part)
        addresses.add(part.address_key)
        size = grown
    if current:
        yield MailRequest(shared, tuple(current))


def too_large(shared: SharedBody) -> str | None:
    """Why SendGrid would refuse a role set's request whoever it went to, if it would."""
    if shared.size >= MAX_REQUEST_BYTES:
        return f"the message is {shared.size:,} bytes; SendGrid takes under {MAX_REQUEST_BYTES:,}"
    if shared.custom_args_size >= MAX_CUSTOM_ARGS_BYTES:
        return (
            f"its custom_args are {shared.custom_args_size:,} bytes; "
            f"SendGrid takes under {MAX_CUSTOM_ARGS_BYTES:,}"
        )
    return None


class Refusal(NamedTuple):
    """What a 400 says about one personalization."""

    field: str  # personalizations.3.to.0.email
    message: str

    @property
    def reason(self) -> str:
        return f"SendGrid refused it: {self.message} ({self.field})"


def refused_personalizations(errors: object) -> dict[int, Refusal]:
    """The personalizations a 400's error body names, by index (the first error of each)."""
    found: dict[int, Refusal] = {}
    if not isinstance(errors, Mapping) or not isinstance(errors.get("errors"), list):
        return found
    for error in errors["errors"]:
        if not isinstance(error, Mapping):
            continue
        field, message = str(error.get("field") or ""), str(error.get("message") or "")
        match = _PERSONALIZATION_FIELD.match(field)
        if match:
            found.setdefault(int(match.group(1)), Refusal(field, message))
    return found


def describe_errors(errors: object) -> str:
    """SendGrid's error body as one line for an alert."""
    if isinstance(errors, Mapping) and isinstance(errors.get("errors"), list):
        texts = [
            f"{e.get('message')}" + (f" ({e['field']})" if e.get("field") else "")
            for e in errors["errors"]
            if isinstance(e, Mapping)
        ]
        if texts:
            return "; ".join(texts)[:500]
    return str(errors)[:500]


def _shared_custom_args(content: MessageContent) -> dict[str, str]:
    return {
        EDITION_ARG: str(content.edition_id),
        INSTALLATION_ARG: content.envelope.installation,
    }


def _mailbox(name: str, address: str) -> dict[str, str]:
    return {"email": address, "name": name} if name else {"email": address}


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))
