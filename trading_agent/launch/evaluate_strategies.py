"""Backtest the Trading-Agent strategies next to Freqtrade's SampleStrategy and buy-and-hold.

Runs the real ``freqtrade backtesting`` offline (the local venue answers Freqtrade's market
loading) on the recorded Binance USDT candles in ``../shared/data/binance`` (a stand-in for
MEXC's BTC/USDC and ETH/USDC), in-sample (2024-01 to 2024-06, the only period used for
tuning) and out-of-sample (2024-07 to 2024-09) separately, with zero fees and with 0.1 %
fees, and prints one table: trades, profit, Sharpe, max drawdown, exposure.

Usage::

    python -m trading_agent.launch.evaluate_strategies              # both periods, fee 0 and 0.001
    python -m trading_agent.launch.evaluate_strategies --fee 0.001  # one fee only
    python -m trading_agent.launch.evaluate_strategies --timerange 20240101-20240201 \
        --strategies FlashStrategy RegimeStrategy

By default every strategy in ``user_data/strategies`` is evaluated, each on its own base
timeframe (``timeframe``). SampleStrategy comes from the installed Freqtrade package's
templates directory, never from a committed copy. ``exposure_pct`` is the time-averaged share
of the account invested, from the account rebuilt from the trades' orders and the candle
closes (:mod:`trading_agent.evaluation.equity`); buy-and-hold is fully invested (100). The
functions here are also used by tests and benchmarks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from trading_agent.evaluation.buy_and_hold import buy_and_hold_fills
from trading_agent.evaluation.equity import close_grid, reconstruct_equity, timeframe_delta
from trading_agent.evaluation.fills import fills_from_trades
from trading_agent.evaluation.measures import annualised_sharpe, performance
from trading_agent.launch.candle_files import read_candles
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process
from trading_agent.launch.strategy_grid import load_strategy, strategies_in

REPO = Path(__file__).resolve().parents[2]
STRATEGY_PATH = REPO / "user_data" / "strategies"
BASE_CONFIG = REPO / "user_data" / "config.json"
SAMPLE_STRATEGY = "SampleStrategy"
PAIRS = ("BTC/USDT", "ETH/USDT")
IN_SAMPLE = "20240101-20240701"
OUT_OF_SAMPLE = "20240701-20240925"
FEES = (0.0, 0.001)
TIMEFRAME = "5m"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository (or ``$TA_SHARED_DATA``)."""
    env = os.environ.get("TA_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def freqtrade_executable() -> str:
    """The ``freqtrade`` script of this interpreter's environment."""
    exe = Path(sys.executable).parent / "freqtrade"
    return str(exe) if exe.exists() else "freqtrade"


def freqtrade_templates() -> Path:
    """The installed Freqtrade package's templates directory (holds SampleStrategy)."""
    import freqtrade

    return Path(freqtrade.__file__).parent / "templates"


def strategy_path_for(strategy: str) -> Path:
    """Where Freqtrade finds ``strategy``: the package templates for SampleStrategy."""
    return freqtrade_templates() if strategy == SAMPLE_STRATEGY else STRATEGY_PATH


def committed_strategies(strategy_path: Path | None = None) -> list[str]:
    """Names of the strategies defined in ``strategy_path`` (default: ours), sorted."""
    return sorted(s.name for s in strategies_in(strategy_path or STRATEGY_PATH))


def strategy_timeframe(strategy: str, strategy_path: Path | None = None) -> str:
    """The base timeframe ``strategy`` declares (its class's ``timeframe``)."""
    return load_strategy(strategy, strategy_path or strategy_path_for(strategy)).timeframe


def tuned_parameter_files(strategies: Sequence[str]) -> list[str]:
    """Hyperopt parameter files beside our strategies, which Freqtrade loads over defaults."""
    return [
        str(STRATEGY_PATH / f"{s}.json")
        for s in strategies
        if s != SAMPLE_STRATEGY and (STRATEGY_PATH / f"{s}.json").exists()
    ]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def offline_venue(datadir: Path) -> Iterator[str]:
    """Run the local venue (static mode) on a free port for the block; yield its URL."""
    with running_venue_process(datadir, free_port(), replay=False) as url:
        yield url


def offline_configs(workdir: Path, venue_url: str) -> list[str]:
    """``-c`` arguments: the project config plus an offline overlay pointing at ``venue_url``."""
    overlay = write_offline_overlay(workdir / "offline.json", venue_url)
    return ["-c", str(BASE_CONFIG), "-c", str(overlay)]


@dataclass(frozen=True)
class BacktestResult:
    """The figures reported for one strategy (or buy-and-hold) on one period and fee."""

    strategy: str
    timerange: str
    fee: float
    trades: int
    profit_pct: float
    sharpe: float
    max_drawdown_pct: float
    exposure_pct: float
    wall_seconds: float = math.nan


def freqtrade_env() -> dict[str, str]:
    """The environment for an offline Freqtrade run.

    The committed config leaves the API server's JWT key to the environment, and Freqtrade
    validates its length even when the server is off: a backtest gets a throwaway random key
    (never stored) unless one is set already. Log lines are wrapped at no fewer than 250
    columns (``COLUMNS``; 80 where no terminal says otherwise), so that a line such as
    "Strategy Parameter: buy_rsi = 25" can be read back whole.
    """
    env = os.environ.copy()
    if not env.get("COLUMNS", "").isdigit() or int(env["COLUMNS"]) < 250:
        env["COLUMNS"] = "250"
    env.setdefault("FREQTRADE__API_SERVER__JWT_SECRET_KEY", secrets.token_hex(32))
    env["FREQTRADE__API_SERVER__ENABLED"] = "false"
    return env


def run_freqtrade(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run one bounded ``freqtrade`` command from the repository root."""
    return subprocess.run(
        [freqtrade_executable(), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=freqtrade_env(),
    )


def backtest_args(
    strategies: Sequence[str],
    strategy_path: Path,
    configs: Sequence[str],
    *,
    timerange: str,
    fee: float,
    datadir: Path,
    results_dir: Path,
    protections: bool = True,
    extra: Sequence[str] = (),
    timeframe: str = TIMEFRAME,
) -> list[str]:
    """The ``freqtrade backtesting`` argument list for one run (one strategy path).

    ``timeframe`` is passed explicitly: the project config names 5m, which would otherwise
    override a strategy's own base timeframe.
    """
    args = [
        "backtesting",
        *configs,
        "--datadir",
        str(datadir),
        "--strategy-list",
        *strategies,
        "--strategy-path",
        str(strategy_path),
        "--timeframe",
        timeframe,
        "--timerange",
        timerange,
        "--fee",
        str(fee),
        "--export",
        "trades",
        "--backtest-directory",
        str(results_dir),
        "--cache",
        "none",
    ]
    if protections:
        args.append("--enable-protections")
    return [*args, *extra]


def run_backtest(
    strategies: Sequence[str],
    configs: Sequence[str],
    *,
    timerange: str,
    fee: float,
    datadir: Path,
    workdir: Path,
    timeout: float = 1800,
    protections: bool = True,
    extra: Sequence[str] = (),
    strategy_path: Path | None = None,
) -> tuple[dict[str, BacktestResult], dict[str, pd.DataFrame], float]:
    """Backtest ``strategies`` (all from one strategy path, one timeframe) in one Freqtrade run.

    ``strategy_path`` overrides where Freqtrade looks for them (default: ours, or the
    templates for SampleStrategy). Returns the figures and the trades per strategy, and the
    run's wall time in seconds. Raises ``RuntimeError`` with the end of Freqtrade's output
    when the run fails, ``ValueError`` when the strategies declare different timeframes.
    """
    from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats

    paths = {strategy_path} if strategy_path else {strategy_path_for(s) for s in strategies}
    if len(paths) != 1:
        raise ValueError(f"strategies {list(strategies)} live in different paths {paths}")
    path = paths.pop()
    timeframes = {s: strategy_timeframe(s, path) for s in strategies}
    if len(set(timeframes.values())) != 1:
        raise ValueError(f"strategies in one run need one timeframe, got {timeframes}")
    timeframe = timeframes[strategies[0]]
    results_dir = Path(tempfile.mkdtemp(prefix="bt-", dir=workdir))
    args = backtest_args(
        strategies,
        path,
        configs,
        timerange=timerange,
        fee=fee,
        datadir=datadir,
        results_dir=results_dir,
        protections=protections,
        extra=extra,
        timeframe=timeframe,
    )
    start = time.perf_counter()
    proc = run_freqtrade(args, timeout)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not (results_dir / ".last_result.json").exists():
        raise RuntimeError(
            f"freqtrade backtesting {list(strategies)} {timerange} failed "
            f"(code {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    stats = load_backtest_stats(results_dir)
    start_balance = float(stats["strategy"][strategies[0]]["starting_balance"])
    results: dict[str, BacktestResult] = {}
    trades_by: dict[str, pd.DataFrame] = {}
    for name in strategies:
        st = stats["strategy"][name]
        trades = load_backtest_data(results_dir, strategy=name)
        trades_by[name] = trades
        begin = pd.Timestamp(st["backtest_start"], tz="UTC")
        end = pd.Timestamp(st["backtest_end"], tz="UTC")
        # Freqtrade's last candle opens at backtest_end (open trades are closed at its open).
        last_close = end + timeframe_delta(timeframe)
        results[name] = BacktestResult(
            strategy=name,
            timerange=timerange,
            fee=fee,
            trades=int(st["total_trades"]),
            profit_pct=100.0 * float(st["profit_total"]),
            sharpe=daily_sharpe(realised_daily_returns(trades, begin, end, start_balance)),
            max_drawdown_pct=100.0 * float(st.get("max_drawdown_account", 0.0)),
            exposure_pct=exposure_pct(trades, datadir, timeframe, begin, last_close, start_balance),
            wall_seconds=wall,
        )
    shutil.rmtree(results_dir, ignore_errors=True)
    return results, trades_by, wall


def exposure_pct(
    trades: pd.DataFrame,
    datadir: Path,
    timeframe: str,
    begin: pd.Timestamp,
    end: pd.Timestamp,
    start_balance: float,
) -> float:
    """Time-averaged share of the account invested over ``[begin, end)``, in percent.

    The account is rebuilt from the trades' orders and the ``timeframe`` closes of the pairs
    they traded (see :mod:`trading_agent.evaluation.equity`); 0 without trades.
    """
    fills = fills_from_trades(trades)
    if fills.empty:
        return 0.0
    candles = {pair: read_candles(datadir, pair, timeframe) for pair in sorted(set(fills["pair"]))}
    closes = close_grid(candles, begin, end, timeframe)
    return performance([reconstruct_equity(fills, closes, start_balance, begin)]).exposure_pct


def realised_daily_returns(
    trades: pd.DataFrame, begin: pd.Timestamp, end: pd.Timestamp, start_balance: float
) -> pd.Series:
    """Daily returns of the account from realised profits (days without exits return 0)."""
    days = pd.date_range(begin.normalize(), end.normalize(), freq="1D", tz="UTC")
    if trades.empty:
        return pd.Series(0.0, index=days)
    pnl = trades.groupby(trades["close_date"].dt.normalize())["profit_abs"].sum()
    pnl = pnl.reindex(days, fill_value=0.0)
    equity = start_balance + pnl.cumsum()
    previous = equity.shift(1).fillna(start_balance)
    return pnl / previous


def daily_sharpe(returns: pd.Series) -> float:
    """Annualised Sharpe ratio of daily returns (365 days, zero risk-free rate)."""
    return annualised_sharpe(returns)


def parse_timerange(timerange: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``YYYYMMDD-YYYYMMDD`` as two UTC timestamps (start inclusive, end exclusive)."""
    try:
        start, end = timerange.split("-")
        return (
            pd.Timestamp(start, tz="UTC"),
            pd.Timestamp(end, tz="UTC") if end else pd.Timestamp.max.tz_localize("UTC"),
        )
    except ValueError as exc:
        raise ValueError(f"timerange must be YYYYMMDD-YYYYMMDD, got {timerange!r}") from exc


def buy_and_hold(datadir: Path, pairs: Sequence[str], timerange: str, fee: float) -> BacktestResult:
    """Equal-weight buy-and-hold of ``pairs`` over ``timerange`` (5m candles).

    Bought at the first open, valued at every close, sold at the last close; one fee on
    entry and one on exit. Measured like the strategies' accounts: Sharpe of daily
    mark-to-market returns, max drawdown on 5m closes, exposure 100 %.
    """
    start, end = parse_timerange(timerange)
    candles = {pair: read_candles(datadir, pair, TIMEFRAME) for pair in pairs}
    for pair, frame in candles.items():
        inside = frame[(frame["date"] >= start) & (frame["date"] < end)]
        if inside.empty:
            raise ValueError(f"no {pair} candles in {timerange} in {datadir}")
        end = min(end, inside["date"].max() + timeframe_delta(TIMEFRAME))
    balance = 1.0
    fills = buy_and_hold_fills(candles, start, end, TIMEFRAME, balance, fee)
    closes = close_grid(candles, start, end, TIMEFRAME)
    result = performance([reconstruct_equity(fills, closes, balance, start)])
    return BacktestResult(
        strategy="buy-and-hold",
        timerange=timerange,
        fee=fee,
        trades=len(pairs),
        profit_pct=result.total_return_pct,
        sharpe=result.sharpe,
        max_drawdown_pct=result.max_drawdown_pct,
        exposure_pct=result.exposure_pct,
    )


def evaluate(
    strategies: Sequence[str],
    timeranges: Sequence[str],
    fees: Sequence[float],
    datadir: Path,
    workdir: Path,
    include_sample: bool = True,
) -> list[BacktestResult]:
    """Backtest every strategy (and the sample and buy-and-hold) per period and fee.

    Strategies sharing a folder and a timeframe run together in one Freqtrade run.
    """
    rows: list[BacktestResult] = []
    groups = strategy_groups(strategies)
    with offline_venue(datadir) as url:
        configs = offline_configs(workdir, url)
        for timerange in timeranges:
            for fee in fees:
                for group in groups:
                    ours, _, _ = run_backtest(
                        group,
                        configs,
                        timerange=timerange,
                        fee=fee,
                        datadir=datadir,
                        workdir=workdir,
                    )
                    rows.extend(ours[s] for s in group)
                if include_sample and SAMPLE_STRATEGY not in strategies:
                    sample, _, _ = run_backtest(
                        [SAMPLE_STRATEGY],
                        configs,
                        timerange=timerange,
                        fee=fee,
                        datadir=datadir,
                        workdir=workdir,
                    )
                    rows.append(sample[SAMPLE_STRATEGY])
                rows.append(buy_and_hold(datadir, PAIRS, timerange, fee))
    return rows


def strategy_groups(strategies: Sequence[str]) -> list[list[str]]:
    """``strategies`` grouped by (folder, timeframe), in order of first appearance."""
    groups: dict[tuple[Path, str], list[str]] = {}
    for name in strategies:
        groups.setdefault((strategy_path_for(name), strategy_timeframe(name)), []).append(name)
    return list(groups.values())


def period_label(timerange: str) -> str:
    """``in-sample`` / ``out-of-sample`` for the standard periods, else the range itself."""
    return {IN_SAMPLE: "in-sample", OUT_OF_SAMPLE: "out-of-sample"}.get(timerange, timerange)


def format_table(rows: Sequence[BacktestResult]) -> str:
    """A Markdown table of the results."""
    lines = [
        "| period | fee | strategy | trades | profit % | Sharpe (daily) | max drawdown % "
        "| exposure % |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {period_label(r.timerange)} ({r.timerange}) | {r.fee:.3%} | {r.strategy} | "
            f"{r.trades} | {r.profit_pct:+.2f} | {r.sharpe:.2f} | {r.max_drawdown_pct:.2f} "
            f"| {r.exposure_pct:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the evaluation and print the table (and optionally save JSON)."""
    parser = argparse.ArgumentParser(prog="python -m trading_agent.launch.evaluate_strategies")
    parser.add_argument(
        "--strategies",
        nargs="+",
        help="strategy class names (default: every strategy in user_data/strategies)",
    )
    parser.add_argument("--timerange", nargs="+", default=[IN_SAMPLE, OUT_OF_SAMPLE])
    parser.add_argument("--fee", type=float, nargs="+", default=list(FEES))
    parser.add_argument("--datadir", type=Path, default=shared_data_dir() / "binance")
    parser.add_argument("--no-sample", action="store_true", help="skip SampleStrategy")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    args.strategies = args.strategies or committed_strategies()
    for fee in args.fee:
        if not (math.isfinite(fee) and 0 <= fee < 0.1):
            parser.error(f"--fee must be in [0, 0.1), got {fee}")
    for name in tuned_parameter_files(args.strategies):
        print(f"note: Freqtrade loads {name} (hyperopt's export): results use its parameters")
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        rows = evaluate(
            args.strategies,
            args.timerange,
            args.fee,
            args.datadir,
            Path(tmp),
            include_sample=not args.no_sample,
        )
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
