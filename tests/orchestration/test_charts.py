"""The chart files: drawn (not blank), and the same rows give the same bytes."""

import matplotlib.image as mpimg
import numpy as np

from orchestration.lib import charts


def _drawn(path) -> bool:
    pixels = mpimg.imread(path)
    return pixels.ndim == 3 and float(np.std(pixels[..., :3])) > 0.05


def test_cell_numbering_matches_the_contract():
    assert charts.cell_of(0, 0) == 1 and charts.cell_of(0, 2) == 3 and charts.cell_of(2, 0) == 7
    assert charts.cell_of(2, 2) == 9


def test_charts_are_drawn_and_repeatable(tmp_path):
    users = {1: 790, 2: 702, 3: 150, 4: 22, 5: 74, 6: 96, 7: 1, 8: 6, 9: 31}
    first = charts.nine_grid_heatmap(users, tmp_path / "a" / "grid.png", "Nine-grid")
    again = charts.nine_grid_heatmap(users, tmp_path / "b" / "grid.png", "Nine-grid")
    other = charts.nine_grid_heatmap({**users, 9: 32}, tmp_path / "c" / "grid.png", "Nine-grid")
    assert _drawn(first) and first.read_bytes() == again.read_bytes() != other.read_bytes()
    moves = charts.transition_heatmap([(1, 1, 700), (4, 7, 20), (6, 3, 5)], tmp_path / "moves.png", "Moves")
    curves = charts.retention_curves([("2026-10-05", d, 0.3 / d) for d in range(1, 15)]
                                     + [("2026-10-12", d, 0.25 / d) for d in range(1, 8)], tmp_path / "ret.png", "R")
    empty = charts.retention_curves([], tmp_path / "none.png", "R")
    assert all(_drawn(path) for path in (moves, curves, empty))
