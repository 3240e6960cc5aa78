"""Compile an edition for one role set: Jinja2, then MJML, then checks, once.

Templates are files a team edits, so they run in Jinja2's SandboxedEnvironment with an
allowlisted context of plain values (never ORM objects), and an undefined name is an error
rather than an empty string. The contact's values are placeholders (see placeholders.py),
so the result is the same for every contact with that role set and is filled per contact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2 import TemplateError as JinjaError
from jinja2 import nodes as jinja_nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from commhub.errors import Problem, TemplateError
from commhub.render.content_plan import AudienceInfo, PickedItem, Section
from commhub.render.links import LinkKind, message_link
from commhub.render.mjml_compiler import MjmlCompiler, MjmlError, compile_mjml
from commhub.render.placeholders import (
    Personalisable,
    html_placeholders,
    inert_tags,
    raw_placeholders,
)

HTML_TEMPLATE = "email.mjml"
TEXT_TEMPLATE = "email.txt"
KIND_LABELS = {
    "article": ("Article", "Read more"),
    "video": ("Video", "Watch the video"),
    "announcement": ("Announcement", "Read the announcement"),
    "event": ("Event", "See the event"),
}
PREVIEW_TOKEN = "preview"  # noqa: S105 - a visible marker, not a secret
MAX_SUBJECT = 300
# Gmail shows "[Message clipped]" past about this much HTML, hiding the footer.
CLIPPED_HTML_BYTES = 102_000


@dataclass(frozen=True)
class CompiledMessage:
    """One edition for one role set, ready to be filled per contact."""

    subject: Personalisable
    html: Personalisable
    text: Personalisable


class LinkStyle(Protocol):
    """How a compiled message links: tracked per contact, or straight to targets (previews)."""

    def item(self, link_id: int, url: str) -> str: ...
    def vote(self, link_id: int, yes: bool) -> str: ...
    def message(self, kind: LinkKind) -> str | None: ...


class TrackedLinks:
    """The links of a real send: every one through message_link with the contact's token."""

    def __init__(self, base_url: str, token_tag: str) -> None:
        self.base_url = base_url
        self.token_tag = token_tag

    def item(self, link_id: int, url: str) -> str:
        return message_link(self.base_url, LinkKind.CLICK, self.token_tag, link_id)

    def vote(self, link_id: int, yes: bool) -> str:
        kind = LinkKind.VOTE_YES if yes else LinkKind.VOTE_NO
        return message_link(self.base_url, kind, self.token_tag, link_id)

    def message(self, kind: LinkKind) -> str | None:
        return message_link(self.base_url, kind, self.token_tag)


class PreviewLinks(TrackedLinks):
    """Previews and test sends: items link straight to their pages; nothing is tracked."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, PREVIEW_TOKEN)

    def item(self, link_id: int, url: str) -> str:
        return url

    def message(self, kind: LinkKind) -> str | None:
        return None if kind is LinkKind.OPEN else super().message(kind)


@dataclass(frozen=True)
class Sender:
    """Who a message is from, as the footer must show it."""

    org_name: str
    postal_address: str


@dataclass(frozen=True)
class EditionFacts:
    """What a template may know about the edition and its series."""

    series_name: str
    series_slug: str
    subject_template: str
    planned_at: datetime
    timezone: str
    edition_id: int | None = None


class Renderer:
    """Compiles messages from the templates in one directory (templates/<name>/)."""

    def __init__(self, templates_dir: Path, compile_html: MjmlCompiler = compile_mjml) -> None:
        self.templates_dir = templates_dir
        self.compile_html = compile_html
        options: dict[str, Any] = {
            "loader": FileSystemLoader(templates_dir),
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
        }
        self._html = SandboxedEnvironment(autoescape=True, **options)
        self._text = SandboxedEnvironment(autoescape=False, **options)

    def has_template(self, name: str) -> bool:
        """Whether templates/<name>/ holds both parts of a message."""
        folder = self.templates_dir / name
        return all((folder / part).is_file() for part in (HTML_TEMPLATE, TEXT_TEMPLATE))

    def compile(
        self,
        template: str,
        edition: EditionFacts,
        sections: Sequence[Section],
        sender: Sender,
        link_ids: Mapping[int, int],
        html_links: LinkStyle,
        text_links: LinkStyle,
    ) -> CompiledMessage:
        """Compile one role set's message; raises TemplateError naming the template."""
        base = _base_context(edition, sections, sender)
        subject = self._subject(edition, {**base, "contact": raw_placeholders()})
        # The HTML part shows the subject too (its <title>), with escaped placeholders.
        html_subject = self._subject(edition, {**base, "contact": html_placeholders()})
        html_source = self._render(
            self._html,
            f"{template}/{HTML_TEMPLATE}",
            {**base, **_parts(sections, link_ids, html_links, html_placeholders(), html_subject)},
        )
        try:
            html = compact_html(self.compile_html(html_source))
        except MjmlError as exc:
            path = str(self.templates_dir / template / HTML_TEMPLATE)
            raise TemplateError([Problem(path, f"the MJML does not compile: {exc}")]) from None
        text = self._render(
            self._text,
            f"{template}/{TEXT_TEMPLATE}",
            {**base, **_parts(sections, link_ids, text_links, raw_placeholders(), subject)},
        )
        compiled = CompiledMessage(
            subject=Personalisable.parse(subject, html=False),
            html=Personalisable.parse(html, html=True),
            text=Personalisable.parse(text, html=False),
        )
        self._check_footer(template, compiled, sender, html_links, text_links)
        return compiled

    def _subject(self, edition: EditionFacts, context: dict[str, Any]) -> str:
        source = f"series {edition.series_slug}"
        # Checked again here: a series row may predate the check, or come from elsewhere.
        shape = subject_shape_problem(edition.subject_template)
        if shape is not None:
            raise TemplateError([Problem(source, shape, "subject")])
        try:
            rendered = self._text.from_string(edition.subject_template).render(context)
        except JinjaError as exc:
            raise TemplateError([Problem(source, f"does not render: {exc}", "subject")]) from None
        subject = " ".join(rendered.split())
        if not subject:
            raise TemplateError([Problem(source, "renders to nothing", "subject")])
        return subject[:MAX_SUBJECT]

    def _render(self, env: SandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
        try:
            return env.get_template(name).render(context)
        except TemplateNotFound:
            raise TemplateError(
                [Problem(str(self.templates_dir / name), "no such template")]
            ) from None
        except TemplateSyntaxError as exc:
            where = exc.filename or str(self.templates_dir / name)
            raise TemplateError(
                [Problem(where, exc.message or str(exc), line=exc.lineno)]
            ) from None
        except JinjaError as exc:
            path = str(self.templates_dir / name)
            raise TemplateError([Problem(path, f"does not render: {exc}")]) from None

    def _check_footer(
        self,
        template: str,
        compiled: CompiledMessage,
        sender: Sender,
        html_links: LinkStyle,
        text_links: LinkStyle,
    ) -> None:
        """Refuse a message without the sender's postal address or an unsubscribe link."""
        problems = []
        if not sender.postal_address.strip():
            problems.append(
                Problem("COMMHUB_POSTAL_ADDRESS", "not set: every marketing email must carry it")
            )
        address = _words(sender.postal_address)
        for part, shown, links in (
            # What a reader sees: entities decoded (an address may hold an apostrophe).
            (HTML_TEMPLATE, unescape(compiled.html.source()), html_links),
            (TEXT_TEMPLATE, compiled.text.source(), text_links),
        ):
            path = str(self.templates_dir / template / part)
            if address and address not in _words(shown):
                problems.append(Problem(path, "the footer does not show the postal address"))
            if (links.message(LinkKind.UNSUBSCRIBE) or "") not in shown:
                problems.append(Problem(path, "the footer has no unsubscribe link"))
        if problems:
            raise TemplateError(problems)


def _base_context(
    edition: EditionFacts, sections: Sequence[Section], sender: Sender
) -> dict[str, Any]:
    """What the subject and both parts see, apart from the contact and the links."""
    return {
        "org": {"name": sender.org_name, "postal_address": sender.postal_address},
        "series": {"name": edition.series_name, "slug": edition.series_slug},
        "edition": {"id": edition.edition_id, "date_label": _date_label(edition)},
        "role_names": [inert_tags(s.audience.name) for s in sections],
        "preheader": _preheader(sections),
    }


# A subject is one line of names, filters and conditions. Loops, macros, calls, arithmetic
# and the filters that multiply text (replace, center, wordwrap, format...) are refused
# when the series is read, so that no subject can run for minutes or grow to gigabytes:
# what is left renders in time and size bounded by the template's own length.
_SUBJECT_NODES = frozenset({
    "Template", "Output", "TemplateData", "Name", "Getattr", "Getitem", "Const", "Filter",
    "If", "CondExpr", "Compare", "Operand", "And", "Or", "Not", "Concat", "Test", "List",
    "Tuple",
})  # fmt: skip
_SUBJECT_FILTERS = frozenset({
    "default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate", "e",
    "escape", "string", "join", "first", "last", "length", "count",
})  # fmt: skip
MAX_SUBJECT_TEMPLATE = 1000  # characters of the template itself
_SUBJECT_PARSER = SandboxedEnvironment()  # parses only; built once, not per edition


def subject_shape_problem(subject: str) -> str | None:
    """Why a subject template uses more than a subject needs, or None."""
    if len(subject) > MAX_SUBJECT_TEMPLATE:
        return f"longer than {MAX_SUBJECT_TEMPLATE} characters"
    try:
        tree = _SUBJECT_PARSER.parse(subject)
    except JinjaError as exc:
        return f"not a valid template: {exc}"
    for node in _walk(tree):
        kind = type(node).__name__
        if kind not in _SUBJECT_NODES:
            return f"a subject may not use {kind.lower()} (only names, filters and conditions)"
        if isinstance(node, jinja_nodes.Filter) and node.name not in _SUBJECT_FILTERS:
            return f'the filter "{node.name}" is not allowed in a subject'
        if isinstance(node, jinja_nodes.Test) and node.name not in ("defined", "none"):
            return f'the test "{node.name}" is not allowed in a subject'
    return None


def _walk(node: jinja_nodes.Node) -> Iterator[jinja_nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def subject_problem(subject: str, series_name: str) -> str | None:
    """Why a series' subject would not render (an unknown name, say), or None if it does."""
    shape = subject_shape_problem(subject)
    if shape is not None:
        return shape
    facts = EditionFacts(
        series_name, "x", subject, datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")), "UTC"
    )
    context = {**_base_context(facts, [], Sender("Org", "Address")), "contact": raw_placeholders()}
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    try:
        env.from_string(subject).render(context)
    except JinjaError as exc:
        names = (
            "org.name, series.name, edition.date_label, role_names, contact."
            + ", contact.".join(("first_name", "last_name", "greeting_name", "partner"))
        )
        return f"does not render ({exc}); it may use {names}"
    return None


def _parts(
    sections: Sequence[Section],
    link_ids: Mapping[int, int],
    links: LinkStyle,
    contact: dict[str, str],
    subject: str,
) -> dict[str, Any]:
    return {
        "subject": subject,
        "contact": contact,
        "sections": [
            {
                "audience": _audience(section.audience),
                # Not "items": in a template, section.items would be the dict's method.
                "entries": [_item(item, link_ids, links) for item in section.items],
            }
            for section in sections
        ],
        "links": {
            "unsubscribe": links.message(LinkKind.UNSUBSCRIBE),
            "preferences": links.message(LinkKind.PREFERENCES),
            "web_version": links.message(LinkKind.WEB_VERSION),
            "open_pixel": links.message(LinkKind.OPEN),
        },
    }


def _audience(audience: AudienceInfo) -> dict[str, str]:
    return {
        "slug": audience.slug,
        "name": inert_tags(audience.name),
        "description": inert_tags(audience.description),
    }


def _item(item: PickedItem, link_ids: Mapping[int, int], links: LinkStyle) -> dict[str, Any]:
    kind_label, link_label = KIND_LABELS[item.kind.value]
    link_id = link_ids[item.id]
    # Only the template puts a contact's values in: every tag in the content is inert.
    return {
        "title": inert_tags(item.title),
        "summary": inert_tags(item.summary),
        "kind": item.kind.value,
        "kind_label": kind_label,
        "link": links.item(link_id, item.url) if item.url else None,
        "link_label": link_label,
        "image": _inert_or_none(item.image),
        "image_alt": inert_tags(item.title),
        "duration_label": _duration(item.duration_seconds),
        "speaker": _inert_or_none(item.speaker),
        "key_message": _inert_or_none(item.key_message),
        # Sanitised by nh3 when the item was imported.
        "body_html": Markup(inert_tags(item.body_html)),  # noqa: S704
        "vote_yes": links.vote(link_id, yes=True),
        "vote_no": links.vote(link_id, yes=False),
    }


def _inert_or_none(text: str | None) -> str | None:
    return inert_tags(text) if text is not None else None


def compact_html(html: str) -> str:
    """HTML without indentation and blank lines (a quarter of MJML's output), outside <pre>.

    Gmail clips a message past about 102 KB of HTML, and the footer with the unsubscribe
    link is what gets clipped.
    """
    lines = []
    in_pre = False
    for line in html.splitlines():
        if in_pre:
            lines.append(line)
        elif line.strip():
            lines.append(line.strip())
        opened, closed = line.lower().count("<pre"), line.lower().count("</pre")
        in_pre = (in_pre or opened > closed) and not (closed > opened)
    return "\n".join(lines)


def _words(text: str) -> str:
    return " ".join(text.split())


def _duration(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def _date_label(edition: EditionFacts) -> str:
    local = edition.planned_at.astimezone(ZoneInfo(edition.timezone))
    return f"{local.day} {local:%B %Y}"


def _preheader(sections: Sequence[Section]) -> str:
    titles = [inert_tags(item.title) for section in sections for item in section.items][:3]
    text = " · ".join(titles)
    return text if len(text) <= 140 else text[:139].rstrip() + "…"
