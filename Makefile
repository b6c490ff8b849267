# Trading-Agent: one command per job. Run `make help` for the list.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED_DATA ?= ../shared/data
DATADIR ?= $(SHARED_DATA)/binance
VENUE_PORT ?= 8090
STRATEGY ?= EnhancedFlashStrategy
TIMERANGE ?= 20240101-20240920
CONFIGS := -c user_data/config.json -c user_data/config.offline.json
# Freqtrade's own sample strategy, straight from the installed package (never a committed copy).
FT_TEMPLATES = $(shell $(BIN)/python -c 'import freqtrade, os; print(os.path.dirname(freqtrade.__file__) + "/templates")')
STRATEGY_PATH ?= $(if $(filter SampleStrategy,$(STRATEGY)),$(FT_TEMPLATES),user_data/strategies)

EPOCHS ?= 30
SPACES ?= buy sell
HYPEROPT_LOSS ?= SharpeHyperOptLossDaily
PAIR ?= ETH/USDT
PLOT_TIMERANGE ?= 20240805-20240812

.PHONY: help setup test test-elsewhere lint format demo backtest hyperopt plot bench venue clean

help:
	@echo "make setup     create .venv and install everything (idempotent)"
	@echo "make test      run the test suite (ruff + pytest)"
	@echo "make demo      offline demo: replay venue + freqtrade trade --dry-run, until Ctrl-C"
	@echo "make backtest  offline Freqtrade backtest on the recorded data (STRATEGY=..., TIMERANGE=...)"
	@echo "make hyperopt  offline hyperopt (STRATEGY=..., EPOCHS=..., SPACES=..., TIMERANGE=...)"
	@echo "make plot      offline plot-dataframe of PAIR with the strategy's plot_config"
	@echo "make bench     run every benchmark under bench/ and print one table"
	@echo "make venue     run the local MEXC-compatible venue in replay mode"

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install only when the project definition changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest -q

# The suite at a moved wall clock (two dates, two time zones) and with numpy's AVX-512 kernels
# disabled: what another machine or another day would see (about 15-20 minutes; not in CI).
test-elsewhere: setup
	PYTHON=$(BIN)/python tests/run_elsewhere.sh

venue: setup
	$(BIN)/ta-venue --datadir $(DATADIR) --port $(VENUE_PORT) --replay

demo: setup
	STRATEGY=$(STRATEGY) STRATEGY_PATH=$(STRATEGY_PATH) DATADIR=$(DATADIR) VENUE_PORT=$(VENUE_PORT) \
		$(BIN)/python -m trading_agent.launch.demo

backtest: setup
	$(BIN)/python -m trading_agent.launch.offline -- $(BIN)/freqtrade backtesting $(CONFIGS) \
		--datadir $(DATADIR) --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timeframe 5m --timerange $(TIMERANGE) --export trades --enable-protections

hyperopt: setup
	$(BIN)/python -m trading_agent.launch.offline -- $(BIN)/freqtrade hyperopt $(CONFIGS) \
		--datadir $(DATADIR) --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timeframe 5m --timerange $(TIMERANGE) --hyperopt-loss $(HYPEROPT_LOSS) \
		--spaces $(SPACES) --epochs $(EPOCHS) -j 2 --enable-protections

plot: setup
	$(BIN)/python -m trading_agent.launch.offline -- $(BIN)/freqtrade plot-dataframe $(CONFIGS) \
		--datadir $(DATADIR) --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timeframe 5m --timerange $(PLOT_TIMERANGE) --pairs $(PAIR)

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis user_data/backtest_results
