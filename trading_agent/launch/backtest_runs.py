"""One Freqtrade backtest per specification, cached, in parallel, with the command to redo it.

A :class:`BacktestSpec` names a strategy, its parameters, a window, a fee. Running it writes a
strategy folder of its own (a copy of the strategy file and, when parameters are set, the
parameter file Freqtrade loads beside it, named like the file with ``.json``; never in the
repository's ``user_data/strategies``),
runs a plain ``freqtrade backtesting --export trades`` against the offline venue, and keeps the
exported trades with their orders. The logged command reproduces the run with the committed
offline overlay (``python -m trading_agent.launch.offline`` starts the venue on port 8090).

The window ``[start, end)`` becomes the timerange ``start`` to the open of the window's last
candle: Freqtrade processes the candle at a timerange's end date too (and closes open trades
at its open), so ending at ``end`` itself would let a train window see the first candle of its
test window.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trading_agent.evaluation.equity import timeframe_delta
from trading_agent.launch import backtest_cache
from trading_agent.launch.candle_files import data_fingerprint
from trading_agent.launch.evaluate_strategies import backtest_args, freqtrade_env, run_freqtrade
from trading_agent.launch.strategy_grid import LoadedStrategy, parameter_file

#: The configuration arguments of a logged command (run from the repository root).
COMMITTED_CONFIGS = ["-c", "user_data/config.json", "-c", "user_data/config.offline.json"]
#: Trade fields kept from Freqtrade's export (the orders carry the fills).
TRADE_FIELDS = (
    "pair",
    "open_date",
    "close_date",
    "fee_open",
    "fee_close",
    "is_short",
    "leverage",
    "profit_abs",
    "exit_reason",
    "orders",
)


def _stamp(when: pd.Timestamp) -> str:
    return when.strftime("%Y%m%d") if when == when.normalize() else when.strftime("%Y%m%dT%H%M")


@dataclass(frozen=True)
class BacktestSpec:
    """What one backtest runs: strategy, parameters, window ``[start, end)``, fee."""

    strategy: LoadedStrategy
    start: pd.Timestamp
    end: pd.Timestamp
    fee: float
    params: Mapping[str, Any] = field(default_factory=dict)
    spaces: Mapping[str, str] = field(default_factory=dict)
    protections: bool = True

    @property
    def timeframe(self) -> str:
        """The strategy's base timeframe, which the run uses."""
        return self.strategy.timeframe

    def timerange(self) -> str:
        """Freqtrade's ``--timerange``: the window's start to the open of its last candle."""
        last = self.end - timeframe_delta(self.timeframe)
        if not self.start <= last:
            raise ValueError(f"window {self.start}..{self.end} holds no {self.timeframe} candle")
        return f"{_stamp(self.start)}-{_stamp(last)}"

    def describe(self) -> dict[str, Any]:
        """The specification as plain JSON values (for the report and the cache key)."""
        return {
            "strategy": self.strategy.name,
            "params": dict(self.params),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timerange": self.timerange(),
            "timeframe": self.timeframe,
            "fee": float(self.fee),
            "protections": self.protections,
        }


@dataclass(frozen=True)
class BacktestOutcome:
    """The result of one backtest: Freqtrade's trades (with orders) and balances."""

    key: str
    spec: BacktestSpec
    trades: list[dict[str, Any]]
    starting_balance: float
    final_balance: float
    wall_seconds: float
    cached: bool
    command: str


_APPLIED = re.compile(r"Strategy Parameter: (\w+) = (.+?)\s*$", re.MULTILINE)


def unapplied_parameters(log: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``params`` that Freqtrade's log does not show as loaded with their value.

    Freqtrade logs ``Strategy Parameter: name = value`` for each value it reads from a
    parameter file (``Strategy Parameter(default): ...`` for defaults). Numbers compare by
    value (a decimal parameter logs ``2.0`` for ``2``).
    """
    applied = dict(_APPLIED.findall(log))
    missing = {}
    for name, value in params.items():
        logged = applied.get(name)
        if logged is None:
            missing[name] = value
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                same = math.isclose(float(logged), float(value), rel_tol=1e-9, abs_tol=1e-12)
            except ValueError:
                same = False
        else:
            same = logged == str(value)
        if not same:
            missing[name] = value
    return missing


def exported_trades(results_dir: Path, strategy: str) -> tuple[list[dict[str, Any]], dict]:
    """The trades of ``strategy`` in a backtest results folder (JSON-ready) and its stats."""
    from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats

    stats = load_backtest_stats(results_dir)["strategy"][strategy]
    frame = load_backtest_data(results_dir, strategy=strategy)
    trades = []
    if not frame.empty:
        kept = frame[[c for c in TRADE_FIELDS if c in frame.columns]].copy()
        for column in ("open_date", "close_date"):
            kept[column] = kept[column].map(lambda t: t.isoformat())
        trades = kept.to_dict("records")
    return trades, stats


class BacktestRunner:
    """Runs backtests through one offline venue, caching each by its key.

    ``configs`` are the ``-c`` arguments of the actual runs (pointing at the running venue);
    ``progress`` (a tqdm bar, optional) grows by one for every new run and advances as each
    finishes. Submitting the same specification twice gives the same future.
    """

    def __init__(
        self,
        *,
        datadir: Path,
        cache_dir: Path,
        configs: Sequence[str],
        use_cache: bool = True,
        timeout: float = 3600,
        progress: Any = None,
    ) -> None:
        import freqtrade

        self.datadir = Path(datadir).resolve()
        self.cache_dir = Path(cache_dir).resolve()
        self.configs = list(configs)
        self.use_cache = use_cache
        self.timeout = timeout
        self.progress = progress
        self.context = {
            "datadir": str(self.datadir),
            "data": data_fingerprint(self.datadir),
            "freqtrade": freqtrade.__version__,
            "configs": backtest_cache.config_digests(self.configs[1::2]),
            "environment": backtest_cache.freqtrade_settings(freqtrade_env()),
            "sources": backtest_cache.sources_digest(),
        }
        self._lock = threading.Lock()
        self._futures: dict[str, Future[BacktestOutcome]] = {}

    def key(self, spec: BacktestSpec) -> str:
        """The cache key of ``spec`` in this runner's context.

        It holds what Freqtrade is given: the command's arguments (with the run's own folders
        as placeholders), the strategy file and the parameter file beside it.
        """
        placeholder = Path("<run>")
        args = self._args(spec, placeholder / "strategies", placeholder / "results", ["<configs>"])
        return backtest_cache.run_key(
            {
                **self.context,
                "args": args,
                "strategy_file": backtest_cache.file_digest(spec.strategy.source),
                "parameter_file": self._parameter_file(spec),
            }
        )

    @staticmethod
    def _parameter_file(spec: BacktestSpec) -> dict[str, Any] | None:
        if not spec.params:
            return None
        return parameter_file(spec.strategy.name, spec.params, spec.spaces)

    def submit(self, pool: Executor, spec: BacktestSpec) -> Future[BacktestOutcome]:
        """Schedule ``spec`` on ``pool`` (once per key) and return its future."""
        key = self.key(spec)
        with self._lock:
            if key not in self._futures:
                if self.progress is not None:
                    self.progress.total = (self.progress.total or 0) + 1
                    self.progress.refresh()
                self._futures[key] = pool.submit(self._run_counted, key, spec)
            return self._futures[key]

    def cancel_pending(self) -> None:
        """Cancel every submitted run that has not started (after a failure)."""
        with self._lock:
            for future in self._futures.values():
                future.cancel()

    def _run_counted(self, key: str, spec: BacktestSpec) -> BacktestOutcome:
        outcome = self.run(spec, key)
        if self.progress is not None:
            self.progress.update(1)
        return outcome

    def run(self, spec: BacktestSpec, key: str | None = None) -> BacktestOutcome:
        """Run ``spec`` now (or read it from the cache). Raises ``RuntimeError`` on failure."""
        key = key or self.key(spec)
        folder = self.cache_dir / key
        strategies = folder / "strategies"
        results_dir = folder / "results"
        command = self._command(self._args(spec, strategies, results_dir, COMMITTED_CONFIGS))
        if self.use_cache and (stored := backtest_cache.load_result(folder)):
            return self._outcome(key, spec, {**stored, "command": command}, cached=True)
        shutil.rmtree(folder, ignore_errors=True)
        strategies.mkdir(parents=True)
        results_dir.mkdir()
        shutil.copy2(spec.strategy.source, strategies / spec.strategy.source.name)
        if (content := self._parameter_file(spec)) is not None:
            # Freqtrade reads parameters from the strategy *file's* name with .json.
            parameters = strategies / spec.strategy.source.with_suffix(".json").name
            parameters.write_text(json.dumps(content, indent=2))
        began = time.perf_counter()
        proc = run_freqtrade(self._args(spec, strategies, results_dir, self.configs), self.timeout)
        wall = time.perf_counter() - began
        (folder / "freqtrade.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0 or not (results_dir / ".last_result.json").exists():
            raise RuntimeError(
                f"backtest {spec.describe()} failed (code {proc.returncode}); "
                f"log: {folder / 'freqtrade.log'}\n{proc.stderr[-2000:]}"
            )
        unapplied = unapplied_parameters(proc.stdout + proc.stderr, spec.params)
        if unapplied:
            raise RuntimeError(
                f"backtest {spec.describe()}: Freqtrade did not report loading {unapplied} "
                f"from the parameter file; log: {folder / 'freqtrade.log'}"
            )
        trades, stats = exported_trades(results_dir, spec.strategy.name)
        result = {
            "spec": spec.describe(),
            "trades": trades,
            "starting_balance": float(stats["starting_balance"]),
            "final_balance": float(stats["final_balance"]),
            "backtest_start": stats["backtest_start"],
            "backtest_end": stats["backtest_end"],
            "wall_seconds": wall,
            "command": command,
        }
        backtest_cache.store_result(folder, result)
        shutil.rmtree(results_dir, ignore_errors=True)  # the export zip; the command redoes it
        return self._outcome(key, spec, result, cached=False)

    def _args(
        self, spec: BacktestSpec, strategies: Path, results_dir: Path, configs: Sequence[str]
    ) -> list[str]:
        return backtest_args(
            [spec.strategy.name],
            strategies,
            configs,
            timerange=spec.timerange(),
            fee=spec.fee,
            datadir=self.datadir,
            results_dir=results_dir,
            protections=spec.protections,
            timeframe=spec.timeframe,
        )

    def _command(self, args: Sequence[str]) -> str:
        offline = ["python", "-m", "trading_agent.launch.offline", "--datadir", str(self.datadir)]
        return shlex.join([*offline, "--", "freqtrade", *args])

    @staticmethod
    def _outcome(key: str, spec: BacktestSpec, stored: dict, *, cached: bool) -> BacktestOutcome:
        return BacktestOutcome(
            key=key,
            spec=spec,
            trades=stored["trades"],
            starting_balance=float(stored["starting_balance"]),
            final_balance=float(stored["final_balance"]),
            wall_seconds=float(stored["wall_seconds"]),
            cached=cached,
            command=stored["command"],
        )
