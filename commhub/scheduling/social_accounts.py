"""A social series' accounts: where its posts go, each for some of the audiences.

    accounts:
      - {network: mastodon, name: vendor-dev, audiences: [technical, development]}
      - {network: linkedin, name: vendor-company, audiences: all}

An account's endpoint and credentials are not here: they live in the environment under its
name (COMMHUB_SOCIAL_VENDOR_DEV_URL, ..._TOKEN), so a series file can be shared and shown.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from commhub.editions import AccountSpec
from commhub.library import excerpt, read_audience_list
from commhub.store import Network

ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
ACCOUNT_KEYS = ("network", "name", "audiences")
MAX_ACCOUNTS = 20
# What a post has no use for, with why: refused by name in a social series.
NOT_FOR_POSTS = {
    "subject": "a post has no subject",
    "from": "a post is from the account it is posted on",
    "reply_to": "a post is from the account it is posted on",
    "local_time": "a post goes out once for everyone, not in each contact's time zone",
    "partner_filter": "a post is public: it cannot pick partners",
    "rule_of_seven": "a post is public: it cannot leave anyone's seen messages out",
    "audiences": "a social series takes its audiences from its accounts",
    "template": "posts use templates/social/<network>.txt",
}


def read_accounts(
    value: object, known_audiences: Collection[str]
) -> tuple[tuple[AccountSpec, ...], list[str]]:
    """The accounts a series file lists, and a message per problem (each naming which
    account and which of its keys)."""
    if not isinstance(value, list) or not value:
        return (), ["must be a list of accounts, each with network, name and audiences"]
    if len(value) > MAX_ACCOUNTS:
        return (), [f"lists {len(value)} accounts; at most {MAX_ACCOUNTS}"]
    problems: list[str] = []
    accounts: list[AccountSpec] = []
    for index, entry in enumerate(value):
        account, found = _read_account(index, entry, known_audiences)
        problems += found
        if account is None:
            continue
        if any(a.name == account.name for a in accounts):
            problems.append(f'[{index}].name: "{account.name}" appears twice')
            continue
        accounts.append(account)
    return tuple(accounts), problems


def _read_account(
    index: int, entry: object, known_audiences: Collection[str]
) -> tuple[AccountSpec | None, list[str]]:
    where = f"[{index}]"
    if not isinstance(entry, dict):
        return None, [f"{where}: must be a mapping with network, name and audiences"]
    problems = [
        f"{where}.{excerpt(key)}: unknown key (known: {', '.join(ACCOUNT_KEYS)})"
        for key in sorted(map(str, set(entry) - set(ACCOUNT_KEYS)))
    ]
    problems += [f"{where}.{key}: required" for key in ACCOUNT_KEYS if entry.get(key) in (None, "")]
    network = _network(entry.get("network"), where, problems)
    name = entry.get("name")
    if name not in (None, "") and (not isinstance(name, str) or not ACCOUNT_NAME.match(name)):
        problems.append(
            f'{where}.name: "{excerpt(name)}" is not an account name (a-z, 0-9 and -, '
            "up to 60; it names its COMMHUB_SOCIAL_<NAME>_ settings)"
        )
    audiences = entry.get("audiences")
    chosen: tuple[str, ...] | None = None
    if audiences not in (None, "", "all"):
        slugs, found = read_audience_list(
            audiences, known_audiences, "must be `all` or a list of audience slugs"
        )
        problems += [f"{where}.audiences: {message}" for message in found]
        chosen = slugs
    if problems or network is None:
        return None, problems
    return AccountSpec(network, str(name), chosen), []


def _network(value: object, where: str, problems: list[str]) -> Network | None:
    if value in (None, ""):
        return None
    try:
        return Network(str(value).strip().lower())
    except ValueError:
        known = ", ".join(n.value for n in Network)
        problems.append(f'{where}.network: unknown network "{excerpt(value)}" (known: {known})')
        return None
