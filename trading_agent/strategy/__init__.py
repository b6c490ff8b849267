"""The Freqtrade-facing strategy kit: the base strategy, risk limits, the flash kit."""
