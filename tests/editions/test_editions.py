"""Preparing an edition: what each contact gets, who is skipped, and the edition's record."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.editions.lifecycle import approve_edition, release_edition
from commhub.errors import Conflict, TemplateError
from commhub.store.models import (
    ContactStatus,
    ContentStatus,
    EditionItem,
    EditionRender,
    EditionState,
    Message,
    MessageStatus,
    SkipReason,
)
from tests.builders import NOW, World


def sections_of(world: World, edition_id: int, role_set: str) -> list[str]:
    """The section headings and item titles of one role set's email, in order."""
    with world.session() as session:
        text = session.scalar(
            select(EditionRender.text).where(
                EditionRender.edition_id == edition_id, EditionRender.role_set == role_set
            )
        )
    assert text is not None
    return [line for line in text.splitlines() if line.startswith(("For ", "Item ", "Shared "))]


def test_a_contact_with_two_roles_gets_one_email_with_a_section_each_and_no_item_twice(
    world: World,
) -> None:
    world.series(audiences=["sales", "technical"])
    world.item("item-sales", ["sales"], title="Item sales")
    world.item("item-tech", ["technical"], title="Item tech")
    world.item("shared", ["sales", "technical"], title="Shared item", priority=5)
    world.contact("both@p.example", ["sales", "technical"])
    world.contact("seller@p.example", ["sales"])
    world.contact("marketer@p.example", ["marketing"])  # not in the series' audiences

    preparation = world.prepare()

    messages = world.messages(preparation.edition.id)
    assert set(messages) == {"both@p.example", "seller@p.example"}
    assert messages["both@p.example"].role_set == "sales,technical"
    assert sections_of(world, preparation.edition.id, "sales,technical") == [
        "For Sales", "Shared item", "Item sales", "For Technical", "Item tech",
    ]  # fmt: skip
    assert sections_of(world, preparation.edition.id, "sales") == [
        "For Sales", "Shared item", "Item sales",
    ]  # fmt: skip


def test_items_are_ordered_by_priority_then_date_and_capped_by_max_items(world: World) -> None:
    world.series(audiences=["sales"], max_items=2)
    world.item("old-urgent", ["sales"], priority=9, published=NOW.replace(month=1))
    world.item("new", ["sales"], published=NOW.replace(day=20))
    world.item("older", ["sales"], published=NOW.replace(day=2))
    world.contact("a@p.example", ["sales"])

    preparation = world.prepare()

    assert preparation.edition.notes["items"] == {"sales": ["old-urgent", "new"]}


def test_unpublished_expired_and_future_items_are_not_picked(world: World) -> None:
    world.series(audiences=["sales"])
    world.item("ok", ["sales"])
    world.item("draft", ["sales"], status=ContentStatus.DRAFT)
    world.item("expired", ["sales"], expires=NOW.replace(day=1))
    world.item("future", ["sales"], published=NOW.replace(day=30))
    world.contact("a@p.example", ["sales"])

    assert world.prepare().edition.notes["items"] == {"sales": ["ok"]}


def test_the_next_edition_repeats_nothing_an_earlier_one_carried_to_that_audience(
    world: World,
) -> None:
    world.series(audiences=["sales", "technical"])
    world.item("first", ["sales", "technical"])
    world.contact("seller@p.example", ["sales"])
    first = world.prepare()
    assert (
        world.send(first.edition.id, OutboxBackend(world.runtime.settings.data_dir)).state
        is EditionState.SENT
    )
    # "first" went to sales only (no technical contact): technical may still get it.
    world.contact("engineer@p.example", ["technical"])
    world.item("second", ["sales"])
    world.clock.sleep(60)

    second = world.prepare()

    assert second.edition.notes["items"] == {"sales": ["second"], "technical": ["first"]}
    with world.session() as session:
        carried = session.execute(select(EditionItem.edition_id, EditionItem.content_item_id)).all()
    assert len(carried) == 3


def test_a_role_set_with_nothing_new_gets_no_email_and_the_edition_says_why(
    world: World,
) -> None:
    world.series(audiences=["sales", "marketing"])
    world.item("for-sales", ["sales"])
    world.contact("seller@p.example", ["sales"])
    world.contact("marketer@p.example", ["marketing"])
    world.contact("m2@p.example", ["marketing"])

    preparation = world.prepare()

    assert set(world.messages(preparation.edition.id)) == {"seller@p.example"}
    assert preparation.edition.notes["nothing_new"] == {"marketing": 2}
    assert preparation.edition.recipient_count == 1


def test_an_edition_with_nothing_new_for_anyone_is_empty_and_sends_nothing(world: World) -> None:
    world.series(audiences=["sales"])
    world.contact("seller@p.example", ["sales"])

    preparation = world.prepare()

    assert preparation.edition.state is EditionState.EMPTY
    assert preparation.edition.state_reason == "nothing new for anyone"
    assert world.messages(preparation.edition.id) == {}


def test_the_partner_filter_limits_the_audience(world: World) -> None:
    world.series(audiences=["executive"], partner_filter={"tiers": ["platinum"]})
    world.item("strategy", ["executive"])
    world.contact("plat@p.example", ["executive"], partner="Big Co", tier="platinum")
    world.contact("gold@q.example", ["executive"], partner="Mid Co", tier="gold")

    assert set(world.messages(world.prepare().edition.id)) == {"plat@p.example"}


def test_suppressed_contacts_are_skipped_with_their_reason(world: World) -> None:
    world.series(audiences=["sales"])
    world.item("news", ["sales"])
    world.contact("ok@p.example", ["sales"])
    world.contact("gone@p.example", ["sales"], status=ContactStatus.UNSUBSCRIBED)
    world.contact("bounced@p.example", ["sales"], status=ContactStatus.BOUNCED)
    world.contact("noconsent@p.example", ["sales"], consent=False)
    world.contact("optout@p.example", ["sales"], opted_out_channels=["newsletter"])
    world.contact("paused@p.example", ["sales"], paused_until=NOW.date().replace(month=12))

    preparation = world.prepare()

    messages = world.messages(preparation.edition.id)
    assert {email: m.skip_reason for email, m in messages.items()} == {
        "ok@p.example": None,
        "gone@p.example": SkipReason.UNSUBSCRIBED,
        "bounced@p.example": SkipReason.BOUNCED,
        "noconsent@p.example": SkipReason.NO_CONSENT,
        "optout@p.example": SkipReason.OPTED_OUT,
        "paused@p.example": SkipReason.PAUSED,
    }
    assert preparation.counts == Counter({MessageStatus.QUEUED: 1, MessageStatus.SKIPPED: 5})
    assert preparation.edition.recipient_count == 6


def test_mjml_is_compiled_once_per_role_set_never_per_contact(world: World) -> None:
    compiled = world.count_compiles()
    world.series(audiences=["sales", "technical", "executive"])
    world.item("news", ["sales", "technical", "executive"])
    for n in range(12):
        roles = [["sales"], ["technical"], ["sales", "technical"], ["executive"]][n % 4]
        world.contact(f"c{n}@p.example", roles)

    preparation = world.prepare()

    assert len(world.messages(preparation.edition.id)) == 12
    assert len(compiled) == 4 == len(preparation.role_sets)


def test_a_series_that_requires_approval_is_held_until_approved(world: World) -> None:
    world.series(audiences=["sales"], requires_approval=True)
    world.item("news", ["sales"])
    world.contact("seller@p.example", ["sales"])
    preparation = world.prepare()
    edition_id = preparation.edition.id
    assert preparation.edition.state is EditionState.HELD
    outbox = OutboxBackend(world.runtime.settings.data_dir)
    with pytest.raises(Conflict, match="not sending"):
        world.send(edition_id, outbox)
    with world.session() as session, pytest.raises(Conflict, match="needs approval first"):
        release_edition(session, edition_id, NOW)

    with world.session() as session:
        assert approve_edition(session, edition_id, NOW).state is EditionState.SENDING
    report = world.send(edition_id, outbox)

    assert report.state is EditionState.SENT
    assert report.counts == Counter({MessageStatus.SENT: 1})


def test_a_second_edition_cannot_start_while_one_is_under_way(world: World) -> None:
    world.series(audiences=["sales"], requires_approval=True)
    world.item("news", ["sales"])
    world.contact("seller@p.example", ["sales"])
    held = world.prepare().edition.id

    with pytest.raises(Conflict, match=f"edition {held} of news is held"):
        world.prepare()


def test_a_missing_postal_address_refuses_to_compile_and_leaves_nothing_behind(
    world: World,
) -> None:
    from dataclasses import replace

    world.runtime = replace(
        world.runtime, settings=replace(world.runtime.settings, postal_address="")
    )
    world.series(audiences=["sales"])
    world.item("news", ["sales"])
    world.contact("seller@p.example", ["sales"])

    with pytest.raises(TemplateError, match="COMMHUB_POSTAL_ADDRESS: not set"):
        world.prepare()

    with world.session() as session:
        assert session.scalar(select(EditionRender.id)) is None
    assert world.messages(1) == {}


def test_the_database_holds_at_most_one_edition_under_way_per_series(world: World) -> None:
    from datetime import timedelta

    from sqlalchemy.exc import IntegrityError

    from commhub.store.models import Edition

    world.series(audiences=["sales"])
    with world.session() as session:
        session.add(
            Edition(series_id=1, planned_at=NOW, state=EditionState.SENDING, started_at=NOW)
        )
    with pytest.raises(IntegrityError), world.session() as session:
        session.add(
            Edition(
                series_id=1, planned_at=NOW + timedelta(days=1), state=EditionState.HELD,
                started_at=NOW,
            )
        )  # fmt: skip
    with world.session() as session:
        session.add(
            Edition(series_id=1, planned_at=NOW + timedelta(days=2), state=EditionState.PLANNED)
        )
        # Paused before it started (a person held next month's): not under way.
        session.add(
            Edition(series_id=1, planned_at=NOW + timedelta(days=3), state=EditionState.PAUSED)
        )


def test_a_sender_name_with_a_comma_survives_into_the_envelope(world: World) -> None:
    from commhub.delivery.sender import envelope_for
    from commhub.scheduling.series import apply_series, read_series_file
    from tests.scheduling.test_series_file import GOOD

    path = world.runtime.settings.data_dir / "series.yml"
    path.write_text(
        GOOD.replace('"Team <team@vendor.example>"', "'\"Northwind, Inc.\" <team@vendor.example>'")
    )
    with world.session() as session:
        [definition] = read_series_file(path, {"sales", "technical"}, world.renderer.has_template)
        apply_series(session, [definition])
        from commhub.scheduling.series import get_series

        envelope = envelope_for(get_series(session, "news"), world.runtime.settings)
    assert envelope.from_address == "team@vendor.example"
    assert envelope.from_header == '"Northwind, Inc." <team@vendor.example>'
    assert envelope.message_id_domain == "vendor.example"


def test_cancelling_a_held_edition_skips_its_messages_and_frees_its_items(world: World) -> None:
    from commhub.editions.lifecycle import cancel_edition

    world.series(audiences=["sales"], requires_approval=True)
    world.item("news", ["sales"])
    world.contact("seller@p.example", ["sales"])
    held = world.prepare().edition.id

    with world.session() as session:
        assert cancel_edition(session, held, NOW) == 1
    messages = world.messages(held)
    assert messages["seller@p.example"].skip_reason is SkipReason.CANCELLED
    world.clock.sleep(60)
    again = world.prepare()
    assert again.edition.notes["items"] == {"sales": ["news"]}, "its items are free again"
    with world.session() as session, pytest.raises(Conflict, match="cannot be cancelled"):
        cancel_edition(session, held, NOW)


def test_an_email_long_enough_for_gmail_to_clip_is_named(world: World) -> None:
    world.series(audiences=["sales", "technical"])
    for n in range(30):
        world.item(f"long-{n}", ["sales"], summary="A long summary of the news. " * 150)
    world.item("short", ["technical"])
    world.contact("seller@p.example", ["sales"])
    world.contact("engineer@p.example", ["technical"])

    preparation = world.prepare()

    assert set(preparation.too_long) == {"sales"}
    assert preparation.too_long["sales"] > 102_000
    assert preparation.edition.notes["too_long"] == preparation.too_long


def test_messages_are_queued_with_each_role_set_together(world: World) -> None:
    world.series(audiences=["sales", "technical"])
    world.item("price-update", ["sales"])
    world.item("api-guide", ["technical"])
    for n in range(6):  # contacts alternate between the two role sets
        world.contact(f"c{n}@p.example", ["sales"] if n % 2 else ["technical"])
    world.contact("gone@p.example", ["sales"], status=ContactStatus.UNSUBSCRIBED)

    edition_id = world.prepare().edition.id

    with world.session() as session:
        rows = session.execute(
            select(Message.role_set, Message.status)
            .where(Message.edition_id == edition_id)
            .order_by(Message.id)
        ).all()
    assert [role_set for role_set, _ in rows] == ["sales"] * 4 + ["technical"] * 3
    assert sum(status is MessageStatus.SKIPPED for _, status in rows) == 1
