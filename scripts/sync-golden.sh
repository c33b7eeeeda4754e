#!/usr/bin/env bash
# Copy the kernel's golden traces from ../shared/golden (or $1) into
# packages/golden/traces, keeping their folders and file names.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/golden}
dst=packages/golden/traces
[ -d "$src" ] || { echo "no golden traces at $src" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst"
cp -R "$src"/. "$dst"/
chmod -R u+w "$dst"
echo "$(find "$dst" -name '*.json' | wc -l) traces copied to $dst"

# Linux's io-pgtable traces (what Linux writes for ARM today): the ARMv8
# io-pgtable encoding and the short descriptor replay them.
iosrc=$(dirname "$src")/golden-iopgtable
iodst=packages/golden/traces-iopgtable
if [ -d "$iosrc" ]; then
  rm -rf "$iodst"
  mkdir -p "$iodst"
  cp -R "$iosrc"/. "$iodst"/
  chmod -R u+w "$iodst"
  echo "$(find "$iodst" -name '*.json' | wc -l) io-pgtable traces copied to $iodst"
fi
