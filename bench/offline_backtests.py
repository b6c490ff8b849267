"""One way for the benchmarks to time a Freqtrade backtest offline (the local venue stands in
for the exchange), so that every backtest row is measured alike."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from trading_agent.launch.evaluate_strategies import offline_configs, offline_venue, run_backtest

#: ``backtest(strategy, timeout=..., **run_backtest options) -> (trades, wall seconds)``
Backtest = Callable[..., tuple[int, float]]


@contextmanager
def offline_backtests(
    datadir: Path, timerange: str, prefix: str
) -> Iterator[tuple[Backtest, Path]]:
    """Yield a function that backtests one strategy on ``datadir`` over ``timerange`` at fee 0
    (returning its trades and wall time), and the temporary folder its runs write into."""
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        offline_venue(datadir) as url,
    ):
        work = Path(tmp)
        configs = offline_configs(work, url)

        def backtest(strategy: str, timeout: float = 3600, **options) -> tuple[int, float]:
            results, _, seconds = run_backtest(
                [strategy],
                configs,
                timerange=timerange,
                fee=0.0,
                datadir=datadir,
                workdir=work,
                timeout=timeout,
                **options,
            )
            return results[strategy].trades, seconds

        yield backtest, work
