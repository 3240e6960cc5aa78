"""Partners and their contacts: the CSV format and its spreadsheet-safe cells, import and
export, erasure on request, a contact's story, staff users, and the demo's sample data.
"""

from __future__ import annotations

from commhub.contacts.browse import (
    ContactFilter,
    PartnerFilter,
    count_matching_contacts,
    count_matching_partners,
    directory_choices,
    find_contacts,
    find_partners,
    partner_detail,
    partner_name,
)
from commhub.contacts.csv_format import write_contacts_csv
from commhub.contacts.demo import ensure_demo_admin, load_demo_data
from commhub.contacts.directory import count_contacts, export_contacts, import_contacts_file
from commhub.contacts.erasure import erase_person
from commhub.contacts.partner_months import (
    PARTNER_MONTH_AGGREGATES,
    record_engaged,
    record_months,
)
from commhub.contacts.partner_reach import PARTNER_AGGREGATES, record_formats_seen
from commhub.contacts.spreadsheet_cells import neutralise
from commhub.contacts.story import (
    ContactFacts,
    ContactStory,
    ExposureLine,
    StoryEntry,
    contact_story,
)
from commhub.contacts.uploads import (
    KEPT_FOR,
    MAX_UPLOAD_BYTES,
    ImportTickets,
    KeptUpload,
    contacts_csv_chunks,
    discard_upload,
    import_kept_upload,
    keep_upload,
    preview_contacts_file,
    read_upload,
    upload_source,
)
from commhub.contacts.users import (
    MIN_PASSWORD_LENGTH,
    authenticate,
    change_password,
    change_user,
    create_user,
    create_user_with_temporary_password,
    find_user,
    list_users,
    reset_password,
    set_active,
    set_role,
    set_time_zone,
    user_history,
)

__all__ = [
    "KEPT_FOR",
    "MAX_UPLOAD_BYTES",
    "MIN_PASSWORD_LENGTH",
    "PARTNER_AGGREGATES",
    "PARTNER_MONTH_AGGREGATES",
    "ContactFacts",
    "ContactFilter",
    "ContactStory",
    "ExposureLine",
    "ImportTickets",
    "KeptUpload",
    "PartnerFilter",
    "StoryEntry",
    "authenticate",
    "change_password",
    "change_user",
    "contact_story",
    "contacts_csv_chunks",
    "count_contacts",
    "count_matching_contacts",
    "count_matching_partners",
    "create_user",
    "create_user_with_temporary_password",
    "directory_choices",
    "discard_upload",
    "ensure_demo_admin",
    "erase_person",
    "export_contacts",
    "find_contacts",
    "find_partners",
    "find_user",
    "import_contacts_file",
    "import_kept_upload",
    "keep_upload",
    "list_users",
    "load_demo_data",
    "neutralise",
    "partner_detail",
    "partner_name",
    "preview_contacts_file",
    "read_upload",
    "record_engaged",
    "record_formats_seen",
    "record_months",
    "reset_password",
    "set_active",
    "set_role",
    "set_time_zone",
    "upload_source",
    "user_history",
    "write_contacts_csv",
]
