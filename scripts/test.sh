#!/usr/bin/env bash
# The whole test suite: installs what it needs on a fresh Debian machine (as root), then runs
# typecheck, lint and every test (unit, interop with real peers, end-to-end on network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent typecheck
npm run --silent lint
bash scripts/run-tests.sh all
