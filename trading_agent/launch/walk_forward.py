"""Walk-forward evaluation of any Freqtrade strategy over rolling train/test folds.

On each fold every point of the strategy's grid is backtested on the train window only (at
the selection fee), the best by the objective on the rebuilt account equity is kept, and that
point is backtested on the test window at every fee level. Baselines run on the same test
windows. The report gives each fold and the test folds compounded in time order, the number
of parameter sets tried and the deflated Sharpe ratio; see docs/walk-forward.md.

Usage::

    python -m trading_agent.launch.walk_forward --strategy SampleStrategy \\
        --grid '{"buy_rsi": [25, 35]}' --start 2021-01-01 --end 2023-01-01
    make walkforward STRATEGY=RegimeStrategy DATADIR=../shared/data/binance-long JOBS=2
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from trading_agent.evaluation.buy_and_hold import buy_and_hold_fills
from trading_agent.evaluation.deflated_sharpe import deflated_sharpe
from trading_agent.evaluation.equity import Segment, close_grid, reconstruct_equity
from trading_agent.evaluation.equity_chart import write_equity_chart
from trading_agent.evaluation.fills import fills_from_trades
from trading_agent.evaluation.measures import Performance, chain_equity, performance
from trading_agent.evaluation.report_markdown import overall_table, report_markdown
from trading_agent.launch.backtest_runs import BacktestOutcome, BacktestRunner, BacktestSpec
from trading_agent.launch.candle_files import read_candles
from trading_agent.launch.evaluate_strategies import (
    BASE_CONFIG,
    REPO,
    SAMPLE_STRATEGY,
    offline_configs,
    offline_venue,
    shared_data_dir,
    strategy_path_for,
)
from trading_agent.launch.folds import (
    Fold,
    FoldCheck,
    check_folds,
    contiguous_runs,
    data_span,
    rolling_folds,
)
from trading_agent.launch.offline import OFFLINE_OVERLAY
from trading_agent.launch.strategy_grid import Grid, LoadedStrategy, load_strategy, strategy_grid

#: MEXC's spot taker fee and where the figure comes from (check it before relying on it).
MEXC_TAKER_FEE = 0.0005
MEXC_FEE_SOURCE = (
    "MEXC's published spot fee schedule (https://www.mexc.com/fee) as of 2025, as recorded in "
    "issue 10: 0 % maker, 0.05 % taker on most pairs, only some pairs at zero. Fees change: "
    "check the schedule (or ccxt's fetch_trading_fee with keys) before relying on this figure."
)
#: Fee levels per side: none, MEXC's taker fee, and 0.1 %.
FEE_LEVELS = (0.0, MEXC_TAKER_FEE, 0.001)
SELECT_FEE = 0.001
#: Baselines by short name: buy-and-hold, or a strategy run at its committed defaults.
BASELINE_STRATEGIES = {
    "sample": SAMPLE_STRATEGY,
    "flash": "FlashStrategy",
    "enhanced": "EnhancedFlashStrategy",
}
BASELINES = ("bh", *BASELINE_STRATEGIES)
DEFAULT_BASELINES = ("bh", "sample")
START_BALANCE_BH = 1000.0


def _sharpe(p: Performance) -> float:
    return p.sharpe


def _sortino(p: Performance) -> float:
    return p.sortino


def _calmar(p: Performance) -> float:
    return p.calmar


def _total_return(p: Performance) -> float:
    return p.total_return_pct


#: Selection objectives on a train window's rebuilt equity (higher is better).
OBJECTIVES: dict[str, Callable[[Performance], float]] = {
    "sharpe": _sharpe,
    "sortino": _sortino,
    "calmar": _calmar,
    "return": _total_return,
}
OBJECTIVE_TEXT = {
    "sharpe": "Sharpe of daily mark-to-market returns",
    "sortino": "Sortino of daily mark-to-market returns",
    "calmar": "Calmar (CAGR / max drawdown)",
    "return": "total return",
}


@dataclass(frozen=True)
class Settings:
    """Everything a walk-forward run is told (the command line, parsed)."""

    strategy: str
    strategy_path: Path
    datadir: Path
    out: Path
    cache_dir: Path
    grid: dict[str, list[Any]] | None = None
    train_months: int = 12
    test_months: int = 3
    step_months: int = 3
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    min_train_coverage: float = 0.5
    min_test_coverage: float = 0.98
    select_fee: float = SELECT_FEE
    fees: tuple[float, ...] = FEE_LEVELS
    objective: str = "sharpe"
    baselines: tuple[str, ...] = DEFAULT_BASELINES
    extra_trials: int = 0
    jobs: int = 2
    use_cache: bool = True
    protections: bool = True
    progress: bool = True


def whitelist() -> list[str]:
    """The offline runs' pairs: the overlay's whitelist over the project config's."""
    pairs = json.loads(BASE_CONFIG.read_text())["exchange"]["pair_whitelist"]
    return json.loads(OFFLINE_OVERLAY.read_text())["exchange"].get("pair_whitelist", pairs)


class CandleStore:
    """Candle files read once per (pair, timeframe)."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = datadir
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}

    def get(self, pair: str, timeframe: str) -> pd.DataFrame:
        """The candles of ``pair`` at ``timeframe`` (empty if there is no file)."""
        if (pair, timeframe) not in self._frames:
            self._frames[(pair, timeframe)] = read_candles(self.datadir, pair, timeframe)
        return self._frames[(pair, timeframe)]

    def dates(self, pairs: Sequence[str], timeframe: str) -> dict[str, pd.Series]:
        """Candle open dates per pair."""
        return {p: self.get(p, timeframe)["date"] for p in pairs}

    def frames(self, pairs: Sequence[str], timeframe: str) -> dict[str, pd.DataFrame]:
        """Candle frames per pair."""
        return {p: self.get(p, timeframe) for p in pairs}


def outcome_segment(
    outcome: BacktestOutcome, store: CandleStore, pairs: Sequence[str]
) -> tuple[Segment, float]:
    """The account of a backtest on its window, and the relative gap between its rebuilt final
    equity and Freqtrade's final balance (the reconstruction's own check)."""
    spec = outcome.spec
    closes = close_grid(store.frames(pairs, spec.timeframe), spec.start, spec.end, spec.timeframe)
    segment = reconstruct_equity(
        fills_from_trades(outcome.trades), closes, outcome.starting_balance, spec.start
    )
    rebuilt = float(segment.points["equity"].iloc[-1])
    return segment, abs(rebuilt - outcome.final_balance) / outcome.final_balance


def buy_and_hold_segment(
    store: CandleStore, pairs: Sequence[str], timeframe: str, fold: Fold, fee: float
) -> Segment:
    """Equal-weight buy-and-hold of ``pairs`` over the fold's test window."""
    frames = store.frames(pairs, timeframe)
    fills = buy_and_hold_fills(
        frames, fold.test_start, fold.test_end, timeframe, START_BALANCE_BH, fee
    )
    closes = close_grid(frames, fold.test_start, fold.test_end, timeframe)
    return reconstruct_equity(fills, closes, START_BALANCE_BH, fold.test_start)


def choose(scores: Sequence[float]) -> int:
    """Index of the best score; ties go to the first, NaN counts as worst."""
    best = 0
    for i, score in enumerate(scores):
        top = scores[best]
        if math.isfinite(score) and (not math.isfinite(top) or score > top):
            best = i
    return best


def trials_variance(fold_sharpes: Sequence[Sequence[float]]) -> tuple[float, str]:
    """Variance of the daily Sharpe ratio across trials, and how it was estimated.

    The mean over folds of the sample variance (``ddof=1``) of the grid points' daily train
    Sharpe ratios. Without two finite values on any fold there is no spread to measure.
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


@dataclass
class _FoldWork:
    check: FoldCheck
    train: list[cf.Future[BacktestOutcome]] = field(default_factory=list)
    test: dict[float, cf.Future[BacktestOutcome]] = field(default_factory=dict)
    chosen: int = 0
    selection: list[dict[str, Any]] = field(default_factory=list)
    selection_note: str = ""


def _spec(
    strategy: LoadedStrategy,
    start: pd.Timestamp,
    end: pd.Timestamp,
    fee: float,
    params: Mapping[str, Any],
    grid: Grid | None,
    protections: bool,
) -> BacktestSpec:
    return BacktestSpec(
        strategy=strategy,
        start=start,
        end=end,
        fee=fee,
        params=dict(params),
        spaces=dict(grid.spaces) if grid else {},
        protections=protections,
    )


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinities become None, timestamps ISO strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fee_label(fee: float) -> str:
    """``0.05 % (MEXC taker)`` style label of a fee level."""
    text = f"{100 * fee:g} %"
    return f"{text} (MEXC taker)" if fee == MEXC_TAKER_FEE else text


def run_walk_forward(settings: Settings) -> dict[str, Any]:
    """Run the whole evaluation; write report.md, report.json and equity.png; return the report."""
    began = time.perf_counter()
    for fee in (*settings.fees, settings.select_fee):
        if not (math.isfinite(fee) and 0 <= fee < 0.1):
            raise ValueError(f"fees must be in [0, 0.1), got {fee}")
    if settings.objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {settings.objective}")
    if settings.jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {settings.jobs}")
    if settings.extra_trials < 0:
        raise ValueError(f"extra trials must be >= 0, got {settings.extra_trials}")
    strategy = load_strategy(settings.strategy, settings.strategy_path)
    grid = strategy_grid(strategy, settings.grid)
    points = grid.points() if grid.values else []
    pairs = whitelist()
    timeframe = strategy.timeframe
    store = CandleStore(settings.datadir)
    span = data_span(store.dates(pairs, timeframe), timeframe)
    start = settings.start or span[0]
    end = settings.end or span[1]
    folds = rolling_folds(
        start, end, settings.train_months, settings.test_months, settings.step_months
    )
    if not folds:
        raise ValueError(
            f"no fold of {settings.train_months}+{settings.test_months} months fits in "
            f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"
        )
    checks = check_folds(
        folds,
        store.dates(pairs, timeframe),
        timeframe,
        settings.min_train_coverage,
        settings.min_test_coverage,
    )
    work = [_FoldWork(c) for c in checks if c.runs]
    if not work:
        reasons = "; ".join(f"fold {c.fold.number}: {c.skip_reason}" for c in checks)
        raise ValueError(f"no fold has the data to run ({reasons})")
    baseline_strategies = {
        b: load_strategy(BASELINE_STRATEGIES[b], strategy_path_for(BASELINE_STRATEGIES[b]))
        for b in settings.baselines
        if b in BASELINE_STRATEGIES
    }
    # Baselines run where their own timeframe's data cover the test window.
    baseline_folds: dict[str, list[_FoldWork]] = {}
    baseline_missing: dict[str, list[int]] = {}
    for name, loaded in baseline_strategies.items():
        own = check_folds(
            [w.check.fold for w in work],
            store.dates(pairs, loaded.timeframe),
            loaded.timeframe,
            0.0,
            settings.min_test_coverage,
        )
        baseline_folds[name] = [w for w, c in zip(work, own, strict=True) if c.runs]
        baseline_missing[name] = [c.fold.number for c in own if not c.runs]

    progress = _progress_bar(settings.progress)
    baseline_runs: dict[str, list[tuple[list[_FoldWork], dict[float, cf.Future]]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="walk-forward-") as tmp,
        offline_venue(settings.datadir) as url,
        cf.ThreadPoolExecutor(max_workers=settings.jobs) as pool,
    ):
        runner = BacktestRunner(
            datadir=settings.datadir,
            cache_dir=settings.cache_dir,
            configs=offline_configs(Path(tmp), url),
            use_cache=settings.use_cache,
            progress=progress,
        )
        try:
            for w in work:
                fold = w.check.fold
                if points:
                    w.train = [
                        runner.submit(
                            pool,
                            _spec(
                                strategy,
                                fold.train_start,
                                fold.train_end,
                                settings.select_fee,
                                p,
                                grid,
                                settings.protections,
                            ),
                        )
                        for p in points
                    ]
                else:
                    _submit_tests(runner, pool, w, strategy, {}, grid, settings)
            for name, loaded in baseline_strategies.items():
                chosen = baseline_folds[name]
                windows = [(w.check.fold.test_start, w.check.fold.test_end) for w in chosen]
                baseline_runs[name] = []
                for run in contiguous_runs(windows):
                    members = [chosen[i] for i in run]
                    first, last = members[0].check.fold, members[-1].check.fold
                    futures = {
                        fee: runner.submit(
                            pool,
                            _spec(
                                loaded,
                                first.test_start,
                                last.test_end,
                                fee,
                                {},
                                None,
                                settings.protections,
                            ),
                        )
                        for fee in settings.fees
                    }
                    baseline_runs[name].append((members, futures))
            # Select on each fold as soon as its train runs are in, then test the choice.
            waiting = [w for w in work if w.train]
            while waiting:
                cf.wait([f for w in waiting for f in w.train], return_when=cf.FIRST_COMPLETED)
                for w in [w for w in waiting if all(f.done() for f in w.train)]:
                    waiting.remove(w)
                    _select(w, points, store, pairs, settings)
                    _submit_tests(runner, pool, w, strategy, points[w.chosen], grid, settings)
            every = [f for w in work for f in w.test.values()]
            every += [f for runs in baseline_runs.values() for _, fs in runs for f in fs.values()]
            for future in every:
                future.result()
        except BaseException:
            runner.cancel_pending()
            raise
        finally:
            if progress is not None:
                progress.close()

    report, curves = _assemble(
        settings,
        strategy,
        grid,
        points,
        pairs,
        checks,
        work,
        baseline_runs,
        baseline_missing,
        store,
        runner,
        start,
        end,
    )
    report["timings"]["total_wall_seconds"] = time.perf_counter() - began
    write_outputs(settings.out, report, curves)
    return report


def _progress_bar(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=0, desc="backtests", unit="run", file=sys.stderr, dynamic_ncols=True)


def _submit_tests(
    runner: BacktestRunner,
    pool: cf.Executor,
    w: _FoldWork,
    strategy: LoadedStrategy,
    params: Mapping[str, Any],
    grid: Grid,
    settings: Settings,
) -> None:
    fold = w.check.fold
    w.test = {
        fee: runner.submit(
            pool,
            _spec(
                strategy, fold.test_start, fold.test_end, fee, params, grid, settings.protections
            ),
        )
        for fee in settings.fees
    }


def _select(
    w: _FoldWork,
    points: Sequence[Mapping[str, Any]],
    store: CandleStore,
    pairs: Sequence[str],
    settings: Settings,
) -> None:
    """Choose the fold's parameters from its train runs alone."""
    objective = OBJECTIVES[settings.objective]
    scores = []
    for params, future in zip(points, w.train, strict=True):
        outcome = future.result()
        segment, gap = outcome_segment(outcome, store, pairs)
        perf = performance([segment])
        scores.append(objective(perf))
        w.selection.append(
            {
                "params": dict(params),
                "objective": objective(perf),
                "train": asdict(perf),
                "reconstruction_gap": gap,
                "key": outcome.key,
            }
        )
    w.chosen = choose(scores)
    if not any(math.isfinite(s) for s in scores):
        w.selection_note = "no grid point had a finite objective: the first was kept"


def _assemble(
    settings: Settings,
    strategy: LoadedStrategy,
    grid: Grid,
    points: list[dict[str, Any]],
    pairs: list[str],
    checks: list[FoldCheck],
    work: list[_FoldWork],
    baseline_runs: dict[str, list[tuple[list[_FoldWork], dict[float, cf.Future]]]],
    baseline_missing: dict[str, list[int]],
    store: CandleStore,
    runner: BacktestRunner,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> tuple[dict[str, Any], dict[str, pd.Series]]:
    """Measures per fold and overall, the deflated Sharpe, runs and timings, as one dict; and
    the compounded test-fold equity of the strategy and buy-and-hold at the chart's fee."""
    timeframe = strategy.timeframe
    label = f"{strategy.name} ({'selected' if points else 'defaults'})"
    rows: dict[str, str] = {"strategy": label}
    # segments[row][fee][fold number]
    segments: dict[str, dict[float, dict[int, Segment]]] = {"strategy": {}}
    gaps: list[float] = [s["reconstruction_gap"] for w in work for s in w.selection]
    outcomes: list[tuple[str, BacktestOutcome]] = []
    for w in work:
        for fee, future in w.test.items():
            outcome = future.result()
            outcomes.append((f"test fold {w.check.fold.number}", outcome))
            segment, gap = outcome_segment(outcome, store, pairs)
            gaps.append(gap)
            segments["strategy"].setdefault(fee, {})[w.check.fold.number] = segment
        outcomes += [(f"train fold {w.check.fold.number}", f.result()) for f in w.train]
    if "bh" in settings.baselines:
        rows["bh"] = f"buy-and-hold {' + '.join(pairs[:2])} 50/50"
        segments["bh"] = {
            fee: {
                w.check.fold.number: buy_and_hold_segment(
                    store, pairs[:2], timeframe, w.check.fold, fee
                )
                for w in work
            }
            for fee in settings.fees
        }
    for name, runs in baseline_runs.items():
        rows[name] = f"{BASELINE_STRATEGIES[name]} (defaults)"
        segments[name] = {fee: {} for fee in settings.fees}
        for members, futures in runs:
            for fee, future in futures.items():
                outcome = future.result()
                outcomes.append((f"baseline {name}", outcome))
                whole, gap = outcome_segment(outcome, store, pairs)
                gaps.append(gap)
                for member in members:
                    fold = member.check.fold
                    segments[name][fee][fold.number] = whole.slice(fold.test_start, fold.test_end)

    folds_out = []
    for check in checks:
        fold = check.fold
        entry: dict[str, Any] = {
            "number": fold.number,
            "train": [fold.train_start, fold.train_end],
            "test": [fold.test_start, fold.test_end],
            "train_coverage": check.train_coverage,
            "test_coverage": check.test_coverage,
            "skipped": check.skip_reason,
        }
        w = next((w for w in work if w.check is check), None)
        if w is not None:
            entry["chosen_params"] = points[w.chosen] if points else {}
            entry["selection"] = w.selection
            entry["selection_note"] = w.selection_note
            entry["results"] = {
                row: {
                    str(fee): asdict(performance([by_fold[fold.number]]))
                    for fee, by_fold in by_fee.items()
                    if fold.number in by_fold
                }
                for row, by_fee in segments.items()
            }
        folds_out.append(entry)

    overall: dict[str, dict[str, Any]] = {}
    for row, by_fee in segments.items():
        overall[row] = {}
        for fee, by_fold in by_fee.items():
            ordered = [by_fold[n] for n in sorted(by_fold)]
            if ordered:
                overall[row][str(fee)] = {**asdict(performance(ordered)), "folds": sorted(by_fold)}

    variance, variance_text = trials_variance(
        [[s["train"]["daily_sharpe"] for s in w.selection] for w in work]
    )
    n_trials = max(len(points), 1) + settings.extra_trials
    dsr: dict[str, Any] = {}
    for fee, stats in overall["strategy"].items():
        n_obs = stats["daily_returns"]
        trial_var = variance
        text = variance_text
        if not math.isfinite(trial_var):
            # No measured spread: the sampling variance of a Sharpe ratio of zero skill.
            trial_var = 1.0 / max(n_obs - 1, 1)
            text = f"{variance_text}; used 1/(T-1), the Sharpe ratio's sampling variance at zero"
        if n_obs >= 2 and math.isfinite(stats["daily_sharpe"]):
            result = asdict(
                deflated_sharpe(
                    stats["daily_sharpe"],
                    n_obs,
                    stats["daily_skew"],
                    stats["daily_kurtosis"],
                    n_trials,
                    trial_var,
                )
            )
        else:
            result = {"dsr": math.nan, "p_value": math.nan, "n_obs": n_obs}
        dsr[fee] = {**result, "variance_estimate": text}

    # One backtest may serve twice (fold k's test window is fold k+1's train window when
    # they share months, fee and parameters): listed once with every use.
    uses: dict[str, list[str]] = {}
    unique: dict[str, BacktestOutcome] = {}
    for what, outcome in outcomes:
        uses.setdefault(outcome.key, []).append(what)
        unique.setdefault(outcome.key, outcome)
    runs = []
    for key, outcome in unique.items():
        runs.append(
            {
                "what": "; ".join(uses[key]),
                "key": key,
                **outcome.spec.describe(),
                "trades": len(outcome.trades),
                "final_balance": outcome.final_balance,
                "wall_seconds": outcome.wall_seconds,
                "cached": outcome.cached,
                "command": outcome.command,
            }
        )
    fresh = [r["wall_seconds"] for r in runs if not r["cached"]]
    shown = chart_fee(settings.fees)
    curves = {
        row: chain_equity([by_fee[shown][n] for n in sorted(by_fee[shown])])
        for row, by_fee in segments.items()
        if row in ("strategy", "bh") and by_fee.get(shown)
    }
    report = _plain(
        {
            "strategy": strategy.name,
            "strategy_file": strategy.source,
            "timeframe": timeframe,
            "pairs": pairs,
            "datadir": settings.datadir.resolve(),
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "settings": {
                "train_months": settings.train_months,
                "test_months": settings.test_months,
                "step_months": settings.step_months,
                "start": start,
                "end": end,
                "min_train_coverage": settings.min_train_coverage,
                "min_test_coverage": settings.min_test_coverage,
                "select_fee": settings.select_fee,
                "objective": settings.objective,
                "objective_text": OBJECTIVE_TEXT[settings.objective],
                "baselines": list(settings.baselines),
                "extra_trials": settings.extra_trials,
                "jobs": settings.jobs,
                "protections": settings.protections,
            },
            "fees": [{"fee": fee, "label": fee_label(fee)} for fee in settings.fees],
            "mexc_fee_source": MEXC_FEE_SOURCE,
            "rows": rows,
            "grid": grid.values,
            "grid_size": len(points),
            "trials": n_trials,
            "folds": folds_out,
            "baseline_missing_folds": baseline_missing,
            "overall": overall,
            "deflated_sharpe": dsr,
            "reconstruction_max_gap": max(gaps) if gaps else None,
            "runs": runs,
            "timings": {
                "backtests": len(runs),
                "backtests_run": len(fresh),
                "backtests_cached": len(runs) - len(fresh),
                "backtest_seconds_mean": sum(fresh) / len(fresh) if fresh else None,
                "backtest_seconds_max": max(fresh) if fresh else None,
                "backtest_seconds_sum": sum(fresh),
            },
            "chart_fee": shown,
        }
    )
    return report, curves


def chart_fee(fees: Sequence[float]) -> float:
    """The fee level the equity chart shows: 0.1 % when evaluated, else the highest."""
    return 0.001 if 0.001 in fees else max(fees)


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
        )
    (out / "report.json").write_text(json.dumps(report, indent=2, allow_nan=False))
    (out / "report.md").write_text(report_markdown(report))


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """The command line as :class:`Settings` (errors name the bad option and value)."""
    parser = argparse.ArgumentParser(
        prog="python -m trading_agent.launch.walk_forward",
        description="Walk-forward evaluation of a Freqtrade strategy (see docs/walk-forward.md).",
    )
    parser.add_argument("--strategy", required=True, help="strategy class name")
    parser.add_argument(
        "--strategy-path",
        type=Path,
        help="folder of the strategy file (default: user_data/strategies; Freqtrade's "
        "templates for SampleStrategy)",
    )
    parser.add_argument(
        "--datadir", type=Path, default=shared_data_dir() / "binance-long", help="candle files"
    )
    parser.add_argument("--out", type=Path, help="report folder (user_data/walk_forward/<name>)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=REPO / "user_data" / "walk_forward" / "cache",
        help="backtest cache (shared by every strategy)",
    )
    parser.add_argument(
        "--grid", help="JSON grid over the strategy's, e.g. '{\"buy_rsi\":[25,35]}'"
    )
    parser.add_argument("--train-months", type=int, default=12)
    parser.add_argument("--test-months", type=int, default=3)
    parser.add_argument("--step-months", type=int, default=3)
    parser.add_argument("--start", help="first train window start, YYYY-MM-DD (default: data)")
    parser.add_argument("--end", help="last test window end, YYYY-MM-DD (default: data)")
    parser.add_argument("--min-train-coverage", type=float, default=0.5)
    parser.add_argument("--min-test-coverage", type=float, default=0.98)
    parser.add_argument("--select-fee", type=float, default=SELECT_FEE)
    parser.add_argument(
        "--fees",
        help="comma-separated fee levels per side (default: 0,0.0005,0.001)",
    )
    parser.add_argument("--objective", choices=sorted(OBJECTIVES), default="sharpe")
    parser.add_argument(
        "--baselines",
        default=",".join(DEFAULT_BASELINES),
        help=f"comma-separated from {','.join(BASELINES)}, or all, or none",
    )
    parser.add_argument(
        "--extra-trials",
        type=int,
        default=0,
        help="configurations tried by hand during development (counted in the DSR)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-cache", action="store_true", help="run every backtest again")
    parser.add_argument("--no-protections", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    grid = None
    if args.grid is not None:
        try:
            grid = json.loads(args.grid)
        except ValueError as exc:
            parser.error(f"--grid is not JSON ({exc}): {args.grid!r}")
        if not isinstance(grid, dict):
            parser.error(f"--grid must be a JSON object of lists, got {args.grid!r}")
    if args.baselines == "all":
        baselines = BASELINES
    elif args.baselines == "none":
        baselines = ()
    else:
        baselines = tuple(b.strip() for b in args.baselines.split(",") if b.strip())
        unknown = [b for b in baselines if b not in BASELINES]
        if unknown:
            parser.error(f"--baselines: unknown {unknown} (known: {', '.join(BASELINES)}, all)")
    fees = FEE_LEVELS
    if args.fees:
        try:
            fees = tuple(float(f) for f in args.fees.split(","))
        except ValueError:
            parser.error(f"--fees must be comma-separated numbers, got {args.fees!r}")

    def day(text: str | None, option: str) -> pd.Timestamp | None:
        if text is None:
            return None
        try:
            return pd.Timestamp(text, tz="UTC")
        except ValueError:
            parser.error(f"{option} must be a date like 2021-01-01, got {text!r}")

    return Settings(
        strategy=args.strategy,
        strategy_path=args.strategy_path or strategy_path_for(args.strategy),
        datadir=args.datadir,
        out=args.out or REPO / "user_data" / "walk_forward" / args.strategy,
        cache_dir=args.cache_dir,
        grid=grid,
        train_months=args.train_months,
        test_months=args.test_months,
        step_months=args.step_months,
        start=day(args.start, "--start"),
        end=day(args.end, "--end"),
        min_train_coverage=args.min_train_coverage,
        min_test_coverage=args.min_test_coverage,
        select_fee=args.select_fee,
        fees=fees,
        objective=args.objective,
        baselines=baselines,
        extra_trials=args.extra_trials,
        jobs=args.jobs,
        use_cache=not args.no_cache,
        protections=not args.no_protections,
        progress=not args.no_progress,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run, write the report, print its overall table and where it went."""
    settings = parse_args(argv)
    try:
        report = run_walk_forward(settings)
    except ValueError as exc:
        print(f"walk_forward: {exc}", file=sys.stderr)
        return 2
    print(overall_table(report))
    print(f"\nreport: {settings.out / 'report.md'} (and report.json, equity.png)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
