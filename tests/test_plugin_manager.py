"""The plugin manager: loading, settings validation and the rules combining answers."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict, Field

from tests.freqtrade_harness import pip_install_into
from trading_agent import EntryVerdict, Plugin, RiskAdvice, TradeSnapshot, hookimpl, hookspecs
from trading_agent.manager import AgentPlugins, PluginConfigError, PluginSource, parse_agent_config

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class ThresholdSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    label: str = "x"


class Approver(Plugin):
    name = "approver"
    Settings = ThresholdSettings

    @hookimpl
    def approve_entry(self, pair):
        return EntryVerdict(True, f"fine for {pair}")

    @hookimpl
    def risk_advice(self):
        return RiskAdvice(stake_multiplier=0.8, stoploss=-0.05, reason="cautious")


class Vetoer(Plugin):
    name = "vetoer"

    @hookimpl
    def approve_entry(self, rate):
        return EntryVerdict(False, f"rate {rate} too high")

    @hookimpl
    def risk_advice(self):
        return RiskAdvice(stake_multiplier=0.5, stoploss=-0.02)


class Broken(Plugin):
    name = "broken"

    @hookimpl
    def approve_entry(self):
        raise RuntimeError("boom")

    @hookimpl
    def risk_advice(self):
        raise RuntimeError("boom")

    @hookimpl
    def exit_advice(self):
        raise RuntimeError("boom")

    @hookimpl
    def trade_closed(self):
        raise RuntimeError("boom")


class Exiter(Plugin):
    name = "exiter"

    @hookimpl
    def exit_advice(self, current_profit):
        return "drawdown" if current_profit < -0.01 else None


class Columns(Plugin):
    name = "columns"

    @hookimpl
    def add_indicators(self, dataframe):
        return pd.DataFrame({"double_close": dataframe["close"] * 2}, index=dataframe.index)


class SameColumns(Columns):
    name = "same_columns"


class BadIndex(Plugin):
    name = "bad_index"

    @hookimpl
    def add_indicators(self, dataframe):
        return pd.DataFrame({"x": [1.0]})


def agent_of(*plugins: Plugin) -> AgentPlugins:
    agent = AgentPlugins()
    for plugin in plugins:
        agent.register(plugin)
    return agent


ENTRY_KW = dict(
    pair="BTC/USDT",
    side="long",
    rate=100.0,
    amount=1.0,
    current_time=NOW,
    candle={},
    orderbook=None,
    runmode="backtest",
)
RISK_KW = dict(
    pair="BTC/USDT", side="long", current_time=NOW, current_rate=100.0, candle={}, trade=None
)


def test_any_veto_wins_and_every_reason_is_reported() -> None:
    decision = agent_of(Approver(), Vetoer()).approve_entry(**ENTRY_KW)
    assert not decision.allow
    assert decision.vetoes == (("vetoer", "rate 100.0 too high"),)
    assert decision.approvals == (("approver", "fine for BTC/USDT"),)
    assert agent_of(Approver()).approve_entry(**ENTRY_KW).allow


def test_a_plugin_error_vetoes_the_entry_instead_of_approving_it() -> None:
    decision = agent_of(Approver(), Broken()).approve_entry(**ENTRY_KW)
    assert not decision.allow
    assert decision.vetoes[0][0] == "broken" and "boom" in decision.vetoes[0][1]


def test_no_plugins_means_no_opinion_and_entry_allowed() -> None:
    assert agent_of().approve_entry(**ENTRY_KW).allow


def test_smallest_multiplier_and_tightest_stoploss_win() -> None:
    risk = agent_of(Approver(), Vetoer()).risk_advice(**RISK_KW)
    assert risk.stake_multiplier == 0.5
    assert risk.stoploss == -0.02


def test_a_failing_risk_plugin_means_no_new_risk() -> None:
    risk = agent_of(Approver(), Broken()).risk_advice(**RISK_KW)
    assert risk.stake_multiplier == 0.0
    assert risk.stoploss == -0.05


@pytest.mark.parametrize("bad", [float("nan"), -1.0, float("inf")])
def test_invalid_multiplier_means_no_new_risk(bad: float) -> None:
    class Weird(Plugin):
        name = "weird"

        @hookimpl
        def risk_advice(self):
            return RiskAdvice(stake_multiplier=bad)

    assert agent_of(Weird()).risk_advice(**RISK_KW).stake_multiplier == 0.0


def test_positive_stoploss_is_ignored_not_applied() -> None:
    class Loose(Plugin):
        name = "loose"

        @hookimpl
        def risk_advice(self):
            return RiskAdvice(stoploss=0.3)

    risk = agent_of(Loose()).risk_advice(**RISK_KW)
    assert risk.stoploss is None and risk.stake_multiplier == 1.0


def test_exit_requests_win_and_errors_never_force_an_exit() -> None:
    trade = TradeSnapshot(1, "BTC/USDT", False, True, NOW, 100.0, 1.0, 100.0)
    agent = agent_of(Exiter(), Broken())
    kw = dict(trade=trade, current_time=NOW, current_rate=98.0)
    assert agent.exit_advice(**kw, current_profit=-0.02) == "exiter: drawdown"
    assert agent.exit_advice(**kw, current_profit=0.01) is None
    # notification hooks swallow (and log) failures
    agent.trade_closed(trade=trade, current_time=NOW)


def test_add_indicators_joins_columns_and_rejects_clashes_and_bad_frames() -> None:
    df = pd.DataFrame({"close": [1.0, 2.0, 3.0]})
    out = agent_of(Columns()).add_indicators(df, "BTC/USDT", "5m", "backtest")
    assert list(out.columns) == ["close", "double_close"]
    assert out["double_close"].tolist() == [2.0, 4.0, 6.0]
    assert list(df.columns) == ["close"]
    with pytest.raises(RuntimeError, match="existing columns"):
        agent_of(Columns(), SameColumns()).add_indicators(df, "BTC/USDT", "5m", "backtest")
    with pytest.raises(RuntimeError, match="bad_index"):
        agent_of(BadIndex()).add_indicators(df, "BTC/USDT", "5m", "backtest")


def fake_available(*classes: type[Plugin]) -> dict:
    return {
        cls.name: (
            metadata.EntryPoint(cls.name, f"{__name__}:{cls.__name__}", "trading_agent.plugins"),
            PluginSource(cls.name, f"{__name__}:{cls.__name__}", "tests", "0"),
        )
        for cls in classes
    }


AVAILABLE = fake_available(Approver, Vetoer)


def test_from_config_loads_enabled_plugins_with_validated_settings() -> None:
    config = {
        "trading_agent": {
            "enabled_plugins": ["approver"],
            "plugins": {"approver": {"threshold": 0.25}},
        }
    }
    agent = AgentPlugins.from_config(config, available=AVAILABLE)
    assert agent.names == ["approver"]
    assert agent.pm.get_plugin("approver").settings.threshold == 0.25
    assert agent.hooks_of("approver") == ["approve_entry", "risk_advice"]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"enabled": []}, r"trading_agent\.enabled: unknown key"),
        ({"enabled_plugins": "approver"}, r"enabled_plugins must be a list"),
        ({"enabled_plugins": ["approver", "approver"]}, r"lists a plugin twice"),
        ({"enabled_plugins": ["nope"]}, r"plugin 'nope' is not installed"),
        ({"enabled_plugins": [], "plugins": {"nope": {}}}, r"plugin 'nope' is not installed"),
        (
            {"enabled_plugins": ["approver"], "plugins": {"approver": 3}},
            r"plugins\.approver must be an object",
        ),
        (
            {"enabled_plugins": ["approver"], "plugins": {"approver": {"treshold": 0.1}}},
            r"trading_agent\.plugins\.approver\.treshold: unknown setting",
        ),
        (
            {"enabled_plugins": ["approver"], "plugins": {"approver": {"threshold": "high"}}},
            r"approver\.threshold: .*\(got 'high'\)",
        ),
        (
            {"enabled_plugins": ["approver"], "plugins": {"approver": {"threshold": 1.5}}},
            r"approver\.threshold: Input should be less than or equal to 1 \(got 1\.5\)",
        ),
        (
            {"enabled_plugins": ["vetoer"], "plugins": {"vetoer": {"anything": 1}}},
            r"vetoer\.anything: unknown setting",
        ),
    ],
)
def test_bad_config_gives_one_clear_error_naming_the_value(block: dict, message: str) -> None:
    with pytest.raises(PluginConfigError, match=message):
        AgentPlugins.from_config({"trading_agent": block}, available=AVAILABLE)


def test_settings_of_a_disabled_plugin_are_still_validated() -> None:
    config = {
        "trading_agent": {"enabled_plugins": ["vetoer"], "plugins": {"approver": {"threshold": -1}}}
    }
    with pytest.raises(PluginConfigError, match=r"approver\.threshold"):
        AgentPlugins.from_config(config, available=AVAILABLE)


def test_default_block_enables_the_builtin_plugins() -> None:
    enabled, settings = parse_agent_config({})
    assert enabled == ["session_manager", "patterns", "orderbook", "llm_overseer"]
    assert settings == {}


def hookspec_names() -> list[str]:
    return sorted(
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "trading_agent_spec")
    )


def test_every_hook_has_a_typed_docstring_that_states_its_combining_rule() -> None:
    names = hookspec_names()
    assert len(names) >= 9
    for name in names:
        fn = getattr(hookspecs, name)
        assert fn.__doc__ and "Combining:" in fn.__doc__, name
        assert "return" in fn.__annotations__, name


def test_every_hook_is_documented_with_its_signature() -> None:
    """docs/hooks.md gives each hook a heading, a row in the combining table and, as the
    first line of its section, the spec's exact signature: arguments in order and the
    return annotation."""
    doc = (REPO / "docs" / "hooks.md").read_text()
    sections = dict(re.findall(r"^### (\w+)\n`([^`]+)`", doc, flags=re.MULTILINE))
    assert set(hookspec_names()) <= set(sections), set(hookspec_names()) - set(sections)
    for name in hookspec_names():
        assert f"| `{name}` |" in doc, f"{name} missing from the combining table"
        spec = inspect.signature(getattr(hookspecs, name))
        args = ", ".join(spec.parameters)
        assert sections[name] == f"{name}({args}) -> {spec.return_annotation}", name
    assert set(sections) <= set(hookspec_names()), "docs/hooks.md documents a hook that is gone"


def test_pluggy_makes_every_call_and_the_trace_logs_each(monkeypatch, caplog) -> None:
    """Each plugin's implementation runs through pluggy (its call monitoring sees it), and
    ``TRADING_AGENT_TRACE_PLUGINS=1`` logs plugin, hook, duration and outcome."""
    monkeypatch.setenv("TRADING_AGENT_TRACE_PLUGINS", "1")
    agent = agent_of(Approver(), Vetoer(), Broken())
    seen: list[tuple[str, list[str]]] = []
    agent.pm.add_hookcall_monitoring(
        lambda hook, impls, kwargs: seen.append((hook, [i.plugin_name for i in impls])),
        lambda outcome, hook, impls, kwargs: None,
    )
    with caplog.at_level("INFO", logger="trading_agent.manager"):
        decision = agent.approve_entry(**ENTRY_KW)
    assert not decision.allow
    assert sorted(seen) == [
        ("approve_entry", ["approver"]),
        ("approve_entry", ["broken"]),
        ("approve_entry", ["vetoer"]),
    ]
    traced = [r.getMessage() for r in caplog.records if r.getMessage().startswith("plugin call")]
    assert len(traced) == 3
    assert any(
        re.match(r"plugin call approver approve_entry: [0-9.]+ ms, returned \[EntryVerdict\]", t)
        for t in traced
    )
    assert any(
        re.match(r"plugin call broken approve_entry: [0-9.]+ ms, raised RuntimeError", t)
        for t in traced
    )


def test_hooks_the_manager_cannot_honour_are_refused_at_registration() -> None:
    class Wrapper(Plugin):
        name = "wrapper"

        @hookimpl(wrapper=True)
        def approve_entry(self):
            result = yield
            return result

    class Misspelt(Plugin):
        name = "misspelt"

        @hookimpl
        def approve_entyr(self):
            return EntryVerdict(True)

    class WrongArgument(Plugin):
        name = "wrong"

        @hookimpl
        def approve_entry(self, pairs):
            return None

    for plugin, message in (
        (Wrapper(), "hook wrapper 'approve_entry' is not supported"),
        (Misspelt(), "'approve_entyr', which is not a Trading-Agent hook"),
        (WrongArgument(), "pairs"),
    ):
        agent = AgentPlugins()
        with pytest.raises(PluginConfigError, match=message):
            agent.register(plugin)
        assert agent.names == [] and not agent.implements("approve_entry")


def test_a_plugin_installed_through_the_entry_point_is_picked_up(tmp_path: Path) -> None:
    """Build and pip-install a tiny third-party plugin, then list it with ``python -m plugins``."""
    pkg = tmp_path / "src"
    (pkg / "tiny_plugin").mkdir(parents=True)
    (pkg / "tiny_plugin" / "__init__.py").write_text(
        textwrap.dedent("""
        from trading_agent import EntryVerdict, hookimpl
        from trading_agent.plugin import Plugin

        class TinyPlugin(Plugin):
            name = "tiny"

            @hookimpl
            def approve_entry(self, pair):
                return EntryVerdict(pair != "DOGE/USDT", "tiny says so")
    """)
    )
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "tiny-plugin"
        version = "0.0.1"
        [project.entry-points."trading_agent.plugins"]
        tiny = "tiny_plugin:TinyPlugin"
        [tool.setuptools]
        packages = ["tiny_plugin"]
    """)
    )
    target = tmp_path / "site"
    pip_install_into(pkg, target)
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"trading_agent": {"enabled_plugins": ["tiny"]}}))
    out = subprocess.run(
        [sys.executable, "-m", "trading_agent", "list", "--json", "-c", str(config)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    rows = json.loads(out.stdout)
    assert rows == [
        {
            "name": "tiny",
            "builtin": False,
            "distribution": "tiny-plugin 0.0.1",
            "entry_point": "tiny_plugin:TinyPlugin",
            "hooks": ["approve_entry"],
        }
    ]
