"""What text commhub takes in: no control characters, named when refused.

Imports (contacts, content) refuse REFUSED_CHARACTERS in what a person wrote; whatever
reaches a message header is cleaned once more with without_controls, whatever its route.
"""

from __future__ import annotations

import re

# C0 controls but tab, line feed and carriage return; DEL; the C1 controls (NEL among them);
# and the Unicode line and paragraph separators: what no imported text may hold.
REFUSED_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# Every control, tab and line breaks too: what no name in a header may hold.
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMES = {
    0x00: "NUL", 0x08: "BS", 0x09: "TAB", 0x0A: "LF", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR",
    0x1B: "ESC", 0x7F: "DEL", 0x85: "NEL", 0x2028: "LINE SEPARATOR",
    0x2029: "PARAGRAPH SEPARATOR",
}  # fmt: skip


def describe_character(character: str) -> str:
    """U+001B (ESC): a character that does not print, named so a person can find it."""
    code = ord(character)
    name = _NAMES.get(code)
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


def has_controls(text: str) -> bool:
    """Whether text holds any control character (tab and line breaks included)."""
    return _ANY_CONTROL.search(text) is not None


def without_controls(text: str) -> str:
    """text with every control character a space, and runs of space made one."""
    if not _ANY_CONTROL.search(text):
        return text
    return " ".join(_ANY_CONTROL.sub(" ", text).split())
