"""``replication.md``: a paper's numbers next to ours, computed from a run.

Every reproduction ends in a table of :class:`Comparison` rows. A row holds the
paper's value (as printed in the paper), ours (computed by the reproduction, never
typed in), how we judge agreement, and why the two may differ. Agreement is judged
on magnitudes and trends, not exact numbers: our inputs are public profiles and
synthetic draws where the papers used private data sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from experiments.outputs import atomic_write


@dataclass(frozen=True)
class Comparison:
    """One line of a replication table.

    Attributes:
        quantity: What is compared, with its unit.
        paper: The paper's value, or ``None`` when it reports only a trend.
        ours: Our value, computed from the run.
        tolerance: Relative tolerance judged as agreement (0.25: within 25 %), or
            ``None`` to judge by ``holds`` (a trend or an inequality).
        holds: For a trend row, whether our result shows the paper's trend.
        why: Why the numbers may differ (inputs, reconstruction, scale).
    """

    quantity: str
    paper: float | str | None
    ours: float
    tolerance: float | None = 0.25
    holds: bool | None = None
    why: str = ""

    @property
    def difference(self) -> float | None:
        """``ours - paper`` when the paper gives a number."""
        if isinstance(self.paper, (int, float)) and math.isfinite(self.ours):
            return float(self.ours) - float(self.paper)
        return None

    @property
    def agrees(self) -> bool | None:
        """Whether ours agrees with the paper by this row's criterion."""
        if self.tolerance is None or not isinstance(self.paper, (int, float)):
            return self.holds
        if not math.isfinite(self.ours):
            return False
        scale = max(abs(float(self.paper)), 1e-12)
        return abs(self.ours - float(self.paper)) <= self.tolerance * scale


def render(title: str, inputs: str, rows: list[Comparison], figures: list[str]) -> str:
    """The Markdown text of a replication report."""
    lines = [
        f"# Replication: {title}",
        "",
        inputs,
        "",
        "| quantity | paper | ours | difference | judged by | agrees | why they may differ |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        judged = (
            f"within {row.tolerance:.0%}"
            if row.tolerance is not None and isinstance(row.paper, (int, float))
            else "trend"
        )
        agrees = {True: "yes", False: "no", None: "n/a"}[row.agrees]
        lines.append(
            f"| {row.quantity} | {_cell(row.paper)} | {_cell(row.ours)} | "
            f"{_cell(row.difference)} | {judged} | {agrees} | {row.why} |"
        )
    n_agree = sum(1 for row in rows if row.agrees)
    lines += ["", f"{n_agree} of {len(rows)} rows agree by their criterion.", ""]
    for figure in figures:
        lines.append(f"![{Path(figure).stem}]({figure})")
    return "\n".join(lines) + "\n"


def write_replication(
    path: Path, title: str, inputs: str, rows: list[Comparison], figures: list[str]
) -> Path:
    """Write ``replication.md`` atomically and return its path."""
    text = render(title, inputs, rows, figures)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def _cell(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return "n/a"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"
