"""Backtest the Trading-Agent strategies next to Freqtrade's SampleStrategy and buy-and-hold.

Runs the real ``freqtrade backtesting`` offline (the local venue answers Freqtrade's market
loading) on the recorded Binance USDT candles in ``../shared/data/binance`` (a stand-in for
MEXC's BTC/USDC and ETH/USDC), in-sample (2024-01 to 2024-06, the only period used for
tuning) and out-of-sample (2024-07 to 2024-09) separately, with zero fees and with 0.1 %
fees, and prints one table: trades, profit, Sharpe, max drawdown.

Usage::

    python -m trading_agent.launch.evaluate_strategies              # both periods, fee 0 and 0.001
    python -m trading_agent.launch.evaluate_strategies --fee 0.001  # one fee only
    python -m trading_agent.launch.evaluate_strategies --timerange 20240101-20240201 \
        --strategies FlashStrategy

SampleStrategy comes from the installed Freqtrade package's templates directory, never from
a committed copy. The functions here are also used by tests and benchmarks.
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

import numpy as np
import pandas as pd

from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process

REPO = Path(__file__).resolve().parents[2]
STRATEGY_PATH = REPO / "user_data" / "strategies"
BASE_CONFIG = REPO / "user_data" / "config.json"
OUR_STRATEGIES = ("FlashStrategy", "EnhancedFlashStrategy")
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
    wall_seconds: float = math.nan


def freqtrade_env() -> dict[str, str]:
    """The environment for an offline Freqtrade run.

    The committed config leaves the API server's JWT key to the environment, and Freqtrade
    validates its length even when the server is off: a backtest gets a throwaway random key
    (never stored) unless one is set already.
    """
    env = os.environ.copy()
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
) -> list[str]:
    """The ``freqtrade backtesting`` argument list for one run (one strategy path)."""
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
        TIMEFRAME,
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
    """Backtest ``strategies`` (all from one strategy path) in one Freqtrade run.

    ``strategy_path`` overrides where Freqtrade looks for them (default: ours, or the
    templates for SampleStrategy). Returns the figures and the trades per strategy, and the
    run's wall time in seconds. Raises ``RuntimeError`` with the end of Freqtrade's output
    when the run fails.
    """
    from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats

    paths = {strategy_path} if strategy_path else {strategy_path_for(s) for s in strategies}
    if len(paths) != 1:
        raise ValueError(f"strategies {list(strategies)} live in different paths {paths}")
    results_dir = Path(tempfile.mkdtemp(prefix="bt-", dir=workdir))
    args = backtest_args(
        strategies,
        paths.pop(),
        configs,
        timerange=timerange,
        fee=fee,
        datadir=datadir,
        results_dir=results_dir,
        protections=protections,
        extra=extra,
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
        results[name] = BacktestResult(
            strategy=name,
            timerange=timerange,
            fee=fee,
            trades=int(st["total_trades"]),
            profit_pct=100.0 * float(st["profit_total"]),
            sharpe=daily_sharpe(realised_daily_returns(trades, begin, end, start_balance)),
            max_drawdown_pct=100.0 * float(st.get("max_drawdown_account", 0.0)),
            wall_seconds=wall,
        )
    shutil.rmtree(results_dir, ignore_errors=True)
    return results, trades_by, wall


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
    values = np.asarray(returns, dtype=np.float64)
    if values.size < 2:
        return math.nan
    std = values.std(ddof=1)
    if std == 0 or not math.isfinite(std):
        return math.nan
    return float(values.mean() / std * math.sqrt(365))


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
    """Equal-weight buy-and-hold of ``pairs`` over ``timerange`` (5m closes).

    Bought at the first close, valued at every close, sold at the last; one fee on entry
    and one on exit. Sharpe on daily closes; max drawdown on 5m closes.
    """
    start, end = parse_timerange(timerange)
    curves = []
    for pair in pairs:
        path = datadir / f"{pair.replace('/', '_')}-{TIMEFRAME}.feather"
        candles = pd.read_feather(path)
        window = candles[(candles["date"] >= start) & (candles["date"] < end)]
        if window.empty:
            raise ValueError(f"no {pair} candles in {timerange} in {datadir}")
        curves.append(window.set_index("date")["close"] / window["close"].iloc[0])
    equity = pd.concat(curves, axis=1).ffill().mean(axis=1) * (1 - fee)
    final = float(equity.iloc[-1]) * (1 - fee)
    daily = equity.resample("1D").last().dropna()
    daily_returns = daily.pct_change().dropna()
    drawdown = 1 - equity / equity.cummax()
    return BacktestResult(
        strategy="buy-and-hold",
        timerange=timerange,
        fee=fee,
        trades=len(pairs),
        profit_pct=100.0 * (final - 1.0),
        sharpe=daily_sharpe(daily_returns),
        max_drawdown_pct=100.0 * float(drawdown.max()),
    )


def evaluate(
    strategies: Sequence[str],
    timeranges: Sequence[str],
    fees: Sequence[float],
    datadir: Path,
    workdir: Path,
    include_sample: bool = True,
) -> list[BacktestResult]:
    """Backtest every strategy (and the sample and buy-and-hold) per period and fee."""
    rows: list[BacktestResult] = []
    with offline_venue(datadir) as url:
        configs = offline_configs(workdir, url)
        for timerange in timeranges:
            for fee in fees:
                ours, _, _ = run_backtest(
                    strategies,
                    configs,
                    timerange=timerange,
                    fee=fee,
                    datadir=datadir,
                    workdir=workdir,
                )
                rows.extend(ours[s] for s in strategies)
                if include_sample:
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


def period_label(timerange: str) -> str:
    """``in-sample`` / ``out-of-sample`` for the standard periods, else the range itself."""
    return {IN_SAMPLE: "in-sample", OUT_OF_SAMPLE: "out-of-sample"}.get(timerange, timerange)


def format_table(rows: Sequence[BacktestResult]) -> str:
    """A Markdown table of the results."""
    lines = [
        "| period | fee | strategy | trades | profit % | Sharpe (daily) | max drawdown % |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {period_label(r.timerange)} ({r.timerange}) | {r.fee:.3%} | {r.strategy} | "
            f"{r.trades} | {r.profit_pct:+.2f} | {r.sharpe:.2f} | {r.max_drawdown_pct:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the evaluation and print the table (and optionally save JSON)."""
    parser = argparse.ArgumentParser(prog="python -m trading_agent.launch.evaluate_strategies")
    parser.add_argument("--strategies", nargs="+", default=list(OUR_STRATEGIES))
    parser.add_argument("--timerange", nargs="+", default=[IN_SAMPLE, OUT_OF_SAMPLE])
    parser.add_argument("--fee", type=float, nargs="+", default=list(FEES))
    parser.add_argument("--datadir", type=Path, default=shared_data_dir() / "binance")
    parser.add_argument("--no-sample", action="store_true", help="skip SampleStrategy")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
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
