"""The example third-party plugin in examples/ installs, loads and behaves as its guide says."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.freqtrade_harness import pip_install_into
from trading_agent.manager import AgentPlugins, PluginConfigError, discover_plugins

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quiet-hours-plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """pip-install the example package into a private folder and put it on sys.path."""
    target = tmp_path_factory.mktemp("site")
    pip_install_into(EXAMPLE, target)
    sys.path.insert(0, str(target))
    try:
        yield
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("quiet_hours_plugin", None)


def config(**settings: object) -> dict:
    return {
        "trading_agent": {"enabled_plugins": ["quiet_hours"], "plugins": {"quiet_hours": settings}}
    }


def entry(agent: AgentPlugins, hour: int):
    when = datetime(2024, 5, 1, hour, 30, tzinfo=UTC)
    return agent.approve_entry(
        pair="BTC/USDC",
        side="long",
        rate=1.0,
        amount=1.0,
        current_time=when,
        candle={},
        orderbook=None,
        runmode="backtest",
    )


def test_example_is_discovered_as_a_third_party_plugin(installed: None) -> None:
    source = discover_plugins()["quiet_hours"][1]
    assert source.distribution == "ta-quiet-hours" and not source.builtin


def test_example_vetoes_quiet_hours_across_midnight_and_scales_the_edges(installed) -> None:
    agent = AgentPlugins.from_config(config(start_hour=22, end_hour=1, edge_multiplier=0.25))
    assert [entry(agent, h).allow for h in (21, 22, 23, 0, 1, 12)] == [
        True,
        False,
        False,
        False,
        True,
        True,
    ]
    assert "quiet hours 22-01 UTC" in entry(agent, 23).reason
    risk = [
        agent.risk_advice(
            pair="BTC/USDC",
            side="long",
            current_time=datetime(2024, 5, 1, h, tzinfo=UTC),
            current_rate=1.0,
            candle={},
            trade=None,
        ).stake_multiplier
        for h in (20, 21, 1, 2, 12)
    ]
    assert risk == [1.0, 0.25, 0.25, 1.0, 1.0]


def test_example_settings_are_validated(installed: None) -> None:
    with pytest.raises(PluginConfigError, match=r"quiet_hours\.start_hour: .*\(got 24\)"):
        AgentPlugins.from_config(config(start_hour=24))
    with pytest.raises(PluginConfigError, match=r"quiet_hours: Value error, start_hour and "):
        AgentPlugins.from_config(config(start_hour=5, end_hour=5))
