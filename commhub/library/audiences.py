"""Audiences are files: audiences/<slug>.yml, each with a name, description and keywords."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.errors import AudienceError, Problem
from commhub.library.yaml_reader import InputProblem, excerpt, read_limited_text, read_yaml
from commhub.store import Audience

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
REQUIRED_FIELDS = ("name", "description", "keywords")
RESERVED = frozenset({"all"})  # a word that already means every audience


@dataclass(frozen=True)
class AudienceDefinition:
    slug: str
    name: str
    description: str
    keywords: tuple[str, ...]


def load_audiences(directory: Path) -> list[AudienceDefinition]:
    """Read and validate every audiences/*.yml file; any problem stops the whole load."""
    problems: list[Problem] = []
    definitions: list[AudienceDefinition] = []
    seen: dict[str, Path] = {}
    # Only regular files: opening a FIFO that happens to end in .yml would wait forever.
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    for path in paths:
        slug = path.stem.lower()
        if slug in seen:
            problems.append(
                Problem(str(path), f'duplicate slug "{slug}" (also {seen[slug].name})', "slug")
            )
            continue
        seen[slug] = path
        definition = _parse(path, slug, problems)
        if definition is not None:
            definitions.append(definition)
    if not paths:
        problems.append(Problem(str(directory), "no audience files (*.yml)"))
    if problems:
        raise AudienceError(problems)
    return definitions


def _parse(path: Path, slug: str, problems: list[Problem]) -> AudienceDefinition | None:
    source = str(path)
    if not SLUG_PATTERN.match(slug):
        problems.append(Problem(source, "file name must be a lowercase slug (a-z, 0-9, -, _)"))
        return None
    if slug in RESERVED:
        problems.append(Problem(source, f'"{slug}" means every audience (in a series file and '
                                f"in /feeds/{slug}.atom): name the file otherwise"))  # fmt: skip
        return None
    try:
        text = read_limited_text(path)
    except InputProblem as exc:
        problems.append(Problem(source, exc.message))
        return None
    try:
        data: Any = read_yaml(text).data
    except InputProblem as exc:
        problems.append(Problem(source, f"not valid YAML: {exc.message}", line=exc.line))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(source, "expected a mapping of name, description, keywords"))
        return None
    before = len(problems)
    for field in REQUIRED_FIELDS:
        if data.get(field) in (None, "", []):
            problems.append(Problem(source, "required", field))
    for field in sorted(map(str, set(data) - set(REQUIRED_FIELDS))):
        problems.append(Problem(source, "unknown field", excerpt(field)))
    keywords = data.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        problems.append(Problem(source, "must be a list of strings", "keywords"))
    if len(problems) > before:
        return None
    return AudienceDefinition(
        slug=slug,
        name=str(data["name"]).strip(),
        description=" ".join(str(data["description"]).split()),
        keywords=tuple(k.strip() for k in keywords),
    )


def read_audience_list(
    value: object, known: Collection[str], shape: str = "must be a list of audience slugs"
) -> tuple[tuple[str, ...], list[str]]:
    """Audience slugs from a file's value (one slug, or a list), and what is wrong with it."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return (), [shape]
    slugs = [v.strip().lower() for v in value]
    names = ", ".join(sorted(known))
    problems = [
        f'unknown audience "{excerpt(slug)}" (known: {names})'
        for slug in slugs
        if slug not in known
    ]
    return tuple(sorted(set(slugs))), problems


def sync_audiences(session: Session, definitions: list[AudienceDefinition]) -> list[str]:
    """Create or update the audiences from their definitions; returns the slugs changed.

    An audience whose file was removed stays in the database: contacts and content may
    still refer to it, and a removed file must not silently drop people's roles.
    """
    existing = {a.slug: a for a in session.scalars(select(Audience))}
    changed: list[str] = []
    for definition in definitions:
        audience = existing.get(definition.slug)
        values = {
            "name": definition.name,
            "description": definition.description,
            "keywords": list(definition.keywords),
        }
        if audience is None:
            session.add(Audience(slug=definition.slug, **values))
            changed.append(definition.slug)
        elif any(getattr(audience, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(audience, key, value)
            changed.append(definition.slug)
    session.flush()
    return changed


def list_audiences(session: Session) -> list[Audience]:
    """Every audience in the database, by slug."""
    return list(session.scalars(select(Audience).order_by(Audience.slug)))


def audience_slugs(session: Session) -> dict[str, int]:
    """Every known audience slug, mapped to its id."""
    rows = session.execute(select(Audience.slug, Audience.id))
    return {slug: audience_id for slug, audience_id in rows}  # noqa: C416 - Result has keys()
