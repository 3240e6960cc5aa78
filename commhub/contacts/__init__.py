"""Partners and their contacts: the CSV format and its spreadsheet-safe cells, import and
export, erasure on request, staff users, and the demo's sample data.
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
from commhub.contacts.spreadsheet_cells import neutralise
from commhub.contacts.users import (
    MIN_PASSWORD_LENGTH,
    authenticate,
    change_password,
    create_user,
    find_user,
    list_users,
    set_active,
    set_role,
    set_time_zone,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ContactFilter",
    "PartnerFilter",
    "authenticate",
    "change_password",
    "count_contacts",
    "count_matching_contacts",
    "count_matching_partners",
    "create_user",
    "directory_choices",
    "ensure_demo_admin",
    "erase_person",
    "export_contacts",
    "find_contacts",
    "find_partners",
    "find_user",
    "import_contacts_file",
    "list_users",
    "load_demo_data",
    "neutralise",
    "partner_detail",
    "partner_name",
    "set_active",
    "set_role",
    "set_time_zone",
    "write_contacts_csv",
]
