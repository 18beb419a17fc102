"""Fixtures for the chain tests (builders live in ``tests.chain.builders``)."""

from __future__ import annotations

import pytest

from chain import Chain, Identity
from tests.chain.builders import new_chain, users


@pytest.fixture
def alice_bob_carol() -> list[Identity]:
    """Three users, funded in chains made by ``new_chain``."""
    return users(3)


@pytest.fixture
def chain() -> Chain:
    """A fresh default PoA chain (2 s period, 4 validators, 6 funded users)."""
    return new_chain()
