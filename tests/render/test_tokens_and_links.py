"""Message tokens: signed, scoped by purpose, verifiable by every configured key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from commhub.render.links import LinkKind, message_link
from commhub.render.tokens import TokenPurpose, Tokens, message_tokens
from commhub.store.models import MAX_ID

KEY = "k" * 40
OLD_KEY = "o" * 40


def test_a_token_names_its_message_and_nothing_else_reads_it() -> None:
    token = message_tokens([KEY]).sign(42)
    assert message_tokens([KEY]).read(token) == 42
    assert message_tokens(["x" * 40]).read(token) is None
    assert Tokens([KEY], TokenPurpose.CALENDAR).read(token) is None
    payload, signature = token.split(".")
    altered = signature[1:] + ("A" if signature[0] != "A" else "B")
    assert message_tokens([KEY]).read(f"{payload}.{altered}") is None
    assert message_tokens([KEY]).read("NDM." + signature) is None  # "43" with 42's signature


def test_the_first_key_signs_and_every_key_verifies() -> None:
    old_token = message_tokens([OLD_KEY]).sign(7)
    rotated = message_tokens([KEY, OLD_KEY])
    assert rotated.read(old_token) == 7
    assert message_tokens([KEY]).read(rotated.sign(7)) == 7


@pytest.mark.parametrize("junk", ["", "preview", "a.b", "MA.xyz", "-1", "..."])
def test_junk_never_reads_as_a_message(junk: str) -> None:
    assert message_tokens([KEY]).read(junk) is None


def test_every_link_kind_has_its_path() -> None:
    base = "https://hub.example"
    assert message_link(base, LinkKind.OPEN, "T") == "https://hub.example/t/o/T.gif"
    assert message_link(base, LinkKind.CLICK, "T", 3) == "https://hub.example/t/c/T/3"
    assert message_link(base, LinkKind.VOTE_YES, "T", 3) == "https://hub.example/t/v/T/3/yes"
    assert message_link(base, LinkKind.VOTE_NO, "T", 3) == "https://hub.example/t/v/T/3/no"
    assert message_link(base, LinkKind.UNSUBSCRIBE, "T") == "https://hub.example/u/T"
    assert message_link(base, LinkKind.PREFERENCES, "T") == "https://hub.example/p/T"
    assert message_link(base, LinkKind.WEB_VERSION, "T") == "https://hub.example/w/T"
    with pytest.raises(ValueError, match="needs"):
        message_link(base, LinkKind.CLICK, "T")
    with pytest.raises(ValueError, match="takes no"):
        message_link(base, LinkKind.UNSUBSCRIBE, "T", 1)


@given(st.integers(min_value=1, max_value=2**63 - 1), st.sampled_from(list(TokenPurpose)))
def test_the_fast_signer_makes_exactly_the_tokens_itsdangerous_makes(
    object_id: int, purpose: TokenPurpose
) -> None:
    tokens = Tokens([KEY, OLD_KEY], purpose)
    reference = URLSafeSerializer([OLD_KEY, KEY], salt=f"commhub.{purpose.value}.v1")
    assert tokens.sign(object_id) == reference.dumps(object_id)
    assert tokens.read(tokens.sign(object_id)) == object_id


def test_signing_takes_the_direct_path_once_it_proved_identical(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = message_tokens([KEY])

    def unused(*_args: object) -> str:
        raise AssertionError("itsdangerous' dumps is the slow path")

    monkeypatch.setattr(tokens._serializer, "dumps", unused)
    assert message_tokens([KEY]).read(tokens.sign(42)) == 42


def test_a_token_names_only_an_id_a_row_can_have() -> None:
    tokens = message_tokens(["k" * 32])
    assert tokens.read(tokens.sign(MAX_ID)) == MAX_ID
    for beyond in (MAX_ID + 1, 2**64, 10**40):
        assert tokens.read(tokens.sign(beyond)) is None


def test_a_token_longer_than_any_commhub_signs_is_not_read() -> None:
    tokens = message_tokens(["k" * 32])
    genuine = tokens.sign(1)
    assert tokens.read(genuine + "=" * 300) is None
    assert tokens.read("a" * 100_000) is None
