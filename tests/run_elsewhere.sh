#!/usr/bin/env bash
# The test suite as another machine would run it (`make test-elsewhere`):
#   1. the wall clock moved to Sunday 2027-03-28 00:57 UTC (minutes before Europe's switch to
#      summer time at 01:00 UTC, off-hours / Asia session) with the local zone Pacific/Auckland;
#   2. the wall clock moved to Friday 2027-12-31 23:58 UTC (a month, year and budget-day end,
#      US late session) with the local zone America/Los_Angeles;
#   3. today's clock with numpy's AVX-512 kernels disabled, as on a CPU without them.
# The clock moves for pytest and every process it starts (Freqtrade, the venue) through
# tests/clockshift (an LD_PRELOAD library; see its source for why not libfaketime).
# Usage: tests/run_elsewhere.sh [pytest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -shared -fPIC -O2 -Wall -o "$work/clockshift.so" tests/clockshift/clockshift.c -ldl

shifted() {  # shifted "<UTC date>" <TZ> pytest-args...
  local when=$1 zone=$2
  shift 2
  local offset=$(( $(date -u -d "$when" +%s) - $(date -u +%s) ))
  echo "== clock moved to $when UTC (offset ${offset} s), TZ=$zone"
  CLOCKSHIFT_OFFSET_S=$offset LD_PRELOAD="$work/clockshift.so" TZ=$zone \
    "$PYTHON" -c 'import datetime; print("   the tests see", datetime.datetime.now().astimezone())'
  CLOCKSHIFT_OFFSET_S=$offset LD_PRELOAD="$work/clockshift.so" TZ=$zone \
    "$PYTHON" -m pytest -q -p no:cacheprovider "$@"
}

status=0
start=$SECONDS
shifted "2027-03-28 00:57:00" Pacific/Auckland "$@" || status=1
shifted "2027-12-31 23:58:00" America/Los_Angeles "$@" || status=1
echo "== numpy without AVX-512 (NPY_DISABLE_CPU_FEATURES), TZ=America/New_York"
NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" TZ=America/New_York \
  "$PYTHON" -m pytest -q -p no:cacheprovider "$@" || status=1
echo "== test-elsewhere: $([ $status -eq 0 ] && echo passed || echo FAILED) in $(( SECONDS - start )) s"
exit $status
