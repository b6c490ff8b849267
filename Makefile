# Trading-Agent: one command per job. Run `make help` for the list.
#
# `make help` is generated from this file: a `## ` comment directly above a target or a `?=`
# variable describes it (tests/test_makefile.py checks that every one has one).
SHELL := /bin/bash
## the Python that creates .venv
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
## the folder of recorded market data beside the repository ($TA_SHARED_DATA when set)
SHARED_DATA ?= $(or $(TA_SHARED_DATA),../shared/data)
SAMPLE_DATA := user_data/data/sample/binance
# SHARED_DATA/binance where it exists, else the embedded sample (a fresh clone): the same rule
# as trading_agent/launch/datadir.py.
DEFAULT_DATADIR := $(if $(wildcard $(SHARED_DATA)/binance),$(SHARED_DATA)/binance,$(SAMPLE_DATA))
## the folder of recorded candles (Freqtrade feather files) the venue serves
DATADIR ?= $(DEFAULT_DATADIR)
ifeq ($(strip $(DATADIR)),)
override DATADIR := $(DEFAULT_DATADIR)
endif
ON_SAMPLE := $(filter $(SAMPLE_DATA) ./$(SAMPLE_DATA),$(DATADIR))
## the local venue's port
VENUE_PORT ?= 8090
## the demo's REST API / FreqUI port (FREQTRADE__API_SERVER__LISTEN_PORT sets it too)
API_PORT ?= $(or $(FREQTRADE__API_SERVER__LISTEN_PORT),8080)
## the recorded date the demo's replay maps onto today
REPLAY_START ?= 2024-08-05
## symbols the demo's venue says the API may not trade (e.g. BTCUSDT), to see the start-up check
API_DISABLED ?=
## the strategy of backtest, hyperopt, plot, reset-params (and of demo, walkforward when given)
STRATEGY ?= EnhancedFlashStrategy
## the strategy of demo and walkforward when STRATEGY is not given
MAIN_STRATEGY ?= RegimeStrategy
# STRATEGY as given on the command line or in the environment, else MAIN_STRATEGY.
GIVEN_OR_MAIN_STRATEGY = $(if $(filter command line environment,$(origin STRATEGY)),$(STRATEGY),$(MAIN_STRATEGY))
## the period of backtest and hyperopt (Freqtrade timerange; the sample's 5m span on the sample)
TIMERANGE ?= $(if $(ON_SAMPLE),20240617-20240820,20240101-20240920)
## the fee of backtest and hyperopt (MEXC's documented 2025 taker fee, 0.05 %)
FEE ?= 0.0005
## where backtest results go, one folder per strategy (plot reads the strategy's latest)
RESULTS ?= user_data/backtest_results
# The offline overlay written for each run, pointing ccxt at this run's venue port.
RUN_OVERLAY = user_data/run/config.offline-$(VENUE_PORT).json
CONFIGS = -c user_data/config.json -c $(RUN_OVERLAY)
OFFLINE = $(BIN)/python -m trading_agent.launch.offline --datadir "$(DATADIR)" \
	--port $(VENUE_PORT) --overlay $(RUN_OVERLAY) --
# Freqtrade's own sample strategy, straight from the installed package (never a committed copy).
FT_TEMPLATES = $(shell $(BIN)/python -c 'import freqtrade, os; print(os.path.dirname(freqtrade.__file__) + "/templates")')
## where Freqtrade finds STRATEGY (Freqtrade's templates for SampleStrategy)
STRATEGY_PATH ?= $(if $(filter SampleStrategy,$(STRATEGY)),$(FT_TEMPLATES),user_data/strategies)

## hyperopt epochs
EPOCHS ?= 30
## hyperopt spaces
SPACES ?= buy sell
## hyperopt loss function
HYPEROPT_LOSS ?= SharpeHyperOptLossDaily
## the pair of plot
PAIR ?= ETH/USDT
## the period of plot (Freqtrade timerange)
PLOT_TIMERANGE ?= 20240805-20240812
## one benchmark for bench (bench/bench_<BENCH>.py; empty: all)
BENCH ?=
## the folder make data downloads MEXC's candles into
MEXC_DATADIR ?= user_data/data/mexc
## the configuration make data reads its exchange and pairs from
DATA_CONFIGS ?= -c user_data/config.json
## the timeframes make data downloads
DATA_TIMEFRAMES ?= 5m 15m 1h 4h 1d
## the period make data downloads (Freqtrade timerange)
DATA_TIMERANGE ?= 20240101-
## parallel backtests of walkforward
JOBS ?= 2
## further options of walkforward, e.g. --grid '{"buy_rsi":[25,35]}' --baselines all
WALKFORWARD_ARGS ?=

# Hyperopt's best parameters, which Freqtrade loads over the defaults in the strategy's code in
# every run mode.
PARAMS_FILE = $(STRATEGY_PATH)/$(STRATEGY).json
# The first recipe line of every target that runs a strategy: says so when a parameter file is in
# use (after `make hyperopt`, later backtests trade other parameters).
define params_notice
@if [ -f "$(PARAMS_FILE)" ]; then \
	echo "make $@: $(STRATEGY) runs with the hyperopt parameters in $(PARAMS_FILE)" \
		"(written $$(date -r "$(PARAMS_FILE)" '+%Y-%m-%d %H:%M')), not the defaults in its code;" \
		"make reset-params STRATEGY=$(STRATEGY) removes them"; \
fi
endef

# Every `?=` variable, for `make help` (which shows their values).
HELP_VARIABLES := $(shell sed -n 's/^\([A-Z_]*\) *?=.*/\1/p' $(firstword $(MAKEFILE_LIST)))

.PHONY: help setup test test-elsewhere lint format demo backtest hyperopt plot data reset-params bench venue walkforward clean

## list every target and variable with its value (generated from the ## comments of the Makefile)
help:
	@$(foreach v,$(HELP_VARIABLES),HELP_$(v)='$($(v))') awk ' \
		/^## / { doc = substr($$0, 4); next } \
		doc != "" && /^[A-Za-z_][A-Za-z0-9_]* *\?=/ { \
			name = $$0; sub(/ *\?=.*/, "", name); vn[++nv] = name; vd[nv] = doc } \
		doc != "" && /^[a-z][a-z0-9-]*:/ { \
			name = $$0; sub(/:.*/, "", name); tn[++nt] = name; td[nt] = doc } \
		{ doc = "" } \
		END { \
			print "Targets (make TARGET [NAME=value ...]):"; \
			for (i = 1; i <= nt; i++) printf "  make %-15s %s\n", tn[i], td[i]; \
			print ""; print "Variables (now):"; \
			for (i = 1; i <= nv; i++) printf "  %-15s %s [%s]\n", vn[i], vd[i], ENVIRON["HELP_" vn[i]]; \
		}' $(firstword $(MAKEFILE_LIST))

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install only when the project definition changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

## create .venv and install the project with Freqtrade 2026.9 (idempotent)
setup: $(VENV)/.installed

## ruff check and ruff format --check
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## format the code with ruff and apply ruff's safe fixes
format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## the test suite: lint, then pytest
test: lint
	$(BIN)/python -m pytest -q

## the suite at a moved wall clock and time zone, without AVX-512 (15-20 minutes; not in CI)
test-elsewhere: setup
	PYTHON=$(BIN)/python tests/run_elsewhere.sh

## the local MEXC-compatible venue in replay mode, until Ctrl-C
venue: setup
	$(BIN)/ta-venue --datadir "$(DATADIR)" --port $(VENUE_PORT) --replay --replay-start $(REPLAY_START)

## offline demo: replay venue + freqtrade trade --dry-run with the REST API, until Ctrl-C
demo: STRATEGY := $(GIVEN_OR_MAIN_STRATEGY)
demo: setup
	$(params_notice)
	STRATEGY=$(STRATEGY) STRATEGY_PATH=$(STRATEGY_PATH) DATADIR="$(DATADIR)" \
		VENUE_PORT=$(VENUE_PORT) REPLAY_START=$(REPLAY_START) API_DISABLED=$(API_DISABLED) \
		FREQTRADE__API_SERVER__LISTEN_PORT=$(API_PORT) $(BIN)/python -m trading_agent.launch.demo

## offline Freqtrade backtest of STRATEGY over TIMERANGE on the recorded data, into RESULTS/STRATEGY
backtest: setup
	$(params_notice)
	@mkdir -p $(RESULTS)/$(STRATEGY)
	$(OFFLINE) $(BIN)/freqtrade backtesting $(CONFIGS) \
		--datadir "$(DATADIR)" --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timerange $(TIMERANGE) --fee $(FEE) --export trades --enable-protections \
		--backtest-directory $(RESULTS)/$(STRATEGY)

## offline hyperopt of STRATEGY (writes its best parameters to STRATEGY_PATH/STRATEGY.json)
hyperopt: setup
	$(params_notice)
	$(OFFLINE) $(BIN)/freqtrade hyperopt $(CONFIGS) \
		--datadir "$(DATADIR)" --strategy $(STRATEGY) --strategy-path $(STRATEGY_PATH) \
		--timerange $(TIMERANGE) --fee $(FEE) --hyperopt-loss $(HYPEROPT_LOSS) \
		--spaces $(SPACES) --epochs $(EPOCHS) -j 2 --enable-protections

## offline plot-dataframe of PAIR over PLOT_TIMERANGE: plot_config, trades of its latest backtest
plot: setup
	$(params_notice)
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
		--timerange $(PLOT_TIMERANGE) --pairs $(PAIR) $$trades

## download the config's pairs and timeframes from MEXC into MEXC_DATADIR (needs internet)
data: setup
	$(BIN)/freqtrade download-data $(DATA_CONFIGS) --datadir $(MEXC_DATADIR) \
		--timeframes $(DATA_TIMEFRAMES) --timerange $(DATA_TIMERANGE)

## remove STRATEGY's hyperopt parameter file: it runs on the defaults in its code again
reset-params:
	@if [ -f "$(PARAMS_FILE)" ]; then \
		rm -- "$(PARAMS_FILE)" && echo "removed $(PARAMS_FILE): $(STRATEGY) runs on the defaults in its code"; \
	else \
		echo "no parameter file $(PARAMS_FILE): $(STRATEGY) already runs on the defaults in its code"; \
	fi

## every benchmark under bench/ (or BENCH=name), each row marked against its target
bench: setup
	$(BIN)/python -m bench.run_all $(BENCH)

## walk-forward evaluation of STRATEGY over DATADIR (here: the long history); docs/walk-forward.md
walkforward: DATADIR = $(SHARED_DATA)/binance-long
walkforward: STRATEGY := $(GIVEN_OR_MAIN_STRATEGY)
walkforward: setup
	$(BIN)/python -m trading_agent.launch.walk_forward --strategy $(STRATEGY) \
		--datadir $(DATADIR) --jobs $(JOBS) $(WALKFORWARD_ARGS)

## remove .venv, caches, backtest results and the runs' offline overlays
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis user_data/backtest_results user_data/run
