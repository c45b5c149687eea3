#!/usr/bin/env bash
# Runs test files through node:test with tsx. Usage: run-tests.sh [all|unit|FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
if [ "$mode" = unit ]; then
  mapfile -t files < <(find src -name '*.test.ts' | sort)
elif [ "$mode" = all ]; then
  mapfile -t files < <( { find src -name '*.test.ts'; find test -name '*.test.ts' 2>/dev/null; } | sort)
else
  files=("$@")
fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
