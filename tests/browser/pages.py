"""The staff pages the browser tests visit, and which roles may see them: the one list.

A path may name {content_slug}, {series_slug}, {edition_id}, {message_id}, {digest_id},
{digest_message_id}, {social_id}, {partner_id}, {contact_id} or {user_id}: real ones, looked
up in the seeded database (conftest.Site.ids) when the test runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

ROLES: Final = ("admin", "editor", "viewer")
EVERYONE: Final = frozenset(ROLES)
ADMINS: Final = frozenset({"admin"})
EDITORS: Final = frozenset({"admin", "editor"})


@dataclass(frozen=True)
class StaffPage:
    name: str  # the test id and the screenshot's file name
    path: str
    roles: frozenset[str] = EVERYONE  # who may see it; the others get 403

    def url_path(self, ids: Mapping[str, str]) -> str:
        return self.path.format_map(ids)


STAFF_PAGES: Final = (
    StaffPage("home", "/"),
    StaffPage("content", "/content"),
    StaffPage("content-item", "/content/{content_slug}"),
    StaffPage("content-new", "/content/new", EDITORS),
    StaffPage("content-edit", "/content/{content_slug}/edit", EDITORS),
    StaffPage("feed-sources", "/feed-sources"),
    StaffPage("series", "/series"),
    StaffPage("series-detail", "/series/{series_slug}"),
    StaffPage("series-preview", "/series/{series_slug}/preview"),
    StaffPage("series-new", "/series/new", EDITORS),
    StaffPage("series-edit", "/series/{series_slug}/edit", EDITORS),
    StaffPage("series-dates", "/series/dates?cadence=monthly+on+day+1+at+09:00", EDITORS),
    StaffPage("calendar", "/calendar"),
    StaffPage("calendar-list", "/calendar?view=list"),
    StaffPage("editions", "/editions"),
    StaffPage("edition", "/editions/{edition_id}"),
    StaffPage("outbox", "/outbox"),
    StaffPage("outbox-message", "/outbox/{edition_id}/{message_id}"),
    StaffPage("digest-series", "/series/video-digest"),
    StaffPage("digest-preview", "/series/video-digest/preview"),
    StaffPage("digest-edition", "/editions/{digest_id}"),
    StaffPage("digest-message", "/outbox/{digest_id}/{digest_message_id}"),
    StaffPage("social-series", "/series/partner-social"),
    StaffPage("social-preview", "/series/partner-social/preview"),
    StaffPage("social-edit", "/series/partner-social/edit", EDITORS),
    StaffPage("social-edition", "/editions/{social_id}"),
    StaffPage("contacts", "/contacts"),
    StaffPage("contacts-import", "/contacts/import", EDITORS),
    StaffPage("contacts-erase", "/contacts/erase", ADMINS),
    StaffPage("partners", "/partners"),
    StaffPage("partner", "/partners/{partner_id}"),
    StaffPage("contact", "/contacts/{contact_id}"),
    StaffPage("analytics", "/analytics"),
    StaffPage("account", "/account"),
    StaffPage("users", "/users", ADMINS),
    StaffPage("new-user", "/users/new", ADMINS),
    StaffPage("user", "/users/{user_id}", ADMINS),
    StaffPage("settings", "/settings", ADMINS),
    StaffPage("audit", "/audit", ADMINS),
)
