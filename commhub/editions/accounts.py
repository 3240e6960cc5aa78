"""A social series' accounts as the editions use them: where each item is posted, and for
which audiences. The series file's `accounts:` list (read by scheduling) is stored on the
series as AccountSpec.as_json gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from commhub.store import Network


@dataclass(frozen=True)
class AccountSpec:
    network: Network
    name: str
    audiences: tuple[str, ...] | None  # None: every audience

    def serves(self, audience: str) -> bool:
        return self.audiences is None or audience in self.audiences

    def as_json(self) -> dict[str, Any]:
        return {
            "network": self.network.value,
            "name": self.name,
            "audiences": list(self.audiences) if self.audiences is not None else "all",
        }

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> AccountSpec:
        """An account as Series.accounts stores it (as_json's form)."""
        audiences = stored.get("audiences", "all")
        return cls(
            Network(stored["network"]),
            str(stored["name"]),
            None if audiences == "all" else tuple(audiences),
        )


def accounts_of(stored: Sequence[Mapping[str, Any]] | None) -> list[AccountSpec]:
    """A series' accounts, as stored (none for a series that does not post)."""
    return [AccountSpec.of(entry) for entry in stored or ()]


def account_audiences(accounts: Iterable[AccountSpec]) -> tuple[str, ...] | None:
    """The audiences the accounts serve between them (None: every audience)."""
    found: dict[str, None] = {}
    for account in accounts:
        if account.audiences is None:
            return None
        found.update(dict.fromkeys(account.audiences))
    return tuple(sorted(found))
