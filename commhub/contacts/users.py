"""Staff accounts: create, verify passwords. Passwords are hashed with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.errors import Conflict, InvalidInput, Problem
from commhub.store import User, UserRole, email_key

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
    """Replace a user's password."""
    problems = _password_problems(password)
    if problems:
        raise InvalidInput(problems)
    user.password_hash = hash_password(password)


def _password_problems(password: str) -> list[Problem]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [Problem("user", f"must be at least {MIN_PASSWORD_LENGTH} characters", "password")]
    return []
