"""A static PNG of equity curves on a log scale, with their drawdowns below."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd


def write_equity_chart(
    path: Path,
    curves: Mapping[str, pd.Series],
    title: str,
    gaps: Sequence[tuple[pd.Timestamp, pd.Timestamp]] = (),
) -> None:
    """Draw ``curves`` (label to equity series) and their drawdown from the peak, as a PNG.

    ``gaps`` are stretches of time the curves do not cover (skipped folds): shaded, so that
    the straight line across one is not read as a quiet market. Uses matplotlib's object API
    with the Agg canvas (no pyplot state, no display needed). Raises ``ValueError`` when
    there is nothing to draw or a curve is not positive.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not curves:
        raise ValueError("no equity curve to draw")
    for label, curve in curves.items():
        if curve.empty or not (curve > 0).all():
            raise ValueError(f"equity curve {label!r} is empty or not positive")
    figure = Figure(figsize=(11, 6.5), dpi=110)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.08)
    top = figure.add_subplot(grid[0])
    bottom = figure.add_subplot(grid[1], sharex=top)
    for label, curve in curves.items():
        (line,) = top.plot(curve.index, curve.to_numpy(), linewidth=1.2, label=label)
        drawdown = 100.0 * (curve / curve.cummax() - 1.0)
        bottom.fill_between(
            drawdown.index, drawdown.to_numpy(), 0.0, color=line.get_color(), alpha=0.25
        )
        bottom.plot(drawdown.index, drawdown.to_numpy(), color=line.get_color(), linewidth=0.8)
    for start, end in gaps:
        for axis in (top, bottom):
            axis.axvspan(start, end, color="#999999", alpha=0.15, linewidth=0)
        top.text(
            start,
            0.99,
            " no test fold",
            transform=top.get_xaxis_transform(),
            va="top",
            fontsize=8,
            color="#666666",
        )
    top.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:,.0f}")
    top.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    top.yaxis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
    top.yaxis.set_major_formatter(plain)
    # Label the minor ticks only within a decade, where the major ones are too few.
    low = min(float(c.min()) for c in curves.values())
    high = max(float(c.max()) for c in curves.values())
    top.yaxis.set_minor_formatter(plain if high / low < 10 else NullFormatter())
    top.set_ylabel("equity (quote currency, log scale)")
    top.set_title(title, fontsize=10)
    top.grid(True, which="both", alpha=0.3)
    top.legend(loc="upper left", fontsize=9)
    top.tick_params(labelbottom=False)
    bottom.set_ylabel("drawdown %")
    bottom.grid(True, alpha=0.3)
    figure.savefig(path, format="png", bbox_inches="tight")
