"""The content library: audiences (audiences/*.yml), content files (content/**/*.md) with
their Markdown, the library in the database, and an overview of what commhub holds.
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

__all__ = [
    "ChangeReport",
    "audience_slugs",
    "count_content_files",
    "import_library",
    "library_overview",
    "list_audiences",
    "list_content",
    "load_audiences",
    "read_audience_list",
    "sync_audiences",
]
