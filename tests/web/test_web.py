from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from commhub.errors import Conflict, EditionUnderWay, InvalidInput, NotFound, Problem
from commhub.store import schema
from commhub.store.models import UserRole
from commhub.web import create_app
from commhub.wiring import Runtime, build_runtime
from tests.conftest import make_settings
from tests.web.staff import add_user, sign_in


def test_healthz_reports_the_database(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["revision"] == schema.head_revision()
    assert body["database"]["backend"] == runtime.engine.dialect.name


def test_healthz_is_503_when_the_schema_is_missing(runtime: Runtime) -> None:
    schema.downgrade(runtime.engine, "base")
    response = create_app(runtime=runtime).test_client().get("/healthz")
    assert response.status_code == 503
    assert (
        response.get_json()["database"]["detail"]
        == "schema is behind this code: run `commhub init`"
    )


def test_home_page_has_a_helpful_empty_state(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    sign_in(client, add_user(runtime, UserRole.VIEWER))
    page = client.get("/").get_data(as_text=True)
    assert "Nothing here yet" in page
    assert "commhub content import" in page


def test_unknown_paths_render_the_error_page(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    assert "404 Not Found" in client.get("/nope").get_data(as_text=True)
    api = client.get("/api/nope")
    assert api.status_code == 404
    assert api.headers["Content-Type"] == "application/problem+json"


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    unreachable = build_runtime(
        make_settings(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/commhub")
    )
    response = create_app(runtime=unreachable).test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"]["detail"]
    unreachable.close()


def test_an_https_base_url_marks_cookies_secure(tmp_path: Path) -> None:
    plain = make_settings(tmp_path)
    assert not create_app(plain).config["SESSION_COOKIE_SECURE"]
    secure = replace(plain, base_url="https://partners.example.com")
    assert create_app(secure).config["SESSION_COOKIE_SECURE"]


def _app_raising(runtime: Runtime, error: Exception) -> FlaskClient:
    app = create_app(runtime=runtime)

    def view() -> str:
        raise error

    app.add_url_rule("/api/raises", "raises", view)
    app.add_url_rule("/raises", "raises_html", view)
    return app.test_client()


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (NotFound("no edition 7"), 404, "Not Found"),
        (Conflict("edition 7 is sent already"), 409, "Conflict"),
        (EditionUnderWay("edition 7 is held"), 409, "Conflict"),
        (InvalidInput([Problem("--role-set", "nope")]), 422, "Unprocessable Entity"),
    ],
)
def test_the_domains_refusals_are_answered_as_problem_details(
    runtime: Runtime, error: Exception, status: int, title: str
) -> None:
    client = _app_raising(runtime, error)
    response = client.get("/api/raises")
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.get_json() == {
        "type": "about:blank", "title": title, "status": status, "detail": str(error),
    }  # fmt: skip
    page = client.get("/raises")
    assert page.status_code == status
    assert str(error) in page.get_data(as_text=True)


def test_an_unexpected_error_is_still_a_500(runtime: Runtime) -> None:
    client = _app_raising(runtime, RuntimeError("a bug"))
    client.application.testing = False  # a bug propagates in testing mode
    assert client.get("/api/raises").status_code == 500
