"""Per-contact placeholders: written once into a compiled edition, filled per contact.

An edition is compiled (Jinja2, then MJML) once per role set; what differs per contact is a
handful of values, left in the compiled text as placeholders that pass through Jinja2 and
MJML untouched. Each value has two forms with two different tags, because an HTML body
needs the value escaped and a text body or a subject needs it raw (SendGrid substitutes a
tag alike in all three parts, so one tag cannot serve both):

    %%first_name%%        HTML-escaped, for the HTML part
    %%first_name.raw%%    as it is, for the text part and the subject
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import NamedTuple, Self

from commhub.text import without_controls

FIELDS = ("first_name", "last_name", "greeting_name", "email", "partner", "token")
RAW_SUFFIX = ".raw"
# Each part recognises only its own form: a raw tag that reached an HTML part (say, in an
# item's title) stays inert text instead of putting an unescaped name into the page.
_HTML_TAG = re.compile(r"%%(?:" + "|".join(FIELDS) + r")%%")
_RAW_TAG = re.compile(r"%%(?:" + "|".join(FIELDS) + r")\.raw%%")


def inert_raw_tags(html: str) -> str:
    """The HTML with its raw tags made plain text (`%` as `&#37;`), so that a provider that
    fills tags itself, in every part, never puts an unescaped value into HTML."""
    return _RAW_TAG.sub(lambda tag: "&#37;" + tag.group(0)[1:], html)


_ANY_TAG = re.compile(r"%%(?=(?:" + "|".join(FIELDS) + r")(?:\.raw)?%%)")
# Invisible, and no tag has it: "%\u2060%email%%" reads as the tag and is never filled.
_WORD_JOINER = "\u2060"


def inert_tags(text: str) -> str:
    """Content's text with every tag it holds made inert (a word joiner after its first %),
    so a contact's values go only where the template puts them: an item whose link says
    `?e=%%email%%` must not hand a third party each contact's address or token."""
    return _ANY_TAG.sub("%" + _WORD_JOINER + "%", text) if "%%" in text else text


def html_placeholder(field: str) -> str:
    """The tag for field's HTML-escaped value."""
    _check(field)
    return f"%%{field}%%"


def raw_placeholder(field: str) -> str:
    """The tag for field's value as it is."""
    _check(field)
    return f"%%{field}{RAW_SUFFIX}%%"


def html_placeholders() -> dict[str, str]:
    """Every field mapped to its HTML tag: the `contact` of an HTML template."""
    return {field: html_placeholder(field) for field in FIELDS}


def raw_placeholders() -> dict[str, str]:
    """Every field mapped to its raw tag: the `contact` of a text template or subject."""
    return {field: raw_placeholder(field) for field in FIELDS}


def _check(field: str) -> None:
    if field not in FIELDS:
        raise ValueError(f"unknown placeholder field {field!r}")


# (tag, field, HTML-escaped?) for each tag a compiled message holds: worked out once.
SubstitutionPlan = tuple[tuple[str, str, bool], ...]


def substitution_plan(tags: Iterable[str]) -> SubstitutionPlan:
    """How to fill each of these tags."""
    plan = []
    for tag in sorted(set(tags)):
        name = tag.removeprefix("%%").removesuffix("%%")
        field = name.removesuffix(RAW_SUFFIX)
        _check(field)
        plan.append((tag, field, field == name))
    return tuple(plan)


class ContactValues(NamedTuple):
    """The per-contact values a compiled message is filled with."""

    first_name: str
    last_name: str
    email: str
    partner: str
    token: str

    @classmethod
    def of(cls, first_name: str, last_name: str, email: str, partner: str, token: str) -> Self:
        """A contact's values with no control character, whatever the database holds."""
        return cls(
            without_controls(first_name), without_controls(last_name), without_controls(email),
            without_controls(partner), token,
        )  # fmt: skip

    @property
    def greeting_name(self) -> str:
        return self.first_name or "there"

    def substitutions(self, plan: SubstitutionPlan) -> dict[str, str]:
        """The planned tags mapped to this contact's text: what a message using them needs."""
        return {
            tag: escape(getattr(self, field), quote=True) if escaped else getattr(self, field)
            for tag, field, escaped in plan
        }

    def tags(self) -> dict[str, str]:
        """Every tag, both forms, mapped to the text that replaces it (SendGrid's substitutions)."""
        tags: dict[str, str] = {}
        for field in FIELDS:
            value = getattr(self, field)
            tags[f"%%{field}%%"] = escape(value, quote=True)
            tags[f"%%{field}{RAW_SUFFIX}%%"] = value
        return tags


@dataclass(frozen=True, slots=True)
class Personalisable:
    """A compiled text split at its placeholders once, so that filling it is one join."""

    chunks: tuple[str, ...]
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, html: bool) -> Personalisable:
        """Split text at its placeholders: HTML tags for an HTML part, raw tags otherwise."""
        chunks: list[str] = []
        tags: list[str] = []
        position = 0
        for match in (_HTML_TAG if html else _RAW_TAG).finditer(text):
            chunks.append(text[position : match.start()])
            tags.append(match.group(0))
            position = match.end()
        chunks.append(text[position:])
        return cls(tuple(chunks), tuple(tags))

    def fill(self, tags: Mapping[str, str]) -> str:
        """The text with every placeholder replaced by its value in tags."""
        if not self.tags:
            return self.chunks[0]
        parts = [self.chunks[0]]
        for tag, chunk in zip(self.tags, self.chunks[1:], strict=True):
            parts.append(tags[tag])
            parts.append(chunk)
        return "".join(parts)

    def source(self) -> str:
        """The compiled text with its placeholders, as parsed."""
        parts = [self.chunks[0]]
        for tag, chunk in zip(self.tags, self.chunks[1:], strict=True):
            parts += [tag, chunk]
        return "".join(parts)
