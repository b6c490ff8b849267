"""Validated settings of the LLM overseer (the ``trading_agent.plugins.llm_overseer`` block).

Every block forbids unknown keys, so a typo in the config stops start-up with an error that
names the key. The API key itself is never a setting: only the *name* of the environment
variable that holds it (``api_key_env``).

Default models and prices are the values assumed for OpenRouter (USD per million tokens,
input/output) when this module was written; check https://openrouter.ai/models and put the
current figures in your config.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["rules", "llm", "replay", "off"]
StructuredOutput = Literal["auto", "json_schema", "json_object"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: Pairs of fields ``(low, high)`` that must satisfy ``low <= high``.
    _ordered_fields: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for low, high in self._ordered_fields:
            a, b = getattr(self, low), getattr(self, high)
            if a > b:
                raise ValueError(f"{low} ({a}) must be <= {high} ({b})")
        return self


class TierSettings(_Strict):
    """One model tier: which model, how much it may write, how long we wait for it."""

    model: str = Field(min_length=1)
    max_tokens: int = Field(default=400, ge=32, le=8192)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    timeout_s: float = Field(default=20.0, gt=0.0, le=600.0)
    #: Minimum minutes between two calls of this tier for the same pair (tier 1: the schedule).
    interval_minutes: float = Field(default=15.0, ge=0.0, le=24 * 60)
    #: ``auto`` asks for a JSON schema and falls back to JSON mode if the provider refuses it.
    structured_output: StructuredOutput = "auto"


class TiersSettings(_Strict):
    """The three tiers: routine monitoring, strategic review, emergency."""

    tier1: TierSettings = TierSettings(model="openai/gpt-4.1-nano", max_tokens=300)
    tier2: TierSettings = TierSettings(
        model="openai/gpt-4.1-mini", max_tokens=500, timeout_s=40.0, interval_minutes=60.0
    )
    tier3: TierSettings = TierSettings(
        model="openai/gpt-4.1", max_tokens=500, timeout_s=30.0, interval_minutes=30.0
    )

    def by_number(self, tier: int) -> TierSettings:
        """Return the settings of tier 1, 2 or 3."""
        return getattr(self, f"tier{tier}")


class EscalationSettings(_Strict):
    """Thresholds that escalate a pair to tier 2 (strategic) or tier 3 (emergency)."""

    #: Portfolio drawdown (fraction of capital) that escalates to tier 2 / tier 3.
    drawdown_tier2: float = Field(default=0.03, gt=0.0, le=1.0)
    drawdown_tier3: float = Field(default=0.08, gt=0.0, le=1.0)
    #: Volatility ratio (recent / baseline) above which the regime counts as "high".
    high_vol_ratio: float = Field(default=1.8, gt=1.0, le=20.0)
    #: A change of volatility regime (normal <-> high) escalates to tier 2.
    on_vol_regime_change: bool = True
    #: A confirmed pattern against an open position escalates to tier 2.
    on_pattern_against_position: bool = True
    #: Consecutive losing closed trades that escalate to tier 2.
    losing_streak: int = Field(default=3, ge=1, le=100)
    #: Open stake (quote currency) of a pair above which it counts as large; ``None`` = off.
    large_position_quote: float | None = Field(default=None, gt=0.0)
    #: Return over ``flash_window_candles`` candles at or below ``-flash_crash_return`` is a
    #: flash crash (tier 3).
    flash_crash_return: float = Field(default=0.04, gt=0.0, le=1.0)
    flash_window_candles: int = Field(default=3, ge=1, le=100)
    #: Tier 1 may answer ``escalate: true``; honour it with a tier-2 call.
    honour_model_escalation: bool = True

    _ordered_fields = (("drawdown_tier2", "drawdown_tier3"),)


class PriceSettings(_Strict):
    """USD per million tokens for one model."""

    input_per_mtok: float = Field(ge=0.0, le=1000.0)
    output_per_mtok: float = Field(ge=0.0, le=1000.0)


def _default_prices() -> dict[str, PriceSettings]:
    # Assumed OpenRouter list prices (USD / 1M tokens) for the default models.
    return {
        "openai/gpt-4.1-nano": PriceSettings(input_per_mtok=0.10, output_per_mtok=0.40),
        "openai/gpt-4.1-mini": PriceSettings(input_per_mtok=0.40, output_per_mtok=1.60),
        "openai/gpt-4.1": PriceSettings(input_per_mtok=2.00, output_per_mtok=8.00),
    }


class BudgetSettings(_Strict):
    """Daily spending limits (UTC days). When either is reached: rules only until midnight."""

    daily_usd: float = Field(default=1.0, ge=0.0, le=10_000.0)
    daily_tokens: int = Field(default=2_000_000, ge=0, le=10**10)


class AuthoritySettings(_Strict):
    """The most the overseer may ever do. It can only reduce risk within these bounds."""

    stake_multiplier_min: float = Field(default=0.0, ge=0.0, le=1.0)
    stake_multiplier_max: float = Field(default=1.0, ge=0.0, le=1.0)
    #: Tightest stop the overseer may set, as a distance from the current rate (0.005 = 0.5 %).
    min_stop_distance: float = Field(default=0.005, gt=0.0, lt=1.0)
    #: Loosest stop the overseer may set (never looser than the strategy's own stop-loss,
    #: which is used instead when it is tighter).
    max_stop_distance: float = Field(default=0.10, gt=0.0, lt=1.0)
    allow_pause: bool = True
    allow_exit: bool = True

    _ordered_fields = (
        ("stake_multiplier_min", "stake_multiplier_max"),
        ("min_stop_distance", "max_stop_distance"),
    )


class DecisionSettings(_Strict):
    """How long decisions live and how hard they are to reverse."""

    default_ttl_minutes: float = Field(default=60.0, gt=0.0, le=7 * 24 * 60)
    max_ttl_minutes: float = Field(default=240.0, gt=0.0, le=7 * 24 * 60)
    #: A stake multiplier change smaller than this is ignored (the old value stays).
    multiplier_band: float = Field(default=0.1, ge=0.0, le=1.0)
    #: A stop-distance change smaller than this is ignored.
    stop_band: float = Field(default=0.002, ge=0.0, le=1.0)
    #: How long a value stays before a risk-increasing change may replace it (see ``store``).
    min_hold_minutes: float = Field(default=30.0, ge=0.0, le=24 * 60)

    _ordered_fields = (("default_ttl_minutes", "max_ttl_minutes"),)


class RulesSettings(_Strict):
    """Parameters of the deterministic rule-based policy."""

    high_vol_multiplier: float = Field(default=0.5, ge=0.0, le=1.0)
    drawdown_multiplier: float = Field(default=0.5, ge=0.0, le=1.0)
    losing_streak_multiplier: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Stop distance the rules set for a pair in a flash crash or severe drawdown.
    emergency_stop_distance: float = Field(default=0.01, gt=0.0, lt=1.0)
    #: Ask to exit open longs of a pair in a flash crash.
    exit_on_flash_crash: bool = True


#: Indicator columns of our strategies and the patterns plugin that prompts carry by default.
_INDICATORS = ("rsi", "adx", "atr", "macd", "macdsignal", "mfi", "anomaly_volume_spike")
_INDICATORS += ("anomaly_gap", "anomaly_range_expansion")


class Settings(_Strict):
    """All settings of the ``llm_overseer`` plugin."""

    #: ``rules`` (deterministic, default), ``llm`` (models; live/dry-run only), ``replay``
    #: (decisions recorded in ``replay_journal``), ``off`` (no opinion at all).
    mode: Mode = "rules"
    #: Record what the overseer would do without applying it (dry-run/live).
    shadow: bool = False
    base_url: str = "https://openrouter.ai/api/v1"
    #: Name of the environment variable holding the API key (never the key itself).
    api_key_env: str = Field(default="OPENROUTER_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    tiers: TiersSettings = Field(default_factory=TiersSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    prices: dict[str, PriceSettings] = Field(default_factory=_default_prices)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    authority: AuthoritySettings = Field(default_factory=AuthoritySettings)
    decisions: DecisionSettings = Field(default_factory=DecisionSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    #: Identical prompt within this many seconds: reuse the answer, no new call.
    cache_ttl_s: float = Field(default=900.0, ge=0.0, le=24 * 3600)
    journal_path: str = "user_data/overseer/journal.sqlite"
    #: Journal to replay decisions from (``mode: replay``).
    replay_journal: str | None = None
    #: No asset names, no dates, prices only as returns (for evaluation).
    anonymise: bool = False
    #: Capital used to turn PnL into drawdown; ``None`` = Freqtrade's ``dry_run_wallet``.
    capital_quote: float | None = Field(default=None, gt=0.0)
    #: Invalid model output: retries before the fallback policy (the issue asks for one).
    invalid_output_retries: int = Field(default=1, ge=0, le=3)
    #: HTTP 429/5xx: retries (honouring ``Retry-After``) before the fallback policy.
    http_retries: int = Field(default=2, ge=0, le=5)
    #: A ``Retry-After`` longer than this is not waited for: fallback instead.
    max_retry_after_s: float = Field(default=30.0, ge=0.0, le=600.0)
    #: Candles of each pair's dataframe the context builder looks at.
    context_candles: int = Field(default=300, ge=60, le=5000)
    #: Indicator columns copied into the context when the strategy provides them.
    indicator_columns: list[str] = Field(default_factory=lambda: list(_INDICATORS))
    #: Background queue length; a full queue drops the new job (and says so in the journal).
    queue_size: int = Field(default=16, ge=1, le=1000)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.mode == "replay" and not self.replay_journal:
            raise ValueError("mode 'replay' needs replay_journal (path of a recorded journal)")
        for number in (1, 2, 3):
            model = self.tiers.by_number(number).model
            if model not in self.prices:
                raise ValueError(
                    f"tiers.tier{number}.model {model!r} has no entry in prices (USD per "
                    "million input/output tokens; use 0 for a local model)"
                )
        return self
