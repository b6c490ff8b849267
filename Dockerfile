# Trading-Agent on the official Freqtrade image, pinned to the version the project is tested with.
FROM freqtradeorg/freqtrade:2026.9

WORKDIR /freqtrade/trading-agent
COPY --chown=ftuser:ftuser pyproject.toml README.md ./
COPY --chown=ftuser:ftuser plugins ./plugins
COPY --chown=ftuser:ftuser venue ./venue
COPY --chown=ftuser:ftuser launch ./launch
# Installs the plugins (and their entry points) next to the image's Freqtrade; freqtrade==2026.9
# is already satisfied by the image, so only the few extra packages are added.
RUN pip install --user --no-cache-dir -e .

WORKDIR /freqtrade
