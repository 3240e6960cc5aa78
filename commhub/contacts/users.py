"""Staff accounts: create, verify passwords. Passwords are hashed with Argon2id."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import available_timezones

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from commhub.errors import Conflict, InvalidInput, Problem
from commhub.store import (
    AuditAction,
    AuditEntry,
    User,
    UserRole,
    acting_as,
    email_key,
    record_action,
)

MIN_PASSWORD_LENGTH = 12
# token_urlsafe(18): 24 characters, 144 random bits; a person can still type it.
TEMPORARY_PASSWORD_BYTES = 18
_hasher = PasswordHasher()


def create_user(
    session: Session,
    email: str,
    role: UserRole,
    password: str,
    *,
    must_change_password: bool = False,
) -> User:
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
    user = User(
        email=normalized,
        role=role,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    temporary = ", with a temporary password" if must_change_password else ""
    _audit(session, user, f"created as {role.value}{temporary}")
    return user


def create_user_with_temporary_password(
    session: Session, email: str, role: UserRole
) -> tuple[User, str]:
    """Add a staff user whose first password nobody chose: the admin hands it over once, and
    the user must replace it at their first sign-in, so no admin ever knows a password in
    use. Returns the user and the temporary password (never stored in clear, never logged)."""
    password = temporary_password()
    return create_user(session, email, role, password, must_change_password=True), password


def reset_password(user: User, by: User | None = None) -> str:
    """Give a user who lost their password a temporary one to replace at next sign-in; every
    session they had ends. An admin changes their own password on their account page, with
    the current one, rather than locking themselves into a forced change here."""
    if by is not None and by.id == user.id:
        raise Conflict("change your own password on your account page, with your current one")
    password = temporary_password()
    _replace_password(user, password, "password reset: a temporary one, to change at sign-in")
    user.must_change_password = True
    return password


def temporary_password() -> str:
    """A random password for an admin to hand over once."""
    return secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)


def change_user(
    session: Session, user: User, role: UserRole, active: bool, by: User | None
) -> list[str]:
    """An admin's change of a user's role and whether they may sign in, all or nothing.

    Refused (InvalidInput, each problem naming its field, nothing changed) when an admin
    would take away their own admin role or disable themselves (another admin must, so that
    nobody locks themselves out by a slip), or when no active admin would be left (nobody
    could manage users from the browser again). Returns what changed, in words."""
    problems: list[Problem] = []
    own = by is not None and by.id == user.id
    if own and user.role is UserRole.ADMIN and role is not UserRole.ADMIN:
        problems.append(
            Problem("user", "You cannot remove your own admin role: another admin can.", "role")
        )
    if own and user.is_active and not active:
        problems.append(
            Problem("user", "You cannot disable your own account: another admin can.", "active")
        )
    was_admin = user.role is UserRole.ADMIN and user.is_active
    still_admin = role is UserRole.ADMIN and active
    last = was_admin and not still_admin and _other_active_admins(session, user) == 0
    if not problems and last:
        field = "role" if role is not UserRole.ADMIN else "active"
        problems.append(
            Problem(
                "user",
                f"{user.email} is the only active admin: make another user an admin first.",
                field,
            )
        )
    if problems:
        raise InvalidInput(problems)
    changes = []
    if user.role is not role:
        changes.append(f"now {role.value}")
        set_role(user, role)
    if user.is_active is not active:
        changes.append("enabled" if active else "disabled")
        set_active(user, active)
    return changes


def _other_active_admins(session: Session, user: User) -> int:
    """Active admins other than user, their rows locked until the transaction ends.

    Every active admin's row is locked, user's too, before any is counted: two admins
    demoting each other at once would otherwise each count the other and leave none. Under
    READ COMMITTED the second transaction waits on the first's lock, then re-reads the rows
    it waited for and no longer finds an admin the first took away. The rows go in id order,
    so that two such transactions lock in the same order and cannot deadlock. SQLAlchemy
    leaves FOR UPDATE out on SQLite, which allows one writer at a time: the race this closes
    is PostgreSQL's."""
    admins = session.scalars(
        select(User.id)
        .where(User.role == UserRole.ADMIN, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    return sum(1 for admin_id in admins if admin_id != user.id)


def user_history(session: Session, user: User, limit: int = 20) -> list[AuditEntry]:
    """The last changes to a user and their sign-ins, newest first: what an admin checks
    before changing them again."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "user", AuditEntry.object_id == user.email)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


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
    _replace_password(user, password, "password changed")


def _replace_password(user: User, password: str, what: str) -> None:
    problems = _password_problems(password)
    if problems:
        raise InvalidInput(problems)
    user.password_hash = hash_password(password)
    user.session_generation += 1
    _audit(object_session(user), user, what)


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
    """A user's own change: the current password first, then the new one's rules. It ends a
    forced change: a temporary password, known to the admin who gave it, must not stay."""
    if not verify_password(user, current):
        raise InvalidInput([Problem("account", "That is not your current password.", "current")])
    if user.must_change_password and new == current:
        raise InvalidInput(
            [Problem("account", "Choose a new password, not the temporary one.", "new")]
        )
    set_password(user, new)
    user.must_change_password = False


def _password_problems(password: str) -> list[Problem]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [Problem("user", f"must be at least {MIN_PASSWORD_LENGTH} characters", "password")]
    return []
