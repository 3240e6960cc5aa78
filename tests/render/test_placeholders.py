"""Placeholders survive compiling and are filled per contact, escaped only where HTML needs it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from commhub.render.mjml_compiler import compile_mjml
from commhub.render.placeholders import (
    ContactValues,
    Personalisable,
    html_placeholder,
    raw_placeholder,
)

TRICKY = ContactValues('Ana <"&>', "O'Brien", "ana@p.example", "Smith & Sons", "TOKEN.abc")


def test_a_name_holding_markup_is_escaped_in_html_and_raw_elsewhere() -> None:
    tags = TRICKY.tags()
    html = Personalisable.parse("Hi %%first_name%%!", html=True)
    assert html.fill(tags) == "Hi Ana &lt;&quot;&amp;&gt;!"
    assert Personalisable.parse("Hi %%first_name.raw%%!", html=False).fill(tags) == 'Hi Ana <"&>!'


def test_each_part_fills_only_its_own_form_of_tag() -> None:
    tags = TRICKY.tags()
    both = "%%partner%% / %%partner.raw%%"
    assert Personalisable.parse(both, html=True).fill(tags) == "Smith &amp; Sons / %%partner.raw%%"
    assert Personalisable.parse(both, html=False).fill(tags) == "%%partner%% / Smith & Sons"


def test_an_empty_first_name_greets_with_there() -> None:
    values = ContactValues("", "", "x@p.example", "", "t")
    assert (
        Personalisable.parse("Hi %%greeting_name.raw%%,", html=False).fill(values.tags())
        == "Hi there,"
    )


def test_unknown_and_partial_tags_are_left_as_text() -> None:
    text = "100%% sure %%nickname%% %%first_name"
    assert Personalisable.parse(text, html=True).fill(TRICKY.tags()) == text


def test_placeholders_pass_through_mjml_untouched() -> None:
    source = (
        "<mjml><mj-body><mj-section><mj-column>"
        f"<mj-text>Hi {html_placeholder('first_name')}</mj-text>"
        f'<mj-button href="https://x.example/u/{html_placeholder("token")}">Go</mj-button>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    compiled = Personalisable.parse(compile_mjml(source), html=True)
    assert compiled.tags.count("%%first_name%%") == 1
    assert "%%token%%" in compiled.tags
    filled = compiled.fill(TRICKY.tags())
    assert "Hi Ana &lt;&quot;&amp;&gt;" in filled
    assert 'href="https://x.example/u/TOKEN.abc"' in filled


@given(st.text(), st.text())
def test_parse_then_source_gives_back_the_text(before: str, after: str) -> None:
    text = f"{before}{raw_placeholder('email')}{after}"
    assert Personalisable.parse(text, html=False).source() == text
