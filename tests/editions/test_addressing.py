"""Addressing: who gets which render of an edition, worked out without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from commhub.editions.preparation import Addressing
from commhub.editions.recipients import AudienceMember
from commhub.render.content_plan import AudienceInfo, ContentPlan, PickedItem
from commhub.store.message_keys import RoleSet
from commhub.store.models import ContentKind, SkipReason

SALES = AudienceInfo("sales", "Sales", "Sellers")
TECH = AudienceInfo("technical", "Technical", "Engineers")
LATER = datetime(2026, 12, 1, 17, tzinfo=UTC)


def item(item_id: int, key_message_id: int | None = None) -> PickedItem:
    return PickedItem(
        id=item_id, slug=f"item-{item_id}", title=f"Item {item_id}", summary="",
        kind=ContentKind.ARTICLE, url=None, image=None, duration_seconds=None, speaker=None,
        key_message=None, body_html="", publish_at=None, key_message_id=key_message_id,
    )  # fmt: skip


PLAN = ContentPlan((SALES, TECH), {"sales": (item(1, 10), item(2, 20)), "technical": ()})


class Waves:
    def wave_of(self, zone_name: str | None) -> datetime | None:
        return LATER if zone_name == "Asia/Tokyo" else None


def member(
    contact_id: int, *roles: str, skip: SkipReason | None = None, zone: str | None = None
) -> AudienceMember:
    return AudienceMember(contact_id, RoleSet(roles), skip, zone)


def test_each_member_gets_their_role_sets_render_and_nothing_new_gets_nothing() -> None:
    addressing = Addressing(PLAN, {}, None)
    members = [member(1, "sales"), member(2, "technical"), member(3, "sales", "technical")]
    messages = list(addressing.messages(members))
    assert [(m.contact_id, m.role_set, m.variant) for m in messages] == [
        (1, "sales", ""), (3, "sales,technical", ""),
    ]  # fmt: skip
    assert addressing.nothing_new == {"technical": 1}
    assert addressing.role_sets == {"sales": 1, "sales,technical": 1}
    assert list(addressing.renders) == [("sales", ""), ("sales,technical", "")]


def test_the_rule_of_seven_makes_a_variant_once_and_skips_who_saw_everything() -> None:
    seen = {1: {10}, 2: {10}, 3: {10, 20}}
    addressing = Addressing(PLAN, seen, None)
    messages = list(addressing.messages([member(c, "sales") for c in (1, 2, 3, 4)]))
    assert [(m.contact_id, m.variant) for m in messages] == [
        (1, "without:1"), (2, "without:1"), (4, ""),
    ]  # fmt: skip
    assert addressing.left_out == {"sales": 2}
    assert addressing.seen_enough == {"sales": 1}
    [without_one] = [s for k, s in addressing.renders.items() if k == ("sales", "without:1")]
    assert [i.id for section in without_one for i in section.items] == [2]


def test_a_contact_who_may_not_be_sent_to_is_queued_skipped_with_the_full_render() -> None:
    addressing = Addressing(PLAN, {1: {10, 20}}, None)
    [message] = addressing.messages([member(1, "sales", skip=SkipReason.UNSUBSCRIBED)])
    assert message.skip_reason is SkipReason.UNSUBSCRIBED
    assert message.variant == ""


def test_waves_place_each_contact_in_their_zone() -> None:
    addressing = Addressing(PLAN, {}, Waves())
    tokyo, here = addressing.messages([member(1, "sales", zone="Asia/Tokyo"), member(2, "sales")])
    assert tokyo.not_before == LATER
    assert here.not_before is None
