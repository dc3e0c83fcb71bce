#!/usr/bin/env bash
# Formats the code in place (`npm run format`): rustfmt on both crates (rustfmt.toml,
# Debian's rustfmt, the one `npm run lint` checks with), then ESLint's layout fixes
# (the @stylistic rules of eslint.config.mjs; no fix that changes what code does).
# ESLint then lists whatever it cannot fix; `npm run lint` runs every gate.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="/usr/bin:$PATH" cargo fmt --all
npx eslint --fix --fix-type layout .
