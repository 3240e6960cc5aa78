"""/contacts, /partners, /partners/<id>: who receives what."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from commhub.contacts import (
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
from commhub.reports import Thresholds, format_names, heat_rows, partner_heat_map
from commhub.store import ContactStatus
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("directory", __name__)
staff_only(blueprint)

# The heat map's colours as the stylesheet's cell classes (the word is shown as well).
TONES = {"green": "good", "amber": "warn", "red": "bad"}
MAX_SEARCH = 200


@blueprint.get("/contacts")
def contacts() -> ResponseReturnValue:
    session = db_session()
    choices = directory_choices(session)
    where = ContactFilter(
        search=_search(),
        partner_id=_partner_id(request.args.get("partner")),
        partner_type=_one_of(request.args.get("type"), choices.types),
        tier=_one_of(request.args.get("tier"), choices.tiers),
        region=_one_of(request.args.get("region"), choices.regions),
        role=_one_of(request.args.get("role"), [slug for slug, _name in choices.roles]),
        status=_status(request.args.get("status")),
    )
    pager = Pager.from_request(count_matching_contacts(session, where))
    any_contacts = pager.total > 0 or count_matching_contacts(session, ContactFilter()) > 0
    return render_template(
        "directory/contacts.html",
        contacts=find_contacts(session, where, pager.offset, pager.per_page),
        pager=pager,
        choices=choices,
        statuses=list(ContactStatus),
        where=where,
        partner_name=partner_name(session, where.partner_id),
        any_contacts=any_contacts,
    )


@blueprint.get("/partners")
def partners() -> ResponseReturnValue:
    session = db_session()
    choices = directory_choices(session)
    where = PartnerFilter(
        search=_search(),
        partner_type=_one_of(request.args.get("type"), choices.types),
        tier=_one_of(request.args.get("tier"), choices.tiers),
        region=_one_of(request.args.get("region"), choices.regions),
    )
    pager = Pager.from_request(count_matching_partners(session, where))
    any_partners = pager.total > 0 or count_matching_partners(session, PartnerFilter()) > 0
    return render_template(
        "directory/partners.html",
        partners=find_partners(session, where, pager.offset, pager.per_page),
        pager=pager,
        choices=choices,
        where=where,
        any_partners=any_partners,
    )


@blueprint.get("/partners/<row_id:partner_id>")
def partner(partner_id: int) -> ResponseReturnValue:
    session = db_session()
    detail = partner_detail(session, partner_id)  # NotFound: a 404
    settings = runtime().settings
    thresholds = Thresholds(settings.heat_map_green, settings.heat_map_amber)
    roles, grid = partner_heat_map(session, partner_id)
    return render_template(
        "directory/partner.html",
        partner=detail,
        heat=heat_rows(roles, grid, thresholds),
        gaps=grid.gaps(roles),
        thresholds=thresholds,
        formats=format_names(),
        tones=TONES,
    )


def _search() -> str:
    return request.args.get("q", "").strip()[:MAX_SEARCH]


def _one_of(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def _status(value: str | None) -> ContactStatus | None:
    try:
        return ContactStatus(value) if value else None
    except ValueError:
        return None


def _partner_id(value: str | None) -> int | None:
    """A partner's id from ?partner= (ASCII digits, small); anything else is no filter."""
    if value and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None
