"""Shared fixtures: where the recorded market data lives, and loaders for it.

The data folder is ``$TA_SHARED_DATA`` when set, ``../shared/data`` beside the repository
otherwise, and the embedded sample ``user_data/data/sample`` when the chosen folder is absent
(a fresh clone); see :mod:`trading_agent.launch.datadir`. A test that needs candles the
folder does not hold skips and names them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from trading_agent.launch.datadir import data_root, is_sample

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The recorded data folder: ``$TA_SHARED_DATA``, ``../shared/data`` or the sample."""
    return data_root()


def pytest_report_header() -> str:
    """Say which market data the run reads (the sample holds only part of the recording)."""
    root = data_root()
    return f"market data: {root}" + (" (embedded sample)" if is_sample(root) else "")


def missing_data(what: str, path: Path) -> str:
    """The skip reason for data that the data folder does not hold."""
    where = "the embedded sample" if is_sample(path) else str(shared_data_dir())
    return (
        f"{what} not in {where} ({path}): point TA_SHARED_DATA at the full recording "
        "(../shared/data) to run this test"
    )


_CANDLES: dict[Path, pd.DataFrame] = {}


def load_candles(
    pair: str = "BTC_USDT",
    timeframe: str = "5m",
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """Load one recorded Binance candle file (Freqtrade feather format).

    With ``start``/``end`` (UTC dates or times) the test needs at least that span: it skips,
    naming the span, when the file does not cover it. The whole file is returned either way.
    """
    path = shared_data_dir() / "binance" / f"{pair}-{timeframe}.feather"
    if not path.exists():
        pytest.skip(missing_data(f"{pair} {timeframe} candles", path))
    if path not in _CANDLES:
        _CANDLES[path] = pd.read_feather(path)
    frame = _CANDLES[path]
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    if (start is not None and pd.Timestamp(start, tz="UTC") < first) or (
        end is not None and pd.Timestamp(end, tz="UTC") > last
    ):
        span = f"{pair} {timeframe} candles from {start or first} to {end or last}"
        pytest.skip(missing_data(span, path))
    return frame.copy()


@pytest.fixture(scope="session")
def committed_strategies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``user_data/strategies/*.py`` alone, for runs of Freqtrade in tests.

    Freqtrade loads a strategy's hyperopt parameters from a ``<Strategy>.json`` beside its
    file; ``make hyperopt`` writes one into the repository's strategy folder. Tests run the
    committed defaults, so they point Freqtrade at this copy without any such file.
    """
    folder = tmp_path_factory.mktemp("strategies")
    for source in (REPO_ROOT / "user_data" / "strategies").glob("*.py"):
        shutil.copy2(source, folder / source.name)
    return folder


@pytest.fixture(scope="session")
def binance_dir() -> Path:
    """The folder of recorded Binance candles in Freqtrade's format."""
    path = shared_data_dir() / "binance"
    if not path.is_dir():
        pytest.skip(missing_data("recorded candles", path))
    return path


@pytest.fixture(scope="session")
def full_binance_dir(binance_dir: Path) -> Path:
    """The full recording's candle folder; skips on the embedded sample.

    For tests that are written against the whole recording: SOL/USDT, 1m candles, or 5m
    candles of every date from 2024-01-01 to 2024-09-24.
    """
    if is_sample(binance_dir):
        pytest.skip(
            missing_data("the full recording (SOL/USDT, 1m, 5m of 2024-01..09)", binance_dir)
        )
    return binance_dir


@pytest.fixture(scope="session")
def binance_long_dir() -> Path:
    """The folder of recorded Binance candles over several years (2017-2024, with holes)."""
    path = shared_data_dir() / "binance-long"
    if not path.is_dir():
        pytest.skip(missing_data("the long recording (binance-long/)", path))
    return path


@pytest.fixture(scope="session")
def orderbook_dir() -> Path:
    """The folder of recorded Binance order-book captures."""
    path = shared_data_dir() / "orderbook"
    if not path.is_dir():
        pytest.skip(missing_data("recorded order books", path))
    return path


def recorded_file(folder: Path, name: str) -> Path:
    """``folder / name``, or its gzipped copy ``name.gz`` (the sample stores the CSV gzipped)."""
    path = folder / name
    if path.exists() or not (folder / f"{name}.gz").exists():
        return path
    return folder / f"{name}.gz"


@pytest.fixture(scope="session")
def btc_5m() -> pd.DataFrame:
    """BTC/USDT 5m candles (real, recorded): 2024-01-01 to 2024-09-24, or the sample's span."""
    return load_candles("BTC_USDT", "5m")


@pytest.fixture(scope="session")
def eth_5m() -> pd.DataFrame:
    """ETH/USDT 5m candles (real, recorded): 2024-01-01 to 2024-09-24, or the sample's span."""
    return load_candles("ETH_USDT", "5m")
