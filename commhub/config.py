"""Settings from the environment: one frozen object, built in one place (load_settings)."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from commhub.addresses import InvalidAddress, normalise_address
from commhub.errors import SettingsError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_KEY_LENGTH = 32
# The delivery back ends COMMHUB_DELIVERY may name; wiring.build_delivery_backend builds them.
DELIVERY_BACKENDS = ("outbox", "smtp", "sendgrid")
SENDGRID_HOST = "https://api.sendgrid.com"


@dataclass(frozen=True)
class SmtpUrl:
    """Where and how to reach an SMTP relay, parsed from COMMHUB_SMTP_URL."""

    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps://); otherwise STARTTLS when offered
    username: str | None = field(default=None)
    password: str | None = field(default=None, repr=False)


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
    delivery: str = field(default="outbox", metadata=_env("COMMHUB_DELIVERY"))
    # May carry a password, so it is never shown.
    smtp_url: str | None = field(default=None, repr=False, metadata=_env("COMMHUB_SMTP_URL"))
    unsubscribe_mailto: str | None = field(
        default=None, metadata=_env("COMMHUB_UNSUBSCRIBE_MAILTO")
    )
    # SendGrid's API base URL: https://api.eu.sendgrid.com for EU data residency.
    sendgrid_host: str = field(default=SENDGRID_HOST, metadata=_env("COMMHUB_SENDGRID_HOST"))
    # The Event Webhook's verification key (base64 DER, as SendGrid shows it); without it
    # POST /webhooks/sendgrid is off.
    sendgrid_webhook_public_key: str | None = field(
        default=None, metadata=_env("COMMHUB_SENDGRID_WEBHOOK_PUBLIC_KEY")
    )
    # A file of mail privacy proxies' networks (one CIDR a line), instead of the shipped list.
    mail_proxy_ranges: Path | None = field(default=None, metadata=_env("COMMHUB_MAIL_PROXY_RANGES"))
    # The partner heat map's colours: the share of a role reached in a format.
    heat_map_green: float = field(default=0.5, metadata=_env("COMMHUB_HEAT_MAP_GREEN"))
    heat_map_amber: float = field(default=0.2, metadata=_env("COMMHUB_HEAT_MAP_AMBER"))
    # Where sign-in attempts are counted: memory (one process) or a shared store's URL.
    rate_limit_storage: str = field(
        default="memory://", metadata=_env("COMMHUB_RATE_LIMIT_STORAGE")
    )
    # How old (or how far ahead) a signed batch's timestamp may be, in seconds.
    sendgrid_webhook_window: int = field(
        default=300, metadata=_env("COMMHUB_SENDGRID_WEBHOOK_WINDOW")
    )

    # Feed sources: whether they may be fetched from private networks on purpose (loopback,
    # RFC 1918, link-local...; off by default: typed-in URLs are a way into the network),
    # and the most one fetch may read.
    feeds_allow_private: bool = field(default=False, metadata=_env("COMMHUB_FEEDS_ALLOW_PRIVATE"))
    feeds_max_bytes: int = field(default=5_000_000, metadata=_env("COMMHUB_FEEDS_MAX_BYTES"))

    # Social posts: written as files (outbox, needing no account) or posted for real (live);
    # whether an account's endpoint may be on a private network (tests, local set-ups); and
    # every account's endpoint and credentials, COMMHUB_SOCIAL_<ACCOUNT>_<KEY> (never shown).
    social_delivery: str = field(default="outbox", metadata=_env("COMMHUB_SOCIAL_DELIVERY"))
    social_allow_private: bool = field(default=False, metadata=_env("COMMHUB_SOCIAL_ALLOW_PRIVATE"))
    social_accounts: tuple[tuple[str, str], ...] = field(
        default=(), repr=False, metadata=_env("COMMHUB_SOCIAL_<ACCOUNT>_<KEY>")
    )

    @property
    def secret_key(self) -> str:
        """The key that signs new tokens."""
        return self.secret_keys[0]

    def social_setting(self, account: str, key: str) -> str | None:
        """An account's setting, COMMHUB_SOCIAL_<ACCOUNT>_<KEY> (None when not set)."""
        wanted = social_variable(account, key)
        return next((value for name, value in self.social_accounts if name == wanted), None)


SOCIAL_DELIVERIES = ("outbox", "live")
_SOCIAL_OWN = {"COMMHUB_SOCIAL_DELIVERY", "COMMHUB_SOCIAL_ALLOW_PRIVATE"}


def social_variable(account: str, key: str) -> str:
    """COMMHUB_SOCIAL_VENDOR_DEV_TOKEN for the account vendor-dev and the key TOKEN."""
    name = "".join(c if c.isalnum() else "_" for c in account.upper())
    return f"COMMHUB_SOCIAL_{name}_{key.upper()}"


@dataclass(frozen=True)
class ShownSetting:
    """One setting as an operator may see it: secrets masked, defaults marked."""

    variable: str
    value: str
    is_default: bool
    is_secret: bool


# Settings whose value is a secret, or may carry one (a password in a URL).
_SECRETS = {"secret_keys", "sendgrid_api_key", "smtp_url", "social_accounts"}
_URLS_WITH_PASSWORDS = {"database_url", "rate_limit_storage"}


def shown_settings(settings: Settings) -> list[ShownSetting]:
    """Every setting's effective value, with every secret masked; the database URL shows
    all but its password."""
    shown = []
    for setting in fields(Settings):
        value = getattr(settings, setting.name)
        default = setting.default if setting.default is not MISSING else None
        if setting.name in _SECRETS:
            count = len(value) if isinstance(value, tuple) else 0
            text = ("set" + (f" ({count} keys)" if count > 1 else "")) if value else "not set"
        elif setting.name in _URLS_WITH_PASSWORDS:
            text = make_url(value).render_as_string(hide_password=True)
        else:
            text = "not set" if value is None else str(value)
        shown.append(
            ShownSetting(setting.metadata["env"], text, value == default, setting.name in _SECRETS)
        )
    return shown


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
        sendgrid_api_key=_sendgrid_api_key(env),
        delivery=_delivery(env),
        smtp_url=_smtp_url(env),
        unsubscribe_mailto=_mailto(env.get("COMMHUB_UNSUBSCRIBE_MAILTO", "").strip()),
        sendgrid_host=_sendgrid_host(env.get("COMMHUB_SENDGRID_HOST", "").strip()),
        sendgrid_webhook_public_key=env.get("COMMHUB_SENDGRID_WEBHOOK_PUBLIC_KEY", "").strip()
        or None,
        sendgrid_webhook_window=_seconds(env, "COMMHUB_SENDGRID_WEBHOOK_WINDOW", 300),
        mail_proxy_ranges=_proxy_ranges(env.get("COMMHUB_MAIL_PROXY_RANGES", "").strip()),
        heat_map_green=_share(env, "COMMHUB_HEAT_MAP_GREEN", 0.5),
        heat_map_amber=_amber(env),
        rate_limit_storage=_rate_limit_storage(env.get("COMMHUB_RATE_LIMIT_STORAGE", "").strip()),
        feeds_allow_private=_flag(env, "COMMHUB_FEEDS_ALLOW_PRIVATE"),
        feeds_max_bytes=_bytes(env, "COMMHUB_FEEDS_MAX_BYTES", 5_000_000),
        social_delivery=_choice(env, "COMMHUB_SOCIAL_DELIVERY", SOCIAL_DELIVERIES),
        social_allow_private=_flag(env, "COMMHUB_SOCIAL_ALLOW_PRIVATE"),
        social_accounts=tuple(
            sorted(
                (name, value.strip())
                for name, value in env.items()
                if name.startswith("COMMHUB_SOCIAL_") and name not in _SOCIAL_OWN and value.strip()
            )
        ),
    )


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of choices (the first when unset)."""
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise SettingsError(name, f"not one of {', '.join(choices)}: {raw!r}")
    return raw


_YES = ("1", "true", "yes")
_NO = ("0", "false", "no")


def _flag(env: Mapping[str, str], name: str) -> bool:
    """Yes or no, said plainly: anything else is a mistake worth stopping for."""
    raw = env.get(name, "").strip().lower()
    if raw in _YES:
        return True
    if raw in _NO or not raw:
        return False
    raise SettingsError(name, f"not one of {', '.join(_YES + _NO)}: {raw!r}")


def _bytes(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    if not raw.isdigit() or not 1_000 <= int(raw) <= 1_000_000_000:
        raise SettingsError(name, f"not a number of bytes from 1000 to 1000000000: {raw!r}")
    return int(raw)


def _amber(env: Mapping[str, str]) -> float:
    amber = _share(env, "COMMHUB_HEAT_MAP_AMBER", 0.2)
    if amber > _share(env, "COMMHUB_HEAT_MAP_GREEN", 0.5):
        raise SettingsError("COMMHUB_HEAT_MAP_AMBER", "must not be above COMMHUB_HEAT_MAP_GREEN")
    return amber


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise SettingsError(name, f"not a share between 0 and 1 (0.5 is half): {raw!r}")
    return value


def _proxy_ranges(raw: str) -> Path | None:
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise SettingsError("COMMHUB_MAIL_PROXY_RANGES", f"no such file: {raw}")
    return path


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 86_400:
        raise SettingsError(name, f"not a number of seconds from 1 to 86400: {raw!r}")
    return int(raw)


def _delivery(env: Mapping[str, str]) -> str:
    delivery = env.get("COMMHUB_DELIVERY", "").strip().lower() or Settings.delivery
    if delivery not in DELIVERY_BACKENDS:
        raise SettingsError(
            "COMMHUB_DELIVERY", f'"{delivery}" is not one of: {", ".join(DELIVERY_BACKENDS)}'
        )
    return delivery


def _sendgrid_api_key(env: Mapping[str, str]) -> str | None:
    key = env.get("SENDGRID_API_KEY", "").strip() or None
    if key is None and _delivery(env) == "sendgrid":
        raise SettingsError("SENDGRID_API_KEY", "required when COMMHUB_DELIVERY=sendgrid")
    if key is not None and not _API_KEY.fullmatch(key):
        # It goes into an HTTP header; the message never shows it.
        raise SettingsError(
            "SENDGRID_API_KEY", "holds characters an API key cannot (spaces, quotes, non-ASCII)"
        )
    return key


_API_KEY = re.compile(r"[A-Za-z0-9._\-]+")


def _sendgrid_host(raw: str) -> str:
    """An http(s) base URL; plain http only to this machine, since the API key goes with it."""
    if not raw:
        return SENDGRID_HOST
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _port_ok(parts):
        raise SettingsError("COMMHUB_SENDGRID_HOST", f"not an http(s) URL with a host: {raw!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise SettingsError("COMMHUB_SENDGRID_HOST", f"must be only scheme, host and port: {raw!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError(
            "COMMHUB_SENDGRID_HOST",
            f"use https:// for {parts.hostname}: the API key must not travel unencrypted",
        )
    return raw.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether host names this machine (a relay or fake API where plain text is safe)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _smtp_url(env: Mapping[str, str]) -> str | None:
    smtp_url = env.get("COMMHUB_SMTP_URL", "").strip() or None
    if smtp_url is not None:
        check_smtp_url(smtp_url)
    elif _delivery(env) == "smtp":
        raise SettingsError("COMMHUB_SMTP_URL", "required when COMMHUB_DELIVERY=smtp")
    return smtp_url


def check_smtp_url(raw: str) -> SmtpUrl:
    """Parse smtp://[user:password@]host[:port] or smtps://...; the error never shows a password."""
    parts = urlsplit(raw)
    # Everything before the last "@" may be a password, even where urlsplit disagrees.
    shown = f"{parts.scheme}://…@{raw.rsplit('@', 1)[1]}" if "@" in raw else raw
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(
            "COMMHUB_SMTP_URL", f"not smtp://HOST:PORT or smtps://HOST:PORT: {shown}"
        )
    if not _port_ok(parts):
        raise SettingsError("COMMHUB_SMTP_URL", f"the port is not a number: {shown}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(
            "COMMHUB_SMTP_URL", f"must be only scheme, credentials, host and port: {shown}"
        )
    tls = parts.scheme == "smtps"
    return SmtpUrl(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - parsing the port raises for "host:notaport"
    except ValueError:
        return False
    return True


def _mailto(raw: str) -> str | None:
    if not raw:
        return None
    address = raw.removeprefix("mailto:")
    try:
        return normalise_address(address)
    except InvalidAddress as exc:
        raise SettingsError("COMMHUB_UNSUBSCRIBE_MAILTO", f"not an email address: {exc}") from None


def _rate_limit_storage(raw: str) -> str:
    if not raw:
        return "memory://"
    if raw.split("://", 1)[0] not in ("memory", "redis", "rediss", "redis+sentinel"):
        raise SettingsError("COMMHUB_RATE_LIMIT_STORAGE", "expected memory:// or a redis:// URL")
    return raw


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
