"""trading_agent.launch.evaluate_strategies: the parts that need no Freqtrade run."""

from __future__ import annotations

from pathlib import Path

import pytest

from trading_agent.launch import evaluate_strategies
from trading_agent.launch.evaluate_strategies import tuned_parameter_files


def test_hyperopt_parameter_files_beside_our_strategies_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate_strategies, "STRATEGY_PATH", tmp_path)
    assert tuned_parameter_files(["FlashStrategy", "EnhancedFlashStrategy"]) == []
    (tmp_path / "EnhancedFlashStrategy.json").write_text("{}")
    (tmp_path / "SampleStrategy.json").write_text("{}")  # not ours: never read from here
    names = ["FlashStrategy", "EnhancedFlashStrategy", "SampleStrategy"]
    assert tuned_parameter_files(names) == [str(tmp_path / "EnhancedFlashStrategy.json")]
