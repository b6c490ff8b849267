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
from pathlib import Path
from typing import Any

import pandas as pd

from trading_agent.evaluation.measures import Performance, performance
from trading_agent.evaluation.report_markdown import overall_table
from trading_agent.launch.backtest_runs import BacktestOutcome, BacktestRunner, BacktestSpec
from trading_agent.launch.candle_files import CandleStore
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
    FoldCheck,
    check_folds,
    contiguous_runs,
    data_span,
    rolling_folds,
)
from trading_agent.launch.offline import OFFLINE_OVERLAY
from trading_agent.launch.strategy_grid import Grid, LoadedStrategy, load_strategy, strategy_grid
from trading_agent.launch.walk_forward_report import (
    MEXC_TAKER_FEE,
    BaselineStretch,
    FoldResult,
    ReportInputs,
    build_report,
    run_account,
    write_outputs,
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

    def check(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        for fee in (*self.fees, self.select_fee):
            if not (math.isfinite(fee) and 0 <= fee < 0.1):
                raise ValueError(f"fees must be in [0, 0.1), got {fee}")
        if not self.fees:
            raise ValueError("give at least one fee level")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {self.objective}")
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {self.jobs}")
        if self.extra_trials < 0:
            raise ValueError(f"extra trials must be >= 0, got {self.extra_trials}")
        unknown = [b for b in self.baselines if b not in BASELINES]
        if unknown:
            raise ValueError(f"unknown baselines {unknown} (known: {', '.join(BASELINES)})")

    def described(self, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, Any]:
        """The settings the report echoes (with the span actually used)."""
        return {
            "train_months": self.train_months,
            "test_months": self.test_months,
            "step_months": self.step_months,
            "start": start,
            "end": end,
            "min_train_coverage": self.min_train_coverage,
            "min_test_coverage": self.min_test_coverage,
            "select_fee": self.select_fee,
            "objective": self.objective,
            "objective_text": OBJECTIVE_TEXT[self.objective],
            "baselines": list(self.baselines),
            "extra_trials": self.extra_trials,
            "jobs": self.jobs,
            "protections": self.protections,
        }


def whitelist() -> list[str]:
    """The offline runs' pairs: the overlay's whitelist over the project config's."""
    pairs = json.loads(BASE_CONFIG.read_text())["exchange"]["pair_whitelist"]
    return json.loads(OFFLINE_OVERLAY.read_text())["exchange"].get("pair_whitelist", pairs)


def choose(scores: Sequence[float]) -> int:
    """Index of the best score; ties go to the first, NaN counts as worst."""
    best = 0
    for i, score in enumerate(scores):
        top = scores[best]
        if math.isfinite(score) and (not math.isfinite(top) or score > top):
            best = i
    return best


@dataclass
class _Fold:
    """A runnable fold while it runs: futures of its train and test backtests, its choice."""

    check: FoldCheck
    train: list[cf.Future[BacktestOutcome]] = field(default_factory=list)
    test: dict[float, cf.Future[BacktestOutcome]] = field(default_factory=dict)
    chosen: dict[str, Any] = field(default_factory=dict)
    selection: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class _Plan:
    """What a run will do, before any backtest: the strategy, its grid, folds, baselines."""

    strategy: LoadedStrategy
    grid: Grid
    points: list[dict[str, Any]]
    pairs: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    checks: list[FoldCheck]
    folds: list[_Fold]
    baselines: dict[str, LoadedStrategy]
    #: Per baseline strategy: the runnable folds whose test windows its own timeframe covers.
    baseline_folds: dict[str, list[FoldCheck]]
    baseline_missing: dict[str, list[int]]


def plan(settings: Settings, store: CandleStore) -> _Plan:
    """Load the strategy and its grid, lay out the folds and check their data."""
    settings.check()
    strategy = load_strategy(settings.strategy, settings.strategy_path)
    grid = strategy_grid(strategy, settings.grid)
    pairs = whitelist()
    timeframe = strategy.timeframe
    span = data_span(store.dates(pairs, timeframe), timeframe)
    start, end = settings.start or span[0], settings.end or span[1]
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
    runnable = [c for c in checks if c.runs]
    if not runnable:
        reasons = "; ".join(f"fold {c.fold.number}: {c.skip_reason}" for c in checks)
        raise ValueError(f"no fold has the data to run ({reasons})")
    baselines = {
        b: load_strategy(BASELINE_STRATEGIES[b], strategy_path_for(BASELINE_STRATEGIES[b]))
        for b in settings.baselines
        if b in BASELINE_STRATEGIES
    }
    covered: dict[str, list[FoldCheck]] = {}
    missing: dict[str, list[int]] = {}
    for name, loaded in baselines.items():
        own = check_folds(
            [c.fold for c in runnable],
            store.dates(pairs, loaded.timeframe),
            loaded.timeframe,
            0.0,
            settings.min_test_coverage,
        )
        covered[name] = [c for c, mine in zip(runnable, own, strict=True) if mine.runs]
        missing[name] = [mine.fold.number for mine in own if not mine.runs]
    return _Plan(
        strategy=strategy,
        grid=grid,
        points=grid.points() if grid.values else [],
        pairs=pairs,
        start=start,
        end=end,
        checks=checks,
        folds=[_Fold(c) for c in runnable],
        baselines=baselines,
        baseline_folds=covered,
        baseline_missing=missing,
    )


def _spec(
    strategy: LoadedStrategy,
    start: pd.Timestamp,
    end: pd.Timestamp,
    fee: float,
    settings: Settings,
    params: Mapping[str, Any] | None = None,
    grid: Grid | None = None,
) -> BacktestSpec:
    return BacktestSpec(
        strategy=strategy,
        start=start,
        end=end,
        fee=fee,
        params=dict(params or {}),
        spaces=dict(grid.spaces) if grid else {},
        protections=settings.protections,
    )


def _select(fold: _Fold, the_plan: _Plan, store: CandleStore, settings: Settings) -> None:
    """Choose the fold's parameters from its train runs alone."""
    objective = OBJECTIVES[settings.objective]
    scores = []
    for params, future in zip(the_plan.points, fold.train, strict=True):
        outcome = future.result()
        segment, gap = run_account(outcome, store, the_plan.pairs)
        measured = performance([segment])
        scores.append(objective(measured))
        fold.selection.append(
            {
                "params": dict(params),
                "objective": objective(measured),
                "train": asdict(measured),
                "reconstruction_gap": gap,
                "key": outcome.key,
            }
        )
    fold.chosen = dict(the_plan.points[choose(scores)])
    if not any(math.isfinite(s) for s in scores):
        fold.note = "no grid point had a finite objective: the first was kept"


def _submit_tests(
    runner: BacktestRunner, pool: cf.Executor, fold: _Fold, the_plan: _Plan, settings: Settings
) -> None:
    window = fold.check.fold
    fold.test = {
        fee: runner.submit(
            pool,
            _spec(
                the_plan.strategy,
                window.test_start,
                window.test_end,
                fee,
                settings,
                fold.chosen,
                the_plan.grid,
            ),
        )
        for fee in settings.fees
    }


def _progress_bar(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=0, desc="backtests", unit="run", file=sys.stderr, dynamic_ncols=True)


def execute(
    the_plan: _Plan, settings: Settings, store: CandleStore
) -> dict[str, list[tuple[list[FoldCheck], dict[float, cf.Future[BacktestOutcome]]]]]:
    """Run every backtest of the plan (train, then each fold's tests as soon as its choice
    is made; baselines alongside) and return the baselines' futures by stretch."""
    baseline_runs: dict[str, list[tuple[list[FoldCheck], dict[float, cf.Future]]]] = {}
    progress = _progress_bar(settings.progress)
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
            for fold in the_plan.folds:
                window = fold.check.fold
                fold.train = [
                    runner.submit(
                        pool,
                        _spec(
                            the_plan.strategy,
                            window.train_start,
                            window.train_end,
                            settings.select_fee,
                            settings,
                            point,
                            the_plan.grid,
                        ),
                    )
                    for point in the_plan.points
                ]
                if not fold.train:  # no grid: the defaults, no selection
                    _submit_tests(runner, pool, fold, the_plan, settings)
            for name, loaded in the_plan.baselines.items():
                covered = the_plan.baseline_folds[name]
                windows = [(c.fold.test_start, c.fold.test_end) for c in covered]
                baseline_runs[name] = []
                for stretch in contiguous_runs(windows):
                    members = [covered[i] for i in stretch]
                    start, end = members[0].fold.test_start, members[-1].fold.test_end
                    futures = {
                        fee: runner.submit(pool, _spec(loaded, start, end, fee, settings))
                        for fee in settings.fees
                    }
                    baseline_runs[name].append((members, futures))
            # Select on each fold as soon as its train runs are in, then test the choice.
            waiting = [f for f in the_plan.folds if f.train]
            while waiting:
                pending = [t for f in waiting for t in f.train if not t.done()]
                if pending:
                    cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fold in [f for f in waiting if all(t.done() for t in f.train)]:
                    waiting.remove(fold)
                    _select(fold, the_plan, store, settings)
                    _submit_tests(runner, pool, fold, the_plan, settings)
            for fold in the_plan.folds:
                for future in fold.test.values():
                    future.result()
            for stretches in baseline_runs.values():
                for _, futures in stretches:
                    for future in futures.values():
                        future.result()
        except BaseException:
            runner.cancel_pending()
            raise
        finally:
            if progress is not None:
                progress.close()
    return baseline_runs


def run_walk_forward(settings: Settings) -> dict[str, Any]:
    """Run the whole evaluation; write report.md, report.json and equity.png; return the report."""
    began = time.perf_counter()
    store = CandleStore(settings.datadir)
    the_plan = plan(settings, store)
    baseline_runs = execute(the_plan, settings, store)
    inputs = ReportInputs(
        strategy=the_plan.strategy,
        grid=the_plan.grid,
        pairs=the_plan.pairs,
        checks=the_plan.checks,
        folds=[
            FoldResult(
                check=f.check,
                chosen=f.chosen,
                selection=f.selection,
                note=f.note,
                train=[t.result() for t in f.train],
                test={fee: t.result() for fee, t in f.test.items()},
            )
            for f in the_plan.folds
        ],
        baselines={
            name: [
                BaselineStretch(
                    folds=[c.fold for c in members],
                    outcomes={fee: t.result() for fee, t in futures.items()},
                )
                for members, futures in stretches
            ]
            for name, stretches in baseline_runs.items()
        },
        baseline_labels={name: f"{BASELINE_STRATEGIES[name]} (defaults)" for name in baseline_runs},
        baseline_missing=the_plan.baseline_missing,
        buy_and_hold="bh" in settings.baselines,
        fees=tuple(settings.fees),
        extra_trials=settings.extra_trials,
        settings=settings.described(the_plan.start, the_plan.end),
        datadir=settings.datadir,
    )
    report, curves = build_report(inputs, store)
    report["timings"]["total_wall_seconds"] = time.perf_counter() - began
    write_outputs(settings.out, report, curves)
    return report


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
