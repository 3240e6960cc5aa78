"""Settings from the environment: one frozen object, built in one place (load_settings)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from commhub.errors import SettingsError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_KEY_LENGTH = 32


def _env(name: str) -> dict[str, str]:
    return {"env": name}


@dataclass(frozen=True)
class Settings:
    """Everything commhub reads from its environment; tests build one directly."""

    data_dir: Path = field(metadata=_env("COMMHUB_DATA_DIR"))
    database_url: str = field(metadata=_env("COMMHUB_DATABASE_URL"))
    # The first key signs; every key verifies, so an old key can be retired gently.
    secret_keys: tuple[str, ...] = field(repr=False, metadata=_env("COMMHUB_SECRET_KEY"))
    base_url: str = field(default="http://127.0.0.1:5000", metadata=_env("COMMHUB_BASE_URL"))
    org_name: str = field(default="Partner Programme", metadata=_env("COMMHUB_ORG_NAME"))
    postal_address: str = field(default="", metadata=_env("COMMHUB_POSTAL_ADDRESS"))
    sendgrid_api_key: str | None = field(
        default=None, repr=False, metadata=_env("SENDGRID_API_KEY")
    )

    @property
    def secret_key(self) -> str:
        """The key that signs new tokens."""
        return self.secret_keys[0]


def environment_variables() -> list[str]:
    """The names of every environment variable commhub reads, in declaration order."""
    return [f.metadata["env"] for f in fields(Settings)]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from environment variables, creating the data dir and key if needed."""
    env = os.environ if environ is None else environ
    data_dir = _data_dir(env.get("COMMHUB_DATA_DIR", "").strip() or "var")
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(env.get("COMMHUB_DATABASE_URL", "").strip(), data_dir),
        secret_keys=_secret_keys(env.get("COMMHUB_SECRET_KEY", ""), data_dir),
        base_url=_base_url(env.get("COMMHUB_BASE_URL", "").strip() or Settings.base_url),
        org_name=env.get("COMMHUB_ORG_NAME", "").strip() or Settings.org_name,
        postal_address=env.get("COMMHUB_POSTAL_ADDRESS", "").strip(),
        sendgrid_api_key=env.get("SENDGRID_API_KEY", "").strip() or None,
    )


def _data_dir(raw: str) -> Path:
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SettingsError("COMMHUB_DATA_DIR", f"cannot write to {path}: {exc.strerror}") from exc
    return path


def _database_url(raw: str, data_dir: Path) -> str:
    if not raw:
        return f"sqlite:///{data_dir / 'commhub.db'}"
    try:
        url = make_url(raw)
        url.port  # noqa: B018 - parsing the port raises for "host:notaport"
    except (ArgumentError, ValueError) as exc:
        shown = raw.split("@")[-1] if "@" in raw else raw  # never echo a password
        raise SettingsError("COMMHUB_DATABASE_URL", f"not a database URL: ...{shown!r}") from exc
    url = normalise_database_url(url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise SettingsError("COMMHUB_DATABASE_URL", f"no such directory for SQLite: {folder}")
    return url.render_as_string(hide_password=False)


def normalise_database_url(url: URL) -> URL:
    """Map postgres:// and postgresql:// to the psycopg 3 driver; reject other back ends."""
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    raise SettingsError(
        "COMMHUB_DATABASE_URL",
        f'unknown scheme "{url.drivername}"; use sqlite:///PATH or postgresql://USER@HOST/DB',
    )


def _secret_keys(raw: str, data_dir: Path) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if not keys:
        return (_stored_secret_key(data_dir),)
    short = [i + 1 for i, k in enumerate(keys) if len(k) < MIN_SECRET_KEY_LENGTH]
    if short:
        raise SettingsError(
            "COMMHUB_SECRET_KEY",
            f"key {', '.join(map(str, short))} is shorter than {MIN_SECRET_KEY_LENGTH} characters",
        )
    return keys


def _stored_secret_key(data_dir: Path) -> str:
    """The key kept in the data dir, generated on first use so a laptop needs no set-up."""
    path = data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError("COMMHUB_SECRET_KEY", f"{path} holds no usable key") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("COMMHUB_BASE_URL", f"not an http(s) URL with a host: {raw!r}")
    if parts.query or parts.fragment:
        raise SettingsError("COMMHUB_BASE_URL", f"must not carry a query or fragment: {raw!r}")
    return raw.rstrip("/")
