"""Shared fixtures: where the recorded market data lives, and loaders for it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Return ``../shared/data`` beside the repository (or ``$TA_SHARED_DATA``)."""
    env = os.environ.get("TA_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def load_candles(pair: str = "BTC_USDT", timeframe: str = "5m") -> pd.DataFrame:
    """Load one recorded Binance candle file (Freqtrade feather format)."""
    path = shared_data_dir() / "binance" / f"{pair}-{timeframe}.feather"
    if not path.exists():
        pytest.skip(f"recorded data not found: {path}")
    return pd.read_feather(path)


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
        pytest.skip(f"recorded data not found: {path}")
    return path


@pytest.fixture(scope="session")
def binance_long_dir() -> Path:
    """The folder of recorded Binance candles over several years (2017-2024, with holes)."""
    path = shared_data_dir() / "binance-long"
    if not path.is_dir():
        pytest.skip(f"recorded data not found: {path}")
    return path


@pytest.fixture(scope="session")
def orderbook_dir() -> Path:
    """The folder of recorded Binance order-book captures."""
    path = shared_data_dir() / "orderbook"
    if not path.is_dir():
        pytest.skip(f"recorded order books not found: {path}")
    return path


@pytest.fixture(scope="session")
def btc_5m() -> pd.DataFrame:
    """BTC/USDT 5m candles, 2024-01-01 to 2024-09-24 (real, recorded)."""
    return load_candles("BTC_USDT", "5m")


@pytest.fixture(scope="session")
def eth_5m() -> pd.DataFrame:
    """ETH/USDT 5m candles, 2024-01-01 to 2024-09-24 (real, recorded)."""
    return load_candles("ETH_USDT", "5m")
