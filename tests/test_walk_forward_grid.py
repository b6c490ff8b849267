"""Strategy grids, parameter files, run specifications and selection rules (no Freqtrade run)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from trading_agent.launch.backtest_runs import BacktestSpec, unapplied_parameters
from trading_agent.launch.evaluate_strategies import freqtrade_templates
from trading_agent.launch.strategy_grid import load_strategy, parameter_file, strategy_grid
from trading_agent.launch.walk_forward import choose, parse_args
from trading_agent.launch.walk_forward_report import trials_variance

TUNABLE = """
from typing import ClassVar

from freqtrade.strategy import BooleanParameter, DecimalParameter, IStrategy, IntParameter


class Tunable(IStrategy):
    timeframe = "1h"
    minimal_roi = {"0": 1.0}
    stoploss = -0.5
    walk_forward_grid: ClassVar[dict[str, list]] = {"window": [10, 20], "scale": [0.5, 1.5]}
    window = IntParameter(5, 50, default=20, space="buy")
    scale = DecimalParameter(0.1, 2.0, default=1.0, decimals=1, space="sell")
    switch = BooleanParameter(default=True, space="buy")
    fixed = IntParameter(1, 3, default=2, space="buy", load=False)

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
"""


@pytest.fixture(scope="module")
def tunable(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("tunable")
    (folder / "tunable_file.py").write_text(TUNABLE)
    return load_strategy("Tunable", folder)


def test_the_class_grid_is_read_with_each_parameters_space(tunable) -> None:
    assert tunable.timeframe == "1h" and tunable.source.name == "tunable_file.py"
    grid = strategy_grid(tunable)
    assert grid.spaces == {"window": "buy", "scale": "sell"}
    assert grid.size == 4
    assert grid.points() == [
        {"window": 10, "scale": 0.5},
        {"window": 10, "scale": 1.5},
        {"window": 20, "scale": 0.5},
        {"window": 20, "scale": 1.5},
    ]
    content = parameter_file("Tunable", grid.points()[1], grid.spaces)
    assert content["strategy_name"] == "Tunable"
    assert content["params"] == {"buy": {"window": 10}, "sell": {"scale": 1.5}}
    assert strategy_grid(tunable, {"switch": [False]}).points() == [{"switch": False}]
    assert strategy_grid(tunable, {}).size == 1 and strategy_grid(tunable, {}).points() == [{}]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"nothing": [1]}, "no hyperoptable parameter 'nothing'"),
        ({"window": []}, "non-empty list"),
        ({"window": 10}, "non-empty list"),
        ({"window": [10, 10]}, "repeat"),
        ({"window": [51]}, r"outside its range \[5, 50\]"),
        ({"window": [7.5]}, "whole number"),
        ({"scale": ["high"]}, "not a number"),
        ({"switch": ["yes"]}, "not one of"),
        ({"fixed": [1]}, "load=False"),
    ],
)
def test_a_bad_grid_names_what_is_wrong(tunable, grid: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        strategy_grid(tunable, grid)


def test_sample_strategy_loads_from_freqtrades_templates(tmp_path: Path) -> None:
    sample = load_strategy("SampleStrategy", freqtrade_templates())
    assert sample.source.name == "sample_strategy.py" and sample.timeframe == "5m"
    assert strategy_grid(sample).size == 1  # no grid declared: run at its defaults
    with pytest.raises(ValueError, match="no strategy 'Missing'"):
        load_strategy("Missing", freqtrade_templates())
    with pytest.raises(ValueError, match="does not exist"):
        load_strategy("SampleStrategy", tmp_path / "nowhere")


def test_a_window_ends_its_timerange_at_the_open_of_its_last_candle(tunable) -> None:
    day = pd.Timestamp("2022-01-01", tz="UTC")
    spec = BacktestSpec(tunable, day, day + pd.DateOffset(months=3), 0.001)
    assert spec.timerange() == "20220101-20220331T2300"
    assert spec.describe()["timeframe"] == "1h"
    with pytest.raises(ValueError, match="holds no 1h candle"):
        BacktestSpec(tunable, day, day, 0.0).timerange()


def test_parameters_missing_from_freqtrades_log_are_reported() -> None:
    log = (
        "... - INFO - Strategy Parameter: window = 10\n"
        "... - INFO - Strategy Parameter: scale = 2.0\n"
        "... - INFO - Strategy Parameter(default): other = 3\n"
    )
    assert unapplied_parameters(log, {"window": 10, "scale": 2}) == {}
    assert unapplied_parameters(log, {"window": 11}) == {"window": 11}
    assert unapplied_parameters(log, {"other": 3}) == {"other": 3}


def test_selection_takes_the_best_the_first_on_ties_and_never_nan() -> None:
    assert choose([0.5, 1.2, 1.2, 0.9]) == 1
    assert choose([math.nan, 0.1, math.nan]) == 1
    assert choose([math.nan, math.nan]) == 0
    assert choose([-1.0, -0.5]) == 1


def test_the_trials_variance_is_the_mean_of_per_fold_variances() -> None:
    variance, text = trials_variance([[0.1, 0.3], [0.0, 0.2, 0.4, math.nan]])
    assert variance == pytest.approx((0.02 + 0.04) / 2)
    assert "mean over 2 folds" in text
    nothing, why = trials_variance([[0.1], [math.nan, 0.2]])
    assert math.isnan(nothing) and "no fold" in why


def test_command_line_errors_name_the_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    settings = parse_args(
        ["--strategy", "SampleStrategy", "--grid", '{"buy_rsi": [25, 35]}', "--baselines", "all"]
    )
    assert settings.grid == {"buy_rsi": [25, 35]}
    assert settings.baselines == ("bh", "sample", "flash", "enhanced")
    assert settings.strategy_path == freqtrade_templates()
    assert settings.out.parts[-2:] == ("walk_forward", "SampleStrategy")
    for argv, message in [
        (["--grid", "{nope"], "--grid is not JSON"),
        (["--grid", "[1]"], "JSON object"),
        (["--baselines", "bh,moon"], "unknown ['moon']"),
        (["--fees", "0,x"], "comma-separated numbers"),
        (["--start", "someday"], "--start must be a date"),
    ]:
        with pytest.raises(SystemExit):
            parse_args(["--strategy", "SampleStrategy", *argv])
        assert message in capsys.readouterr().err
