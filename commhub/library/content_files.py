"""Content files: content/**/*.md with YAML front matter, parsed into validated drafts.

Parsing knows nothing of the database except the audience slugs it is given, so every
problem in every file is found before anything is written. Every problem inside a file names
the line: of the field in the front matter, or of the body line.

Text is normalised to Unicode NFC: every front-matter text (title, summary, speaker,
key_message, social, slug, url, video_url, thumbnail, hashtags) and the body. Control
characters are refused with the line and field, never guessed at: C0 controls (NUL, ESC, ...),
DEL, C1 controls (NEL, ...) and U+2028/U+2029, anywhere in the file as written, and in a value
that a double-quoted YAML escape produces (such as \\e, \\0, \\N or \\L). Tab and line breaks
are the exception: in the body they stay as written; in the summary a line break stays and a tab
becomes a space; in every other field tabs and line breaks are whitespace, collapsed with any
run of spaces into one.

`social` is the one line an item's social posts say in place of its title: optional, but not
empty when given, and at most MAX_SOCIAL characters once its whitespace is collapsed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import yaml

from commhub.errors import Problem
from commhub.library.audiences import read_audience_list
from commhub.library.markdown import render_markdown
from commhub.library.yaml_reader import InputProblem, excerpt, read_limited_text, read_yaml
from commhub.store import ContentKind, ContentStatus
from commhub.text import REFUSED_CHARACTERS, describe_character

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")
HASHTAG_PATTERN = re.compile(r"^\w+$")
DURATION_PATTERN = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)$")
FRONT_MATTER_FIELDS = frozenset(
    {
        "slug", "title", "audiences", "kind", "summary", "url", "video_url", "thumbnail",
        "duration", "speaker", "hashtags", "key_message", "publish_at", "expires_at",
        "priority", "status", "social",
    }
)  # fmt: skip
MAX_TITLE = 300
_Choice = TypeVar("_Choice", ContentKind, ContentStatus)
MAX_KEY_MESSAGE = 500
MAX_SOCIAL = 280  # a post holds a link and hashtags too
MAX_PRIORITY = 1_000_000
MAX_DURATION = 100 * 3600  # seconds; longer is a typo, not a video
LOOKS_LIKE_A_DATE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}")
# The line breaks an editor counts (and YAML with them): not NEL or U+2028, which are refused.
_LINE_BREAK = re.compile("\r\n|\r|\n")
# A front-matter line that starts a top-level field, to name the field a bad line belongs to.
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
# A file full of control characters is named by its first few lines, not by thousands.
MAX_LINES_NAMED = 10


@dataclass(frozen=True)
class ContentDraft:
    """A content item as a file describes it, validated, ready to store."""

    slug: str
    source_ref: str
    title: str
    audiences: tuple[str, ...]
    kind: ContentKind
    status: ContentStatus
    summary: str
    body_markdown: str
    body_html: str
    url: str | None
    video_url: str | None
    thumbnail_url: str | None
    duration_seconds: int | None
    speaker: str | None
    hashtags: tuple[str, ...]
    social_line: str | None
    key_message: str | None
    publish_at: datetime | None
    expires_at: datetime | None
    priority: int
    # Where the file sets its slug (None: the slug comes from the path): not stored.
    slug_line: int | None = dataclass_field(default=None, compare=False)

    def digest(self) -> str:
        """A fingerprint of everything stored, to tell an edited file from an unchanged one."""
        values = asdict(self)
        del values["slug_line"]
        # Left out when unset, so an item stored before the field existed keeps its fingerprint
        # and its file's next import still finds it unchanged.
        if values["social_line"] is None:
            del values["social_line"]
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def find_content_files(directory: Path) -> list[Path]:
    """Every Markdown file under directory, in a stable order; hidden paths are skipped.

    A link is followed only to a file inside directory: one that leads out of it is left to
    find_links_outside, and a linked folder is not entered (a link may loop back up).
    """
    inside = directory.resolve()
    found: list[Path] = []
    for folder, folders, files in os.walk(directory, followlinks=False):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            path = Path(folder, name)
            if name.startswith(".") or not name.endswith(".md"):
                continue
            if path.is_file() and _is_inside(path, inside):
                found.append(path)
    return sorted(found)


def find_links_outside(directory: Path) -> list[Problem]:
    """A problem for every link under directory (a *.md file or a folder) that leads out of it.

    Such a file is refused unread, so no line of it can be echoed into an error.
    """
    inside = directory.resolve()
    problems: list[Problem] = []
    for folder, folders, files in os.walk(directory, followlinks=False):
        folders[:] = [name for name in folders if not name.startswith(".")]
        names = [*folders, *(name for name in files if name.endswith(".md"))]
        for name in names:
            path = Path(folder, name)
            if name.startswith(".") or not path.is_symlink():
                continue
            target = _resolved(path)
            if target is None:
                problems.append(Problem(str(path), "a link that loops: refused unread"))
            elif not target.is_relative_to(inside):
                kind = "a folder" if target.is_dir() else "a file"
                problems.append(
                    Problem(str(path), f"a link to {kind} outside {directory}: refused unread")
                )
    return problems


def _is_inside(path: Path, directory: Path) -> bool:
    """Whether path, links resolved, is directory itself or lies beneath it."""
    target = _resolved(path)
    return target is not None and target.is_relative_to(directory)


def _resolved(path: Path) -> Path | None:
    """Where path leads, links followed; None for a link that loops."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's word for a loop
        return None


def parse_content_file(
    path: Path, root: Path, known_audiences: Collection[str], problems: list[Problem]
) -> ContentDraft | None:
    """Parse one file; append every problem found to problems and return None if any."""
    relative = path.relative_to(root).as_posix()
    source = str(path)
    # Checked again here, next to the read: the file may have been swapped for a link since
    # the folder was listed.
    if not _is_inside(path, root.resolve()):
        problems.append(Problem(source, f"a link to a file outside {root}: refused unread"))
        return None
    try:
        text = read_limited_text(path)
    except InputProblem as exc:
        problems.append(Problem(source, exc.message))
        return None
    refused = _control_characters(text, source)
    if refused:
        problems.extend(refused)
        return None
    split = _split_front_matter(text)
    if split is None:
        problems.append(Problem(source, "no front matter: the file must start with a --- line"))
        return None
    header, body = split
    try:
        document = read_yaml(header)
    except InputProblem as exc:
        # +1: the opening --- is line 1, so the front matter's first line is line 2.
        line = exc.line + 1 if exc.line is not None else None
        problems.append(
            Problem(source, f"front matter is not valid YAML: {exc.message}", line=line)
        )
        return None
    data: Any = document.data or {}
    if not isinstance(data, dict):
        problems.append(Problem(source, "front matter must be a mapping of fields", line=2))
        return None
    lines = _field_lines(document.root)
    return FrontMatterReader(source, data, lines, known_audiences, problems).draft(relative, body)


def _field_lines(root: yaml.Node | None) -> dict[str, int]:
    """The file line of each front-matter field: +1 for 1-based, +1 for the opening ---."""
    if not isinstance(root, yaml.MappingNode):
        return {}
    # Only plain keys: a list or mapping as a key has no name to report.
    return {
        str(key.value): key.start_mark.line + 2
        for key, _ in root.value
        if isinstance(key, yaml.ScalarNode)
    }


def _control_characters(text: str, source: str) -> list[Problem]:
    """A Problem for each line (the first MAX_LINES_NAMED) holding a refused character.

    Checked on the text as written, before YAML reads it: YAML takes NEL and U+2028 for line
    breaks (which would shift every line number after them) and refuses NUL or ESC with a
    message that names no field. A front-matter line is named by the field it belongs to, a
    line after the front matter as the body.
    """
    if REFUSED_CHARACTERS.search(text) is None:
        return []
    lines = _LINE_BREAK.split(text)
    end = 0
    if lines and lines[0].lstrip("\ufeff").strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), len(lines))
    problems: list[Problem] = []
    field: str | None = None
    for index, line in enumerate(lines):
        if 0 < index < end and (key := _TOP_LEVEL_KEY.match(line)) is not None:
            field = key.group(1)
        found = REFUSED_CHARACTERS.search(line)
        if found is None:
            continue
        if len(problems) == MAX_LINES_NAMED:
            problems.append(Problem(source, "more lines with control characters: not listed"))
            break
        where = "body" if end and index > end else field if 0 < index < end else None
        message = (
            f"control character {describe_character(found.group())} "
            f"at character {found.start() + 1} of the line: refused"
        )
        problems.append(Problem(source, message, where, index + 1))
    return problems


def _split_front_matter(text: str) -> tuple[str, str] | None:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]).strip() + "\n"
    return None


class FrontMatterReader:
    """Reads typed values out of one file's front matter, recording a Problem per bad field."""

    def __init__(
        self,
        source: str,
        data: dict[str, Any],
        lines: dict[str, int],
        known_audiences: Collection[str],
        problems: list[Problem],
    ) -> None:
        self.source = source
        self.data = data
        self.lines = lines
        self.known_audiences = known_audiences
        self.problems = problems
        self.failed = False

    def problem(self, field: str, message: str, line: int | None = None) -> None:
        """A Problem at the field's line (a field the file leaves out has none)."""
        where = line if line is not None else self.lines.get(field)
        self.problems.append(Problem(self.source, message, field, where))
        self.failed = True

    def draft(self, relative: str, body: str) -> ContentDraft | None:
        for field in sorted(map(str, set(self.data) - FRONT_MATTER_FIELDS)):
            self.problem(excerpt(field), "unknown field", self.lines.get(field))
        kind = self.choice("kind", ContentKind, ContentKind.ARTICLE)
        video_url = self.url("video_url")
        publish_at, expires_at = self.moment("publish_at"), self.moment("expires_at")
        if kind is ContentKind.VIDEO and not video_url:
            self.problem("video_url", "required for a video", self.lines.get("kind"))
        if publish_at and expires_at and expires_at <= publish_at:
            self.problem("expires_at", "must be after publish_at")
        draft = ContentDraft(
            slug=self.slug(relative),
            source_ref=relative,
            title=self.text("title", required=True, limit=MAX_TITLE) or "",
            audiences=self.audiences(),
            kind=kind,
            status=self.choice("status", ContentStatus, ContentStatus.PUBLISHED),
            summary=self.text("summary") or "",
            body_markdown=unicodedata.normalize("NFC", body),
            body_html="",
            url=self.url("url"),
            video_url=video_url,
            thumbnail_url=self.url("thumbnail"),
            duration_seconds=self.duration(),
            speaker=self.text("speaker", limit=200),
            hashtags=self.hashtags(),
            social_line=self.social(),
            key_message=self.text("key_message", limit=MAX_KEY_MESSAGE),
            publish_at=publish_at,
            expires_at=expires_at,
            priority=self.integer("priority", 0, -MAX_PRIORITY, MAX_PRIORITY),
            slug_line=self.lines.get("slug"),
        )
        if self.failed:
            return None
        return replace(draft, body_html=render_markdown(draft.body_markdown))

    def slug(self, relative: str) -> str:
        raw = self.data.get("slug")
        slug = relative.removesuffix(".md") if raw is None else str(raw).strip()
        if raw is not None and self.refuses_controls("slug", slug):
            return slug
        slug = unicodedata.normalize("NFC", slug)
        if not SLUG_PATTERN.fullmatch(slug):
            self.problem(
                "slug",
                f'"{excerpt(slug)}" is not a slug (lowercase a-z, 0-9, - and _, parts joined by /)',
            )
        return slug

    def text(self, field: str, *, required: bool = False, limit: int | None = None) -> str | None:
        value = self.data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(field, "required")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem(field, "must be text")
            return None
        text = unicodedata.normalize("NFC", str(value))
        if self.refuses_controls(field, text):
            return None
        if field == "summary":
            text = _LINE_BREAK.sub("\n", text).replace("\t", " ").strip()
        else:
            text = " ".join(text.split())
        if limit is not None and len(text) > limit:
            self.problem(field, f"longer than {limit} characters")
        return text

    def social(self) -> str | None:
        """The social posts' line: read as the title is, but an empty one is refused (the
        field left out means the title)."""
        value = self.data.get("social")
        if "social" in self.data and (
            value is None or (isinstance(value, str) and not value.strip())
        ):
            self.problem(
                "social", "empty: write the posts' line, or leave the field out to use the title"
            )
            return None
        text = self.text("social")
        if text is not None and len(text) > MAX_SOCIAL:
            self.problem("social", f"longer than {MAX_SOCIAL} characters: social posts are short")
        return text

    def refuses_controls(self, field: str, text: str) -> bool:
        """Whether text holds a refused character (a double-quoted YAML escape gives one)."""
        found = REFUSED_CHARACTERS.search(text)
        if found is not None:
            character = describe_character(found.group())
            self.problem(field, f"control character {character}: refused")
        return found is not None

    def audiences(self) -> tuple[str, ...]:
        value = self.data.get("audiences")
        if value in (None, "", []):
            self.problem("audiences", "required: a list of audience slugs")
            return ()
        slugs, problems = read_audience_list(value, self.known_audiences)
        for message in problems:
            self.problem("audiences", message)
        return slugs

    def choice(self, field: str, kind: type[_Choice], default: _Choice) -> _Choice:
        value = self.data.get(field)
        if value is None:
            return default
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            self.problem(field, f'"{excerpt(value)}" is not one of: {allowed}')
            return default

    def url(self, field: str) -> str | None:
        value = self.text(field, limit=2000)
        # No quotes, angle brackets or backslashes: a URL lands in HTML attributes unescaped
        # by some email tooling, and no real URL needs them unencoded.
        if value is not None and not re.match(
            r"^https?://[^\s/$.?#\"'<>\\][^\s\"'<>\\]*$", value, re.I
        ):
            self.problem(field, f'not an http(s) URL: "{excerpt(value)}"')
        return value

    def duration(self) -> int | None:
        value = self.data.get("duration")
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return self.bounded("duration", value, 0, MAX_DURATION)
        match = DURATION_PATTERN.match(str(value).strip())
        if not match:
            self.problem("duration", f'"{excerpt(value)}" is not mm:ss, h:mm:ss or seconds')
            return None
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return self.bounded("duration", hours * 3600 + minutes * 60 + seconds, 0, MAX_DURATION)

    def hashtags(self) -> tuple[str, ...]:
        value = self.data.get("hashtags")
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list):
            self.problem("hashtags", "must be a list of words")
            return ()
        tags = [unicodedata.normalize("NFC", str(v).strip().lstrip("#")) for v in value]
        for tag in tags:
            if self.refuses_controls("hashtags", tag):
                continue
            if not HASHTAG_PATTERN.fullmatch(tag):
                self.problem("hashtags", f'"{excerpt(tag)}" is not a single word')
        return tuple(dict.fromkeys(tags))

    def moment(self, field: str) -> datetime | None:
        value = self.data.get(field)
        if value is None or value == "":
            return None
        parsed = _to_utc(value)
        if parsed is None and isinstance(value, str) and LOOKS_LIKE_A_DATE.match(value):
            self.problem(field, f'"{excerpt(value)}" is an impossible date')
        elif parsed is None:
            self.problem(
                field, f'not a date: "{excerpt(value)}" (use 2026-11-03 or 2026-11-03T09:00Z)'
            )
        return parsed

    def integer(self, field: str, default: int, low: int, high: int) -> int:
        value = self.data.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(str(value).strip())
            except ValueError:
                self.problem(field, f'"{excerpt(value)}" is not a whole number')
                return default
        return self.bounded(field, value, low, high)

    def bounded(self, field: str, value: int, low: int, high: int) -> int:
        # The database holds 32-bit integers: a larger number must stop here, named, rather
        # than fail the whole import's write with a driver's traceback.
        if not low <= value <= high:
            self.problem(field, f"must be from {low:,} to {high:,}")
            return low if value < low else high
        return value


def _to_utc(value: object) -> datetime | None:
    """A front-matter date as UTC: dates mean midnight UTC, times without an offset mean UTC."""
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            return None
    else:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before the first UTC moment there is
        return None


def parse_library(
    root: Path, known_audiences: Collection[str], progress: Callable[[int], None] | None = None
) -> tuple[list[ContentDraft], list[Problem]]:
    """Parse every content file under root; returns the drafts and every problem found."""
    problems: list[Problem] = find_links_outside(root)
    drafts: list[ContentDraft] = []
    first_file_for_slug: dict[str, str] = {}
    for path in find_content_files(root):
        draft = parse_content_file(path, root, known_audiences, problems)
        if progress is not None:
            progress(1)
        if draft is None:
            continue
        if draft.slug in first_file_for_slug:
            other = first_file_for_slug[draft.slug]
            problems.append(
                Problem(
                    str(path),
                    f'slug "{draft.slug}" is also used by {other}',
                    "slug",
                    draft.slug_line,
                )
            )
            continue
        first_file_for_slug[draft.slug] = str(path)
        drafts.append(draft)
    return drafts, problems
