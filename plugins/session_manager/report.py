"""Per-session performance of Freqtrade trades, by the session in which each trade was entered.

Usage::

    python -m plugins.session_manager.report --backtest-file user_data/backtest_results/x.zip
    python -m plugins.session_manager.report --db sqlite:///tradesv3.dryrun.sqlite --config cfg.json

Trades are read with Freqtrade's own loaders (``load_backtest_data``, ``load_trades_from_db``)
and each trade's ``open_date`` is classified with the same functions and settings the plugin
uses for candles (the ``trading_agent.plugins.session_manager`` block of ``--config``, or the
defaults). Only closed trades count; open ones are reported as excluded.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from plugins.session_manager.schedule import OFF_HOURS, SESSION_NAMES, classify_sessions
from plugins.session_manager.settings import SessionSettings

#: Rows of the report, in order ("all" is every closed trade).
REPORT_ROWS: tuple[str, ...] = (*SESSION_NAMES, OFF_HOURS, "all")
#: Columns of the report.
REPORT_COLUMNS: tuple[str, ...] = (
    "trades",
    "wins",
    "draws",
    "losses",
    "win_rate",
    "profit_abs",
    "profit_ratio_mean",
)
_PLUGIN_NAME = "session_manager"


def settings_from_freqtrade_config(path: str | Path) -> SessionSettings:
    """Read the ``trading_agent.plugins.session_manager`` block of a Freqtrade config.

    The file is loaded with Freqtrade's config loader (comments and ``add_config_files``
    work as in Freqtrade). A config without the block gives the default settings.
    """
    from freqtrade.configuration.load_config import load_from_files

    from trading_agent.manager import parse_agent_config

    config = load_from_files([str(path)])
    _, raw_settings = parse_agent_config(config)
    return SessionSettings.model_validate(dict(raw_settings.get(_PLUGIN_NAME, {})))


def load_trades(
    *,
    backtest_file: str | Path | None = None,
    db_url: str | None = None,
    strategy: str | None = None,
) -> pd.DataFrame:
    """Load trades with Freqtrade's loaders: a backtest result (.zip/.json) or a trade DB."""
    if (backtest_file is None) == (db_url is None):
        raise ValueError("give exactly one of backtest_file and db_url")
    from freqtrade.data.btanalysis import load_backtest_data, load_trades_from_db

    if backtest_file is not None:
        path = Path(backtest_file)
        if not path.exists():
            raise ValueError(f"backtest file {str(path)!r} does not exist")
        return load_backtest_data(path, strategy=strategy)
    if "://" not in db_url:
        raise ValueError(f"database URL {db_url!r} is not a URL such as sqlite:///tradesv3.sqlite")
    if db_url.startswith("sqlite:///"):
        db_path = Path(db_url.removeprefix("sqlite:///"))
        if not db_path.exists():
            # SQLAlchemy would silently create an empty database here.
            raise ValueError(f"database file {str(db_path)!r} does not exist")
    return load_trades_from_db(db_url, strategy=strategy)


def label_entry_sessions(trades: pd.DataFrame, settings: SessionSettings) -> pd.DataFrame:
    """Return ``trades`` with ``entry_session`` (governing label at ``open_date``) and
    ``entry_overlap`` (1 when two or more sessions were open at entry) added."""
    if "open_date" not in trades.columns:
        raise ValueError("trades have no 'open_date' column")
    result = trades.copy()
    if trades.empty:
        result["entry_session"] = pd.Series(dtype="str")
        result["entry_overlap"] = pd.Series(dtype=np.int64)
        return result
    classified = classify_sessions(
        pd.to_datetime(trades["open_date"], utc=True), settings.schedule()
    )
    result["entry_session"] = pd.array(classified.labels, dtype="str")
    result["entry_overlap"] = (classified.open_count >= 2).astype(np.int64)
    return result


def _summarise(group: pd.DataFrame) -> dict[str, float]:
    profit_abs = group["profit_abs"].astype(float)
    count = len(group)
    wins = int((profit_abs > 0).sum())
    losses = int((profit_abs < 0).sum())
    return {
        "trades": count,
        "wins": wins,
        "draws": count - wins - losses,
        "losses": losses,
        "win_rate": wins / count if count else float("nan"),
        "profit_abs": float(profit_abs.sum()),
        "profit_ratio_mean": float(group["profit_ratio"].astype(float).mean())
        if count
        else float("nan"),
    }


def session_performance(trades: pd.DataFrame, settings: SessionSettings) -> pd.DataFrame:
    """Closed-trade performance by entry session: one row per session, off hours and "all".

    A win is a trade with ``profit_abs > 0`` and a loss one with ``profit_abs < 0`` (as in
    Freqtrade's reports); ``profit_ratio_mean`` is the mean of Freqtrade's ``profit_ratio``.
    """
    for column in ("open_date", "profit_abs", "profit_ratio"):
        if column not in trades.columns:
            raise ValueError(f"trades have no {column!r} column")
    closed = trades
    if "is_open" in trades.columns:
        closed = trades[~trades["is_open"].fillna(False).astype(bool)]
    labelled = label_entry_sessions(closed, settings)
    rows = {
        label: _summarise(labelled[labelled["entry_session"] == label])
        for label in (*SESSION_NAMES, OFF_HOURS)
    }
    rows["all"] = _summarise(labelled)
    report = pd.DataFrame.from_dict(rows, orient="index", columns=list(REPORT_COLUMNS))
    report.index.name = "session"
    return report.astype(
        {"trades": np.int64, "wins": np.int64, "draws": np.int64, "losses": np.int64}
    )


def format_report(report: pd.DataFrame) -> str:
    """Render a :func:`session_performance` table as aligned text."""
    shown = report.copy()
    shown["win_rate"] = ["-" if np.isnan(value) else f"{value:.1%}" for value in report["win_rate"]]
    shown["profit_abs"] = [f"{round(value, 10) + 0.0:.4f}" for value in report["profit_abs"]]
    shown["profit_ratio_mean"] = [
        "-" if np.isnan(value) else f"{round(value, 10) + 0.0:.4%}"
        for value in report["profit_ratio_mean"]
    ]
    return shown.to_string()


def describe_settings(settings: SessionSettings) -> str:
    """One line per session window plus the priority rule, for the report header."""
    schedule = settings.schedule()
    lines = [f"{name:>6}: {schedule.windows[name].describe()}" for name in SESSION_NAMES]
    priority = schedule.priority
    lines.append("priority: " + (priority if isinstance(priority, str) else " > ".join(priority)))
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m plugins.session_manager.report",
        description="Per-session performance of Freqtrade trades, by entry session.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--backtest-file", help="Freqtrade backtest result (.zip or .json)")
    source.add_argument("--db", help="trade database URL, e.g. sqlite:///tradesv3.sqlite")
    parser.add_argument("--config", help="Freqtrade config with a trading_agent block")
    parser.add_argument("--strategy", help="strategy name (multi-strategy results, shared DBs)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = _parse_args(argv)
    try:
        settings = settings_from_freqtrade_config(args.config) if args.config else SessionSettings()
        trades = load_trades(
            backtest_file=args.backtest_file, db_url=args.db, strategy=args.strategy
        )
        report = session_performance(trades, settings)
    except ValidationError as exc:
        print(f"error: invalid {_PLUGIN_NAME} settings in {args.config}:\n{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # loaders raise ValueError and Freqtrade's own exceptions
        print(f"error: {exc}", file=sys.stderr)
        return 2
    open_trades = (
        int(trades["is_open"].fillna(False).astype(bool).sum())
        if ("is_open" in trades.columns)
        else 0
    )
    if args.json:
        payload: dict[str, Any] = {
            "source": args.backtest_file or args.db,
            "open_trades_excluded": open_trades,
            "sessions": [
                {"session": label, **{k: _json_number(v) for k, v in row.items()}}
                for label, row in report.iterrows()
            ],
        }
        print(json.dumps(payload, indent=2))
        return 0
    print(f"Trades by entry session: {args.backtest_file or args.db}")
    print(describe_settings(settings))
    if open_trades:
        print(f"open trades excluded: {open_trades}")
    print()
    print(format_report(report))
    return 0


def _json_number(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    return value


if __name__ == "__main__":
    raise SystemExit(main())
