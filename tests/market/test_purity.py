"""market/ stays a pure library: no simulator layers, no randomness, no globals."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import market
from market import MECHANISMS, Mechanism, make_mechanism

MARKET_DIR = pathlib.Path(market.__file__).parent
FORBIDDEN = {"agents", "experiments", "chain", "mesa", "ray", "hydra", "random"}


def _imported_modules(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_forbidden_imports_in_source() -> None:
    files = sorted(MARKET_DIR.glob("**/*.py"))
    assert len(files) >= 20
    for path in files:
        for name in _imported_modules(path):
            assert name.split(".")[0] not in FORBIDDEN, (path.name, name)
            assert not name.startswith("numpy.random"), (path.name, name)
        assert "np.random" not in path.read_text(), path.name


def test_importing_market_loads_no_simulator_layer() -> None:
    layers = sorted(FORBIDDEN - {"random"})
    code = (
        "import sys, market; "
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {layers!r}); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=MARKET_DIR.parent,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_registry_is_read_only_and_complete() -> None:
    assert set(MECHANISMS) == {
        "sorted_pairing",
        "grid_only",
        "uniform_price",
        "pay_as_bid",
        "double_auction",
        "stackelberg",
        "two_level",
        "local_re",
        "ev_dr",
    }
    for name, cls in MECHANISMS.items():
        mechanism = cls()
        assert mechanism.name == name
        assert isinstance(mechanism, Mechanism)
    try:
        MECHANISMS["x"] = object  # type: ignore[index]
    except TypeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("registry must be read-only")


def test_make_mechanism() -> None:
    m = make_mechanism("sorted_pairing", price_rule="pay_as_bid")
    assert m.name == "sorted_pairing" and m.price_rule == "pay_as_bid"  # type: ignore[attr-defined]
    try:
        make_mechanism("vickrey")
    except ValueError as err:
        assert "sorted_pairing" in str(err)
    else:  # pragma: no cover
        raise AssertionError("unknown mechanism must raise")


def test_public_names_exported() -> None:
    for name in market.__all__:
        assert hasattr(market, name), name
