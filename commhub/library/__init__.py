"""The content library: audiences (audiences/*.yml), content files (content/**/*.md) with
their Markdown, the library in the database, an overview of what commhub holds, and the one
safe YAML reader every file a person writes goes through.
"""

from __future__ import annotations

from commhub.library.audiences import (
    audience_slugs,
    list_audiences,
    load_audiences,
    read_audience_list,
    sync_audiences,
)
from commhub.library.changes import ChangeReport
from commhub.library.library import count_content_files, import_library, list_content
from commhub.library.overview import library_overview
from commhub.library.yaml_reader import (
    InputProblem,
    YamlDocument,
    excerpt,
    read_limited_text,
    read_yaml,
)

__all__ = [
    "ChangeReport",
    "InputProblem",
    "YamlDocument",
    "audience_slugs",
    "count_content_files",
    "excerpt",
    "import_library",
    "library_overview",
    "list_audiences",
    "list_content",
    "load_audiences",
    "read_audience_list",
    "read_limited_text",
    "read_yaml",
    "sync_audiences",
]
