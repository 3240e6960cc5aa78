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
from commhub.library.catalogue import (
    ContentFilter,
    content_choices,
    content_item_detail,
    count_content,
    count_item_sendings,
    demote_headings,
    item_sendings,
    search_content,
)
from commhub.library.changes import ChangeReport
from commhub.library.editing import (
    PAGE_SUFFIXES,
    ItemFields,
    derive_slug,
    editable,
    export_item,
    fields_of,
    find_item,
    preview_html,
    read_only_reason,
    save_item,
    set_item_status,
)
from commhub.library.library import count_content_files, import_library, list_content
from commhub.library.markdown import sanitise_html
from commhub.library.overview import library_overview
from commhub.library.yaml_reader import (
    InputProblem,
    YamlDocument,
    excerpt,
    read_limited_text,
    read_yaml,
)

__all__ = [
    "PAGE_SUFFIXES",
    "ChangeReport",
    "ContentFilter",
    "InputProblem",
    "ItemFields",
    "YamlDocument",
    "audience_slugs",
    "content_choices",
    "content_item_detail",
    "count_content",
    "count_content_files",
    "count_item_sendings",
    "demote_headings",
    "derive_slug",
    "editable",
    "excerpt",
    "export_item",
    "fields_of",
    "find_item",
    "import_library",
    "item_sendings",
    "library_overview",
    "list_audiences",
    "list_content",
    "load_audiences",
    "preview_html",
    "read_audience_list",
    "read_limited_text",
    "read_only_reason",
    "read_yaml",
    "sanitise_html",
    "save_item",
    "search_content",
    "set_item_status",
    "sync_audiences",
]
