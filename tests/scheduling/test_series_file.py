"""Series files: every problem named by line and `series[slug].field`, nothing half-applied."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from commhub.errors import SeriesError
from commhub.scheduling.cadence import Shift
from commhub.scheduling.series import read_series_file
from commhub.store.models import Channel

AUDIENCES = {"sales", "technical", "marketing", "development", "executive"}
REPO = Path(__file__).parents[2]


def read(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "series.yml"
    path.write_text(text, encoding="utf-8")
    return read_series_file(path, AUDIENCES, lambda name: name == "newsletter")


GOOD = """\
series:
  - slug: news
    name: News
    channel: newsletter
    audiences: [sales, technical]
    cadence: monthly on day 1 at 09:00
    timezone: Europe/Paris
    subject: "{{ series.name }}"
    from: "Team <team@vendor.example>"
"""


def test_the_shipped_series_file_is_valid() -> None:
    definitions = read_series_file(
        REPO / "series.yml", AUDIENCES, lambda n: n in ("newsletter", "video_digest")
    )
    assert {d.slug for d in definitions} == {
        "partner-newsletter",
        "executive-briefing",
        "video-digest",
        "partner-social",
    }
    social = next(d for d in definitions if d.slug == "partner-social")
    assert {a.network.value for a in social.accounts} == {"mastodon", "linkedin", "webhook"}
    briefing = next(d for d in definitions if d.slug == "executive-briefing")
    assert briefing.requires_approval
    assert briefing.partner_filter == {"tiers": ["gold", "platinum"]}


def test_a_good_series_reads_with_its_defaults(tmp_path: Path) -> None:
    [news] = read(tmp_path, GOOD)
    assert news.channel is Channel.NEWSLETTER
    assert news.audiences == ("sales", "technical")
    assert news.from_address == "Team <team@vendor.example>"
    assert (news.max_items, news.template, news.requires_approval) == (None, None, False)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("    channel: newsletter\n", "series.yml:2:series[news].channel: required"),
        ("channel: newsletter", 'series[news].channel: unknown channel "fax"'),
        ("audiences: [sales, technical]", 'series[news].audiences: unknown audience "plumbers"'),
        ("timezone: Europe/Paris", 'series[news].timezone: "Mars/Olympus" is not an IANA'),
        ('from: "Team <team@vendor.example>"', "series[news].from: "),
        ('subject: "{{ series.name }}"', "series[news].subject: not a valid template"),
        ("cadence: monthly on day 1 at 09:00", "series[news].colour: unknown field"),
    ],
)
def test_each_problem_names_the_series_field_and_line(
    tmp_path: Path, change: str, expected: str
) -> None:
    replacements = {
        "channel: newsletter": "channel: fax",
        "audiences: [sales, technical]": "audiences: [sales, plumbers]",
        "timezone: Europe/Paris": "timezone: Mars/Olympus",
        'from: "Team <team@vendor.example>"': "from: not an address",
        'subject: "{{ series.name }}"': 'subject: "{{ series.name "',
        "cadence: monthly on day 1 at 09:00": "cadence: monthly on day 1 at 09:00\n    colour: red",
        "    channel: newsletter\n": "",
    }
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, GOOD.replace(change, replacements[change]))
    assert expected in str(caught.value)
    assert str(tmp_path / "series.yml") in str(caught.value)


def test_a_channel_that_cannot_be_sent_yet_says_so(tmp_path: Path) -> None:
    # (feeds are published, not sent: /feeds serves them)
    with pytest.raises(SeriesError, match='"feed" cannot be sent yet'):
        read(tmp_path, GOOD.replace("channel: newsletter", "channel: feed"))


def test_an_unknown_template_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match=r'series\[news\].template: no template "fancy"'):
        read(tmp_path, GOOD + "    template: fancy\n")


def test_a_duplicate_slug_and_every_other_problem_are_all_reported(tmp_path: Path) -> None:
    text = GOOD + GOOD.removeprefix("series:\n").replace("Europe/Paris", "Nowhere")
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, text)
    assert len(caught.value.problems) == 1  # the second entry's timezone; duplicate skipped
    text = GOOD + GOOD.removeprefix("series:\n")
    with pytest.raises(SeriesError, match='"news" appears twice'):
        read(tmp_path, text)


def test_one_run_lists_every_problem_of_an_entry(tmp_path: Path) -> None:
    text = GOOD.replace("    channel: newsletter\n", "").replace("Europe/Paris", "Nowhere")
    text = text.replace("cadence: monthly on day 1 at 09:00", "cadence: x\n    colour: red")
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, text)
    fields = [p.field for p in caught.value.problems]
    assert sorted(fields) == [
        "series[news].cadence", "series[news].channel", "series[news].colour",
        "series[news].timezone",
    ]  # fmt: skip


def test_a_cadence_that_cannot_be_read_names_its_bad_part(tmp_path: Path) -> None:
    text = GOOD.replace("monthly on day 1 at 09:00", "monthly on day 32 at 09:00")
    with pytest.raises(SeriesError, match=r'series\[news\]\.cadence: "day 32": a day of the month'):
        read(tmp_path, text)


def test_a_subject_naming_something_unknown_is_caught_when_applied(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match=r"series\[news\]\.subject: does not render .*nme"):
        read(tmp_path, GOOD.replace("{{ series.name }}", "{{ series.nme }}"))


def test_not_a_series_file(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match="expected a top-level `series:` list"):
        read(tmp_path, "name: x\n")
    with pytest.raises(SeriesError, match="not valid YAML"):
        read(tmp_path, "series: [\n")


TIMED = (
    GOOD
    + """\
    start: 2027-01-04
    shift: previous
    holidays:
      country: GB-ENG
      dates: [2027-12-24, "2027-12-31"]
    local_time: true
    grace: 1h 30m
"""
)


def test_the_timing_fields_read_into_the_definition(tmp_path: Path) -> None:
    [news] = read(tmp_path, TIMED)
    assert news.start == date(2027, 1, 4)
    assert news.shift is Shift.PREVIOUS
    assert news.holiday_country == "GB-ENG"
    assert news.company_days == (date(2027, 12, 24), date(2027, 12, 31))
    assert news.local_time is True
    assert news.grace == timedelta(hours=1, minutes=30)


def test_without_timing_fields_a_series_runs_on_its_cadence_with_six_hours_grace(
    tmp_path: Path,
) -> None:
    [news] = read(tmp_path, GOOD)
    assert (news.start, news.shift, news.holiday_country, news.company_days) == (
        None, Shift.NONE, None, (),
    )  # fmt: skip
    assert (news.local_time, news.grace) == (False, timedelta(hours=6))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("start: 2027-01-04", "start: next monday"), 'series[news].start: "next monday" is not'),
        (("shift: previous", "shift: sideways"), 'series[news].shift: "sideways" is not one of'),
        (("country: GB-ENG", "country: XX"), 'series[news].holidays: country "XX": no public'),
        (('"2027-12-31"', '"31/12/2027"'), 'series[news].holidays: dates: "31/12/2027" is not'),
        (("grace: 1h 30m", "grace: a while"), 'series[news].grace: "a while" is not a duration'),
        (("grace: 1h 30m", "grace: 8d"), 'series[news].grace: "8d" is longer than 7 days'),
        (("local_time: true", "local_time: yes please"), "series[news].local_time: must be true"),
        (("shift: previous", "shift: none"), "series[news].holidays: has no effect without"),
        (
            ("monthly on day 1 at 09:00", "every 2 weeks on friday at 16:00"),
            "",  # start is given: fine
        ),
    ],
)
def test_each_bad_timing_field_is_named(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    text = TIMED.replace(*change)
    if not expected:
        assert read(tmp_path, text)
        return
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, text)
    assert expected in str(caught.value)


def test_every_n_weeks_needs_a_start_date_to_count_from(tmp_path: Path) -> None:
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, GOOD.replace("monthly on day 1", "every 2 weeks on friday"))
    assert "series.yml:2:series[news].start: required: the cadence counts weeks" in str(
        caught.value
    )


def test_a_closure_too_long_to_move_a_date_out_of_is_refused(tmp_path: Path) -> None:
    closure = ", ".join(f"2027-08-{day:02d}" for day in range(1, 22))
    text = TIMED.replace('dates: [2027-12-24, "2027-12-31"]', f"dates: [{closure}]")
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, text)
    assert "series[news].holidays: dates: no business day within 14 days" in str(caught.value)


def test_the_rule_of_seven_is_off_unless_a_series_says_true(tmp_path: Path) -> None:
    [news] = read(tmp_path, GOOD)
    assert news.rule_of_seven is False
    [news] = read(tmp_path, GOOD + "    rule_of_seven: true\n")
    assert news.rule_of_seven is True
    [news] = read(tmp_path, GOOD + "    rule_of_seven: false\n")
    assert news.rule_of_seven is False


@pytest.mark.parametrize("value", ["often", "1", '"true"', ""])
def test_a_rule_of_seven_that_is_not_true_or_false_is_named_with_its_line(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(SeriesError) as caught:
        read(tmp_path, GOOD + f"    rule_of_seven: {value}\n")
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'series.yml'}:10:series[news].rule_of_seven: must be true or false"
    ]
