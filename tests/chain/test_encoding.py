"""Canonical bytes, hashing and frozen payloads."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import hashlib
import json
import pickle

import pytest

from chain.encoding import FrozenDict, canonical_bytes, freeze, sha256_hex, thaw


def test_keys_are_sorted_and_no_whitespace() -> None:
    assert canonical_bytes({"b": 1, "a": [1, 2, {"d": True, "c": None}]}) == (
        b'{"a":[1,2,{"c":null,"d":true}],"b":1}'
    )


def test_non_ascii_stays_utf8() -> None:
    encoded = canonical_bytes({"site": "Zürich ⚡"})
    assert encoded == '{"site":"Zürich ⚡"}'.encode()
    assert b"\\u" not in encoded


def test_matches_the_spec_json_dumps_call() -> None:
    obj = {"z": {"y": [3, "x"], "é": -5}, "a": "ü"}
    expected = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(obj) == expected.encode("utf-8")


@pytest.mark.parametrize("obj", [1.0, {"price": 0.5}, {"a": [1, 2.5]}, {"a": {"b": float("nan")}}])
def test_floats_are_rejected(obj: object) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_bytes(obj)


def test_non_string_keys_and_unknown_types_are_rejected() -> None:
    with pytest.raises(TypeError, match="non-string key"):
        canonical_bytes({1: "a"})
    with pytest.raises(TypeError, match="unsupported type"):
        canonical_bytes({"a": {1, 2}})


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(ValueError):
        canonical_bytes({"a": "\ud800"})


def test_sha256_hex() -> None:
    assert sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert sha256_hex(b"abc").startswith("ba7816bf")


def test_frozen_dict_is_read_only_hashable_and_picklable() -> None:
    frozen = freeze({"a": [1, {"b": 2}]})
    assert isinstance(frozen, FrozenDict)
    assert frozen == {"a": (1, {"b": 2})}
    with pytest.raises(TypeError):
        frozen["a"] = 1
    with pytest.raises(TypeError):
        frozen["a"][1]["b"] = 3
    with pytest.raises(TypeError):
        frozen.update(c=1)
    assert pickle.loads(pickle.dumps(frozen)) == frozen
    assert hash(frozen) == hash(freeze({"a": [1, {"b": 2}]}))
    assert thaw(frozen) == {"a": [1, {"b": 2}]}
    assert canonical_bytes(frozen) == canonical_bytes({"a": [1, {"b": 2}]})
