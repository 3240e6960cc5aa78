"""The text of a social post: rendered from templates/social/<network>.txt, measured in the
network's own units, and shortened until it fits.

Only the headline and the hashtags are ever shortened. The headline is cut between words
(or, in scripts written without spaces, between characters) and gets an ellipsis; it is
never cut inside a URL, a hashtag or a grapheme cluster. When even one character of it does
not fit, hashtags are dropped from the end, one at a time. Everything is measured on the
whole rendered post, so a template may put the link and the hashtags anywhere.

Networks are named by strings ("mastodon", "linkedin", "webhook"): render sits below
delivery, whose Network enum (a StrEnum) can be passed as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import regex
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from commhub.errors import Problem, TemplateError

# Mastodon's default; LinkedIn's Posts API `commentary`; a webhook's unless configured.
LIMITS: Mapping[str, int] = MappingProxyType({"mastodon": 500, "linkedin": 3000, "webhook": 4000})
UNITS: Mapping[str, str] = MappingProxyType(
    {"mastodon": "characters", "linkedin": "UTF-16 units", "webhook": "code points"}
)
_ELLIPSIS = "…"
# Mastodon's characters_reserved_per_url: any URL it recognises counts this much.
_MASTODON_URL_WEIGHT = 23

_GRAPHEME = regex.compile(r"\X")
# Every control character (line breaks too), the line/paragraph separators, and lone
# surrogates (which no network's JSON takes): none belongs in a one-line value.
_CONTROLS = regex.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\p{Cs}]")
_NEWLINE_RUNS = re.compile(r"\n{3,}")
_LINE_END_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)

# What Mastodon may take for a URL, kept to ASCII and without parentheses so that our URL
# is never longer than Mastodon's: where we stop earlier we count more, never less.
_MASTODON_URL = regex.compile(
    r"(?<![A-Za-z0-9@$#＠＃\uFEFF\uFFFE\uFFFF])https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%\[\]]+",
    regex.IGNORECASE,
)
_URL_TRAILING = regex.compile(r"[^A-Za-z0-9_#/\-]+$")  # a URL never ends in these, for Mastodon
_PUBLIC_HOST = regex.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?P<tld>[a-z]{2,63})(?::[0-9]+)?",
    regex.IGNORECASE,
)
# Special-use names Mastodon's URL parser does not know: such URLs count at full length.
_UNKNOWN_TLDS = frozenset(
    {"example", "invalid", "localhost", "local", "test", "internal", "onion", "arpa", "lan"}
)

# In a headline, anything URL-like or hashtag-like is kept whole or dropped whole.
_UNCUTTABLE = regex.compile(
    r"https?://\S+|(?<![\p{L}\p{M}\p{Nd}_])#[\p{L}\p{M}\p{Nd}_]+", regex.IGNORECASE
)
# Scripts written without spaces between words: a headline may be cut between any two of
# their characters, as a line may be broken there.
_NO_SPACE_SCRIPT = regex.compile(
    r"[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Bopomofo}\p{scx=Thai}\p{scx=Lao}"
    r"\p{scx=Khmer}\p{scx=Myanmar}]"
)
_DANGLING = frozenset(" ,;:-–—")  # what a cut may leave before the ellipsis; dropped

_HASHTAG_DROPPED = regex.compile(r"[^\p{L}\p{M}\p{Nd}_]+")
_LEADING_MARKS = regex.compile(r"^\p{M}+")
_LETTER = regex.compile(r"\p{L}")


class PostTooLong(ValueError):  # noqa: N818 - the name the API was given
    """A post that does not fit its network's limit however its headline and hashtags are
    shortened: the link, the template's own text or the other values are too long."""

    def __init__(self, network: str, limit: int, length: int, shortest: int) -> None:
        units = UNITS.get(network, "characters")
        super().__init__(
            f"a {network} post cannot fit in {limit} {units}: what is never shortened (the "
            f"link, the template's text and the item's other values) measures {length}, and "
            f"the shortest post possible {shortest}"
        )
        self.network = network
        self.limit = limit
        self.length = length
        self.shortest = shortest


@dataclass(frozen=True)
class SocialItem:
    """The plain values of a content item that a post may show."""

    title: str
    summary: str = ""
    kind: str = "article"
    speaker: str | None = None
    duration_seconds: int | None = None
    hashtags: tuple[str, ...] = ()
    social_line: str | None = None  # a per-item line for posts; the title when None


@dataclass(frozen=True)
class ComposedPost:
    """A post's text, as it will be sent."""

    text: str
    length: int  # in the network's units
    limit: int
    shortened: bool  # the headline was cut or hashtags dropped
    hashtags: tuple[str, ...]  # those kept


def measure(text: str, network: str) -> int:
    """text's length as the network counts it against its limit.

    Mastodon: grapheme clusters, every URL it recognises 23; LinkedIn: UTF-16 code units
    (as JavaScript counts), URLs in full; a webhook: code points.
    """
    if network == "mastodon":
        return _mastodon_length(text)
    if network == "linkedin":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    if network == "webhook":
        return len(text)
    raise ValueError(f"unknown network {network!r}: one of {', '.join(LIMITS)}")


def _mastodon_length(text: str) -> int:
    # As Mastodon does: each URL becomes 23 placeholder characters, then clusters are counted.
    countable = _MASTODON_URL.sub(_mastodon_placeholder, text)
    return len(_GRAPHEME.findall(countable))


def _mastodon_placeholder(match: Any) -> str:
    found: str = match.group()
    url = _URL_TRAILING.sub("", found)
    rest = found[len(url) :]
    authority = regex.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    host = _PUBLIC_HOST.fullmatch(authority)
    if host is None or host.group("tld").lower() in _UNKNOWN_TLDS:
        return found  # Mastodon would not link it: it counts in full
    return "x" * _MASTODON_URL_WEIGHT + rest


def normalise_hashtags(raw: Iterable[str]) -> tuple[str, ...]:
    """'#' + letters, marks, digits and underscores, in order; each tag once (ignoring case).

    "partner news" -> "#partnernews"; "#Café!" -> "#Café". Tags without a letter (#2026)
    are dropped: no network links them.
    """
    tags: list[str] = []
    seen: set[str] = set()
    for tag in raw:
        name = _HASHTAG_DROPPED.sub("", unicodedata.normalize("NFC", tag))
        name = _LEADING_MARKS.sub("", name)
        if not _LETTER.search(name) or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        tags.append("#" + name)
    return tuple(tags)


def _one_line(text: str) -> str:
    """text without control characters, its whitespace collapsed to single spaces."""
    return " ".join(_CONTROLS.sub(" ", text).split())


class SocialComposer:
    """Composes posts from the templates in templates_dir / "social", one per network."""

    def __init__(self, templates_dir: Path) -> None:
        self.folder = templates_dir / "social"
        self._env = SandboxedEnvironment(
            loader=FileSystemLoader(self.folder),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        self._templates: dict[str, Template] = {}

    def compose(
        self,
        network: str,
        item: SocialItem,
        link: str,
        *,
        series_name: str,
        account_name: str,
        limit: int | None = None,
    ) -> ComposedPost:
        """The post for item, within limit (the network's own by default).

        Raises PostTooLong when it cannot fit, TemplateError when the template fails.
        """
        network = _known(network)
        limit = LIMITS[network] if limit is None else limit
        if limit < 1:
            raise ValueError(f"a post's limit must be at least 1, not {limit}")
        template = self._template(network)
        base = _context(network, item, link, series_name, account_name)
        headline = _Headline(_one_line(item.social_line or "") or _one_line(item.title))
        all_tags = normalise_hashtags(item.hashtags)

        def render(text: str, tags: Sequence[str]) -> str:
            return self._render(template, {**base, "text": text, "hashtags": list(tags)})

        for kept in range(len(all_tags), -1, -1):
            tags = all_tags[:kept]
            post = _fit(headline, partial(render, tags=tags), network, limit)
            if post is not None:
                text, cut = post
                return ComposedPost(
                    text, measure(text, network), limit, cut or kept < len(all_tags), tags
                )
        raise PostTooLong(
            network,
            limit,
            measure(render("", ()), network),
            measure(render(headline.shortest(), ()), network),
        )

    def check_templates(self) -> list[str]:
        """What is wrong with each network's template (missing, broken, using an unknown
        name), one line per problem; empty when all render."""
        sample = SocialItem("Title", "Summary", "video", "Speaker", 600, ("#tag",), None)
        problems: list[str] = []
        for network in LIMITS:
            try:
                template = self._template(network)
                context = _context(network, sample, "https://example.com/s/x", "Series", "A")
                self._render(template, {**context, "text": "Title", "hashtags": ["#tag"]})
            except TemplateError as exc:
                problems.extend(str(problem) for problem in exc.problems)
        return problems

    def _template(self, network: str) -> Template:
        cached = self._templates.get(network)
        if cached is not None:
            return cached
        name = f"{network}.txt"
        path = str(self.folder / name)
        try:
            template = self._env.get_template(name)
        except TemplateNotFound:
            raise TemplateError([Problem(path, "no such template")]) from None
        except TemplateSyntaxError as exc:
            where = exc.filename or path
            raise TemplateError(
                [Problem(where, exc.message or str(exc), line=exc.lineno)]
            ) from None
        self._templates[network] = template
        return template

    def _render(self, template: Template, context: dict[str, Any]) -> str:
        try:
            rendered = template.render(context)
        except JinjaError as exc:
            path = template.filename or str(self.folder)
            line = _template_line(exc.__traceback__, path)
            raise TemplateError([Problem(path, f"does not render: {exc}", line=line)]) from None
        return _tidy(rendered)


def _tidy(text: str) -> str:
    """A rendered post without spaces at line ends or around it, and no more than one blank
    line in a row (a template's empty values leave such gaps)."""
    return _NEWLINE_RUNS.sub("\n\n", _LINE_END_SPACE.sub("", text)).strip()


def _known(network: str) -> str:
    name = str(network)
    if name not in LIMITS:
        raise ValueError(f"unknown network {name!r}: one of {', '.join(LIMITS)}")
    return name


def _context(
    network: str, item: SocialItem, link: str, series_name: str, account_name: str
) -> dict[str, Any]:
    """What a template sees besides text and hashtags: plain values only."""
    seconds = item.duration_seconds
    return {
        "link": link,
        "item": {
            "title": _one_line(item.title),
            "summary": _one_line(item.summary),
            "kind": item.kind,
            "speaker": _one_line(item.speaker) if item.speaker is not None else None,
            # Rounded to the nearest minute; a short video is never "0 minutes".
            "duration_minutes": _minutes(seconds),
        },
        "series": {"name": _one_line(series_name)},
        "account": {"name": _one_line(account_name), "network": network},
    }


def _minutes(seconds: int | None) -> int | None:
    """Rounded to the nearest minute; a video of a few seconds is 1 minute, never 0."""
    if seconds is None:
        return None
    return max(1, (seconds + 30) // 60) if seconds > 0 else 0


def _template_line(traceback: TracebackType | None, path: str) -> int | None:
    """The template line an error came from: Jinja rewrites its frames to the template's."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


class _Headline:
    """A headline as atoms that are kept or dropped whole: grapheme clusters, except that a
    URL or a hashtag is one atom. A cut keeps the first k atoms and adds the ellipsis."""

    def __init__(self, text: str) -> None:
        self.text = text
        clusters = [m.span() for m in _GRAPHEME.finditer(text)]
        protected = [m.span() for m in _UNCUTTABLE.finditer(text)]
        atoms: list[str] = []
        whole: list[bool] = []  # whether the atom is a URL or hashtag
        index = 0
        for start, end in protected:
            while index < len(clusters) and clusters[index][1] <= start:
                atoms.append(text[slice(*clusters[index])])
                whole.append(False)
                index += 1
            if index < len(clusters) and clusters[index][0] < end:
                first = clusters[index][0]
                while index < len(clusters) and clusters[index][0] < end:
                    index += 1
                atoms.append(text[first : clusters[index - 1][1]])
                whole.append(True)
        for start, end in clusters[index:]:
            atoms.append(text[start:end])
            whole.append(False)
        self.atoms = atoms
        self.whole = whole

    def cut(self, kept: int) -> str:
        """The first `kept` atoms (0 < kept < all) and the ellipsis."""
        # Spaces and dangling punctuation go, atom by atom: never a character of a URL.
        end = kept
        while end > 1 and not self.whole[end - 1] and self.atoms[end - 1] in _DANGLING:
            end -= 1
        text = "".join(self.atoms[:end])
        # Glued on, the ellipsis would read as part of a URL (Mastodon would link it).
        return text + (" " + _ELLIPSIS if self.whole[end - 1] else _ELLIPSIS)

    def shortest(self) -> str:
        return self.text if len(self.atoms) <= 1 else self.cut(1)

    def word_cuts(self) -> list[int]:
        """Where a cut ends a word: before a space, or next to a character of a script
        written without spaces."""
        atoms = self.atoms
        return [
            kept
            for kept in range(1, len(atoms))
            if atoms[kept - 1] != " "
            and (atoms[kept] == " " or _no_space(atoms[kept - 1]) or _no_space(atoms[kept]))
        ]


def _no_space(atom: str) -> bool:
    return _NO_SPACE_SCRIPT.match(atom) is not None


def _fit(
    headline: _Headline, render: Callable[[str], str], network: str, limit: int
) -> tuple[str, bool] | None:
    """The post with the longest headline that fits (and whether it was cut), or None."""

    def fitting(text: str) -> str | None:
        post = render(text)
        return post if measure(post, network) <= limit else None

    whole = fitting(headline.text)
    if whole is not None:
        return whole, False
    if len(headline.atoms) <= 1 or fitting(headline.cut(1)) is None:
        return None
    # Between words if any word fits; else (one long word) between grapheme clusters.
    for cuts in (headline.word_cuts(), list(range(1, len(headline.atoms)))):
        post = _longest(cuts, lambda kept: fitting(headline.cut(kept)))
        if post is not None:
            return post, True
    return None  # unreachable while the measure grows with the text; kept for safety


def _longest(cuts: Sequence[int], fitting: Callable[[int], str | None]) -> str | None:
    """The post of the longest cut that fits, by binary search over the cuts (in order)."""
    best = None
    low, high = 0, len(cuts) - 1
    while low <= high:
        middle = (low + high) // 2
        post = fitting(cuts[middle])
        if post is None:
            high = middle - 1
        else:
            best, low = post, middle + 1
    return best
