"""A message's keys: its role set and its variant, as stored and read back."""

from __future__ import annotations

from commhub.store.message_keys import FULL, RoleSet, variant_without


def test_a_role_set_is_its_slugs_sorted_each_once() -> None:
    role_set = RoleSet(["technical", "sales", "technical"])
    assert role_set == ("sales", "technical")
    assert role_set.key == "sales,technical"
    assert "sales" in role_set


def test_a_role_set_reads_back_from_its_key() -> None:
    assert RoleSet.parse("sales,technical") == RoleSet(["technical", "sales"])
    assert RoleSet.parse("executive").key == "executive"
    assert RoleSet.parse("") == RoleSet() == ()


def test_equal_role_sets_are_one_key_in_a_dict() -> None:
    assert {RoleSet(["a", "b"]): 1}[RoleSet(["b", "a"])] == 1


def test_a_variant_names_what_it_leaves_out_whatever_the_order() -> None:
    assert variant_without([]) == FULL
    assert variant_without([3, 1, 3]) == variant_without([1, 3]) == "without:1,3"
    long = variant_without(range(1000))
    assert long.startswith("without:1000 items #")
    assert len(long) <= 200
