from __future__ import annotations

from commhub import schema
from commhub.web import create_app
from commhub.wiring import Runtime


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
    page = create_app(runtime=runtime).test_client().get("/").get_data(as_text=True)
    assert "Nothing here yet" in page
    assert "commhub content import" in page


def test_unknown_paths_render_the_error_page(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    assert "404 Not Found" in client.get("/nope").get_data(as_text=True)
    api = client.get("/api/nope")
    assert api.status_code == 404
    assert api.headers["Content-Type"] == "application/problem+json"
