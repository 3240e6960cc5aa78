"""What an edition shows, as plain values: the items picked for each audience, in sections.

Selection fills a ContentPlan; rendering reads its sections. Neither needs the other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from commhub.store import ContentItem, ContentKind


@dataclass(frozen=True)
class AudienceInfo:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class PickedItem:
    """A content item as an edition shows it (plain values, safe to hand to a template)."""

    id: int
    slug: str
    title: str
    summary: str
    kind: ContentKind
    url: str | None
    image: str | None
    duration_seconds: int | None
    speaker: str | None
    key_message: str | None
    body_html: str
    publish_at: datetime | None
    key_message_id: int | None = None

    @classmethod
    def of(cls, item: ContentItem) -> PickedItem:
        # A video card leads to the video itself; everything else to the item's page.
        url = item.video_url if item.kind is ContentKind.VIDEO and item.video_url else item.url
        return cls(
            id=item.id,
            slug=item.slug,
            title=item.title,
            summary=item.summary,
            kind=item.kind,
            url=url,
            image=item.thumbnail_url,
            duration_seconds=item.duration_seconds,
            speaker=item.speaker,
            key_message=item.key_message.text if item.key_message else None,
            body_html=item.body_html,
            publish_at=item.publish_at,
            key_message_id=item.key_message_id,
        )


@dataclass(frozen=True)
class Section:
    audience: AudienceInfo
    items: tuple[PickedItem, ...]


@dataclass(frozen=True)
class ContentPlan:
    """The items picked for each audience of one edition."""

    audiences: tuple[AudienceInfo, ...]
    picks: Mapping[str, tuple[PickedItem, ...]] = field(default_factory=dict)

    def sections(self, role_set: Iterable[str]) -> list[Section]:
        """The sections of the email for a role set, each item in the first that has it."""
        wanted = set(role_set)
        shown: set[int] = set()
        sections = []
        for audience in self.audiences:
            if audience.slug not in wanted:
                continue
            items = tuple(i for i in self.picks.get(audience.slug, ()) if i.id not in shown)
            shown.update(i.id for i in items)
            if items:
                sections.append(Section(audience, items))
        return sections

    def items(self) -> list[PickedItem]:
        """Every picked item once, in section order."""
        seen: dict[int, PickedItem] = {}
        for audience in self.audiences:
            for item in self.picks.get(audience.slug, ()):
                seen.setdefault(item.id, item)
        return list(seen.values())

    @property
    def is_empty(self) -> bool:
        return not any(self.picks.values())


def leave_out(sections: Iterable[Section], item_ids: Collection[int]) -> list[Section]:
    """The sections without these items; a section left with none is dropped."""
    kept = (
        Section(s.audience, tuple(i for i in s.items if i.id not in item_ids)) for s in sections
    )
    return [section for section in kept if section.items]
