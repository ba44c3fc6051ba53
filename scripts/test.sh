#!/usr/bin/env bash
# Runs every Tollgate test: builds the solution, runs the .NET test projects (unit, store contracts, functional
# tests against the real server on loopback, Claude Code and Codex CLI among its clients), then the Node.js tests.
# Installs what it needs that the machine may lack (Node.js from Debian when absent). Prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Tollgate.slnx -c Release -nologo -v quiet
# The coding agents the functional tests drive (Codex CLI), at the versions tests/agents/package-lock.json pins.
(cd tests/agents && npm ci --no-audit --no-fund --loglevel=error)
status=0
dotnet test Tollgate.slnx -c Release --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$log" || status=1

# Node.js: the official openai package against a real gateway (started by the tests themselves).
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error && node --test --test-reporter=spec) 2>&1 | tee -a "$log" || status=1

passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
node_pass=$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
node_fail=$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
passed=$((passed + node_pass)); failed=$((failed + node_fail))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "tests: ${passed} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
