"""Editors create and change series in the browser, read by the same reader as `series
apply`: every problem beside its field with what was typed kept and nothing saved, a save
planned at once and in the audit log, the next dates shown, and a series exported as YAML."""

from __future__ import annotations

import html
import re
from pathlib import Path

import yaml
from flask.testing import FlaskClient
from sqlalchemy import func, select

from commhub.scheduling.series import read_series_file
from commhub.scheduling.series_editing import (
    SeriesFields,
    definition_from_form,
    next_dates_for,
    series_mapping,
)
from commhub.store.models import AuditEntry, Edition, EditionState, Series, Shift, UserRole
from tests.builders import NOW, World
from tests.web.staff import csrf_token, staff_session

AUDIENCES = {"sales", "technical", "executive", "marketing", "development"}


def good_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "name": "Partner Pulse",
        "slug": "pulse",
        "channel": "newsletter",
        "audiences": ["sales", "technical"],
        "partner_types": "msp, reseller",
        "partner_tiers": "",
        "partner_regions": "EMEA, North America",
        "cadence": "monthly on the first tuesday at 09:00",
        "start": "2027-01-01",
        "shift": "next",
        "holiday_country": "GB-ENG",
        "company_days": "2027-12-24, 2027-12-31",
        "timezone": "Europe/London",
        "grace": "1d 12h",
        "template": "",
        "max_items": "4",
        "requires_approval": "y",
        "subject": "{{ series.name }}, {{ edition.date_label }}",
        "from_address": "Partner Team <partners@vendor.example>",
        "reply_to": "team@vendor.example",
        "rule_of_seven": "y",
        "action": "save",
    }
    form.update(changes)
    return form


def submit(client: FlaskClient, path: str, form: dict[str, str | list[str]]) -> tuple[int, str]:
    answer = client.post(path, data={"csrf_token": csrf_token(client, "/account"), **form})
    if answer.status_code == 303:
        return 303, client.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.status_code, answer.get_data(as_text=True)


def field_error(page: str, name: str) -> str:
    """The problem shown beside a control, as text."""
    found = re.search(rf'<span class="error field" id="{name}-error">(.*?)</span>', page, re.S)
    assert found, f"no problem beside {name}"
    return html.unescape(found.group(1))


def series_row(world: World, slug: str) -> Series | None:
    with world.session() as session:
        series = session.scalar(select(Series).where(Series.slug == slug))
        if series is not None:
            _ = series.audiences
            session.expunge(series)
        return series


def audit(world: World) -> list[tuple[str, str, str, str]]:
    with world.session() as session:
        return [
            (e.actor, e.action, e.object_type, e.object_id)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "series").order_by(AuditEntry.id)
            )
        ]


def planned(world: World, slug: str) -> list[Edition]:
    with world.session() as session:
        return list(
            session.scalars(
                select(Edition)
                .join(Series)
                .where(Series.slug == slug, Edition.state == EditionState.PLANNED)
                .order_by(Edition.planned_at)
            )
        )


def test_an_editor_creates_a_series_planned_at_once_and_logged(world: World) -> None:
    client, email = staff_session(world)
    page = client.get("/series/new").get_data(as_text=True)
    for control in ("name", "slug", "cadence", "timezone", "holiday_country", "company_days"):
        assert f'name="{control}"' in page
    status, page = submit(client, "/series/new", good_form())
    assert status == 303
    assert "Series pulse created:" in page
    assert "editions planned" in page
    series = series_row(world, "pulse")
    assert series is not None
    assert series.name == "Partner Pulse"
    assert [a.slug for a in series.audiences] == ["sales", "technical"]
    assert not series.all_audiences
    assert series.partner_filter == {
        "types": ["msp", "reseller"],
        "regions": ["EMEA", "North America"],
    }
    assert series.shift is Shift.NEXT
    assert series.holiday_country == "GB-ENG"
    assert series.company_days == ["2027-12-24", "2027-12-31"]
    assert series.grace_minutes == 36 * 60
    assert series.max_items == 4
    assert series.requires_approval
    assert series.rule_of_seven
    assert not series.local_time
    assert series.from_address == "Partner Team <partners@vendor.example>"
    editions = planned(world, "pulse")
    assert len(editions) >= 12  # the next 13 months, planned in the same request
    assert editions[0].planned_at.date().isoformat() == "2027-01-05"  # first Tuesday of 2027
    assert (email, "created", "series", "pulse") in audit(world)


def test_a_bad_cadence_is_shown_beside_its_field_and_nothing_is_saved(world: World) -> None:
    client, _email = staff_session(world)
    status, page = submit(client, "/series/new", good_form(cadence="monthly on day 32 at 09:00"))
    assert status == 400
    assert "a day of the month is 1 to 31" in field_error(page, "cadence")
    assert 'value="monthly on day 32 at 09:00"' in page  # kept as typed
    assert 'value="Partner Pulse"' in page
    assert 'aria-invalid="true"' in page
    assert "Nothing was saved" in page
    assert series_row(world, "pulse") is None
    assert audit(world) == []


def test_every_problem_is_beside_its_own_field(world: World) -> None:
    client, _email = staff_session(world)
    form = good_form(
        slug="Bad Slug",
        timezone="Mars/Olympus",
        max_items="99",
        from_address="a@x.example, b@y.example",
        company_days="2027-02-30",
        holiday_country="XX",
        grace="3 weeks",
        audiences=[],
        partner_types="",
    )
    status, page = submit(client, "/series/new", form)
    assert status == 400
    assert "is not a slug" in field_error(page, "slug")
    assert "is not an IANA time zone" in field_error(page, "timezone")
    assert "from 1 to 50" in field_error(page, "max_items")
    assert "is not an address" in field_error(page, "from_address")
    assert "2027-02-30" in field_error(page, "company_days")
    assert "country" in field_error(page, "holiday_country")
    assert "not a duration" in field_error(page, "grace")
    assert field_error(page, "audiences")
    assert "Mars/Olympus" in page  # the zone typed stays chosen
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Series)) == 0


def test_a_new_series_cannot_take_a_page_name_or_a_slug_in_use(world: World) -> None:
    world.series("news")
    client, _email = staff_session(world)
    status, page = submit(client, "/series/new", good_form(slug="dates"))
    assert status == 400
    assert "the name of a page" in field_error(page, "slug")
    status, page = submit(client, "/series/new", good_form(slug="news"))
    assert status == 400
    assert "exists already" in field_error(page, "slug")
    news = series_row(world, "news")
    assert news is not None
    assert news.name == "Partner News"
    assert series_row(world, "dates") is None


def test_an_editor_changes_a_series_and_its_editions_are_planned_again(world: World) -> None:
    client, email = staff_session(world)
    assert submit(client, "/series/new", good_form())[0] == 303
    page = client.get("/series/pulse/edit").get_data(as_text=True)
    assert 'value="monthly on the first tuesday at 09:00"' in page
    assert 'name="slug"' not in page  # a slug stays what it is
    assert "Download as YAML" in page
    assert "series apply" in page
    weekly = good_form(cadence="weekly on friday at 16:00", holiday_country="", company_days="")
    status, page = submit(client, "/series/pulse/edit", {**weekly, "slug": "other"})
    assert status == 303
    assert "Series pulse saved:" in page
    assert series_row(world, "other") is None
    series = series_row(world, "pulse")
    assert series is not None
    assert series.cadence == "weekly on friday at 16:00"
    assert all(e.planned_at.weekday() == 4 for e in planned(world, "pulse"))
    assert (email, "edited", "series", "pulse") in audit(world)
    # Saved again unchanged: nothing to log.
    before = len(audit(world))
    status, page = submit(client, "/series/pulse/edit", weekly)
    assert "nothing changed" in page
    assert len(audit(world)) == before


def test_show_the_dates_rerenders_without_saving(world: World) -> None:
    client, _email = staff_session(world)
    form = good_form(cadence="monthly on day 15 at 10:00", action="dates", shift="none")
    form.update(holiday_country="", company_days="", start="")
    status, page = submit(client, "/series/new", form)
    assert status == 200
    assert page.count("15 Dec 2026, 10:00 GMT") == 1
    assert "15 Apr 2027, 10:00 BST" in page
    assert 'value="monthly on day 15 at 10:00"' in page
    assert series_row(world, "pulse") is None
    status, page = submit(client, "/series/new", {**form, "cadence": "fortnightly"})
    assert status == 200
    assert "No dates yet" in page
    assert "fortnightly" in page


def test_the_form_shows_the_next_dates_of_what_it_holds(world: World) -> None:
    world.series("news", shift=Shift.NEXT, holiday_country="GB-ENG")
    client, _email = staff_session(world)
    page = client.get("/series/news/edit").get_data(as_text=True)
    # Monthly on day 1 at 09:00; 1 January 2027 is a holiday in England: the 4th instead.
    assert "1 Dec 2026, 09:00 GMT" in page
    assert "4 Jan 2027, 09:00 GMT" in page


def test_the_dates_endpoint_answers_for_a_cadence_zone_and_shift(world: World) -> None:
    client, _email = staff_session(world)
    assert client.get("/series/dates").status_code == 200
    answer = client.get(
        "/series/dates",
        query_string={
            "cadence": "weekly on saturday at 08:00",
            "timezone": "America/New_York",
            "shift": "previous",
            "partial": "1",
        },
    )
    fragment = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<html" not in fragment
    assert "27 Nov 2026, 08:00 EST" in fragment  # Saturday the 28th moved to the Friday
    assert fragment.count("<li>") == 5
    bad = client.get(
        "/series/dates", query_string={"cadence": "every day", "timezone": "Nowhere/Land"}
    ).get_data(as_text=True)
    assert "Cadence:" in bad
    assert "Time zone:" in bad
    assert "is not an IANA time zone" in bad
    assert "<h1>" in bad  # without partial=1, a page of its own


def test_the_yaml_export_applies_back_to_the_same_series(world: World, tmp_path: Path) -> None:
    client, _email = staff_session(world)
    assert submit(client, "/series/new", good_form())[0] == 303
    answer = client.get("/series/pulse/edit?format=yaml")
    assert answer.status_code == 200
    assert answer.mimetype == "text/yaml"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="pulse.yml"'
    text = answer.get_data(as_text=True)
    path = tmp_path / "series.yml"
    path.write_text(text, encoding="utf-8")
    from_file = read_series_file(path, AUDIENCES, world.renderer.has_template)
    from_form, problems = definition_from_form(
        series_mapping(SeriesFields(**_fields(good_form()))),
        AUDIENCES,
        world.renderer.has_template,
    )
    assert problems == []
    assert from_file == [from_form]
    assert yaml.safe_load(text)["series"][0]["from"] == "Partner Team <partners@vendor.example>"


def test_the_form_and_a_file_are_read_alike() -> None:
    """The same mapping, from a form or a file, gets the same problems in the same words."""
    fields = SeriesFields(
        slug="x", name="X", cadence="monthly on the fifth monday at 09:00", subject="Hi",
        from_address="team@vendor.example", all_audiences=True, grace="9d",
    )  # fmt: skip
    definition, problems = definition_from_form(series_mapping(fields), AUDIENCES, lambda _: True)
    assert definition is None
    assert {p.field for p in problems} == {"cadence", "grace"}
    assert any('"fifth": expected first' in p.message for p in problems)
    dates = next_dates_for("every 2 weeks on friday at 16:00", "UTC", "none", "", "", NOW)
    assert [p.field for p in dates.problems] == ["start"]
    dates = next_dates_for("every 2 weeks on friday at 16:00", "UTC", "none", "2026-11-27", "", NOW)
    assert [d.day for d in dates.dates] == [27, 11, 25, 8, 22]


def test_a_viewer_is_refused_and_nothing_changes(world: World) -> None:
    world.series("news")
    client, _email = staff_session(world, UserRole.VIEWER)
    assert client.get("/series/new").status_code == 403
    assert client.get("/series/news/edit").status_code == 403
    assert client.get("/series/news/edit?format=yaml").status_code == 403
    assert client.get("/series/dates").status_code == 403
    status, _page = submit(client, "/series/new", good_form())
    assert status == 403
    status, _page = submit(client, "/series/news/edit", good_form(name="Changed"))
    assert status == 403
    assert series_row(world, "pulse") is None
    news = series_row(world, "news")
    assert news is not None
    assert news.name == "Partner News"
    assert audit(world) == []
    listing = client.get("/series").get_data(as_text=True)
    assert 'href="/series/new"' not in listing
    assert "/series/news/edit" not in client.get("/series/news").get_data(as_text=True)


def test_editors_find_the_buttons_and_markup_typed_is_shown_as_text(world: World) -> None:
    world.series("news")
    client, _email = staff_session(world)
    assert 'href="/series/new"' in client.get("/series").get_data(as_text=True)
    assert 'href="/series/news/edit"' in client.get("/series/news").get_data(as_text=True)
    status, page = submit(
        client, "/series/new", good_form(name="<script>alert(1)</script>", cadence="<b>x</b>")
    )
    assert status == 400
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>x</b>" not in page


def _fields(form: dict[str, str | list[str]]) -> dict[str, object]:
    """The form as the domain's SeriesFields takes it."""
    booleans = {"all_audiences", "local_time", "requires_approval", "rule_of_seven"}
    values: dict[str, object] = {}
    for name in SeriesFields.__dataclass_fields__:
        if name in booleans:
            values[name] = form.get(name) == "y"
        elif name == "audiences":
            values[name] = list(form.get(name, []))
        else:
            values[name] = str(form.get(name, ""))
    return values


def test_every_audience_and_some_audiences_ticked_is_a_question_not_a_guess(
    world: World,
) -> None:
    """The new form starts with "every audience" ticked; ticking some audiences as well
    would have them ignored, so the form asks instead of saving either."""
    client, _email = staff_session(world)
    status, page = submit(client, "/series/new", good_form(all_audiences="y"))
    assert status == 400
    assert "untick one or the other" in field_error(page, "audiences")
    assert series_row(world, "pulse") is None
    status, _page = submit(client, "/series/new", good_form(all_audiences="y", audiences=[]))
    assert status == 303
    series = series_row(world, "pulse")
    assert series is not None
    assert series.all_audiences


def test_a_video_digest_and_its_kinds_are_saved_from_the_form(world: World) -> None:
    client, _email = staff_session(world)
    form = good_form(channel="video_digest", kinds=["video", "event"], template="")
    status, page = submit(client, "/series/new", form)
    assert status == 303, page
    series = series_row(world, "pulse")
    assert series is not None
    assert series.channel.value == "video_digest"
    assert series.kinds == ["video", "event"]
    edit = client.get("/series/pulse/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="kinds"[^>]*value="video">', edit)
    assert not re.search(r'<input checked[^>]*name="kinds"[^>]*value="article">', edit)
    status, _page = submit(client, "/series/pulse/edit", good_form(channel="video_digest"))
    assert status == 303
    kept = series_row(world, "pulse")
    assert kept is not None
    assert kept.kinds is None  # none ticked: the channel's own (videos)
