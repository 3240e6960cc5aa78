"""Staff accounts: create, verify passwords. Passwords are hashed with Argon2id."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from commhub.errors import Conflict, InvalidInput, Problem
from commhub.store import AuditAction, User, UserRole, acting_as, email_key, record_action

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


def create_user(session: Session, email: str, role: UserRole, password: str) -> User:
    """Add a staff user; the password is checked for length and stored only as a hash."""
    problems: list[Problem] = []
    try:
        normalized = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        problems.append(Problem("user", f'"{email}" is not a valid address: {exc}', "email"))
        normalized = email
    problems += _password_problems(password)
    if problems:
        raise InvalidInput(problems)
    if find_user(session, normalized) is not None:
        raise Conflict(f"a user {normalized} exists already")
    user = User(email=normalized, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    _audit(session, user, f"created as {role.value}")
    return user


def find_user(session: Session, email: str) -> User | None:
    """The user with this address (case-insensitively), if any."""
    return session.scalar(select(User).where(User.email_key == email_key(email)))


def verify_password(user: User, password: str) -> bool:
    """True if password is the user's; upgrades the stored hash if its parameters aged."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def hash_password(password: str) -> str:
    """An Argon2id hash of password."""
    return _hasher.hash(password)


def set_password(user: User, password: str) -> None:
    """Replace a user's password; every session signed in with the old one ends."""
    problems = _password_problems(password)
    if problems:
        raise InvalidInput(problems)
    user.password_hash = hash_password(password)
    user.session_generation += 1
    _audit(object_session(user), user, "password changed")


def set_role(user: User, role: UserRole) -> None:
    """Give a user another role; their sessions end, so the new role holds from the next
    request on, whatever page they had open."""
    if user.role is role:
        return
    previous = user.role
    user.role = role
    user.session_generation += 1
    _audit(object_session(user), user, f"role {previous.value} → {role.value}")


def set_active(user: User, active: bool) -> None:
    """Let a user sign in, or stop them (their sessions end at once); their past actions
    stay in the audit log under their address."""
    if user.is_active is active:
        return
    user.is_active = active
    user.session_generation += 1
    _audit(object_session(user), user, "enabled" if active else "disabled")


def list_users(session: Session) -> list[User]:
    """Every staff user, by address."""
    return list(session.scalars(select(User).order_by(User.email_key)))


def set_time_zone(user: User, zone: str | None) -> None:
    """The zone the web UI shows this user's times in (None: the browser's, or UTC)."""
    if zone is not None and zone not in available_timezones():
        raise InvalidInput([Problem("account", f'"{zone}" is not a time zone', "time_zone")])
    user.time_zone = zone


def _audit(session: Session | None, user: User, what: str) -> None:
    if session is not None:
        record_action(
            session, AuditAction.CHANGED_USER, "user", user.email, f"{user.email}: {what}"
        )


# Verified against when no user has the address, so that a wrong address takes as long to
# refuse as a wrong password: the answer's time does not tell which accounts exist.
_NOBODY = _hasher.hash("no user has this password, and none ever will")


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with this address and password (their sign-in recorded), or None."""
    user = find_user(session, email)
    if user is None or not user.is_active:
        verify_password(User(password_hash=_NOBODY), password)
        return None
    if not verify_password(user, password):
        return None
    user.last_login_at = now
    with acting_as(user.email):
        record_action(session, AuditAction.SIGNED_IN, "user", user.email, "signed in", now)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """A user's own change: the current password first, then the new one's rules."""
    if not verify_password(user, current):
        raise InvalidInput([Problem("account", "That is not your current password.", "current")])
    set_password(user, new)


def _password_problems(password: str) -> list[Problem]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [Problem("user", f"must be at least {MIN_PASSWORD_LENGTH} characters", "password")]
    return []
