"""Counts that tell a person what this commhub holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from commhub.store import Audience, Contact, ContactStatus, ContentItem, Partner, User


@dataclass(frozen=True)
class Overview:
    audiences: int
    content_items: int
    partners: int
    contacts: int
    active_contacts: int
    users: int

    @property
    def is_empty(self) -> bool:
        return self.content_items == 0 and self.contacts == 0


def library_overview(session: Session) -> Overview:
    """How many of each object there are."""

    def count(column: InstrumentedAttribute[int], *conditions: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count(column)).where(*conditions)) or 0

    return Overview(
        audiences=count(Audience.id),
        content_items=count(ContentItem.id),
        partners=count(Partner.id),
        contacts=count(Contact.id),
        active_contacts=count(Contact.id, Contact.status == ContactStatus.ACTIVE),
        users=count(User.id),
    )
