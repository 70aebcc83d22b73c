"""Charts people would rather look at than tables, drawn with matplotlib into PNG files: the
nine-grid as a heatmap, the transition matrix between two days, retention curves per cohort.

Each function takes plain rows from the marts and a path, and writes one PNG. The PNGs carry no
timestamp, so the same rows give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")          # files only, no screen

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LEVELS = ("low", "mid", "high")
_PNG = {"Software": None}      # no version or date in the file


def cell_of(value_index: int, engagement_index: int) -> int:
    """The output contract's numbering: cell = 3 × value index + engagement index + 1."""
    return 3 * value_index + engagement_index + 1


def nine_grid_heatmap(users: Mapping[int, int], path: Path, title: str) -> Path:
    """Value level up the side (high on top), engagement along the bottom; each square shows its
    cell number, users and share of everyone."""
    total = sum(users.values()) or 1
    grid = np.array([[users.get(cell_of(v, e), 0) for e in range(3)] for v in reversed(range(3))])
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(grid, cmap="Blues")
    for row in range(3):
        for col in range(3):
            value = 2 - row
            count = int(grid[row, col])
            dark = count > grid.max() * 0.6
            ax.text(col, row, f"cell {cell_of(value, col)}\n{count:,}\n{count / total:.1%}", ha="center",
                    va="center", color="white" if dark else "black", fontsize=11)
    ax.set_xticks(range(3), [f"{level} engagement" for level in LEVELS])
    ax.set_yticks(range(3), [f"{level} value" for level in reversed(LEVELS)])
    ax.set_title(f"{title} — {total:,} users")
    return _save(fig, path)


def transition_matrix(moves: Iterable[tuple[int, int, int]], path: Path, title: str) -> Path:
    """From-cell rows × to-cell columns, users in each square (the diagonal stayed put)."""
    matrix = np.zeros((9, 9), dtype=int)
    for from_cell, to_cell, users in moves:
        matrix[from_cell - 1, to_cell - 1] += users
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(np.log1p(matrix), cmap="Purples")
    for i in range(9):
        for j in range(9):
            if matrix[i, j]:
                ax.text(j, i, f"{matrix[i, j]:,}", ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() * 0.3 else "black")
    ax.set_xticks(range(9), [str(c) for c in range(1, 10)])
    ax.set_yticks(range(9), [str(c) for c in range(1, 10)])
    ax.set_xlabel("to cell")
    ax.set_ylabel("from cell")
    ax.set_title(f"{title} — {int(matrix.sum()):,} users, {int(matrix.sum() - np.trace(matrix)):,} moved")
    return _save(fig, path)


def retention_curves(points: Iterable[tuple[str, int, float]], path: Path, title: str) -> Path:
    """One line per cohort: retention rate by day after registration."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for cohort, day, rate in points:
        curves.setdefault(cohort, []).append((day, float(rate)))
    fig, ax = plt.subplots(figsize=(8, 5))
    for cohort, line in sorted(curves.items()):
        days, rates = zip(*sorted(line))
        ax.plot(days, rates, marker=".", label=cohort)
    ax.set_xlabel("days after registration")
    ax.set_ylabel("retained (key behaviour that day)")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(title="cohort", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no cohort has been followed for a full day yet", ha="center", transform=ax.transAxes)
    ax.set_title(title)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, metadata=_PNG)
    plt.close(fig)
    return path
