"""Merkle roots against hand-computed trees."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.merkle import EMPTY_MERKLE_ROOT, merkle_root


def leaf(i: int) -> bytes:
    return hashlib.sha256(b"tx-%d" % i).digest()


def h(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


def test_zero_leaves() -> None:
    assert merkle_root([]) == "0" * 64 == EMPTY_MERKLE_ROOT


def test_one_leaf_is_the_root() -> None:
    assert merkle_root([leaf(0).hex()]) == leaf(0).hex()


def test_two_leaves() -> None:
    assert merkle_root([leaf(0).hex(), leaf(1).hex()]) == h(leaf(0), leaf(1)).hex()


def test_three_leaves_duplicate_the_last() -> None:
    expected = h(h(leaf(0), leaf(1)), h(leaf(2), leaf(2)))
    assert merkle_root([leaf(i).hex() for i in range(3)]) == expected.hex()


def test_five_leaves_duplicate_on_every_odd_level() -> None:
    level1 = [h(leaf(0), leaf(1)), h(leaf(2), leaf(3)), h(leaf(4), leaf(4))]
    level2 = [h(level1[0], level1[1]), h(level1[2], level1[2])]
    assert merkle_root([leaf(i).hex() for i in range(5)]) == h(*level2).hex()


def test_order_matters() -> None:
    assert merkle_root([leaf(0).hex(), leaf(1).hex()]) != merkle_root(
        [leaf(1).hex(), leaf(0).hex()]
    )


@pytest.mark.parametrize("bad", ["ab", "zz" * 32, 5])
def test_malformed_hash_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="index 1"):
        merkle_root([leaf(0).hex(), bad])  # type: ignore[list-item]


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=40, unique=True), st.data())
def test_changing_any_leaf_changes_the_root(ids: list[int], data: st.DataObject) -> None:
    hashes = [leaf(i).hex() for i in ids]
    position = data.draw(st.integers(0, len(hashes) - 1))
    changed = list(hashes)
    changed[position] = leaf(-1 - position).hex()
    assert merkle_root(changed) != merkle_root(hashes)
