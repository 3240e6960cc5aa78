"""Planned editions as rows, claimed once when due: catch-up, grace, holds, waves, resume.

Time is a FixedClock moved by hand (and by the senders' waits); nothing here sleeps. The
expected times are written out by hand: world.series is "monthly on day 1 at 09:00" in
Europe/London, and the world's clock starts at Monday 2026-11-23 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commhub.actions import Action, NextStep
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.pacing import SendPolicy
from commhub.editions.lifecycle import (
    approve_edition,
    cancel_edition,
    pause_edition,
    release_edition,
)
from commhub.scheduling.dispatch import EditionRunner, TickReport
from commhub.scheduling.due import claim_due, interrupted, upcoming
from commhub.scheduling.planning import plan_editions
from commhub.store.alerts import (
    APPROVAL_ALERT,
    MISSED_ALERT,
    PLAN_ALERT,
    PREPARE_ALERT,
    WAITING_ALERT,
    next_steps_for,
)
from commhub.store.models import (
    Alert,
    Contact,
    Edition,
    EditionState,
    Message,
    MessageStatus,
    Series,
    Shift,
)
from tests.builders import NOW, QUICK, World

FIRST_YEAR_UTC = [
    datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    datetime(2027, 1, 1, 9, 0, tzinfo=UTC),
    datetime(2027, 2, 1, 9, 0, tzinfo=UTC),
    datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    datetime(2027, 4, 1, 8, 0, tzinfo=UTC),  # 09:00 BST (summer time from 28 March)
    datetime(2027, 5, 1, 8, 0, tzinfo=UTC),
    datetime(2027, 6, 1, 8, 0, tzinfo=UTC),
    datetime(2027, 7, 1, 8, 0, tzinfo=UTC),
    datetime(2027, 8, 1, 8, 0, tzinfo=UTC),
    datetime(2027, 9, 1, 8, 0, tzinfo=UTC),
    datetime(2027, 10, 1, 8, 0, tzinfo=UTC),
    datetime(2027, 11, 1, 9, 0, tzinfo=UTC),  # GMT again from 31 October
    datetime(2027, 12, 1, 9, 0, tzinfo=UTC),
]
DEC_1 = FIRST_YEAR_UTC[0]


def planned(world: World, slug: str = "news") -> list[tuple[datetime, EditionState]]:
    with world.session() as session:
        return [
            (row.planned_at, row.state)
            for row in session.execute(
                select(Edition.planned_at, Edition.state)
                .join(Series, Series.id == Edition.series_id)
                .where(Series.slug == slug)
                .order_by(Edition.planned_at)
            )
        ]


def plan(world: World) -> None:
    with world.session() as session:
        plan_editions(session, world.clock.now())


def runner(world: World, tmp_path: Path, policy: SendPolicy = QUICK) -> EditionRunner:
    return EditionRunner(
        world.runtime.sessions, lambda: OutboxBackend(tmp_path / "outbox"),
        world.runtime.settings, world.renderer, world.clock, workers=1, policy=policy,
    )  # fmt: skip


def tick(world: World, tmp_path: Path, at: datetime, policy: SendPolicy = QUICK) -> TickReport:
    world.clock.current = at
    run = runner(world, tmp_path, policy)
    report = run.tick()
    run.wait(timeout=120)
    run.shutdown()
    return report


def edition_at(world: World, planned_at: datetime) -> Edition:
    with world.session() as session:
        found = session.scalar(select(Edition).where(Edition.planned_at == planned_at))
        assert found is not None
        return found


def alerts(world: World, kind: str) -> list[Alert]:
    with world.session() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == kind)))


def a_sales_newsletter(world: World, **series_fields: object) -> None:
    world.series(audiences=["sales"], **series_fields)
    world.item("price-update", ["sales"], title="Q1 price update")
    world.contact("ana@partner.example", ["sales"])


def test_planning_writes_thirteen_months_of_editions_at_09_00_london(world: World) -> None:
    world.series()
    plan(world)
    assert planned(world) == [(t, EditionState.PLANNED) for t in FIRST_YEAR_UTC]
    with world.session() as session:
        series = session.scalars(select(Series)).one()
        # 400 days, less a day per series id (mod 28) so that refills spread out.
        assert series.planned_through == NOW + timedelta(days=400 - series.id % 28)
        assert series.plan_key


def test_planning_again_writes_nothing_and_a_month_later_tops_the_rows_up(world: World) -> None:
    world.series()
    plan(world)
    with world.session() as session:
        again = plan_editions(session, NOW + timedelta(days=1))
    assert (again.series, again.created, again.removed) == (0, 0, 0)

    with world.session() as session:
        later = plan_editions(session, NOW + timedelta(days=40))
    assert (later.series, later.created) == (1, 2)
    assert [t for t, _ in planned(world)][-2:] == [
        datetime(2028, 1, 1, 9, 0, tzinfo=UTC),
        datetime(2028, 2, 1, 9, 0, tzinfo=UTC),
    ]


def test_a_changed_cadence_replaces_untouched_editions_and_keeps_the_rest(world: World) -> None:
    world.series()
    plan(world)
    with world.session() as session:
        session.execute(
            update(Edition).where(Edition.planned_at == DEC_1).values(state=EditionState.SENT)
        )
        session.execute(
            update(Edition).where(Edition.planned_at == FIRST_YEAR_UTC[1]).values(approved_at=NOW)
        )
        session.execute(update(Series).values(cadence="monthly on day 15 at 09:00"))
        report = plan_editions(session, NOW, [1])
    assert (report.removed, report.created) == (11, 13)
    assert report.cancelled == [edition_at(world, FIRST_YEAR_UTC[1]).id]
    rows = planned(world)
    assert rows[0] == (DEC_1, EditionState.SENT)
    assert rows[1] == (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), EditionState.PLANNED)
    assert rows[2] == (FIRST_YEAR_UTC[1], EditionState.CANCELLED)
    assert rows[-1] == (datetime(2027, 12, 15, 9, 0, tzinfo=UTC), EditionState.PLANNED)
    assert len(rows) == 15


def test_a_due_edition_is_claimed_by_one_owner_only(world: World) -> None:
    world.series()
    plan(world)
    due = DEC_1 + timedelta(seconds=1)
    with world.session() as session:
        first = claim_due(session, due, "host-a:1:aa")
    with world.session() as session:
        second = claim_due(session, due, "host-b:2:bb")
    edition = edition_at(world, DEC_1)
    assert first.claimed == [edition.id]
    assert second.claimed == []
    assert (edition.state, edition.lease_owner, edition.started_at) == (
        EditionState.SENDING, "host-a:1:aa", due,
    )  # fmt: skip


def test_nothing_is_claimed_before_it_is_due(world: World) -> None:
    world.series()
    plan(world)
    with world.session() as session:
        assert claim_due(session, DEC_1 - timedelta(seconds=1), "me").claimed == []


def test_a_scheduler_back_within_the_grace_sends_late(world: World, tmp_path: Path) -> None:
    a_sales_newsletter(world)
    plan(world)
    report = tick(world, tmp_path, DEC_1 + timedelta(hours=5, minutes=59))
    edition = edition_at(world, DEC_1)
    assert report.claimed == [edition.id]
    assert edition.state is EditionState.SENT
    assert [m.status for m in world.messages(edition.id).values()] == [MessageStatus.SENT]


def test_a_scheduler_back_past_the_grace_marks_the_edition_missed_and_says_so(
    world: World, tmp_path: Path
) -> None:
    a_sales_newsletter(world)
    plan(world)
    report = tick(world, tmp_path, DEC_1 + timedelta(hours=6, minutes=1))
    edition = edition_at(world, DEC_1)
    assert report.missed == [edition.id]
    assert edition.state is EditionState.MISSED
    assert "6 h 01 min after it was due, past the series' grace of 6 h 00 min" in str(
        edition.state_reason
    )
    assert world.messages(edition.id) == {}
    [alert] = alerts(world, MISSED_ALERT)
    assert alert.subject == "Partner News: the edition of 2026-12-01 09:00 GMT was missed"
    assert "Release it to send it now anyway." in alert.message
    assert next_steps_for(alert, "news") == (NextStep(Action.RELEASE, edition.id, "news"),)
    # The next edition is untouched and goes out on its date.
    assert edition_at(world, FIRST_YEAR_UTC[1]).state is EditionState.PLANNED

    # A person decides to send it after all: planned again, due now, sent by the next tick.
    late = DEC_1 + timedelta(hours=7)
    with world.session() as session:
        assert release_edition(session, edition.id, late).state is EditionState.PLANNED
    assert tick(world, tmp_path, late).claimed == [edition.id]
    assert edition_at(world, DEC_1).state is EditionState.SENT
    assert [a.resolved_at for a in alerts(world, MISSED_ALERT)] == [late]


def test_the_grace_is_the_series_own(world: World, tmp_path: Path) -> None:
    a_sales_newsletter(world, grace_minutes=30)
    plan(world)
    assert tick(world, tmp_path, DEC_1 + timedelta(minutes=31)).missed == [
        edition_at(world, DEC_1).id
    ]


def test_a_due_edition_needing_approval_is_held_with_an_alert(world: World, tmp_path: Path) -> None:
    a_sales_newsletter(world, requires_approval=True)
    plan(world)
    tick(world, tmp_path, DEC_1)
    edition = edition_at(world, DEC_1)
    assert (edition.state, edition.state_reason) == (EditionState.HELD, "awaiting approval")
    assert [a.edition_id for a in alerts(world, APPROVAL_ALERT)] == [edition.id]
    assert {m.status for m in world.messages(edition.id).values()} == {MessageStatus.QUEUED}


def test_an_edition_approved_ahead_goes_out_on_its_date_unheld(
    world: World, tmp_path: Path
) -> None:
    a_sales_newsletter(world, requires_approval=True)
    plan(world)
    with world.session() as session:
        approved = approve_edition(session, edition_at(world, DEC_1).id, NOW)
        assert approved.state is EditionState.PLANNED
    tick(world, tmp_path, DEC_1)
    assert edition_at(world, DEC_1).state is EditionState.SENT


def test_an_edition_due_while_the_previous_is_under_way_waits_with_an_alert(
    world: World, tmp_path: Path
) -> None:
    a_sales_newsletter(world)
    plan(world)
    with world.session() as session:
        session.execute(
            update(Edition)
            .where(Edition.planned_at == DEC_1)
            .values(state=EditionState.PAUSED, started_at=DEC_1)  # started, then paused
        )
    report = tick(world, tmp_path, FIRST_YEAR_UTC[1] + timedelta(minutes=1))
    january = edition_at(world, FIRST_YEAR_UTC[1])
    assert report.waiting == [january.id]
    assert january.state is EditionState.PLANNED
    [alert] = alerts(world, WAITING_ALERT)
    assert f"edition {edition_at(world, DEC_1).id} of the series is still under way" in (
        alert.message
    )
    assert alert.resolved_at is None

    # December is cancelled: January goes out at the next tick, and the alert is closed.
    with world.session() as session:
        cancel_edition(session, edition_at(world, DEC_1).id, FIRST_YEAR_UTC[1])
    later = FIRST_YEAR_UTC[1] + timedelta(minutes=2)
    assert tick(world, tmp_path, later).claimed == [january.id]
    assert [a.resolved_at for a in alerts(world, WAITING_ALERT)] == [later]


def test_an_interrupted_edition_is_resumed_and_prepared_by_the_next_tick(
    world: World, tmp_path: Path
) -> None:
    a_sales_newsletter(world)
    plan(world)
    # Another scheduler claimed it and vanished before preparing it; its claim ran out.
    with world.session() as session:
        claim_due(session, DEC_1, "elsewhere:4242:dead")
    report = tick(world, tmp_path, DEC_1 + timedelta(minutes=11))
    edition = edition_at(world, DEC_1)
    assert report.claimed == []
    assert report.resumed == [edition.id]
    assert edition.state is EditionState.SENT
    assert [m.status for m in world.messages(edition.id).values()] == [MessageStatus.SENT]


def test_a_live_claim_is_left_alone(world: World, tmp_path: Path) -> None:
    a_sales_newsletter(world)
    plan(world)
    with world.session() as session:
        claim_due(session, DEC_1, "elsewhere:4242:alive")
    report = tick(world, tmp_path, DEC_1 + timedelta(minutes=1))
    assert report.resumed == []
    assert edition_at(world, DEC_1).state is EditionState.SENDING


WAVES = {
    # zone: the UTC time of 09:00 local on 1 December 2026, worked out by hand
    "Pacific/Auckland": datetime(2026, 11, 30, 20, 0, tzinfo=UTC),  # NZDT, UTC+13
    "Asia/Kolkata": datetime(2026, 12, 1, 3, 30, tzinfo=UTC),  # IST, UTC+5:30
    "Europe/Berlin": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),  # CET, UTC+1
    "Europe/London": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),  # GMT
    "America/New_York": datetime(2026, 12, 1, 14, 0, tzinfo=UTC),  # EST, UTC-5
    "America/Los_Angeles": datetime(2026, 12, 1, 17, 0, tzinfo=UTC),  # PST, UTC-8
}


def test_a_local_time_edition_goes_out_in_waves_the_earliest_zone_first(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales"], local_time=True)
    world.item("price-update", ["sales"], title="Q1 price update")
    for zone in WAVES:
        world.contact(f"{zone.split('/')[1].lower()}@partner.example", ["sales"], timezone=zone)
    world.contact("nozone@partner.example", ["sales"])  # the series' zone: London
    plan(world)
    edition = edition_at(world, DEC_1)
    # Started where 09:00 on 1 December comes first on Earth (UTC+14).
    assert edition.due_at == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    assert tick(world, tmp_path, edition.due_at).claimed == [edition.id]

    def sent() -> set[str]:
        return {a for a, m in world.messages(edition.id).items() if m.status is MessageStatus.SENT}

    # Prepared, nothing due yet; the scheduler is told when the first wave is.
    assert sent() == set()
    with world.session() as session:
        assert upcoming(session, edition.due_at, timedelta(hours=2)) == [
            (edition.id, WAVES["Pacific/Auckland"])
        ]
    expected: set[str] = set()
    for zone, wave in WAVES.items():
        tick(world, tmp_path, wave - timedelta(seconds=1))
        assert sent() == expected, f"before the {zone} wave"
        report = tick(world, tmp_path, wave)
        assert report.resumed == [edition.id]
        expected.add(f"{zone.split('/')[1].lower()}@partner.example")
        if zone == "Europe/London":
            expected.add("nozone@partner.example")
        assert sent() == expected, f"after the {zone} wave"
        messages = world.messages(edition.id)
        assert max(messages[a].sent_at or NOW for a in expected) == wave  # on the minute
    assert edition_at(world, DEC_1).state is EditionState.SENT
    assert all(m.sent_at for m in world.messages(edition.id).values())


def test_a_contact_with_an_unknown_zone_gets_the_series_zone_wave(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales"], local_time=True)
    world.item("price-update", ["sales"], title="Q1 price update")
    world.contact("odd@partner.example", ["sales"], timezone="Mars/Olympus")
    plan(world)
    edition = edition_at(world, DEC_1)
    world.clock.current = edition.due_at
    world.prepare()
    with world.session() as session:
        contact_id = session.scalar(select(Contact.id))
        message = session.scalar(select(Message).where(Message.contact_id == contact_id))
        assert message is not None
        assert message.next_attempt_at == WAVES["Europe/London"]


def test_a_planned_edition_paused_ahead_is_skipped_on_its_date_and_blocks_nothing(
    world: World, tmp_path: Path
) -> None:
    a_sales_newsletter(world)
    world.item("roadmap", ["sales"], title="Roadmap")
    plan(world)
    december = edition_at(world, DEC_1).id
    with world.session() as session:
        assert pause_edition(session, december, NOW).state is EditionState.PAUSED

    assert tick(world, tmp_path, DEC_1 + timedelta(minutes=1)).claimed == []
    january = tick(world, tmp_path, FIRST_YEAR_UTC[1])
    assert january.claimed == [edition_at(world, FIRST_YEAR_UTC[1]).id]
    assert january.waiting == []
    assert edition_at(world, DEC_1).state is EditionState.PAUSED

    # Released after its date: planned again and due at once.
    released_at = FIRST_YEAR_UTC[1] + timedelta(hours=1)
    with world.session() as session:
        released = release_edition(session, december, released_at)
        assert (released.state, released.due_at) == (EditionState.PLANNED, released_at)
    assert tick(world, tmp_path, released_at).claimed == [december]
    # January carried every item, so December, sent after it, has nothing new.
    assert edition_at(world, DEC_1).state is EditionState.EMPTY


def test_a_planned_edition_released_before_its_date_keeps_its_date(world: World) -> None:
    world.series()
    plan(world)
    december = edition_at(world, DEC_1).id
    with world.session() as session:
        pause_edition(session, december, NOW)
        assert release_edition(session, december, NOW).due_at == DEC_1


def test_a_local_time_edition_sent_now_ahead_of_its_date_goes_to_every_zone_now(
    world: World,
) -> None:
    world.series(audiences=["sales"], local_time=True)
    world.item("price-update", ["sales"], title="Q1 price update")
    for zone in WAVES:
        world.contact(f"{zone.split('/')[1].lower()}@partner.example", ["sales"], timezone=zone)
    plan(world)
    preparation = world.prepare()  # `editions send news --now` on 23 November
    assert preparation.edition.planned_at == DEC_1
    with world.session() as session:
        waits = session.scalars(
            select(Message.next_attempt_at).where(Message.edition_id == preparation.edition.id)
        ).all()
    assert waits == [None] * len(WAVES)


def test_a_schedule_change_keeps_an_approved_edition_still_on_it(world: World) -> None:
    world.series(requires_approval=True)
    plan(world)
    december = edition_at(world, DEC_1).id
    with world.session() as session:
        approve_edition(session, december, NOW)
        # A company day in August moves August's edition; December's date stands.
        session.execute(update(Series).values(shift=Shift.NEXT, company_days=["2027-08-02"]))
        report = plan_editions(session, NOW, [1])
    assert report.cancelled == []
    # Two dates move: Sat 1 May to Mon 3 May; Sun 1 August past Mon 2 to Tue 3 August.
    assert (report.removed, report.created) == (2, 2)
    assert datetime(2027, 8, 3, 8, 0, tzinfo=UTC) in [t for t, _ in planned(world)]
    kept = edition_at(world, DEC_1)
    assert (kept.id, kept.approved_at) == (december, NOW)
    assert len(planned(world)) == 13


def test_a_local_time_series_planned_after_its_first_wave_starts_with_the_next_date(
    world: World,
) -> None:
    world.series(local_time=True)
    with world.session() as session:
        plan_editions(session, datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    # 09:00 on 1 December has passed in Auckland: that edition is not planned late.
    assert planned(world)[0] == (FIRST_YEAR_UTC[1], EditionState.PLANNED)


def test_a_series_that_cannot_be_planned_is_an_alert_and_the_others_are_planned(
    world: World,
) -> None:
    closure = [(date(2027, 7, 26) + timedelta(days=n)).isoformat() for n in range(21)]
    world.series("closed", shift=Shift.NEXT, company_days=closure)
    world.series("open", name="Open News")
    with world.session() as session:
        report = plan_editions(session, NOW)
    assert list(report.failed) == ["closed"]
    assert "no business day within 14 days" in report.failed["closed"]
    assert len(planned(world, "open")) == 13
    assert planned(world, "closed") == []
    [alert] = alerts(world, PLAN_ALERT)
    assert alert.subject == "series closed cannot be planned"


def test_claims_stop_at_the_limit_and_the_rest_stay_planned_for_others(world: World) -> None:
    world.series("one")
    world.series("two", name="Two")
    with world.session() as session:
        plan_editions(session, NOW)
        first = claim_due(session, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "me", limit=1)
        second = claim_due(session, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "other", limit=1)
    assert len(first.claimed) == 1
    assert len(second.claimed) == 1
    assert first.claimed != second.claimed


@pytest.mark.parametrize(("owner", "left_to_the_scheduler"), [("cli:1:ab", False), (None, True)])
def test_an_approval_from_the_command_line_keeps_schedulers_off_until_it_sends(
    world: World, tmp_path: Path, owner: str | None, left_to_the_scheduler: bool
) -> None:
    a_sales_newsletter(world, requires_approval=True)
    plan(world)
    tick(world, tmp_path, DEC_1)
    edition = edition_at(world, DEC_1)
    assert edition.state is EditionState.HELD
    with world.session() as session:
        approve_edition(session, edition.id, DEC_1, owner=owner)  # `approve` / `--no-send`
    with world.session() as session:
        stalled = interrupted(session, DEC_1 + timedelta(minutes=1))
    assert (stalled == [edition.id]) is left_to_the_scheduler


def test_series_planned_together_are_topped_up_on_different_days(world: World) -> None:
    world.series("one")
    world.series("two", name="Two")
    plan(world)
    with world.session() as session:
        # Series 2's rows count as planned a day less far than series 1's.
        assert plan_editions(session, NOW + timedelta(days=28, hours=12)).series == 1
        assert plan_editions(session, NOW + timedelta(days=29, hours=12)).series == 1
        assert plan_editions(session, NOW + timedelta(days=29, hours=13)).series == 0
    assert len(planned(world, "one")) == len(planned(world, "two")) == 14


def test_an_edition_that_cannot_be_prepared_pauses_with_the_reason(
    world: World, tmp_path: Path
) -> None:
    a_sales_newsletter(world, template="no-such-template")
    plan(world)
    report = tick(world, tmp_path, DEC_1)
    edition = edition_at(world, DEC_1)
    assert report.claimed == [edition.id]
    assert edition.state is EditionState.PAUSED
    assert str(edition.state_reason).startswith("could not be prepared:")
    assert edition.lease_owner is None  # free for a person's release
    [alert] = alerts(world, PREPARE_ALERT)
    assert alert.message.endswith("Fix the cause, then release it.")
    assert next_steps_for(alert, "news") == (NextStep(Action.RELEASE, edition.id, "news"),)
