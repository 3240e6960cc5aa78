"""Markdown to HTML that is safe to put in an email or a page."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# What a newsletter body may contain; anything else (script, style, iframes, forms, event
# handlers, javascript: URLs) is dropped by nh3 whatever the Markdown says.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_parser = (
    MarkdownIt("commonmark", {"html": True, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)


def render_markdown(text: str) -> str:
    """Render Markdown to sanitised HTML (raw HTML in the source is cleaned, not trusted)."""
    return sanitise_html(_parser.render(text))


def sanitise_html(html: str) -> str:
    """Keep only the tags, attributes and URL schemes a message may carry."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
