# Trading-Agent: one command per job. Run `make help` for the list.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Recorded candles: ../shared/data/binance (or $TA_SHARED_DATA/binance) where it exists, the
# embedded sample otherwise (a fresh clone); the same rule as trading_agent/launch/datadir.py.
SHARED_DATA ?= $(or $(TA_SHARED_DATA),../shared/data)
SAMPLE_DATA := user_data/data/sample/binance
DEFAULT_DATADIR := $(if $(wildcard $(SHARED_DATA)/binance),$(SHARED_DATA)/binance,$(SAMPLE_DATA))
DATADIR ?= $(DEFAULT_DATADIR)
ifeq ($(strip $(DATADIR)),)
override DATADIR := $(DEFAULT_DATADIR)
endif
ON_SAMPLE := $(filter $(SAMPLE_DATA) ./$(SAMPLE_DATA),$(DATADIR))
VENUE_PORT ?= 8090
# The REST API / FreqUI port of the demo (FREQTRADE__API_SERVER__LISTEN_PORT sets it too).
API_PORT ?= $(or $(FREQTRADE__API_SERVER__LISTEN_PORT),8080)
REPLAY_START ?= 2024-08-05
# Symbols the demo's venue marks as not tradable through the API (e.g. BTCUSDT): see the check.
API_DISABLED ?=
STRATEGY ?= EnhancedFlashStrategy
# The sample's 5m candles run 2024-06-15..2024-08-20 (400 start-up candles come first).
TIMERANGE ?= $(if $(ON_SAMPLE),20240617-20240820,20240101-20240920)
# The offline overlay written for each run, pointing ccxt at this run's venue port.
RUN_OVERLAY = user_data/run/config.offline-$(VENUE_PORT).json
CONFIGS = -c user_data/config.json -c $(RUN_OVERLAY)
OFFLINE = $(BIN)/python -m trading_agent.launch.offline --datadir "$(DATADIR)" \
	--port $(VENUE_PORT) --overlay $(RUN_OVERLAY) --
# Each strategy's backtests go to a folder of their own: `make plot` reads the latest of its own.
RESULTS ?= user_data/backtest_results
# MEXC taker fee as documented on 2025 (0.05 %); FEE=0 for MEXC's zero-fee pairs, if yours are.
FEE ?= 0.0005
# Freqtrade's own sample strategy, straight from the installed package (never a committed copy).
FT_TEMPLATES = $(shell $(BIN)/python -c 'import freqtrade, os; print(os.path.dirname(freqtrade.__file__) + "/templates")')
STRATEGY_PATH ?= $(if $(filter SampleStrategy,$(STRATEGY)),$(FT_TEMPLATES),user_data/strategies)

EPOCHS ?= 30
SPACES ?= buy sell
HYPEROPT_LOSS ?= SharpeHyperOptLossDaily
PAIR ?= ETH/USDT
PLOT_TIMERANGE ?= 20240805-20240812

# make data: the config's pairs from MEXC itself (needs internet) into user_data/data/mexc.
MEXC_DATADIR ?= user_data/data/mexc
DATA_CONFIGS ?= -c user_data/config.json
DATA_TIMEFRAMES ?= 5m 15m 1h 4h 1d
DATA_TIMERANGE ?= 20240101-

.PHONY: help setup test test-elsewhere lint format demo backtest hyperopt plot data bench venue clean

help:
	@echo "make setup     create .venv and install everything (idempotent)"
	@echo "make test      run the test suite (ruff + pytest)"
	@echo "make demo      offline demo: replay venue + freqtrade trade --dry-run, until Ctrl-C"
	@echo "               (VENUE_PORT=$(VENUE_PORT), API_PORT=$(API_PORT), REPLAY_START=$(REPLAY_START),"
	@echo "               API_DISABLED=SYMBOL,... to see the start-up check refuse a pair)"
	@echo "make backtest  offline Freqtrade backtest (STRATEGY=..., TIMERANGE=..., FEE=...)"
	@echo "make hyperopt  offline hyperopt (STRATEGY=..., EPOCHS=..., SPACES=..., TIMERANGE=...)"
	@echo "make plot      offline plot-dataframe of PAIR with the strategy's plot_config and its"
	@echo "               own latest backtest (PAIR=..., PLOT_TIMERANGE=...)"
	@echo "make data      download the config's pairs from MEXC into $(MEXC_DATADIR) (internet)"
	@echo "make bench     run every benchmark under bench/ and print one table"
	@echo "make venue     run the local MEXC-compatible venue in replay mode"
	@echo "data: DATADIR=$(DATADIR)"

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
	$(BIN)/ta-venue --datadir "$(DATADIR)" --port $(VENUE_PORT) --replay --replay-start $(REPLAY_START)

demo: setup
	STRATEGY=$(STRATEGY) STRATEGY_PATH=$(STRATEGY_PATH) DATADIR="$(DATADIR)" \
		VENUE_PORT=$(VENUE_PORT) REPLAY_START=$(REPLAY_START) API_DISABLED=$(API_DISABLED) \
		FREQTRADE__API_SERVER__LISTEN_PORT=$(API_PORT) $(BIN)/python -m trading_agent.launch.demo

backtest: setup
	@mkdir -p $(RESULTS)/$(STRATEGY)
	$(OFFLINE) $(BIN)/freqtrade backtesting $(CONFIGS) \
		--datadir "$(DATADIR)" --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timeframe 5m --timerange $(TIMERANGE) --fee $(FEE) --export trades --enable-protections \
		--backtest-directory $(RESULTS)/$(STRATEGY)

hyperopt: setup
	$(OFFLINE) $(BIN)/freqtrade hyperopt $(CONFIGS) \
		--datadir "$(DATADIR)" --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timeframe 5m --timerange $(TIMERANGE) --fee $(FEE) --hyperopt-loss $(HYPEROPT_LOSS) \
		--spaces $(SPACES) --epochs $(EPOCHS) -j 2 --enable-protections

# With the strategy's own latest backtest (make backtest STRATEGY=...), else without trades.
plot: setup
	@if [ -f "$(RESULTS)/$(STRATEGY)/.last_result.json" ]; then \
		trades="--export-filename $(RESULTS)/$(STRATEGY)"; \
		echo "make plot: trades from the latest backtest of $(STRATEGY) in $(RESULTS)/$(STRATEGY)"; \
	else \
		trades="--no-trades"; \
		echo "make plot: no backtest of $(STRATEGY) yet, plotting without trades" \
			"(make backtest STRATEGY=$(STRATEGY) first to see them)"; \
	fi; \
	$(OFFLINE) $(BIN)/freqtrade plot-dataframe $(CONFIGS) \
		--datadir "$(DATADIR)" --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timeframe 5m --timerange $(PLOT_TIMERANGE) --pairs $(PAIR) $$trades

data: setup
	$(BIN)/freqtrade download-data $(DATA_CONFIGS) --datadir $(MEXC_DATADIR) \
		--timeframes $(DATA_TIMEFRAMES) --timerange $(DATA_TIMERANGE)

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis user_data/backtest_results user_data/run
