"""What an import or an apply changed, by key: the one report every upsert returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChangeReport:
    """The keys (slugs) created, updated and left unchanged."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
