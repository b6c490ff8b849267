"""The start-up exchange check against the local venue, MEXC's rules switched on.

The venue marks symbols not tradable through the API (``--api-disabled``: exchangeInfo
``isSpotTradingAllowed: false``, left out of ``GET /api/v3/defaultSymbols``) and serves fees
(``--fee MAKER,TAKER``: exchangeInfo commissions and the signed ``GET /api/v3/tradeFee``). The
check reaches it through the offline overlay's URLs, as the bot does: live refuses, dry-run
(the real ``freqtrade trade --dry-run``) warns, notifies and keeps running.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from freqtrade.misc import deep_merge_dicts

from tests.freqtrade_harness import BASE_CONFIGS, FREQTRADE, REPO, Api, free_port, wait_for
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process, stop_process
from trading_agent.strategy.exchange_check import ExchangeCheckError, check_exchange

#: Freqtrade's log line of the strategy's notification (sent to Telegram, FreqUI, webhooks).
NOTIFIED = "strategy_msg: Exchange check"


def bot_config(overlay: Path, **exchange: str) -> dict:
    """config.json with the offline overlay on top, as Freqtrade merges them."""
    base = json.loads((REPO / "user_data" / "config.json").read_text())
    merged = deep_merge_dicts(json.loads(overlay.read_text()), base)
    merged["exchange"].update(exchange)
    return merged


def test_live_refuses_an_api_disabled_pair_and_reads_the_venues_fees(
    tmp_path: Path, binance_dir: Path
) -> None:
    notes: list[str] = []
    with running_venue_process(
        binance_dir, free_port(), replay=False, api_disabled=["BTCUSDT"], fee=(0.0002, 0.001)
    ) as url:
        config = bot_config(write_offline_overlay(tmp_path / "offline.json", url))
        with pytest.raises(ExchangeCheckError) as refused:
            check_exchange(config, "live", lambda m, key=None: notes.append(m))
        dry = check_exchange(config, "dry_run", lambda m, key=None: notes.append(m))
        keyed = check_exchange(
            bot_config(tmp_path / "offline.json", key="test-key", secret="test-secret"),
            "dry_run",
            lambda m, key=None: None,
        )
    text = str(refused.value)
    assert "BTC/USDT" in text and "ETH/USDT" not in text and "pair_whitelist" in text
    assert "isSpotTradingAllowed: false" in text and "not in GET /api/v3/defaultSymbols" in text
    assert [c.tradable for c in dry] == [False, True] and len(notes) == 1
    assert {(c.maker, c.taker, c.fee_source) for c in dry} == {(0.0002, 0.001, "market")}
    assert {(c.maker, c.taker, c.fee_source) for c in keyed} == {(0.0002, 0.001, "account")}


@pytest.mark.slow
def test_dry_run_bot_warns_notifies_and_trades_on(tmp_path: Path, binance_dir: Path) -> None:
    api_port = free_port()
    user, password = "tester", "not-a-secret-test-password"
    env = {
        **os.environ,
        "FREQTRADE__API_SERVER__USERNAME": user,
        "FREQTRADE__API_SERVER__PASSWORD": password,
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "test-jwt-secret-of-at-least-32-characters",
        "FREQTRADE__API_SERVER__LISTEN_PORT": str(api_port),
    }
    log = tmp_path / "freqtrade.log"
    with running_venue_process(
        binance_dir,
        free_port(),
        replay=True,
        replay_start="2024-07-15",
        api_disabled=["BTCUSDT"],
        fee=(0.0, 0.0005),
    ) as url:
        overlay = write_offline_overlay(tmp_path / "offline.json", url)
        cmd = [FREQTRADE, "trade", "--dry-run", *BASE_CONFIGS, "-c", str(overlay)]
        cmd += ["--strategy", "FlashStrategy", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}"]
        with log.open("w") as out:
            bot = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            api = Api(api_port, user, password)
            # the notification leaves with the bot's first iteration, after the start-up check
            wait_for(lambda: NOTIFIED in log.read_text(), 180, what="the notification")
            assert api("/show_config")["state"] == "running"
            # Freqtrade drops the inactive market from the whitelist; the check said why
            assert api("/whitelist")["whitelist"] == ["ETH/USDT"]
        finally:
            stop_process(bot, grace=30)
    text = log.read_text()
    assert "EXCHANGE CHECK" in text, text[-3000:]
    assert "dry-run goes on, live trading would be refused" in text
    assert "ETH/USDT tradable through the API; maker 0.000%, taker 0.050% (market)" in text
    sent = [line for line in text.splitlines() if NOTIFIED in line]
    assert len(sent) == 1 and "BTC/USDT" in sent[0], sent
