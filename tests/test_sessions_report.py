"""Per-session trade report, on trades written in Freqtrade's formats by Freqtrade's own code.

Every trade here is SYNTHETIC: a small hand-made set whose entry times sit on the session
boundaries, with round prices so the expected report can be worked out by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from plugins.session_manager.report import REPORT_ROWS, main, session_performance
from plugins.session_manager.settings import SessionSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
STRATEGY = "SyntheticSessionStrategy"
# Freqtrade 2026.9 itself still calls a pandas API that pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Series.dt.dayofweek is deprecated")

# (entry time UTC, entry price, exit price or None while open). Stake 100 USDC, no fees.
SYNTHETIC_TRADES: list[tuple[datetime, float, float | None]] = [
    (datetime(2024, 3, 4, 3, 0, tzinfo=UTC), 100.0, 101.0),  # asia   +1.0
    (datetime(2024, 3, 4, 7, 55, tzinfo=UTC), 100.0, 99.5),  # asia   -0.5
    (datetime(2024, 3, 4, 8, 0, tzinfo=UTC), 100.0, 102.0),  # europe +2.0 (opening minute)
    (datetime(2024, 3, 4, 12, 30, tzinfo=UTC), 100.0, 100.0),  # europe  0.0 (a draw)
    (datetime(2024, 3, 4, 13, 0, tzinfo=UTC), 100.0, 98.0),  # us (overlap) -2.0
    (datetime(2024, 3, 4, 15, 0, tzinfo=UTC), 100.0, 101.5),  # us (overlap) +1.5
    (datetime(2024, 3, 4, 18, 0, tzinfo=UTC), 100.0, 100.5),  # us     +0.5
    (datetime(2024, 3, 4, 21, 0, tzinfo=UTC), 100.0, 99.0),  # off    -1.0
    (datetime(2024, 3, 4, 23, 30, tzinfo=UTC), 100.0, None),  # off, still open: excluded
]

# Worked out by hand from the list above with the default settings:
# session: (trades, wins, draws, losses, profit_abs, mean profit_ratio)
EXPECTED_DEFAULT = {
    "asia": (2, 1, 0, 1, 0.5, 0.0025),
    "europe": (2, 1, 1, 0, 2.0, 0.01),
    "us": (3, 2, 0, 1, 0.0, 0.0),
    "off": (1, 0, 0, 1, -1.0, -0.01),
    "all": (8, 4, 1, 3, 1.5, 0.015 / 8),
}
# With priority europe > us > asia the two overlap trades move from the US to Europe.
EXPECTED_EUROPE_FIRST = {
    **EXPECTED_DEFAULT,
    "europe": (4, 2, 1, 1, 1.5, 0.015 / 4),
    "us": (1, 1, 0, 0, 0.5, 0.005),
}


def _order(trade_id: int, side: str, when: datetime, price: float, amount: float) -> Any:
    from freqtrade.persistence import Order

    return Order(
        ft_trade_id=trade_id,
        ft_is_open=False,
        ft_pair="BTC/USDC",
        ft_order_side=side,
        ft_amount=amount,
        ft_price=price,
        order_id=f"synthetic-{trade_id}-{side}",
        symbol="BTC/USDC",
        side=side,
        order_type="market",
        status="closed",
        order_date=when,
        order_filled_date=when,
        price=price,
        average=price,
        amount=amount,
        filled=amount,
        remaining=0.0,
        cost=amount * price,
    )


def build_trade(
    cls: type, trade_id: int, opened: datetime, entry: float, exit_price: float | None
) -> Any:
    """A Freqtrade trade (``Trade`` or ``LocalTrade``) filled and closed through its orders."""
    amount = 100.0 / entry
    trade = cls(
        id=trade_id,
        pair="BTC/USDC",
        base_currency="BTC",
        stake_currency="USDC",
        open_rate=entry,
        open_date=opened,
        stake_amount=100.0,
        amount=amount,
        fee_open=0.0,
        fee_close=0.0,
        is_open=True,
        exchange="mexc",
        strategy=STRATEGY,
        timeframe=5,
        leverage=1.0,
        is_short=False,
        trading_mode="spot",
    )
    trade.orders.append(_order(trade_id, "buy", opened, entry, amount))
    trade.recalc_trade_from_orders()
    if exit_price is not None:
        closed = opened + timedelta(hours=1)
        trade.orders.append(_order(trade_id, "sell", closed, exit_price, amount))
        trade.close_date = closed
        trade.exit_reason = "exit_signal"
        trade.close(exit_price, show_msg=False)
    return trade


@pytest.fixture(scope="module")
def trade_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Freqtrade sqlite trade database written through ``freqtrade.persistence``."""
    from freqtrade.persistence import Trade, init_db

    url = f"sqlite:///{tmp_path_factory.mktemp('sessions_db') / 'tradesv3.sqlite'}"
    init_db(url)
    for trade_id, (opened, entry, exit_price) in enumerate(SYNTHETIC_TRADES, start=1):
        Trade.session.add(build_trade(Trade, trade_id, opened, entry, exit_price))
    Trade.commit()
    return url


@pytest.fixture(scope="module")
def backtest_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backtest result .zip written by Freqtrade's own report generator and storage."""
    from freqtrade.data.btanalysis import trade_list_to_dataframe
    from freqtrade.optimize.optimize_reports import generate_backtest_stats, store_backtest_results
    from freqtrade.persistence import LocalTrade

    folder = tmp_path_factory.mktemp("sessions_bt")
    trades = [
        build_trade(LocalTrade, trade_id, opened, entry, exit_price)
        for trade_id, (opened, entry, exit_price) in enumerate(SYNTHETIC_TRADES, start=1)
        if exit_price is not None  # backtests close every trade
    ]
    start, end = datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 6, tzinfo=UTC)
    config = {
        "max_open_trades": 1,
        "stake_currency": "USDC",
        "dry_run_wallet": 1000.0,
        "stake_amount": 100.0,
        "timeframe": "5m",
        "stoploss": -0.1,
        "minimal_roi": {"0": 0.1},
        "use_exit_signal": True,
        "exit_profit_only": False,
        "exit_profit_offset": 0.0,
        "ignore_roi_if_entry_signal": False,
        "trading_mode": "spot",
        "margin_mode": "",
        "exportdirectory": folder,
        "original_config": {},
    }
    content = {
        "results": trade_list_to_dataframe(trades),
        "config": config,
        "locks": [],
        "rejected_signals": 0,
        "timedout_entry_orders": 0,
        "timedout_exit_orders": 0,
        "canceled_trade_entries": 0,
        "canceled_entry_orders": 0,
        "replaced_entry_orders": 0,
        "final_balance": 1001.5,
        "backtest_start_time": 0,
        "backtest_end_time": 1,
        "run_id": "synthetic",
    }
    # flat synthetic candles: only needed for the market-change figure of the stats
    candles = pd.DataFrame(
        {
            "date": pd.date_range(start, end, freq="5min"),
            "open": 100.0,
            "high": 100.0,
            "low": 100.0,
            "close": 100.0,
            "volume": 1.0,
        }
    )
    stats = generate_backtest_stats({"BTC/USDC": candles}, {STRATEGY: content}, start, end)
    return store_backtest_results(config, stats, "2024-03-06_00-00-00")


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def assert_rows(payload: dict[str, Any], expected: dict[str, tuple]) -> None:
    rows = {row["session"]: row for row in payload["sessions"]}
    assert list(rows) == list(REPORT_ROWS)
    for label, (trades, wins, draws, losses, profit_abs, mean_ratio) in expected.items():
        row = rows[label]
        assert (row["trades"], row["wins"], row["draws"], row["losses"]) == (
            trades,
            wins,
            draws,
            losses,
        ), label
        assert row["win_rate"] == pytest.approx(wins / trades), label
        assert row["profit_abs"] == pytest.approx(profit_abs, abs=1e-9), label
        assert row["profit_ratio_mean"] == pytest.approx(mean_ratio, abs=1e-9), label


def test_report_from_a_freqtrade_database(
    trade_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = run_json(capsys, "--db", trade_db)
    assert payload["open_trades_excluded"] == 1
    assert_rows(payload, EXPECTED_DEFAULT)


def test_report_from_a_freqtrade_backtest_zip(
    backtest_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backtest_zip.suffix == ".zip"
    payload = run_json(capsys, "--backtest-file", str(backtest_zip), "--strategy", STRATEGY)
    assert payload["open_trades_excluded"] == 0
    assert_rows(payload, EXPECTED_DEFAULT)


def test_report_reads_session_settings_from_a_freqtrade_config(
    trade_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        "{\n  // Freqtrade configs may carry comments\n"
        '  "stake_currency": "USDC",\n'
        '  "trading_agent": {"plugins": {"session_manager": '
        '{"priority": ["europe", "us", "asia"]}}}\n}\n'
    )
    payload = run_json(capsys, "--db", trade_db, "--config", str(config))
    assert_rows(payload, EXPECTED_EUROPE_FIRST)


def test_report_command_runs_as_a_module(backtest_zip: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "plugins.session_manager.report",
            "--backtest-file",
            str(backtest_zip),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.strip()}
    assert lines["priority:"][1] == "latest_open"
    assert lines["us"][1:5] == ["3", "2", "0", "1"]
    assert lines["us"][5] == "66.7%"
    assert lines["all"][1] == "8"


def test_report_errors_are_clear(
    trade_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_config = tmp_path / "bad.json"
    bad_config.write_text(
        json.dumps(
            {"trading_agent": {"plugins": {"session_manager": {"us": {"timezone": "Mars/Base"}}}}}
        )
    )
    assert main(["--db", trade_db, "--config", str(bad_config)]) == 2
    assert "us.timezone" in capsys.readouterr().err

    missing = tmp_path / "nothing.sqlite"
    assert main(["--db", f"sqlite:///{missing}"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()  # no empty database left behind

    assert main(["--backtest-file", str(tmp_path / "none.zip")]) == 2
    assert "none.zip" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--db", trade_db, "--backtest-file", "x.zip"])


def test_session_performance_with_no_trades() -> None:
    empty = pd.DataFrame(
        {
            "open_date": pd.to_datetime([], utc=True),
            "profit_abs": [],
            "profit_ratio": [],
            "is_open": [],
        }
    )
    report = session_performance(empty, SessionSettings())
    assert list(report.index) == list(REPORT_ROWS)
    assert (report["trades"] == 0).all()
    assert report["win_rate"].isna().all()
