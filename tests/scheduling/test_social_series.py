"""A social series in a series file: its accounts, the fields it refuses by name, and what
`series apply` stores (its audiences are its accounts')."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from commhub.errors import SeriesError
from commhub.scheduling import apply_series, read_series_file, series_yaml
from commhub.store import Channel, Network, Series
from tests.builders import World

AUDIENCES = {"sales", "technical", "marketing", "development", "executive"}
SOCIAL = """\
series:
  - slug: social
    name: Partner Social
    channel: social
    cadence: weekly on wednesday at 11:00
    timezone: Europe/London
    max_items: 2
    requires_approval: true
    accounts:
      - {network: mastodon, name: vendor-dev, audiences: [technical, development]}
      - {network: linkedin, name: vendor-company, audiences: all}
"""


def read(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "series.yml"
    path.write_text(text, encoding="utf-8")
    return read_series_file(path, AUDIENCES, lambda name: name in ("newsletter", "video_digest"))


def test_a_social_series_reads_its_accounts(tmp_path: Path) -> None:
    [social] = read(tmp_path, SOCIAL)
    assert social.channel is Channel.SOCIAL
    assert [(a.network, a.name, a.audiences) for a in social.accounts] == [
        (Network.MASTODON, "vendor-dev", ("development", "technical")),
        (Network.LINKEDIN, "vendor-company", None),
    ]
    assert social.audiences is None  # one account serves every audience
    assert (social.subject, social.from_address, social.max_items) == ("", "", 2)
    assert social.requires_approval


@pytest.mark.parametrize(
    ("added", "field"),
    [
        ('    subject: "News"\n', "subject"),
        ("    from: Team <team@vendor.example>\n", "from"),
        ("    local_time: true\n", "local_time"),
        ("    partner_filter: {tiers: [gold]}\n", "partner_filter"),
        ("    rule_of_seven: true\n", "rule_of_seven"),
        ("    audiences: [sales]\n", "audiences"),
    ],
)
def test_a_field_that_makes_no_sense_for_posts_is_refused_by_name(
    tmp_path: Path, added: str, field: str
) -> None:
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, SOCIAL + added)
    assert f"series[social].{field}: not for a social series" in str(caught.value)


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        ("[]", "series[social].accounts: required"),
        (
            "[{network: myspace, name: x, audiences: all}]",
            'accounts[0].network: unknown network "myspace"',
        ),
        (
            "[{network: mastodon, name: Vendor Dev, audiences: all}]",
            'accounts[0].name: "Vendor Dev" is not an account name',
        ),
        (
            "[{network: mastodon, name: a, audiences: [pirates]}]",
            'accounts[0].audiences: unknown audience "pirates"',
        ),
        (
            "[{network: mastodon, name: a, audiences: all, token: s3cret}]",
            "accounts[0].token: unknown key",
        ),
        (
            "[{network: mastodon, name: a, audiences: all},"
            " {network: webhook, name: a, audiences: all}]",
            'accounts[1].name: "a" appears twice',
        ),
        ("[{network: mastodon, audiences: all}]", "accounts[0].name: required"),
    ],
)
def test_each_problem_of_an_account_names_the_account_and_its_key(
    tmp_path: Path, accounts: str, expected: str
) -> None:
    text = SOCIAL.split("    accounts:")[0] + f"    accounts: {accounts}\n"
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, text)
    assert expected in str(caught.value)
    assert "series.yml:" in str(caught.value)  # located by file and line


def test_accounts_are_refused_on_a_newsletter(tmp_path: Path) -> None:
    newsletter = """\
series:
  - slug: news
    name: News
    channel: newsletter
    audiences: all
    cadence: monthly on day 1 at 09:00
    timezone: Europe/London
    subject: "{{ series.name }}"
    from: "Team <team@vendor.example>"
    accounts: [{network: mastodon, name: a, audiences: all}]
"""
    with pytest.raises(SeriesError, match=r"news\]\.accounts: only a social series"):
        read(tmp_path, newsletter)


def test_apply_stores_the_accounts_and_their_audiences_and_exports_them_again(
    world: World, tmp_path: Path
) -> None:
    only_some = SOCIAL.replace("audiences: all}", "audiences: [sales]}")
    with world.session() as session:
        apply_series(session, read(tmp_path, only_some))
        series = session.scalar(select(Series).where(Series.slug == "social"))
        assert series is not None
        assert not series.all_audiences
        assert [a.slug for a in series.audiences] == ["development", "sales", "technical"]
        dev = {"network": "mastodon", "name": "vendor-dev"}
        assert series.accounts == [
            {**dev, "audiences": ["development", "technical"]},
            {"network": "linkedin", "name": "vendor-company", "audiences": ["sales"]},
        ]
        exported = series_yaml(series)
    # The export is a file `series apply` takes back as it is.
    (tmp_path / "again").mkdir()
    [again] = read(tmp_path / "again", exported)
    [first] = read(tmp_path, only_some)
    assert again == first
    assert "subject" not in yaml.safe_load(exported)["series"][0]
