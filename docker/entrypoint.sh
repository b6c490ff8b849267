#!/bin/sh
# Entry point of the Trading-Agent image: check the REST API login, then run freqtrade.
#
# Our strategies refuse to start a dry-run or live bot whose REST API login is unset, but only
# after Freqtrade has loaded; here the same check comes first, prints one line naming what to
# set, and exits with 78 (EX_CONFIG). docker-compose.yml restarts the container at most three
# times on failure, so a forgotten login never becomes a crash-restart loop.
#
# Blank values (a copied .env.example) count as unset: they are removed from the environment,
# so that Freqtrade and the plugins see no empty setting.
set -eu

for name in $(env | sed -n 's/^\(FREQTRADE__[A-Za-z0-9_]*\)=$/\1/p; s/^\(OPENROUTER_API_KEY\)=$/\1/p'); do
    unset "$name"
done

if [ "${1:-}" = "trade" ]; then
    missing=""
    for name in FREQTRADE__API_SERVER__USERNAME FREQTRADE__API_SERVER__PASSWORD \
        FREQTRADE__API_SERVER__JWT_SECRET_KEY; do
        eval "value=\${$name:-}"
        if [ -z "$value" ]; then
            missing="$missing $name"
        fi
    done
    if [ -n "$missing" ]; then
        echo "trading-agent: the REST API login is not set: set${missing} in .env" \
            "(copy .env.example; the JWT secret needs 32+ characters), then start again" >&2
        exit 78
    fi
fi

exec freqtrade "$@"
