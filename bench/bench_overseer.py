"""Benchmarks of the LLM overseer: callback latency under a stuck model, and modelled daily cost.

1. Callback latency. One "bot iteration" is the worst case of a Freqtrade loop for 2 pairs:
   a new candle on each, so the strategy analyses both (stand-in: 17 TA-Lib indicator and
   signal columns on the last 1000 real 5m candles of each pair), then the overseer hooks
   ``bot_loop``,
   ``approve_entry``, ``risk_advice`` and ``exit_advice``. It is timed with the overseer in
   ``llm`` mode against the local stub server holding *every* answer for 10 s, and with the
   overseer ``off``; iterations alternate between the two so machine noise hits both alike.
   Rows: p50/p99 ratio on/off (target <= 1.1x) and the hooks' own time in microseconds.

2. Modelled daily cost. The overseer runs at default settings (tiers, schedule, triggers,
   prompts, cache) in ``llm`` mode over 3 real days of BTC and ETH 5m candles
   (2024-08-03 .. 2024-08-06, which includes the 5 August sell-off) against the stub, which
   answers with a realistic neutral decision and reports ``usage`` as characters / 4 of the
   real request (messages and JSON schema) and answer -- an estimate, not a tokenizer. Cost =
   usage x the default price table (assumed OpenRouter prices, see docs/overseer.md).
   The naive design calls the top model (tier 3) for each pair on every 5m candle with the
   same measured tokens per call.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd
import talib

from plugins.hookspecs import TradeSnapshot
from plugins.llm_overseer.plugin import OverseerPlugin
from plugins.llm_overseer.settings import Settings
from tests.conftest import shared_data_dir
from tests.openai_stub_server import Reply, StubServer

PAIRS = {"BTC/USDC": "BTC_USDT", "ETH/USDC": "ETH_USDT"}
NEUTRAL = {
    "regime": "normal",
    "stake_multiplier": 1.0,
    "pause_entries": False,
    "escalate": False,
    "ttl_minutes": 30,
    "reason": "Trend intact, volatility near its baseline, no open risk; keep full size.",
}
STRATEGIC = {
    "stake_multiplier": 1.0,
    "pause_entries": False,
    "stop_distance": None,
    "exit_position": False,
    "confidence": 0.6,
    "ttl_minutes": 60,
    "reason": "Trigger reviewed: no action beyond the current limits is warranted.",
}
EMERGENCY = {
    "pause_scope": "none",
    "stake_multiplier": 1.0,
    "stop_distance": None,
    "exit_position": False,
    "ttl_minutes": 30,
    "reason": "Move reviewed; liquidity normal; keep the current limits.",
}


def _load(pair_file: str) -> pd.DataFrame:
    path = shared_data_dir() / "binance" / f"{pair_file}-5m.feather"
    if not path.exists():
        raise FileNotFoundError(f"recorded data not found: {path}")
    return pd.read_feather(path)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _strategy_work(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Stand-in for a strategy's analysis of a new candle: TA-Lib columns on each frame."""
    out = {}
    for pair, src in frames.items():
        df = src.copy()
        h, lo, c, v = (df[k].to_numpy(dtype=float) for k in ("high", "low", "close", "volume"))
        for n in (9, 21, 50, 200):
            df[f"ema_{n}"] = talib.EMA(c, n)
        df["rsi"] = talib.RSI(c, 14)
        df["macd"], df["macdsignal"], df["macdhist"] = talib.MACD(c, 12, 26, 9)
        df["bb_upper"], df["bb_mid"], df["bb_lower"] = talib.BBANDS(c, 20, 2.0, 2.0)
        df["atr"] = talib.ATR(h, lo, c, 14)
        df["adx"] = talib.ADX(h, lo, c, 14)
        df["mfi"] = talib.MFI(h, lo, c, v, 14)
        df["slowk"], df["slowd"] = talib.STOCH(h, lo, c)
        df["enter_long"] = ((df["rsi"] < 30) & (df["ema_9"] > df["ema_21"])).astype(int)
        df["exit_long"] = (df["rsi"] > 70).astype(int)
        out[pair] = df
    return out


def bench_latency(data: dict[str, pd.DataFrame], loops: int = 300) -> list[dict[str, Any]]:
    """Iteration latency: overseer off, rules mode, and llm mode with the model stuck 10 s."""
    start = pd.Timestamp("2024-06-10 00:00", tz="UTC")
    with (
        tempfile.TemporaryDirectory() as tmp,
        StubServer(default=Reply.answer(NEUTRAL, delay_s=10.0)) as stub,
    ):
        os.environ.setdefault("OPENROUTER_API_KEY", "bench-key-not-secret")
        plugins = {
            "llm": OverseerPlugin(
                Settings(mode="llm", base_url=stub.base_url, journal_path=f"{tmp}/llm.sqlite")
            ),
            "rules": OverseerPlugin(Settings(mode="rules", journal_path=f"{tmp}/rules.sqlite")),
            "off": OverseerPlugin(Settings(mode="off")),
        }
        for p in plugins.values():
            p.bot_start(config={"timeframe": "5m"}, runmode="dry_run", notify=lambda *a, **k: None)
        trade = TradeSnapshot(  # synthetic open trade so exit_advice has work
            trade_id=1,
            pair="BTC/USDC",
            is_short=False,
            is_open=True,
            open_date=start.to_pydatetime(),
            open_rate=60000.0,
            amount=0.001,
            stake_amount=60.0,
        )
        dates = {p: df["date"] for p, df in data.items()}
        totals: dict[str, list[float]] = {k: [] for k in plugins}
        hooks: dict[str, list[float]] = {k: [] for k in plugins}
        order = list(plugins)
        for k in range(loops):
            now = start + pd.Timedelta(minutes=5 * k)
            frames = {}
            for p, df in data.items():
                end = int(dates[p].searchsorted(now))
                frames[p] = df.iloc[max(end - 1000, 0) : end]
            order = order[1:] + order[:1]  # rotate so noise hits every variant alike
            for label in order:
                plugin = plugins[label]
                t0 = time.perf_counter()
                analyzed = _strategy_work(frames)
                t1 = time.perf_counter()
                plugin.bot_loop(current_time=now, analyzed=analyzed, open_trades=[trade])
                for pair in analyzed:
                    plugin.approve_entry(pair=pair, current_time=now)
                    plugin.risk_advice(pair=pair, current_time=now)
                plugin.exit_advice(trade=trade, current_time=now, current_profit=0.0)
                t2 = time.perf_counter()
                totals[label].append(t2 - t0)
                hooks[label].append(t2 - t1)
        # Between candles (Freqtrade loops every ~5 s, 60 times per 5m candle): same frames.
        between: list[float] = []
        analyzed = _strategy_work(frames)
        for k in range(loops):
            now_k = now + pd.Timedelta(seconds=5 * (k % 59))
            t1 = time.perf_counter()
            plugins["llm"].bot_loop(current_time=now_k, analyzed=analyzed, open_trades=[trade])
            for pair in analyzed:
                plugins["llm"].approve_entry(pair=pair, current_time=now_k)
                plugins["llm"].risk_advice(pair=pair, current_time=now_k)
            plugins["llm"].exit_advice(trade=trade, current_time=now_k, current_profit=0.0)
            between.append(time.perf_counter() - t1)
        worker = plugins["llm"].overseer.worker
        stuck = worker is not None and not worker.idle()
        requests = len(stub.requests)
        stub.release.set()
        for p in plugins.values():
            p.bot_stop()
    rows = []
    for q, name in ((50, "p50"), (99, "p99")):
        on, off, rules = (_pct(totals[k], q) for k in ("llm", "off", "rules"))
        rows.append(
            {
                "name": f"overseer iteration latency {name}, model delayed 10 s / overseer off",
                "value": round(on / off, 3),
                "unit": "x",
                "target": "<= 1.1",
                "note": f"{loops} new-candle iterations, 2 pairs x 1000 real candles, stand-in "
                f"strategy (17 TA-Lib columns) + hooks; on={on * 1e3:.2f} ms "
                f"off={off * 1e3:.2f} ms; worker stuck={stuck}, model requests={requests}",
            }
        )
        rows.append(
            {
                "name": f"overseer iteration latency {name}, model delayed 10 s / rules mode",
                "value": round(on / rules, 3),
                "unit": "x",
                "target": "<= 1.1",
                "note": f"isolates the model's delay: same context work, no model; "
                f"rules={rules * 1e3:.2f} ms",
            }
        )
        rows.append(
            {
                "name": f"overseer hooks time {name} per new-candle iteration (model delayed)",
                "value": round(_pct(hooks["llm"], q) * 1e6, 1),
                "unit": "us",
                "target": "",
                "note": "bot_loop + 2x approve_entry + 2x risk_advice + exit_advice; rules "
                f"mode {_pct(hooks['rules'], q) * 1e6:.1f} us, off "
                f"{_pct(hooks['off'], q) * 1e6:.1f} us; between candles the features are "
                "cached",
            }
        )
    rows.append(
        {
            "name": "overseer hooks time p50 between candles (model delayed)",
            "value": round(_pct(between, 50) * 1e6, 1),
            "unit": "us",
            "target": "",
            "note": f"same frames, 5 s loop steps (features cached); p99 "
            f"{_pct(between, 99) * 1e6:.1f} us",
        }
    )
    return rows


def _answer_for(body: dict[str, Any]) -> Reply:
    """A valid answer of the tier the request asks for (by its JSON schema name)."""
    fmt = body.get("response_format") or {}
    name = (fmt.get("json_schema") or {}).get("name", "")
    if name.startswith("strategic"):
        return Reply.answer(STRATEGIC)
    if name.startswith("emergency"):
        return Reply.answer(EMERGENCY)
    return Reply.answer(NEUTRAL)


def bench_cost(data: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Modelled daily spend at default settings vs calling the top model every candle."""
    start = pd.Timestamp("2024-08-03 00:00", tz="UTC")
    days = 3
    with tempfile.TemporaryDirectory() as tmp, StubServer(responder=_answer_for) as stub:
        os.environ.setdefault("OPENROUTER_API_KEY", "bench-key-not-secret")
        settings = Settings(mode="llm", base_url=stub.base_url, journal_path=f"{tmp}/j.sqlite")
        plugin = OverseerPlugin(settings)
        plugin.bot_start(config={"timeframe": "5m"}, runmode="dry_run", notify=lambda *a, **k: None)
        worker = plugin.overseer.worker
        dates = {p: df["date"] for p, df in data.items()}
        for k in range(days * 288):
            now = start + pd.Timedelta(minutes=5 * k)
            frames = {}
            for p, df in data.items():
                end = int(dates[p].searchsorted(now))
                frames[p] = df.iloc[max(end - 400, 0) : end]
            plugin.bot_loop(current_time=now.to_pydatetime(), analyzed=frames, open_trades=[])
            worker.wait_idle(10)
        plugin.bot_stop()
        con = sqlite3.connect(f"{tmp}/j.sqlite")
        calls = con.execute(
            "SELECT tier, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd)"
            " FROM calls WHERE outcome='ok' GROUP BY tier"
        ).fetchall()
        hits = con.execute("SELECT COUNT(*) FROM calls WHERE outcome='cache_hit'").fetchone()[0]
        con.close()
    return _cost_rows(settings, calls, hits, days)


def _cost_rows(settings: Settings, calls, cache_hits: int, days: int) -> list[dict[str, Any]]:
    rows = []
    total_cost = sum(c[4] or 0.0 for c in calls)
    n_calls = sum(c[1] for c in calls)
    prompt = sum(c[2] or 0 for c in calls)
    completion = sum(c[3] or 0 for c in calls)
    per_tier = ", ".join(f"tier {c[0]}: {c[1] / days:.1f}/day" for c in calls)
    rows.append(
        {
            "name": "overseer modelled daily cost, 2 pairs, default settings",
            "value": round(total_cost / days, 5),
            "unit": "USD/day",
            "target": f"<= {settings.budget.daily_usd} (default budget)",
            "note": f"{n_calls / days:.0f} calls/day ({per_tier}); cache hits {cache_hits}; "
            f"real BTC/ETH candles 2024-08-03..06; tokens = stub usage (chars/4)",
        }
    )
    mean_prompt = prompt / n_calls if n_calls else 0.0
    mean_completion = completion / n_calls if n_calls else 0.0
    rows.append(
        {
            "name": "overseer tokens per decision (prompt / completion)",
            "value": round(mean_prompt, 1),
            "unit": "tokens",
            "target": "",
            "note": f"mean prompt {mean_prompt:.0f}, completion {mean_completion:.0f} tokens "
            "(chars/4 estimate of the real prompts and JSON schema)",
        }
    )
    top = settings.tiers.tier3.model
    price = settings.prices[top]
    naive_calls = 2 * 288
    naive = (
        naive_calls
        * (mean_prompt * price.input_per_mtok + mean_completion * price.output_per_mtok)
        / 1e6
    )
    rows.append(
        {
            "name": "naive design daily cost (top model every 5m candle, 2 pairs)",
            "value": round(naive, 4),
            "unit": "USD/day",
            "target": "",
            "note": f"{naive_calls} calls/day to {top} at {price.input_per_mtok}/"
            f"{price.output_per_mtok} USD per M tokens, same tokens per call",
        }
    )
    rows.append(
        {
            "name": "overseer cost saving vs naive design",
            "value": round(naive / (total_cost / days), 1) if total_cost else float("inf"),
            "unit": "x",
            "target": "",
            "note": "naive daily cost / modelled daily cost",
        }
    )
    return rows


def run() -> list[dict[str, Any]]:
    """All overseer benchmark rows."""
    data = {pair: _load(name) for pair, name in PAIRS.items()}
    return bench_latency(data) + bench_cost(data)


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}) {row['note']}")
