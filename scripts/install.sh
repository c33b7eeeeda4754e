#!/bin/sh
# The README's install command: the pinned pnpm (corepack where it works,
# npm otherwise), the locked dependencies, and (root postinstall) the browser
# the HTML dump test drives. Needs only Node and npm.
set -eu
cd "$(dirname "$0")/.."
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  if command -v corepack >/dev/null 2>&1 && corepack enable pnpm 2>/dev/null &&
    corepack prepare "pnpm@$PNPM_VERSION" --activate >/dev/null 2>&1 &&
    [ "$(pnpm --version 2>/dev/null || true)" = "$PNPM_VERSION" ]; then
    echo "pnpm $PNPM_VERSION from corepack"
  else
    # corepack is missing or cannot verify the download (older Node's keys)
    corepack disable pnpm 2>/dev/null || true
    npm install -g --silent "pnpm@$PNPM_VERSION"
    echo "pnpm $PNPM_VERSION from npm"
  fi
fi
pnpm install --frozen-lockfile
