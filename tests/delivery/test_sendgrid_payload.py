"""SendGrid request bodies: what SendGrid reads from them, and its limits kept by us."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commhub.delivery.backend import OutgoingMessage
from commhub.delivery.sendgrid_payload import (
    MAX_REQUEST_BYTES,
    EncodedPersonalization,
    LimitBroken,
    encode_personalization,
    pack,
    refused_personalizations,
    shared_body,
    too_large,
)
from tests.builders import SAMPLE_ENVELOPE, compiled_content, outgoing_message


def encoded(outgoing: OutgoingMessage) -> EncodedPersonalization:
    result = encode_personalization(outgoing, shared_body(outgoing.content))
    assert isinstance(result, EncodedPersonalization), result
    return result


def test_a_body_carries_the_content_once_and_each_contact_in_order() -> None:
    shared = compiled_content()
    parts = [encoded(outgoing_message(i, f"c{i}@p.example", shared, f"N<{i}>")) for i in (1, 2, 3)]
    (request,) = pack(shared_body(shared), parts)
    body = json.loads(request.body())
    assert body["from"] == {"email": "team@vendor.example", "name": "Partner Team"}
    assert body["reply_to"] == {"email": "help@vendor.example", "name": "Help"}
    assert body["subject"] == "News for %%first_name.raw%%"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["custom_args"] == {"commhub_edition_id": "4", "commhub_installation": "abc123"}
    assert body["tracking_settings"]["click_tracking"]["enable"] is False
    first, *_ = body["personalizations"]
    assert [p["to"][0]["email"] for p in body["personalizations"]] == [
        "c1@p.example",
        "c2@p.example",
        "c3@p.example",
    ]
    assert first["to"][0]["name"] == "N<1> Silva"
    # Only the tags the content uses, each form for its own part: escaped for HTML.
    assert first["substitutions"] == {
        "%%first_name.raw%%": "N<1>",
        "%%greeting_name%%": "N&lt;1&gt;",
        "%%greeting_name.raw%%": "N<1>",
        "%%token%%": "T1",
        "%%token.raw%%": "T1",
    }
    assert first["custom_args"] == {"commhub_message_id": "1"}
    assert first["headers"] == {
        "List-Unsubscribe": "<https://hub.example/u/T1>, "
        "<mailto:leave@vendor.example?subject=unsubscribe%20T1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert request.message_ids == [1, 2, 3]
    assert len(request.body()) == len(request.body().encode("utf-8")), "ASCII on the wire"


def test_the_1001st_contact_goes_in_a_second_request() -> None:
    shared = compiled_content()
    parts = [encoded(outgoing_message(i, f"c{i}@p.example", shared)) for i in range(1, 1002)]
    requests = list(pack(shared_body(shared), parts))
    assert [len(r.parts) for r in requests] == [1000, 1]
    assert requests[1].message_ids == [1001]
    assert len(json.loads(requests[0].body())["personalizations"]) == 1000


def test_an_address_twice_is_never_in_one_request() -> None:
    shared = compiled_content()
    parts = [
        encoded(outgoing_message(1, "ana@p.example", shared)),
        encoded(outgoing_message(2, "bob@p.example", shared)),
        encoded(outgoing_message(3, "ANA@p.example", shared)),  # SendGrid compares without case
    ]
    requests = list(pack(shared_body(shared), parts))
    assert [r.message_ids for r in requests] == [[1, 2], [3]]


def test_requests_stay_under_30_mb() -> None:
    shared = shared_body(compiled_content())
    part = EncodedPersonalization(0, "", json.dumps({"to": [{"email": "x"}], "p": "x" * 45_000}))
    parts = [replace(part, message_id=i, address_key=f"c{i}") for i in range(800)]
    requests = list(pack(shared, parts))
    assert len(requests) == 2
    assert all(len(r.body()) < MAX_REQUEST_BYTES for r in requests)
    assert sum(len(r.parts) for r in requests) == 800
    assert len(requests[0].body()) > MAX_REQUEST_BYTES - 50_000, "packed as full as it may be"


def test_oversize_substitutions_fail_that_contact_alone() -> None:
    shared = compiled_content()
    big = outgoing_message(9, "big@p.example", shared, first_name="é" * 9_000)
    broken = encode_personalization(big, shared_body(shared))
    assert isinstance(broken, LimitBroken)
    assert broken.message_id == 9
    # Three forms of a 9,000-letter name, two bytes each in UTF-8: 54,000-odd bytes.
    assert "bytes of substitutions; SendGrid takes under 50,000" in broken.reason
    assert encoded(outgoing_message(10, "ok@p.example", shared)).message_id == 10


def test_custom_args_over_the_limit_are_caught() -> None:
    # commhub's own arguments are ids; only an installation name this long breaks the limit.
    near = compiled_content(replace(SAMPLE_ENVELOPE, installation="i" * 9_930))
    broken = encode_personalization(outgoing_message(5, "ana@p.example", near), shared_body(near))
    assert isinstance(broken, LimitBroken)
    assert "custom_args of 10,0" in broken.reason
    assert "SendGrid takes under 10,000" in broken.reason
    # Over the limit for everyone: the request is refused before any contact is tried.
    huge = compiled_content(replace(SAMPLE_ENVELOPE, installation="i" * 10_000))
    assert "custom_args are 10,0" in (too_large(shared_body(huge)) or "")
    assert too_large(shared_body(compiled_content())) is None


def test_a_raw_tag_in_the_html_stays_text_for_sendgrid_to_leave_alone() -> None:
    shared = compiled_content(html="<p>Hi %%greeting_name%%, from an item: %%first_name.raw%%</p>")
    html = json.loads(shared_body(shared).before + "]}")["content"][1]["value"]
    assert "&#37;%first_name.raw%%" in html
    assert "%%greeting_name%%" in html
    part = json.loads(encoded(outgoing_message(1, "a@p.example", shared, "<b>x</b>")).json)
    filled = html
    for tag, value in part["substitutions"].items():
        filled = filled.replace(tag, value)
    assert "<b>x</b>" not in filled
    assert "Hi &lt;b&gt;x&lt;/b&gt;," in filled


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(max_size=40),
    partner=st.text(max_size=40),
    local=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1,
                  max_size=20),
)  # fmt: skip
def test_the_handwritten_json_is_what_json_dumps_would_write(
    name: str, partner: str, local: str
) -> None:
    shared = compiled_content()
    email = f"{local}@p.example"
    message = outgoing_message(3, email, shared, first_name=name)
    message = message._replace(values=message.values._replace(partner=partner))
    parsed = json.loads(encoded(message).json)
    full_name = f"{name} Silva"
    assert parsed == {
        "to": [{"email": email, "name": full_name}],
        "substitutions": message.values.substitutions(shared.substitution_plan),
        "custom_args": {"commhub_message_id": "3"},
        "headers": {
            "List-Unsubscribe": "<https://hub.example/u/T3>, "
            "<mailto:leave@vendor.example?subject=unsubscribe%20T3>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        (
            {
                "errors": [
                    {
                        "field": "personalizations.2.to.0.email",
                        "message": "Does not contain a valid address.",
                    }
                ]
            },
            {
                2: "SendGrid refused it: Does not contain a valid address. "
                "(personalizations.2.to.0.email)"
            },
        ),
        (
            {
                "errors": [
                    {"field": "personalizations.0.custom_args", "message": "too big"},
                    {"field": "personalizations.7", "message": "bad"},
                ]
            },
            {
                0: "SendGrid refused it: too big (personalizations.0.custom_args)",
                7: "SendGrid refused it: bad (personalizations.7)",
            },
        ),
        ({"errors": [{"field": "from.email", "message": "invalid"}]}, {}),
        ({"errors": [{"field": None, "message": "bad request"}]}, {}),
        ("not json at all", {}),
        ({"errors": "nope"}, {}),
    ],
)
def test_a_400_names_the_contacts_it_refuses(errors: object, expected: dict[int, str]) -> None:
    assert {i: r.reason for i, r in refused_personalizations(errors).items()} == expected
