from __future__ import annotations

import pytest

from commhub.contacts.users import create_user, find_user, verify_password
from commhub.errors import Conflict, InvalidInput
from commhub.store.db import session_scope
from commhub.store.models import UserRole
from commhub.wiring import Runtime

PASSWORD = "correct horse battery"


def test_users_are_stored_with_an_argon2_hash(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as session:
        create_user(session, "Editor@Example.com", UserRole.EDITOR, PASSWORD)
    with session_scope(runtime.sessions) as session:
        user = find_user(session, "editor@example.COM")
        assert user is not None
        assert user.role is UserRole.EDITOR
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert verify_password(user, PASSWORD)
        assert not verify_password(user, PASSWORD.upper())


def test_a_second_user_with_the_same_address_is_refused(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as session:
        create_user(session, "a@example.com", UserRole.VIEWER, PASSWORD)
    with pytest.raises(Conflict), session_scope(runtime.sessions) as session:
        create_user(session, "A@EXAMPLE.COM", UserRole.ADMIN, PASSWORD)


def test_short_passwords_and_bad_addresses_are_refused(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput) as raised, session_scope(runtime.sessions) as session:
        create_user(session, "nope", UserRole.VIEWER, "short")
    assert {p.field for p in raised.value.problems} == {"email", "password"}
