# Trading-Agent on the official Freqtrade image, pinned to the version the project is tested with.
FROM freqtradeorg/freqtrade:2026.9

# The image already holds Freqtrade 2026.9 with its own pinned requirements and hyperopt's
# (pandas, numpy, ccxt, TA-Lib, pydantic, aiohttp, ...). Only what it lacks is added, and
# nothing it has is reinstalled: every installed version is a constraint for pip, and our
# package goes in with --no-deps. What it lacks (tests/test_docker_files.py derives the list
# from Freqtrade 2026.9's published requirements):
#   openai, pluggy, matplotlib (the walk-forward report's chart)
# (plotly, for plot-dataframe only, is in the image's _plot variant, not needed to trade).
WORKDIR /freqtrade/trading-agent
RUN pip freeze --exclude-editable > /tmp/image-constraints.txt \
 && pip install --user --no-cache-dir -c /tmp/image-constraints.txt \
      "openai==3.54.0" "pluggy==1.7.0" "matplotlib==3.11.2"
COPY --chown=ftuser:ftuser pyproject.toml README.md ./
COPY --chown=ftuser:ftuser trading_agent ./trading_agent
COPY --chown=ftuser:ftuser plugins ./plugins
COPY --chown=ftuser:ftuser docker/entrypoint.sh ./docker/entrypoint.sh
RUN pip install --user --no-cache-dir --no-deps . \
 && python -c "import trading_agent, plugins, openai, pluggy, matplotlib"

WORKDIR /freqtrade
# Checks the REST API login of `trade` before anything runs, then runs freqtrade.
ENTRYPOINT ["/freqtrade/trading-agent/docker/entrypoint.sh"]
CMD ["trade"]
