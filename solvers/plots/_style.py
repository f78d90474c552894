"""What every coinfer figure shares: the palette, figure creation, saving, label placement.

Figures are built with matplotlib's object-oriented API on an Agg canvas
(:class:`matplotlib.figure.Figure`, never ``pyplot``): no global figure
state, no window, nothing to close, and the caller may restyle the returned
figure or save it in any format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from formulations.partition.units import format_bytes as fmt_bytes  # noqa: F401  (one byte formatter)

__all__ = [
    "OKABE_ITO",
    "DEVICE_COLOR",
    "SERVER_COLOR",
    "CUT_COLOR",
    "TIER_COLORS",
    "LINK_STYLES",
    "FORMATS",
    "PLOT_EXTRA_HINT",
    "require_matplotlib",
    "new_figure",
    "save_figure",
    "output_format",
    "fmt_bytes",
    "text_boxes",
    "overlapping_pairs",
    "place_without_overlap",
    "instance_name",
    "find_artist",
]

#: Okabe & Ito (2008) colour-blind-safe palette (black first).
OKABE_ITO = (
    "#000000",  # black
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
)
#: Colours by role (all from :data:`OKABE_ITO`).
DEVICE_COLOR, SERVER_COLOR, CUT_COLOR = OKABE_ITO[5], OKABE_ITO[1], OKABE_ITO[6]
#: Colours of tiers 0, 1, ... of a k-tier partition (cycled past the seventh; no vermillion: the cut's).
TIER_COLORS = (OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[1], OKABE_ITO[7], OKABE_ITO[2], OKABE_ITO[4], OKABE_ITO[0])
#: (colour, line style) of the cut of links 0, 1, ... of a k-tier partition (cycled).
LINK_STYLES = ((CUT_COLOR, "-"), (OKABE_ITO[0], "--"), (OKABE_ITO[7], ":"), (OKABE_ITO[2], "-."))

#: Output formats by file suffix.
FORMATS = ("png", "svg", "pdf")
PLOT_EXTRA_HINT = "pip install 'coinfer[plot]'"


def require_matplotlib():
    """Import matplotlib or raise ImportError naming the extra to install.

    Returns
    -------
    module
        The ``matplotlib`` module.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise ImportError(f"plots need matplotlib, the optional extra: {PLOT_EXTRA_HINT}") from None
    return matplotlib


def new_figure(width_in: float, height_in: float, *, nrows: int = 1, ncols: int = 1, **subplot_kw):
    """A :class:`~matplotlib.figure.Figure` on an Agg canvas with its axes.

    Returns
    -------
    (Figure, Axes or array of Axes)
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def output_format(path) -> str:
    """The image format of ``path`` from its suffix (png, svg, pdf).

    Raises
    ------
    ValueError
        For any other suffix.
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"output file {str(path)!r} must end in .png, .svg or .pdf, got {('.' + suffix) if suffix else 'no suffix'}")
    return suffix


def save_figure(fig, path, *, dpi: int = 100) -> Path:
    """Write ``fig`` to ``path`` in the format of its suffix; returns the path."""
    fmt = output_format(path)
    fig.savefig(path, format=fmt, dpi=dpi)
    return Path(path)


def instance_name(problem, fallback: str = "instance") -> str:
    """The name shown in titles: the problem's ``name`` or ``fallback``."""
    return getattr(problem, "name", None) or fallback


def text_boxes(fig, texts: Iterable) -> list:
    """Display-space bounding boxes (:class:`~matplotlib.transforms.Bbox`) of ``texts``, as drawn."""
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer=renderer) for t in texts]


def overlapping_pairs(fig, texts: Sequence, *, pad_px: float = 0.0) -> list[tuple[int, int]]:
    """Index pairs of ``texts`` whose drawn bounding boxes overlap. O(len(texts)^2).

    Used by the tests (no overlapping labels on the shipped instances) and by
    :func:`place_without_overlap`.
    """
    fig.canvas.draw()
    boxes = [b.expanded(1.0, 1.0).padded(pad_px) for b in text_boxes(fig, texts)]
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


def place_without_overlap(fig, texts: Sequence, *, step_px: float | None = None, tries: int = 12,
                          pad_px: float = 2.0) -> None:
    """Move texts (in order) upward until none overlaps an earlier one.

    Each text whose box overlaps an already placed box is shifted up, in
    display space, by ``step_px`` (default: its own height + pad) at most
    ``tries`` times. Greedy, O(n^2 tries); texts must use offset-point or
    data coordinates (their ``xyann`` for annotations, else their position).
    """
    from matplotlib.text import Annotation

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed: list = []
    for text in texts:
        for _ in range(tries):
            box = text.get_window_extent(renderer=renderer).padded(pad_px)
            if not any(box.overlaps(other) for other in placed):
                break
            shift_px = step_px if step_px is not None else box.height
            if isinstance(text, Annotation) and text.anncoords == "offset points":
                x_pt, y_pt = text.xyann
                text.xyann = (x_pt, y_pt + shift_px * 72.0 / fig.dpi)
            else:
                trans = text.get_transform()
                x_disp, y_disp = trans.transform(text.get_position())
                text.set_position(trans.inverted().transform((x_disp, y_disp + shift_px)))
        placed.append(text.get_window_extent(renderer=renderer).padded(pad_px))


def find_artist(fig, gid: str, *, axes_index: int | None = None):
    """The first artist (line, collection, text, patch) with ``gid`` in ``fig``.

    Raises
    ------
    KeyError
        When no artist has that gid.
    """
    axes = fig.axes if axes_index is None else [fig.axes[axes_index]]
    for ax in axes:
        for artist in ax.get_children():
            if artist.get_gid() == gid:
                return artist
    raise KeyError(f"no artist with gid {gid!r}")
