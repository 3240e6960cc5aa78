from __future__ import annotations

import stat
from pathlib import Path

import pytest

from commhub.config import Settings, environment_variables, load_settings
from commhub.errors import SettingsError

KEY_A = "a" * 40
KEY_B = "b" * 40


def test_defaults_work_on_a_laptop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'commhub.db'}"
    assert settings.base_url == "http://127.0.0.1:5000"
    assert settings.sendgrid_api_key is None


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    env = {"COMMHUB_DATA_DIR": str(tmp_path)}
    first = load_settings(env)
    second = load_settings(env)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_key_list_signs_with_first_and_keeps_old_keys(tmp_path: Path) -> None:
    settings = load_settings(
        {"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_SECRET_KEY": f"{KEY_A}, {KEY_B}"}
    )
    assert settings.secret_key == KEY_A
    assert settings.secret_keys == (KEY_A, KEY_B)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("COMMHUB_DATABASE_URL", "mysql://root@localhost/x", 'unknown scheme "mysql"'),
        ("COMMHUB_DATABASE_URL", "not a url", "not a database URL"),
        ("COMMHUB_SECRET_KEY", "short", "shorter than 32"),
        ("COMMHUB_BASE_URL", "ftp://example.com", "not an http(s) URL"),
        ("COMMHUB_BASE_URL", "https://example.com/?q=1", "query or fragment"),
        ("COMMHUB_FEEDS_ALLOW_PRIVATE", "sometimes", "not one of 1, true, yes, 0, false, no"),
        ("COMMHUB_FEEDS_MAX_BYTES", "5MB", "not a number of bytes"),
        ("COMMHUB_FEEDS_MAX_BYTES", "10", "from 1000 to 1000000000"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"COMMHUB_DATA_DIR": str(tmp_path), name: value})
    assert str(raised.value).startswith(f"{name}: ")
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_unwritable_data_dir_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SettingsError, match=r"^COMMHUB_DATA_DIR: cannot write to .*a-file/data"):
        load_settings({"COMMHUB_DATA_DIR": str(blocker / "data")})


def test_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "COMMHUB_DATA_DIR": str(tmp_path),
            "COMMHUB_DATABASE_URL": "postgres://u:p@db:5432/commhub",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/commhub"


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    settings = load_settings(
        {"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_SECRET_KEY": KEY_A, "SENDGRID_API_KEY": "SG.x"}
    )
    assert KEY_A not in repr(settings)
    assert "SG.x" not in repr(settings)
    assert settings.sendgrid_api_key == "SG.x"


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({"COMMHUB_DATA_DIR": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.base_url = "http://elsewhere"  # type: ignore[misc]


def test_every_field_names_its_variable() -> None:
    names = environment_variables()
    assert len(names) == len(Settings.__dataclass_fields__)
    assert all(n.startswith("COMMHUB_") or n == "SENDGRID_API_KEY" for n in names)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgresql://u:secretpw@host:notaport/db", "not a database URL"),
        ("sqlite:////no/such/dir/x.db", "no such directory for SQLite: /no/such/dir"),
    ],
)
def test_database_url_problems_are_one_line_without_passwords(
    tmp_path: Path, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_DATABASE_URL": value})
    assert expected in str(raised.value)
    assert "secretpw" not in str(raised.value)


def test_delivery_defaults_to_the_outbox(tmp_path: Path) -> None:
    settings = load_settings({"COMMHUB_DATA_DIR": str(tmp_path)})
    assert (settings.delivery, settings.smtp_url, settings.unsubscribe_mailto) == (
        "outbox", None, None,
    )  # fmt: skip


def test_smtp_delivery_needs_a_url_and_never_shows_its_password(tmp_path: Path) -> None:
    base = {"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_DELIVERY": "smtp"}
    with pytest.raises(SettingsError, match="COMMHUB_SMTP_URL: required when"):
        load_settings(base)
    with pytest.raises(SettingsError) as caught:
        load_settings({**base, "COMMHUB_SMTP_URL": "http://user:s3cret@mail.example:587"})
    assert "s3cret" not in str(caught.value)
    assert "not smtp://HOST:PORT" in str(caught.value)
    with pytest.raises(SettingsError, match="port is not a number"):
        load_settings({**base, "COMMHUB_SMTP_URL": "smtp://user:s3cret@mail.example:x"})
    # An unencoded "/" in a password must not leak its start as a "port".
    with pytest.raises(SettingsError) as caught:
        load_settings({**base, "COMMHUB_SMTP_URL": "smtp://mailer:2024/xK9@relay.example:587"})
    assert "2024" not in str(caught.value)
    assert "xK9" not in str(caught.value)
    settings = load_settings({**base, "COMMHUB_SMTP_URL": "smtp://user:p%40ss@mail.example:587"})
    assert "p%40ss" not in repr(settings)


def test_smtp_urls_parse_with_sensible_ports() -> None:
    from commhub.config import check_smtp_url

    plain = check_smtp_url("smtp://relay.example")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("relay.example", 25, False, None)
    tls = check_smtp_url("smtps://me%40x.example:p%40ss@relay.example")
    assert (tls.port, tls.tls, tls.username, tls.password) == (465, True, "me@x.example", "p@ss")
    assert "p@ss" not in repr(tls)


def test_unknown_delivery_and_bad_mailto_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match='COMMHUB_DELIVERY: "pigeon" is not one of'):
        load_settings({"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_DELIVERY": "pigeon"})
    with pytest.raises(SettingsError, match="COMMHUB_UNSUBSCRIBE_MAILTO: not an email"):
        load_settings({"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_UNSUBSCRIBE_MAILTO": "nope"})
    settings = load_settings(
        {
            "COMMHUB_DATA_DIR": str(tmp_path),
            "COMMHUB_UNSUBSCRIBE_MAILTO": "mailto:Leave@Vendor.example",
        }
    )
    assert settings.unsubscribe_mailto == "Leave@vendor.example"


def test_sendgrid_delivery_needs_a_key_and_a_safe_host(tmp_path: Path) -> None:
    base = {"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_DELIVERY": "sendgrid"}
    with pytest.raises(SettingsError, match="SENDGRID_API_KEY: required when"):
        load_settings(base)
    keyed = {**base, "SENDGRID_API_KEY": "SG.secret-key"}
    settings = load_settings(keyed)
    assert (settings.delivery, settings.sendgrid_host) == ("sendgrid", "https://api.sendgrid.com")
    assert "SG.secret-key" not in repr(settings)
    eu = load_settings({**keyed, "COMMHUB_SENDGRID_HOST": "https://api.eu.sendgrid.com/"})
    assert eu.sendgrid_host == "https://api.eu.sendgrid.com"
    local = load_settings({**keyed, "COMMHUB_SENDGRID_HOST": "http://127.0.0.1:8025"})
    assert local.sendgrid_host == "http://127.0.0.1:8025"
    # The key travels in a header: plain http only to this machine.
    with pytest.raises(SettingsError, match=r"COMMHUB_SENDGRID_HOST: use https:// for sg\.example"):
        load_settings({**keyed, "COMMHUB_SENDGRID_HOST": "http://sg.example"})
    for bad in ("api.sendgrid.com", "ftp://api.sendgrid.com", "https://h.example/v3/mail"):
        with pytest.raises(SettingsError, match="COMMHUB_SENDGRID_HOST"):
            load_settings({**keyed, "COMMHUB_SENDGRID_HOST": bad})


def test_an_api_key_no_header_can_carry_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "COMMHUB_DATA_DIR": str(tmp_path),
                "COMMHUB_DELIVERY": "sendgrid",
                "SENDGRID_API_KEY": "SG.secret\u200bpart",
            }
        )
    assert "SENDGRID_API_KEY: holds characters" in str(caught.value)
    assert "secret" not in str(caught.value)


SWITCH = [("", False), ("no", False), ("0", False), ("YES", True), ("true", True), ("1", True)]


@pytest.mark.parametrize(("raw", "allowed"), SWITCH)
def test_the_private_network_switch_is_said_plainly(
    tmp_path: Path, raw: str, allowed: bool
) -> None:
    env = {"COMMHUB_DATA_DIR": str(tmp_path), "COMMHUB_FEEDS_ALLOW_PRIVATE": raw}
    settings = load_settings(env)
    assert settings.feeds_allow_private is allowed
