"""README's make commands run as written: ``make data``, and backtests then ``make plot``.

``make data`` is ``freqtrade download-data`` of the config's pairs from MEXC; here the same
target runs with the offline overlay, so ccxt's MEXC client downloads from the local venue,
and the files it writes are compared with the recorded candles. The plot journey is the
README's order (a backtest of another strategy last, then ``make plot``): the plot must use
the named strategy's own latest backtest, or say it plots without trades.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.freqtrade_harness import free_port
from tests.make_harness import REPO, run_make
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process

pytestmark = pytest.mark.slow


def test_make_data_downloads_the_configs_pairs_through_the_venue(
    tmp_path: Path, binance_dir: Path
) -> None:
    target = tmp_path / "mexc"
    with running_venue_process(binance_dir, free_port(), replay=False) as url:
        overlay = write_offline_overlay(tmp_path / "offline.json", url)
        proc = run_make(
            "data",
            f"DATA_CONFIGS=-c user_data/config.json -c {overlay}",
            f"MEXC_DATADIR={target}",
            "DATA_TIMEFRAMES=5m 1h",
            "DATA_TIMERANGE=20240801-",
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the overlay trades the recorded USDT pairs; the real config's are BTC/USDC, ETH/USDC
    for pair in ("BTC_USDT", "ETH_USDT"):
        for timeframe in ("5m", "1h"):
            got = pd.read_feather(target / f"{pair}-{timeframe}.feather")
            recorded = pd.read_feather(binance_dir / f"{pair}-{timeframe}.feather")
            recorded = recorded[recorded["date"] >= pd.Timestamp("2024-08-01", tz="UTC")]
            recorded = recorded[recorded["date"] <= got["date"].iloc[-1]].reset_index(drop=True)
            assert got["date"].iloc[0] == pd.Timestamp("2024-08-01", tz="UTC")
            assert len(got) == len(recorded) > 24
            cols = ["open", "high", "low", "close", "volume"]
            pd.testing.assert_frame_equal(
                got[cols].reset_index(drop=True), recorded[cols], check_exact=False, rtol=1e-12
            )


def test_make_plot_uses_the_named_strategys_own_backtest(tmp_path: Path, binance_dir: Path) -> None:
    results = tmp_path / "results"
    common = [f"DATADIR={binance_dir}", f"RESULTS={results}", "TIMERANGE=20240805-20240807"]
    for strategy in ("FlashStrategy", "SampleStrategy"):  # another strategy's backtest last
        proc = run_make("backtest", f"STRATEGY={strategy}", *common, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert (results / strategy / ".last_result.json").exists()
    plot = REPO / "user_data" / "plot" / "freqtrade-plot-BTC_USDT-5m.html"
    plot.unlink(missing_ok=True)
    args = ["PAIR=BTC/USDT", "PLOT_TIMERANGE=20240805-20240807", *common]
    proc = run_make("plot", "STRATEGY=FlashStrategy", *args, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "trades from the latest backtest of FlashStrategy" in out
    assert "not available in the backtest result" not in out
    assert '"name":"Trade entry"' in plot.read_text()  # FlashStrategy's backtest trades
    plot.unlink()
    proc = run_make("plot", "STRATEGY=EnhancedFlashStrategy", *args, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "no backtest of EnhancedFlashStrategy yet, plotting without trades" in out
    html = plot.read_text()
    assert '"name":"Trade entry"' not in html and '"name":"ema_slow_1h"' in html
