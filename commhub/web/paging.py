"""One page of a long list: which page the request asks for, and the links around it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import request

PER_PAGE = 50


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int

    @classmethod
    def from_request(cls, total: int, per_page: int = PER_PAGE) -> Pager:
        """The page ?page= asks for, kept within the pages there are (bad input: page 1)."""
        asked = request.args.get("page", "1")
        page = int(asked) if asked.isascii() and asked.isdigit() and len(asked) < 7 else 1
        last = max(1, -(-total // per_page))
        return cls(min(max(page, 1), last), per_page, total)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_shown(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_shown(self) -> int:
        return min(self.total, self.offset + self.per_page)

    def url_for_page(self, page: int) -> str:
        """This request's URL, filters kept, at another page."""
        args = request.args.to_dict()
        args["page"] = str(page)
        return f"{request.path}?{urlencode(args)}"
