"""Overseer part 1: settings, answer schemas, clamping, the decision store, rules, context.

Market inputs are real recorded Binance candles (tests/conftest.py); the few small frames and
trades built here are synthetic and labelled so.
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from plugins.llm_overseer.decisions import (
    ALL_PAIRS,
    InvalidAnswer,
    Proposal,
    answer_schema,
    answer_to_proposals,
    parse_answer,
)
from plugins.llm_overseer.features import market_columns
from plugins.llm_overseer.market import PairFeatures, latest_closed, market_now, pair_features
from plugins.llm_overseer.overseer import Overseer
from plugins.llm_overseer.plugin import OverseerPlugin
from plugins.llm_overseer.portfolio import TradeHistory
from plugins.llm_overseer.rules import rules_proposals
from plugins.llm_overseer.settings import Settings
from plugins.llm_overseer.store import DecisionStore
from plugins.llm_overseer.triggers import Scheduler
from tests import golden
from trading_agent import AnalyzedCandles, TradeSnapshot
from trading_agent.candles import ticks_of

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
TF = timedelta(minutes=5)


def _at(df: pd.DataFrame, ts: datetime) -> pd.DataFrame:
    return df[df["date"] <= ts].tail(400)


def features_at(
    df: pd.DataFrame, now: datetime, indicator_columns: tuple[str, ...] = ()
) -> PairFeatures | None:
    """The overseer's view of ``df`` at ``now``: its columns, the latest closed row, read."""
    frame = pd.concat([df, market_columns(df)], axis=1)
    _, row = latest_closed(AnalyzedCandles(frame), ticks_of(frame["date"]), now, TF)
    market = market_now("BTC/USDC", row, frame.columns, Settings().escalation.high_vol_ratio)
    return None if market is None else pair_features(market, indicator_columns)


# ---------------------------------------------------------------- settings


def test_settings_defaults_and_errors_name_the_key() -> None:
    s = Settings()
    assert s.mode == "rules" and s.base_url == "https://openrouter.ai/api/v1"
    assert s.api_key_env == "OPENROUTER_API_KEY"
    assert s.authority.stake_multiplier_min == 0.0 and s.authority.stake_multiplier_max == 1.0
    for tier in (1, 2, 3):
        assert s.tiers.by_number(tier).model in s.prices
    with pytest.raises(ValidationError, match="unknown_key"):
        Settings.model_validate({"unknown_key": 1})
    with pytest.raises(ValidationError, match="stake_multiplier_max"):
        Settings.model_validate({"authority": {"stake_multiplier_max": 1.5}})
    with pytest.raises(ValidationError, match="replay_journal"):
        Settings.model_validate({"mode": "replay"})
    with pytest.raises(ValidationError, match="no entry in prices"):
        Settings.model_validate({"tiers": {"tier1": {"model": "local/llama"}}})
    with pytest.raises(ValidationError, match="drawdown_tier3"):
        Settings.model_validate({"escalation": {"drawdown_tier2": 0.1, "drawdown_tier3": 0.05}})


def test_plugin_pickles_before_and_after_start(tmp_path) -> None:
    plugin = OverseerPlugin(Settings(journal_path=str(tmp_path / "j.sqlite")))
    assert plugin.name == "llm_overseer"
    pickle.loads(pickle.dumps(plugin))
    plugin.bot_start(config={"timeframe": "5m"}, runmode="dry_run", notify=lambda *a, **k: None)
    assert plugin.overseer is not None
    clone = pickle.loads(pickle.dumps(plugin))  # hyperopt-style pickling drops the threads
    assert clone.overseer is None
    plugin.bot_stop()


# ---------------------------------------------------------------- answers and clamps


def test_parse_answer_valid_and_invalid() -> None:
    good = {
        "regime": "volatile",
        "stake_multiplier": 0.5,
        "pause_entries": False,
        "escalate": True,
        "ttl_minutes": 30,
        "reason": "wide ranges",
    }
    ans = parse_answer(1, json.dumps(good))
    assert ans.stake_multiplier == 0.5 and ans.escalate is True
    assert parse_answer(1, "```json\n" + json.dumps(good) + "\n```").reason == "wide ranges"
    with pytest.raises(InvalidAnswer, match="malformed JSON"):
        parse_answer(1, '{"regime": "calm", ')
    missing = dict(good)
    del missing["pause_entries"]
    with pytest.raises(InvalidAnswer, match="pause_entries"):
        parse_answer(1, json.dumps(missing))
    with pytest.raises(InvalidAnswer, match="non-finite"):
        parse_answer(1, json.dumps(good).replace("0.5", "NaN"))
    with pytest.raises(InvalidAnswer, match="pause_entries"):
        parse_answer(1, json.dumps({**good, "pause_entries": "yes"}))
    with pytest.raises(InvalidAnswer, match="not an object"):
        parse_answer(2, "[1, 2]")


def test_schemas_are_strict_and_list_every_field() -> None:
    auth = Settings().authority
    for tier in (1, 2, 3):
        schema = answer_schema(tier, auth, 240)
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])


def test_out_of_range_numbers_are_clamped_and_recorded() -> None:
    s = Settings()
    ans = parse_answer(
        2,
        json.dumps(
            {
                "stake_multiplier": 3.0,
                "pause_entries": False,
                "stop_distance": 0.5,
                "exit_position": False,
                "confidence": 0.9,
                "ttl_minutes": 10_000,
                "reason": "x",
            }
        ),
    )
    (p,) = answer_to_proposals(ans, 2, "BTC/USDC", s.authority, s.decisions, 0.05)
    assert p.stake_multiplier == 1.0
    assert p.stop_distance == 0.05  # never looser than the strategy's own 5 % stop
    assert p.ttl_minutes == s.decisions.max_ttl_minutes
    assert {c.field for c in p.clamps} == {"stake_multiplier", "stop_distance", "ttl_minutes"}
    neg = parse_answer(
        3,
        json.dumps(
            {
                "pause_scope": "all",
                "stake_multiplier": -1,
                "stop_distance": -0.02,
                "exit_position": True,
                "ttl_minutes": 20,
                "reason": "crash",
            }
        ),
    )
    pair_p, all_p = answer_to_proposals(neg, 3, "ETH/USDC", s.authority, s.decisions, None)
    assert pair_p.stake_multiplier == 0.0 and pair_p.stop_distance is None
    assert pair_p.exit_position and pair_p.pause_entries
    assert all_p.scope == ALL_PAIRS and all_p.pause_entries
    assert {c.why for c in pair_p.clamps if c.field == "stop_distance"} == {
        "not a positive distance: ignored"
    }


# ---------------------------------------------------------------- the decision store


def _p(**kw) -> Proposal:
    base = {"scope": "BTC/USDC", "stake_multiplier": 1.0, "ttl_minutes": 60.0}
    base.update(kw)
    return Proposal(**base)


def test_store_expiry_reverts_to_neutral() -> None:
    s = Settings()
    store = DecisionStore(s.authority, s.decisions)
    store.apply(_p(stake_multiplier=0.4, pause_entries=True, ttl_minutes=30), T0)
    eff = store.effective("BTC/USDC", T0 + timedelta(minutes=29))
    assert eff.stake_multiplier == 0.4 and eff.pause_entries
    eff = store.effective("BTC/USDC", T0 + timedelta(minutes=30))
    assert eff == store.neutral()


def test_store_hysteresis_reduces_at_once_and_loosens_only_after_hold() -> None:
    s = Settings()  # band 0.1, hold 30 min
    store = DecisionStore(s.authority, s.decisions)
    store.apply(_p(stake_multiplier=0.5, stop_distance=0.02), T0)
    # inside the band: held
    out = store.apply(_p(stake_multiplier=0.45, stop_distance=0.0195), T0 + timedelta(minutes=1))
    assert not out.applied and set(out.held) == {"stake_multiplier", "stop_distance"}
    # risk-reducing beyond the band: at once
    out = store.apply(_p(stake_multiplier=0.3, pause_entries=True), T0 + timedelta(minutes=2))
    assert {"stake_multiplier", "pause_entries"} <= set(out.changed)
    assert "stop_distance" in out.held  # removing the stop is loosening: held
    # risk-increasing before the hold: held, flip-flop suppressed
    out = store.apply(_p(stake_multiplier=0.9), T0 + timedelta(minutes=10))
    assert "stake_multiplier" in out.held and "pause_entries" in out.held
    eff = store.effective("BTC/USDC", T0 + timedelta(minutes=10))
    assert eff.stake_multiplier == 0.3 and eff.pause_entries and eff.stop_distance == 0.02
    # after the hold: accepted
    out = store.apply(_p(stake_multiplier=0.9), T0 + timedelta(minutes=40))
    assert {"stake_multiplier", "pause_entries", "stop_distance"} <= set(out.changed)
    eff = store.effective("BTC/USDC", T0 + timedelta(minutes=40))
    assert eff.stake_multiplier == 0.9 and not eff.pause_entries and eff.stop_distance is None


def test_store_combines_pair_and_all_pairs() -> None:
    s = Settings()
    store = DecisionStore(s.authority, s.decisions)
    store.apply(_p(stake_multiplier=0.7, stop_distance=0.03), T0)
    store.apply(_p(scope=ALL_PAIRS, stake_multiplier=0.5, pause_entries=True), T0)
    eff = store.effective("BTC/USDC", T0)
    assert eff.stake_multiplier == 0.5 and eff.pause_entries and eff.stop_distance == 0.03
    assert store.effective("ETH/USDC", T0).pause_entries


# ---------------------------------------------------------------- property: hard limits


_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["calm", "volatile", "crash", "none", "pair", "all"]),
)
_answer_dicts = st.fixed_dictionaries(
    {},
    optional={
        k: _field_values
        for k in (
            "regime",
            "stake_multiplier",
            "pause_entries",
            "escalate",
            "stop_distance",
            "exit_position",
            "confidence",
            "pause_scope",
            "ttl_minutes",
            "reason",
        )
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    answers=st.lists(
        st.tuples(st.integers(1, 3), st.one_of(_answer_dicts, st.text(max_size=40))),
        min_size=1,
        max_size=6,
    ),
    mult_max=st.floats(0.05, 1.0),
    max_stop=st.floats(0.01, 0.2),
    strategy_stop=st.one_of(st.none(), st.floats(0.005, 0.3)),
)
def test_any_model_output_stays_within_hard_limits(
    answers, mult_max, max_stop, strategy_stop
) -> None:
    s = Settings.model_validate(
        {
            "authority": {
                "stake_multiplier_min": 0.0,
                "stake_multiplier_max": mult_max,
                "min_stop_distance": 0.005,
                "max_stop_distance": max_stop,
            }
        }
    )
    config = {"timeframe": "5m", **({"stoploss": -strategy_stop} if strategy_stop else {})}
    ov = Overseer(s, config=config, runmode="backtest")
    limit = min(max_stop, strategy_stop) if strategy_stop else max_stop
    now = T0
    for tier, payload in answers:
        text = json.dumps(payload, allow_nan=True) if isinstance(payload, dict) else payload
        for candidate in (text, text.replace("NaN", "1e308")):
            try:
                answer = parse_answer(tier, candidate)
            except InvalidAnswer:
                continue  # invalid answers are retried, then replaced by the rules policy
            proposals = answer_to_proposals(
                answer, tier, "BTC/USDC", s.authority, s.decisions, ov.strategy_stop
            )
            ov.apply(proposals, now)
        now += timedelta(minutes=7)
        advice = ov.risk("BTC/USDC", now)
        if advice is None:
            continue
        assert 0.0 <= advice.stake_multiplier <= mult_max + 1e-12
        if advice.stoploss is not None:
            assert -limit - 1e-12 <= advice.stoploss <= -0.005 + 1e-12


# ---------------------------------------------------------------- context and rules


def test_features_are_causal_and_use_closed_candles_only(btc_5m) -> None:
    now = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    full = features_at(btc_5m, now)
    trimmed = features_at(_at(btc_5m, now), now)
    assert (
        full is not None
        and golden.mismatch(golden.to_plain(full), golden.to_plain(trimmed)) is None
    )
    # the candle opening at `now` has not closed: the last candle used opened at now - 5m
    assert full.candle_time == now - TF
    closes = btc_5m.set_index("date")["close"]
    assert full.close == closes[now - TF]
    # later data cannot change the features at `now`
    tampered = btc_5m.copy()
    tampered.loc[tampered["date"] >= now, "close"] *= 10
    assert features_at(tampered, now) == full


def test_features_handle_missing_and_present_indicator_columns(btc_5m) -> None:
    now = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    df = _at(btc_5m, now).copy()
    df["rsi"] = 55.0  # synthetic indicator column
    df["pattern_double_top"] = 0
    df.loc[df.index[-2], "pattern_double_top"] = -1  # synthetic: confirmed on last closed candle
    df["pattern_double_top_neckline"] = 61000.0  # synthetic price level: not a pattern
    df["cdl_hammer"] = 0
    df.loc[df.index[-1], "cdl_hammer"] = 1  # synthetic, on the candle that has not closed
    df["cdl_not_a_talib_pattern"] = 1  # synthetic: not a name the patterns plugin writes
    f = features_at(df, now, indicator_columns=("rsi", "adx"))
    assert f is not None and f.indicators == {"rsi": 55.0}
    assert f.patterns == {"pattern_double_top": -1}
    assert f.session is None  # no session column: no session
    assert features_at(df.head(10), now) is None


def _crash_frame(btc_5m) -> tuple[pd.DataFrame, datetime]:
    """Find a real 15-minute drop of >= 3 % in BTC 2024 and return the frame ending there."""
    close = btc_5m["close"].to_numpy()
    ret3 = close[3:] / close[:-3] - 1.0
    idx = int(np.argmin(ret3)) + 3
    assert ret3[idx - 3] <= -0.03
    now = btc_5m["date"].iloc[idx] + pd.Timedelta(minutes=5)
    return btc_5m.iloc[: idx + 1], now.to_pydatetime()


def test_rules_policy_is_deterministic_and_reacts_to_a_real_crash(btc_5m) -> None:
    s = Settings.model_validate({"escalation": {"flash_crash_return": 0.03}})
    df, now = _crash_frame(btc_5m)
    f = features_at(df.tail(400), now)
    history = TradeHistory(1000.0)
    trade = TradeSnapshot(  # synthetic open long on the real candles
        trade_id=1,
        pair="BTC/USDC",
        is_short=False,
        is_open=True,
        open_date=now - timedelta(hours=1),
        open_rate=float(df["close"].iloc[-12]),
        amount=0.01,
        stake_amount=100.0,
    )
    portfolio = history.state(now, [trade], {"BTC/USDC": f})
    first = rules_proposals(f, portfolio, s)
    assert first == rules_proposals(f, portfolio, s)
    (p,) = first
    assert p.pause_entries and p.exit_position
    assert p.stop_distance == s.rules.emergency_stop_distance
    calm_now = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    calm = features_at(_at(btc_5m, calm_now), calm_now)
    (q,) = rules_proposals(calm, history.state(calm_now, [], {}), s)
    assert not q.pause_entries and not q.exit_position and q.stop_distance is None


def losing_trades(n: int, now: datetime, stake: float, loss: float) -> list[TradeSnapshot]:
    """``n`` synthetic long BTC trades, closed one an hour before ``now``, each losing ``loss``."""
    return [
        TradeSnapshot(
            trade_id=100 + i,
            pair="BTC/USDC",
            is_short=False,
            is_open=False,
            open_date=now - timedelta(hours=n + 1 - i),
            open_rate=100.0,
            amount=stake / 100.0,
            stake_amount=stake,
            close_date=now - timedelta(hours=n - i),
            profit_abs=-loss * stake,
            profit_ratio=-loss,
        )
        for i in range(n)
    ]


def test_losing_streak_and_drawdown_feed_rules_and_triggers(btc_5m) -> None:
    s = Settings()
    now = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    f = features_at(_at(btc_5m, now), now)
    history = TradeHistory(1000.0)
    for trade in losing_trades(4, now, stake=100.0, loss=0.12):
        history.add_closed(trade)
    pf = history.state(now, [], {})
    assert pf.losing_streak == 4 and pf.drawdown == pytest.approx(0.048)
    (p,) = rules_proposals(f, pf, s)
    assert p.stake_multiplier <= s.rules.drawdown_multiplier * s.rules.losing_streak_multiplier
    sched = Scheduler(s)
    due = sched.due(f, pf, now)
    assert due is not None and due.tier == 2
    assert any("losing streak" in r for r in due.reasons)
    assert sched.due(f, pf, now + timedelta(minutes=5)) is None  # cooldowns
    due = sched.due(f, pf, now + timedelta(minutes=61))
    assert due is not None and due.tier == 2


def test_scheduler_runs_tier1_on_its_interval(btc_5m) -> None:
    s = Settings()
    sched = Scheduler(s)
    history = TradeHistory(1000.0)
    tiers = []
    start = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    for k in range(12):  # one hour of 5m loops
        now = start + timedelta(minutes=5 * k)
        f = features_at(_at(btc_5m, now), now)
        due = sched.due(f, history.state(now, [], {}), now)
        tiers.append(due.tier if due else 0)
    assert tiers.count(1) == 4 and tiers[0] == 1 and tiers[3] == 1


def test_prompts_are_compact_versioned_and_anonymised(btc_5m) -> None:
    from plugins.llm_overseer.prompts import PROMPT_VERSION, build_prompt

    s = Settings()
    now = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    df = _at(btc_5m, now).copy()
    df["atr"] = 350.0  # synthetic indicator in price units
    f = features_at(df, now, indicator_columns=("atr",))
    pf = TradeHistory(1000.0).state(now, [], {})
    plain = build_prompt(1, f, pf, {"stake_multiplier": 1.0}, s.authority)
    anon = build_prompt(
        1,
        f,
        pf,
        {"stake_multiplier": 1.0},
        s.authority,
        anonymise=True,
        aliases={"BTC/USDC": "asset_1"},
    )
    assert plain.version == PROMPT_VERSION and plain.digest != anon.digest
    user_plain = plain.messages[1]["content"]
    user_anon = anon.messages[1]["content"]
    assert "BTC/USDC" in user_plain and "BTC" not in user_anon and "asset_1" in user_anon
    close = f"{f.close:.0f}"
    for text in (user_plain, user_anon):
        assert "2024" not in text and close not in text  # no dates, no price levels
    assert json.loads(user_anon)["market"]["ind"]["atr"] == pytest.approx(350.0 / f.close, 1e-3)
    assert "session" not in json.loads(user_anon)["market"]
    assert sum(len(m["content"]) for m in plain.messages) < 2000  # compact
    # same closed candles -> byte-identical prompt (the cache relies on it)
    again = build_prompt(1, f, pf, {"stake_multiplier": 1.0}, s.authority)
    assert again.digest == plain.digest


def test_plugin_hooks_match_the_hook_specs(tmp_path, btc_5m) -> None:
    import pluggy

    from trading_agent import hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    plugin = OverseerPlugin(Settings(journal_path=str(tmp_path / "j.sqlite")))
    pm.register(plugin)  # raises if a hook name or argument does not match its spec
    pm.hook.bot_start(config={"timeframe": "5m"}, runmode="backtest", notify=lambda *a, **k: None)
    now = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    df = _at(btc_5m, now)
    (extra,) = pm.hook.add_indicators(
        dataframe=df, pair="BTC/USDC", timeframe="5m", runmode="backtest"
    )
    frame = pd.concat([df, extra], axis=1)
    pm.hook.bot_loop(current_time=now, analyzed={"BTC/USDC": frame}, open_trades=[])
    (advice,) = pm.hook.risk_advice(
        pair="BTC/USDC", side="long", current_time=now, current_rate=1.0, candle={}, trade=None
    )
    assert 0.0 <= advice.stake_multiplier <= 1.0
    pm.hook.bot_stop()


def test_strategy_stop_is_the_tighter_of_config_and_hard_limit() -> None:
    from plugins.llm_overseer.overseer import strategy_stop_distance

    assert strategy_stop_distance({}) is None
    assert strategy_stop_distance({"stoploss": -0.05}) == 0.05
    cfg = {"stoploss": -0.05, "trading_agent": {"risk": {"stoploss": -0.03}}}
    assert strategy_stop_distance(cfg) == 0.03
