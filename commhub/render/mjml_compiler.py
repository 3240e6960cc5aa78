"""MJML to HTML: the one place that knows which MJML compiler commhub uses.

The `mjml` package (a Python port of MJML, with CSS inlining through css-inline) compiles
an edition once per role set, a few dozen milliseconds each; it never runs per contact.
"""

from __future__ import annotations

from collections.abc import Callable

from mjml import mjml_to_html

# The signature renderers take, so that a caller can swap or wrap the compiler.
MjmlCompiler = Callable[[str], str]


class MjmlError(ValueError):
    """The MJML did not compile."""


def compile_mjml(source: str) -> str:
    """Compile an MJML document to email-ready HTML (styles inlined)."""
    try:
        result = mjml_to_html(source)
    except (ValueError, AssertionError, KeyError, AttributeError) as exc:
        raise MjmlError(str(exc) or type(exc).__name__) from exc
    if result.errors:
        raise MjmlError("; ".join(map(str, result.errors)))
    return str(result.html)
