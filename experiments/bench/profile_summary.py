r"""Summarise a py-spy profile (``--format raw``, collapsed stacks) as top costs.

Usage::

    py-spy record -r 200 --format raw -o day.txt -- \\
        python -m experiments.bench.child --households 10000 --steps 8
    python -m experiments.bench.profile_summary day.txt --top 25 --root GridModel.run

Prints, per function, the share of samples in which it is on the stack (inclusive)
and at the top of the stack (self), highest inclusive share first.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class FunctionCost:
    """Share of the samples spent in (inclusive) and directly in (self) a function."""

    function: str
    inclusive: float
    self_share: float


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['function']} ({path})"


def summarise(lines: Iterable[str], root: str | None = None) -> tuple[int, list[FunctionCost]]:
    """Total samples and the cost of every function in collapsed-stack ``lines``.

    Args:
        lines: ``frame;frame;... count`` lines (py-spy ``--format raw``).
        root: Keep only the stacks with a frame whose name contains ``root`` (e.g.
            ``"GridModel.run"``), so that shares are of that call's time.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [_name(frame) for frame in stack.split(";") if frame]
        if root is not None and not any(root in frame for frame in frames):
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    costs = [FunctionCost(name, inclusive[name] / total, own[name] / total) for name in inclusive]
    costs.sort(key=lambda cost: (-cost.inclusive, cost.function))
    return total, costs


def main(argv: Sequence[str] | None = None) -> int:
    """Print the top functions of a raw py-spy profile."""
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.profile_summary")
    parser.add_argument("profile", help="py-spy --format raw output")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--by", choices=("inclusive", "self"), default="inclusive")
    parser.add_argument("--root", default=None, help="only stacks through this function")
    args = parser.parse_args(argv)
    with open(args.profile, encoding="utf-8") as handle:
        total, costs = summarise(handle, args.root)
    if args.by == "self":
        costs.sort(key=lambda cost: (-cost.self_share, cost.function))
    print(f"{total} samples")
    print(f"{'incl':>6} {'self':>6}  function")
    for cost in costs[: args.top]:
        print(f"{cost.inclusive:6.1%} {cost.self_share:6.1%}  {cost.function}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
