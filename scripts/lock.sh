#!/usr/bin/env bash
# Updates package-lock.json after a dependency change, e.g.
#   bash scripts/lock.sh                 (after editing package.json)
#   bash scripts/lock.sh -D some-package (add a devDependency)
# so that `npm ci` accepts it on every platform: the lock records the optional
# native packages of every platform (rollup's, esbuild's, ...). npm configured with
# omit-lockfile-registry-resolved leaves them out, so that setting is turned off
# for the resolution; the registry URLs it then writes are dropped afterwards
# (npm ci resolves each package from the configured registry).
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --package-lock-only --omit-lockfile-registry-resolved=false --no-audit --no-fund "$@"
node -e '
const fs = require("fs");
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
for (const p of Object.values(lock.packages)) delete p.resolved;
fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");'
