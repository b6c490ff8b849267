"""Walk-forward runs of the real Freqtrade on the recorded 2024 candles (small grids, short folds).

- Isolation: a copy of the data whose test-window candles are scrambled (rows shuffled in time
  within that window, in every file) gives the fold the same train results and the same
  chosen parameters, while its test results change.
- The command line end to end: the report files exist and agree with each other, and a
  second run reads every backtest from the cache.
- A strategy without a grid runs at its defaults on every fold (no selection, one trial).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_agent.evaluation.report_markdown import overall_table
from trading_agent.launch.evaluate_strategies import REPO, freqtrade_templates
from trading_agent.launch.walk_forward import Settings, run_walk_forward

pytestmark = pytest.mark.slow

GRID = {"buy_rsi": [25, 35]}
# One fold inside the embedded sample's 5m span (2024-06-15..08-20), so that a fresh clone runs
# it: train 2024-06-16..07-16, test 07-16..08-16.
TRAIN_START = pd.Timestamp("2024-06-16", tz="UTC")
TEST_START = pd.Timestamp("2024-07-16", tz="UTC")
TEST_END = pd.Timestamp("2024-08-16", tz="UTC")
PRICE_COLUMNS = ["open", "high", "low", "close", "volume"]


def scrambled_copy(source: Path, target: Path) -> None:
    """``source``'s BTC and ETH files with every row of the test window shuffled in time."""
    target.mkdir()
    rng = np.random.default_rng(13)
    for path in sorted(source.glob("*.feather")):
        if not path.name.startswith(("BTC_USDT", "ETH_USDT")) or "-1m." in path.name:
            continue
        frame = pd.read_feather(path)
        inside = np.flatnonzero((frame["date"] >= TEST_START) & (frame["date"] < TEST_END))
        values = frame.loc[inside, PRICE_COLUMNS].to_numpy()
        frame.loc[inside, PRICE_COLUMNS] = values[rng.permutation(len(inside))]
        frame.to_feather(target / path.name)


def settings(datadir: Path, tmp: Path, name: str) -> Settings:
    return Settings(
        strategy="SampleStrategy",
        strategy_path=freqtrade_templates(),
        datadir=datadir,
        out=tmp / name,
        cache_dir=tmp / f"cache-{name}",
        grid=GRID,
        train_months=1,
        test_months=1,
        step_months=1,
        start=TRAIN_START,
        end=TEST_END,
        fees=(0.001,),
        baselines=(),
        progress=False,
    )


def test_scrambling_a_folds_test_candles_leaves_its_choice_unchanged(
    tmp_path: Path, binance_dir: Path
) -> None:
    garbage = tmp_path / "scrambled"
    scrambled_copy(binance_dir, garbage)
    original = run_walk_forward(settings(binance_dir, tmp_path, "original"))
    scrambled = run_walk_forward(settings(garbage, tmp_path, "scrambled"))
    (fold,) = original["folds"]
    (other,) = scrambled["folds"]
    assert fold["test"][0] == TEST_START.isoformat()
    trained = [(s["params"], s["train"]) for s in fold["selection"]]
    assert [(s["params"], s["train"]) for s in other["selection"]] == trained
    assert other["chosen_params"] == fold["chosen_params"]
    # the grid points differ on the train window, so the choice is a real one
    assert len({s["objective"] for s in fold["selection"]}) == 2
    # and the garbage did reach the test window
    fee = "0.001"
    test = fold["results"]["strategy"][fee]
    assert other["results"]["strategy"][fee]["total_return_pct"] != test["total_return_pct"]


def markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The body cells of the first table after ``heading`` in a Markdown text."""
    table: list[str] = []
    for line in text.split(heading, 1)[1].splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]


def test_the_command_line_writes_a_report_that_agrees_with_itself(
    tmp_path: Path, full_binance_dir: Path
) -> None:
    """Two folds of 2024-01..03: the full recording's 5m candles (the sample's span is too
    short for two train-and-test months)."""
    binance_dir = full_binance_dir
    out, cache = tmp_path / "report", tmp_path / "cache"
    argv = [
        sys.executable,
        "-m",
        "trading_agent.launch.walk_forward",
        "--strategy",
        "SampleStrategy",
        "--grid",
        json.dumps(GRID),
        "--datadir",
        str(binance_dir),
        "--train-months",
        "1",
        "--test-months",
        "1",
        "--step-months",
        "1",
        "--start",
        "2024-01-01",
        "--end",
        "2024-04-01",
        "--fees",
        "0,0.001",
        "--baselines",
        "bh,sample",
        "--extra-trials",
        "3",
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "--no-progress",
    ]
    began = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    first_wall = time.monotonic() - began
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    markdown = (out / "report.md").read_text()
    assert (out / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert overall_table(report) in proc.stdout
    assert overall_table(report) in markdown

    assert [f["number"] for f in report["folds"]] == [1, 2]
    assert report["grid_size"] == 2 and report["trials"] == 5
    assert set(report["rows"]) == {"strategy", "bh", "sample"}
    assert report["reconstruction_max_gap"] < 1e-6
    for fold in report["folds"]:
        assert fold["chosen_params"]["buy_rsi"] in (25, 35)
        train = f"{fold['train'][0][:10]}..{fold['train'][1][:10]}"
        chosen = f"buy_rsi={fold['chosen_params']['buy_rsi']}"
        assert f"| {fold['number']} | {train} | {chosen} |" in markdown
    # every overall figure in the Markdown table is the JSON's, rounded
    cells = {(row[0], row[1]): row for row in markdown_rows(markdown, "## Overall")}
    for key, label in report["rows"].items():
        for fee in report["fees"]:
            stats = report["overall"][key][str(fee["fee"])]
            row = cells[(label, fee["label"])]
            assert float(row[3]) == pytest.approx(stats["total_return_pct"], abs=0.006)
            assert float(row[8]) == pytest.approx(stats["max_drawdown_pct"], abs=0.006)
            assert int(row[11]) == stats["trades"]
    assert report["overall"]["bh"]["0.001"]["exposure_pct"] == pytest.approx(100.0)
    dsr = report["deflated_sharpe"]["0.001"]
    assert dsr["n_trials"] == 5 and 0.0 <= dsr["dsr"] <= 1.0
    runs = report["runs"]
    # 2 folds x 2 grid points to train, 2 folds x 2 fees to test, 1 stretch x 2 fees of sample;
    # fold 1's test at 0.1 % is fold 2's train run of the same parameters: one backtest
    uses = [use for r in runs for use in r["what"].split("; ")]
    assert len(uses) == 10 and len(runs) == len({r["key"] for r in runs})
    assert not any(r["cached"] for r in runs)
    assert all(r["command"].startswith("python -m trading_agent.launch.offline") for r in runs)
    assert all(re.search(r"--timerange \d{8}-\d{8}T\d{4}", r["command"]) for r in runs)

    began = time.monotonic()
    again = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    second_wall = time.monotonic() - began
    assert again.returncode == 0, again.stderr[-3000:]
    cached = json.loads((out / "report.json").read_text())
    assert all(r["cached"] for r in cached["runs"])
    assert cached["overall"] == report["overall"]
    assert second_wall < first_wall


def test_a_strategy_without_a_grid_runs_at_its_defaults(tmp_path: Path, binance_dir: Path) -> None:
    defaults = replace(settings(binance_dir, tmp_path, "defaults"), grid=None, baselines=("bh",))
    report = run_walk_forward(defaults)
    assert report["rows"]["strategy"] == "SampleStrategy (defaults)"
    assert report["grid_size"] == 0 and report["trials"] == 1
    (fold,) = report["folds"]
    assert fold["chosen_params"] == {} and fold["selection"] == []
    assert [r["what"] for r in report["runs"]] == ["test fold 1"]
    dsr = report["deflated_sharpe"]["0.001"]
    assert dsr["expected_max_sharpe"] == 0.0 and "1/(T-1)" in dsr["variance_estimate"]
    assert report["overall"]["bh"]["0.001"]["folds"] == [1]
