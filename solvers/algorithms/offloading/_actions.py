"""One vectorized routine shared by the online policies: fill options in order."""

from __future__ import annotations

import numpy as np

__all__ = ["fill_in_order", "OptionTable"]


def fill_in_order(keys: np.ndarray, capacity: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Per row, take options in increasing ``keys`` up to ``capacity`` until ``budget`` runs out.

    Parameters
    ----------
    keys : ndarray (n, k)
        Order of the options of each row (ties: lower column first).
    capacity : ndarray (n, k) of int
        Most units each option takes (0 disables it).
    budget : ndarray (n,) of int
        Units available per row (a device's queue).

    Returns
    -------
    ndarray (n, k) of int64
        ``take[i, j] = clip(budget_i - (capacity of the options before j), 0, capacity_ij)``.

    Notes
    -----
    O(n k log k) (one sort per row). With ``capacity`` zeroed where an
    option's weight is >= 0 and keys equal to the weights, this is the exact
    greedy solution of ``min sum_j w_j x_j`` s.t. ``0 <= x_j <= cap_j``,
    ``sum_j x_j <= budget`` (a box with one unit-coefficient constraint: the
    greedy order is optimal and the optimum is integral).
    """
    order = keys.argsort(axis=1, kind="stable")
    rows = np.arange(len(order))[:, None]
    cap = capacity[rows, order]
    before = cap.cumsum(axis=1) - cap
    take = np.minimum(np.maximum(budget[:, None] - before, 0), cap)
    out = np.empty_like(take)
    out[rows, order] = take
    return out


class OptionTable:
    """Each device's options as a padded ``(n_devices, 1 + max links per device)`` table.

    Column 0 is running locally; the next columns are the device's links in
    instance order (padding columns have capacity 0). Sorting these short
    rows instead of dense ``devices x servers`` rows is what makes a slot
    cost O(links log(links per device)) rather than O(devices x servers x log servers).
    """

    def __init__(self, problem):
        self.ld, self.ls = problem.link_device, problem.link_server
        counts = np.bincount(self.ld, minlength=problem.n_devices)
        self.width = 1 + int(counts.max(initial=0))
        order = np.argsort(self.ld, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        self.pos = np.empty(len(self.ld), dtype=np.int64)
        self.pos[order] = 1 + np.arange(len(self.ld)) - starts[self.ld[order]]
        self.shape = (problem.n_devices, self.width)
        self.dense_shape = (problem.n_devices, problem.n_servers)

    def table(self, local_values, link_values, fill, dtype):
        """Options table: ``local_values`` in column 0, ``link_values[l]`` at each link's column."""
        out = np.full(self.shape, fill, dtype=dtype)
        out[:, 0] = local_values
        out[self.ld, self.pos] = link_values
        return out

    def split(self, take):
        """``(local, send)`` with ``send`` dense ``(n_devices, n_servers)`` from an options table."""
        send = np.zeros(self.dense_shape, dtype=take.dtype)
        send[self.ld, self.ls] = take[self.ld, self.pos]
        return take[:, 0], send
