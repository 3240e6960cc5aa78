"""One reader for every YAML file a person writes: safe types only, no anchors or aliases,
bounded size and depth, and errors that quote at most a short excerpt of the input.

Aliases are refused rather than capped: none of commhub's files needs them, and a refused
alias cannot expand into gigabytes ("billion laughs"). Anchors are refused with them, since an
anchor without an alias does nothing and one with an alias would be refused a line later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

# A content file, series file or audience file is a few KB; a megabyte is far past any real one
# and keeps PyYAML's pure-Python parse to about a second.
MAX_FILE_BYTES = 1_000_000
# Nesting deeper than this is no configuration anyone writes, and would reach Python's
# recursion limit in PyYAML's composer (a RecursionError instead of an error message).
MAX_DEPTH = 40
# Node objects cost a few hundred bytes each: this bounds memory whatever the text looks like.
MAX_NODES = 20_000
# Longer "numbers" stay text: Python refuses to build ints past 4,300 digits, and YAML 1.1's
# base-60 integers (1:2:3) take quadratic time to build.
MAX_NUMBER_CHARACTERS = 100
EXCERPT_CHARACTERS = 80


class InputProblem(Exception):  # noqa: N818 - reads better at the raise site than "...Error"
    """Why a file or its YAML cannot be read: one short line, with its line (1-based) if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML text: the plain data, and the node tree (for the line of each key)."""

    data: Any
    root: yaml.Node | None


def excerpt(value: object, limit: int = EXCERPT_CHARACTERS) -> str:
    """At most limit characters of value as text, control characters escaped, cut with "…"."""
    text = value if isinstance(value, str) else str(value)
    # Cut before escaping: escaping a megabyte only to throw it away costs time for nothing.
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    if len(shown) > limit or len(text) > limit:
        return shown[: limit - 1] + "…"
    return shown


def read_limited_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A UTF-8 file's text, refused (InputProblem) if larger than limit bytes or not UTF-8."""
    try:
        with path.open("rb") as stream:
            # One byte past the limit tells a file at the limit from a larger one without
            # reading the rest of it (it may be /dev/zero through a link).
            raw = stream.read(limit + 1)
    except OSError as exc:
        raise InputProblem(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise InputProblem(f"larger than {limit:,} bytes: refused unread")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputProblem("not UTF-8 text") from None


def read_yaml(text: str) -> YamlDocument:
    """Parse one YAML document safely; InputProblem names the line of what is wrong."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise InputProblem(_describe(exc), _line_of(exc)) from None
    except yaml.YAMLError as exc:
        raise InputProblem(excerpt(exc, 200)) from None
    finally:
        loader.dispose()
    return YamlDocument(data, root)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    # Never str(exc): it quotes the source line, which may be a megabyte, or a line of a file
    # nobody meant to show.
    parts = [part for part in (exc.context, exc.problem) if part]
    return excerpt(": ".join(parts) or "not valid YAML", 200)


def _line_of(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else None


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases, deep nesting and too many nodes, and
    leaves impossible dates and overlong numbers as text for the field that holds them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise InputProblem("aliases (*name) are not allowed in commhub's files", line)
        if getattr(event, "anchor", None) is not None:
            raise InputProblem("anchors (&name) are not allowed in commhub's files", line)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise InputProblem(f"more than {MAX_NODES:,} values: refused", line)
        if self._depth >= MAX_DEPTH:
            raise InputProblem(f"nested more than {MAX_DEPTH} levels deep: refused", line)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _int_or_text(self, node: yaml.ScalarNode) -> int | str:
        if len(node.value) > MAX_NUMBER_CHARACTERS:
            return str(node.value)
        return self.construct_yaml_int(node)

    def _date_or_text(self, node: yaml.ScalarNode) -> date | str:
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            # 2027-02-30 looks like a date and is none: the field that holds it says so,
            # with its name and line, instead of the parser failing the whole file.
            return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader._int_or_text)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader._date_or_text)
