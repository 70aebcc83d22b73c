"""Charts people would rather look at than tables, drawn with matplotlib into PNG files: the
nine-grid as a heatmap, the transition matrix between two days, retention curves per cohort,
churn-cycle rates, the lapse funnel and recall return rates by test group.

Each function takes plain rows from the marts and a path, and writes one PNG. The PNGs carry no
timestamp, so the same rows give the same bytes. Labels are English and Chinese where a CJK font
is installed (Debian: fonts-wqy-microhei or fonts-noto-cjk), English only otherwise, so a
machine without one never draws empty boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

LEVELS = ("low", "mid", "high")
LEVELS_ZH = {"low": "低", "mid": "中", "high": "高"}
_PNG = {"Software": None}      # no version or date in the file
# Font files of common CJK packages; added explicitly because matplotlib's font cache may predate them.
_CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                   "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@cache
def cjk_font() -> str | None:
    """The first CJK font installed, registered with matplotlib (looked for on first use, not at import)."""
    from matplotlib import font_manager

    for path in _CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


@cache
def _pyplot():
    """matplotlib's pyplot, set up once when the first chart is drawn: files only, no screen; Latin
    from DejaVu, CJK glyphs falling back to the CJK font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if cjk_font():
        plt.rcParams["font.family"] = ["DejaVu Sans", cjk_font()]
    return plt


def bilingual(english: str, chinese: str, sep: str = " ") -> str:
    return f"{english}{sep}{chinese}" if cjk_font() else english


def cell_of(value_index: int, engagement_index: int) -> int:
    """The output contract's numbering: cell = 3 × value index + engagement index + 1."""
    return 3 * value_index + engagement_index + 1


def nine_grid_heatmap(users: Mapping[int, int], path: Path, title: str) -> Path:
    """Value level up the side (high on top), engagement along the bottom; each square shows its
    cell number, users and share of everyone."""
    total = sum(users.values()) or 1
    grid = np.array([[users.get(cell_of(v, e), 0) for e in range(3)] for v in reversed(range(3))])
    fig, ax = _pyplot().subplots(figsize=(6, 5))
    ax.imshow(grid, cmap="Blues")
    for row in range(3):
        for col in range(3):
            value = 2 - row
            count = int(grid[row, col])
            dark = count > grid.max() * 0.6
            ax.text(col, row, f"{bilingual('cell', '格')} {cell_of(value, col)}\n{count:,}\n{count / total:.1%}",
                    ha="center", va="center", color="white" if dark else "black", fontsize=11)
    ax.set_xticks(range(3), [bilingual(f"{level} engagement", f"{LEVELS_ZH[level]}活跃", "\n") for level in LEVELS])
    ax.set_yticks(range(3), [bilingual(f"{level} value", f"{LEVELS_ZH[level]}价值") for level in reversed(LEVELS)])
    ax.set_title(f"{title} — {total:,} {bilingual('users', '人')}")
    return _save(fig, path)


def transition_heatmap(moves: Iterable[tuple[int, int, int]], path: Path, title: str) -> Path:
    """From-cell rows × to-cell columns, users in each square (the diagonal stayed put)."""
    matrix = np.zeros((9, 9), dtype=int)
    for from_cell, to_cell, users in moves:
        matrix[from_cell - 1, to_cell - 1] += users
    fig, ax = _pyplot().subplots(figsize=(7.5, 6.5))
    ax.imshow(np.log1p(matrix), cmap="Purples")
    for i in range(9):
        for j in range(9):
            if matrix[i, j]:
                ax.text(j, i, f"{matrix[i, j]:,}", ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() * 0.3 else "black")
    ax.set_xticks(range(9), [str(c) for c in range(1, 10)])
    ax.set_yticks(range(9), [str(c) for c in range(1, 10)])
    ax.set_xlabel(bilingual("to cell", "迁入格"))
    ax.set_ylabel(bilingual("from cell", "迁出格"))
    ax.set_title(f"{title} — {int(matrix.sum()):,} users, {int(matrix.sum() - np.trace(matrix)):,} moved")
    return _save(fig, path)


def retention_curves(points: Iterable[tuple[str, int, float]], path: Path, title: str) -> Path:
    """One line per cohort: retention rate by day after registration."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for cohort, day, rate in points:
        curves.setdefault(cohort, []).append((day, float(rate)))
    fig, ax = _pyplot().subplots(figsize=(8, 5))
    for cohort, line in sorted(curves.items()):
        days, rates = zip(*sorted(line))
        ax.plot(days, rates, marker=".", label=cohort)
    ax.set_xlabel(bilingual("days after registration", "注册后天数"))
    ax.set_ylabel(bilingual("retained (key behaviour that day)", "留存率"))
    ax.yaxis.set_major_formatter(_percent())
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(title="cohort", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no cohort has been followed for a full day yet", ha="center", transform=ax.transAxes)
    ax.set_title(title)
    return _save(fig, path)


def churn_cycle_rates(rates: Iterable[tuple[str, float, float]], path: Path, title: str) -> Path:
    """Per churn cycle: the latest closed cohort's churn rate and the average over all closed cohorts."""
    return _paired_rates(rates, path, title, (bilingual("latest cohort", "最近一期"), "#d95f02"),
                         (bilingual("all cohorts", "全部平均"), "#7570b3"), bilingual("churn rate", "流失率"),
                         "no cohort window has closed yet")


def lapse_funnel(stages: Iterable[tuple[str, int]], path: Path, title: str) -> Path:
    """Members by how long they have been quiet: not lapsed, then short, mid and long lapse."""
    rows = list(stages)
    fig, ax = _pyplot().subplots(figsize=(7, 3.8))
    labels = [r[0] for r in rows]
    counts = [int(r[1]) for r in rows]
    bars = ax.barh(range(len(rows)), counts, color=["#1b9e77", "#e6ab02", "#d95f02", "#7570b3"][: len(rows)])
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    for bar, count in zip(bars, counts):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {count:,}", va="center", fontsize=9)
    ax.set_xlabel(bilingual("members", "会员数"))
    ax.set_title(title)
    return _save(fig, path)


def recall_return_rates(rows: Iterable[tuple[str, float, float | None]], path: Path, title: str) -> Path:
    """Per campaign: return rate of the treatment group beside the control group's."""
    return _paired_rates(rows, path, title, (bilingual("treatment", "实验组"), "#1b9e77"),
                         (bilingual("control", "对照组"), "#999999"), bilingual("returned", "回流率"),
                         "no campaign with outcomes yet")


def _paired_rates(rows: Iterable[tuple[str, float | None, float | None]], path: Path, title: str,
                  left: tuple[str, str], right: tuple[str, str], ylabel: str, empty: str) -> Path:
    """Two bars per name (rates as fractions; a missing rate draws as 0), or a note when there are none."""
    rows = list(rows)
    fig, ax = _pyplot().subplots(figsize=(8, 4.5))
    if rows:
        x = np.arange(len(rows))
        for offset, column, (label, color) in ((-0.2, 1, left), (0.2, 2, right)):
            ax.bar(x + offset, [float(r[column] or 0) for r in rows], 0.4, label=label, color=color)
        ax.set_xticks(x, [r[0] for r in rows], rotation=20, ha="right", fontsize=8)
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, empty, ha="center", transform=ax.transAxes)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, metadata=_PNG)
    _pyplot().close(fig)
    return path
