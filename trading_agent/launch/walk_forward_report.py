"""The walk-forward report's data, from the finished backtests: one dict for JSON and Markdown.

Each backtest's account is rebuilt from its orders on its window (and checked against
Freqtrade's final balance); buy-and-hold is computed from candles; baselines run over
stretches of consecutive test windows are sliced into folds. Then: the measures per fold and
row and fee, the test folds compounded per row and fee, the deflated Sharpe ratio of the
strategy, every run with its command, and timings.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from trading_agent.evaluation.buy_and_hold import buy_and_hold_fills
from trading_agent.evaluation.deflated_sharpe import deflated_sharpe
from trading_agent.evaluation.equity import Segment, close_grid, reconstruct_equity
from trading_agent.evaluation.equity_chart import write_equity_chart
from trading_agent.evaluation.fills import fills_from_trades
from trading_agent.evaluation.measures import chain_equity, performance
from trading_agent.evaluation.report_markdown import report_markdown
from trading_agent.launch.backtest_runs import BacktestOutcome
from trading_agent.launch.candle_files import CandleStore
from trading_agent.launch.folds import Fold, FoldCheck
from trading_agent.launch.strategy_grid import Grid, LoadedStrategy

#: MEXC's spot taker fee and where the figure comes from (check it before relying on it).
MEXC_TAKER_FEE = 0.0005
MEXC_FEE_SOURCE = (
    "MEXC's published spot fee schedule (https://www.mexc.com/fee) as of 2025, as recorded in "
    "issue 10: 0 % maker, 0.05 % taker on most pairs, only some pairs at zero. Fees change: "
    "check the schedule (or ccxt's fetch_trading_fee with keys) before relying on this figure."
)
START_BALANCE_BH = 1000.0


def fee_label(fee: float) -> str:
    """``0.05 % (MEXC taker)`` style label of a fee level."""
    text = f"{100 * fee:g} %"
    return f"{text} (MEXC taker)" if fee == MEXC_TAKER_FEE else text


def chart_fee(fees: Sequence[float]) -> float:
    """The fee level the equity chart shows: 0.1 % when evaluated, else the highest."""
    return 0.001 if 0.001 in fees else max(fees)


def run_account(
    outcome: BacktestOutcome, store: CandleStore, pairs: Sequence[str]
) -> tuple[Segment, float]:
    """The account of a backtest over its window, and the relative gap between its rebuilt
    final equity and Freqtrade's final balance (the reconstruction's own check)."""
    spec = outcome.spec
    closes = close_grid(store.frames(pairs, spec.timeframe), spec.start, spec.end, spec.timeframe)
    segment = reconstruct_equity(
        fills_from_trades(outcome.trades), closes, outcome.starting_balance, spec.start
    )
    rebuilt = float(segment.points["equity"].iloc[-1])
    return segment, abs(rebuilt - outcome.final_balance) / outcome.final_balance


def buy_and_hold_account(
    store: CandleStore, pairs: Sequence[str], timeframe: str, fold: Fold, fee: float
) -> Segment:
    """Equal-weight buy-and-hold of ``pairs`` over the fold's test window."""
    frames = store.frames(pairs, timeframe)
    fills = buy_and_hold_fills(
        frames, fold.test_start, fold.test_end, timeframe, START_BALANCE_BH, fee
    )
    closes = close_grid(frames, fold.test_start, fold.test_end, timeframe)
    return reconstruct_equity(fills, closes, START_BALANCE_BH, fold.test_start)


def trials_variance(fold_sharpes: Sequence[Sequence[float]]) -> tuple[float, str]:
    """Variance of the daily Sharpe ratio across trials, and how it was estimated.

    The mean over folds of the sample variance (``ddof=1``) of the grid points' daily train
    Sharpe ratios. Without two finite values on any fold there is no spread to measure (NaN).
    """
    per_fold = []
    for sharpes in fold_sharpes:
        finite = pd.Series([s for s in sharpes if math.isfinite(s)], dtype="float64")
        if finite.size >= 2:
            per_fold.append(float(finite.var(ddof=1)))
    if per_fold:
        return (
            sum(per_fold) / len(per_fold),
            f"mean over {len(per_fold)} folds of the sample variance (ddof=1) of the grid "
            "points' non-annualised daily Sharpe ratios on the train window",
        )
    return math.nan, "no fold had two grid points with a finite train Sharpe ratio"


@dataclass(frozen=True)
class FoldResult:
    """A fold that ran: its choice (from the train runs) and its test runs per fee."""

    check: FoldCheck
    chosen: dict[str, Any]
    selection: list[dict[str, Any]]
    note: str
    train: list[BacktestOutcome]
    test: dict[float, BacktestOutcome]


@dataclass(frozen=True)
class BaselineStretch:
    """A baseline's backtests over consecutive test windows (per fee), to slice into folds."""

    folds: list[Fold]
    outcomes: dict[float, BacktestOutcome]


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report is made from."""

    strategy: LoadedStrategy
    grid: Grid
    pairs: list[str]
    checks: list[FoldCheck]
    folds: list[FoldResult]
    baselines: dict[str, list[BaselineStretch]]
    baseline_labels: dict[str, str]
    baseline_missing: dict[str, list[int]]
    buy_and_hold: bool
    fees: tuple[float, ...]
    extra_trials: int
    settings: dict[str, Any]
    datadir: Path


#: segments[row][fee][fold number]
Segments = dict[str, dict[float, dict[int, Segment]]]


def _accounts(inputs: ReportInputs, store: CandleStore) -> tuple[dict[str, str], Segments, list]:
    """Row labels, every row's account per fee and fold, and the reconstruction gaps."""
    name = inputs.strategy.name
    rows = {"strategy": f"{name} ({'selected' if inputs.grid.values else 'defaults'})"}
    segments: Segments = {"strategy": {fee: {} for fee in inputs.fees}}
    gaps = [s["reconstruction_gap"] for f in inputs.folds for s in f.selection]
    for fold in inputs.folds:
        for fee, outcome in fold.test.items():
            segment, gap = run_account(outcome, store, inputs.pairs)
            segments["strategy"][fee][fold.check.fold.number] = segment
            gaps.append(gap)
    if inputs.buy_and_hold:
        pairs = inputs.pairs[:2]
        rows["bh"] = f"buy-and-hold {' + '.join(pairs)} 50/50"
        timeframe = inputs.strategy.timeframe
        segments["bh"] = {
            fee: {
                f.check.fold.number: buy_and_hold_account(
                    store, pairs, timeframe, f.check.fold, fee
                )
                for f in inputs.folds
            }
            for fee in inputs.fees
        }
    for row, stretches in inputs.baselines.items():
        rows[row] = inputs.baseline_labels[row]
        segments[row] = {fee: {} for fee in inputs.fees}
        for stretch in stretches:
            for fee, outcome in stretch.outcomes.items():
                whole, gap = run_account(outcome, store, inputs.pairs)
                gaps.append(gap)
                for fold in stretch.folds:
                    sliced = whole.slice(fold.test_start, fold.test_end)
                    segments[row][fee][fold.number] = sliced
    return rows, segments, gaps


def _fold_entries(inputs: ReportInputs, segments: Segments) -> list[dict[str, Any]]:
    """Every fold: windows, coverage, skip reason or choice, selection and measures."""
    ran = {f.check.fold.number: f for f in inputs.folds}
    entries = []
    for check in inputs.checks:
        fold = check.fold
        entry: dict[str, Any] = {
            "number": fold.number,
            "train": [fold.train_start, fold.train_end],
            "test": [fold.test_start, fold.test_end],
            "train_coverage": check.train_coverage,
            "test_coverage": check.test_coverage,
            "skipped": check.skip_reason,
        }
        if fold.number in ran:
            result = ran[fold.number]
            entry["chosen_params"] = result.chosen
            entry["selection"] = result.selection
            entry["selection_note"] = result.note
            entry["results"] = {
                row: {
                    str(fee): asdict(performance([by_fold[fold.number]]))
                    for fee, by_fold in by_fee.items()
                    if fold.number in by_fold
                }
                for row, by_fee in segments.items()
            }
        entries.append(entry)
    return entries


def _overall(segments: Segments) -> dict[str, dict[str, Any]]:
    """Each row's test folds compounded in time order, per fee."""
    overall: dict[str, dict[str, Any]] = {}
    for row, by_fee in segments.items():
        overall[row] = {}
        for fee, by_fold in by_fee.items():
            if by_fold:
                ordered = [by_fold[n] for n in sorted(by_fold)]
                overall[row][str(fee)] = {**asdict(performance(ordered)), "folds": sorted(by_fold)}
    return overall


def _deflated(inputs: ReportInputs, compounded: Mapping[str, Any], trials: int) -> dict:
    """The strategy's deflated Sharpe ratio per fee, with how V[SR] was estimated."""
    variance, text = trials_variance(
        [[s["train"]["daily_sharpe"] for s in f.selection] for f in inputs.folds]
    )
    result: dict[str, Any] = {}
    for fee, stats in compounded.items():
        n_obs, trial_var, how = stats["daily_returns"], variance, text
        if not math.isfinite(trial_var):
            # No measured spread: the sampling variance of a Sharpe ratio of zero.
            trial_var = 1.0 / max(n_obs - 1, 1)
            how = f"{text}; used 1/(T-1), the sampling variance of a Sharpe ratio of zero"
        if n_obs >= 2 and math.isfinite(stats["daily_sharpe"]):
            args = (stats["daily_sharpe"], n_obs, stats["daily_skew"], stats["daily_kurtosis"])
            values = asdict(deflated_sharpe(*args, trials, trial_var))
        else:
            values = {"dsr": math.nan, "p_value": math.nan, "n_obs": n_obs}
        result[fee] = {**values, "variance_estimate": how}
    return result


def _runs(inputs: ReportInputs) -> list[dict[str, Any]]:
    """Every backtest once, with each use it served, its command and wall time.

    One backtest may serve twice: fold k's test window is fold k+1's train window when they
    share months, fee and parameters.
    """
    uses: list[tuple[str, str, BacktestOutcome]] = []
    for f in inputs.folds:
        number = f.check.fold.number
        uses += [("test", f"test fold {number}", o) for o in f.test.values()]
        uses += [("train", f"train fold {number}", o) for o in f.train]
    for row, stretches in inputs.baselines.items():
        uses += [
            (f"baseline {row}", f"baseline {row}", o)
            for stretch in stretches
            for o in stretch.outcomes.values()
        ]
    served: dict[str, list[str]] = {}
    first: dict[str, tuple[str, BacktestOutcome]] = {}
    for kind, what, outcome in uses:
        served.setdefault(outcome.key, []).append(what)
        first.setdefault(outcome.key, (kind, outcome))
    return [
        {
            "what": "; ".join(served[key]),
            "kind": kind,
            "key": key,
            **outcome.spec.describe(),
            "trades": len(outcome.trades),
            "final_balance": outcome.final_balance,
            "wall_seconds": outcome.wall_seconds,
            "cached": outcome.cached,
            "command": outcome.command,
        }
        for key, (kind, outcome) in first.items()
    ]


def _timings(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Backtest counts and wall times.

    A run read from the cache keeps the wall time of the run that produced it, so the times
    describe the backtests whether or not this invocation repeated them; ``seconds_run_now``
    sums only the ones it ran.
    """
    seconds = [r["wall_seconds"] for r in runs]
    by_kind: dict[str, list[float]] = {}
    for r in runs:
        by_kind.setdefault(r["kind"], []).append(r["wall_seconds"])
    fresh = [r["wall_seconds"] for r in runs if not r["cached"]]
    return {
        "backtests": len(runs),
        "backtests_run": len(fresh),
        "backtests_cached": len(runs) - len(fresh),
        "backtest_seconds_mean": sum(seconds) / len(seconds) if seconds else None,
        "backtest_seconds_max": max(seconds) if seconds else None,
        "backtest_seconds_sum": sum(seconds),
        "seconds_run_now": sum(fresh),
        "by_kind": {
            kind: {"runs": len(s), "mean_seconds": sum(s) / len(s), "max_seconds": max(s)}
            for kind, s in by_kind.items()
        },
    }


def plain(value: Any) -> Any:
    """JSON-ready: NaN and infinities become None, timestamps ISO strings, paths strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def build_report(
    inputs: ReportInputs, store: CandleStore
) -> tuple[dict[str, Any], dict[str, pd.Series]]:
    """The report as one JSON-ready dict, and the compounded test-fold equity of the strategy
    and buy-and-hold at the chart's fee (for equity.png)."""
    rows, segments, gaps = _accounts(inputs, store)
    overall = _overall(segments)
    grid_size = inputs.grid.size if inputs.grid.values else 0
    trials = max(grid_size, 1) + inputs.extra_trials
    runs = _runs(inputs)
    shown = chart_fee(inputs.fees)
    curves = {
        row: chain_equity([by_fee[shown][n] for n in sorted(by_fee[shown])])
        for row, by_fee in segments.items()
        if row in ("strategy", "bh") and by_fee.get(shown)
    }
    report = {
        "strategy": inputs.strategy.name,
        "strategy_file": inputs.strategy.source,
        "timeframe": inputs.strategy.timeframe,
        "pairs": inputs.pairs,
        "datadir": inputs.datadir.resolve(),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": inputs.settings,
        "fees": [{"fee": fee, "label": fee_label(fee)} for fee in inputs.fees],
        "mexc_fee_source": MEXC_FEE_SOURCE,
        "rows": rows,
        "grid": inputs.grid.values,
        "grid_size": grid_size,
        "trials": trials,
        "folds": _fold_entries(inputs, segments),
        "baseline_missing_folds": inputs.baseline_missing,
        "overall": overall,
        "deflated_sharpe": _deflated(inputs, overall["strategy"], trials),
        "reconstruction_max_gap": max(gaps) if gaps else None,
        "runs": runs,
        "timings": _timings(runs),
        "chart_fee": shown,
    }
    return plain(report), curves


def untested_stretches(report: Mapping[str, Any]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Stretches between the test windows of consecutive folds that ran (skipped folds)."""
    windows = [
        (pd.Timestamp(f["test"][0]), pd.Timestamp(f["test"][1]))
        for f in report["folds"]
        if not f["skipped"]
    ]
    return [(end, start) for (_, end), (start, _) in itertools.pairwise(windows) if start > end]


def write_outputs(out: Path, report: dict[str, Any], curves: Mapping[str, pd.Series]) -> None:
    """report.json, report.md and (with a strategy curve) equity.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    if "strategy" in curves:
        fee = fee_label(report["chart_fee"])
        write_equity_chart(
            out / "equity.png",
            {f"{report['rows'][row]}, fee {fee}": curve for row, curve in curves.items()},
            title=f"{report['strategy']}: out-of-sample test folds compounded "
            f"({report['timeframe']}, {', '.join(report['pairs'])})",
            gaps=untested_stretches(report),
        )
    (out / "report.json").write_text(json.dumps(report, indent=2, allow_nan=False))
    (out / "report.md").write_text(report_markdown(report))
