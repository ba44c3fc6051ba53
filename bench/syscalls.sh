#!/usr/bin/env bash
# System calls and context switches per request, of Tollgate and of the bare ASP.NET Core forwarder (the floor) in
# front of the same nginx mock upstream, counted with perf's syscall tracepoints while wrk holds a fixed rate.
#
#   bench/syscalls.sh [--workload plain|stream] [--rate R] [--seconds N] [--warmup S]
#
# Not part of CI. Needs perf and the right to trace a process of this user (root, or kernel.perf_event_paranoid ≤ 1).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

WORKLOAD=plain RATE=2000 SECS=10 WARM=20
while [ $# -gt 0 ]; do
  case "$1" in
    --workload) WORKLOAD=${2:?}; shift ;;
    --rate) RATE=${2:?}; shift ;;
    --seconds) SECS=${2:?}; shift ;;
    --warmup) WARM=${2:?}; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
case "$WORKLOAD" in plain|stream) ;; *) die "--workload takes plain or stream" ;; esac

MOCK_PORT=18381 TG_PORT=18383 TG_METRICS_PORT=18393 FW_PORT=18385
install_tools wrk nginx curl
command -v perf >/dev/null || install_tools linux-perf

nginx_conf mock "$(mock_server $MOCK_PORT)"
start_nginx MOCK_PID mock
build_tollgate
timeout 900 dotnet build "$BENCH_ROOT/bench/Forwarder" -c Release -nologo -v q >"$TMP/fw-build.log" 2>&1 \
  || { cat "$TMP/fw-build.log" >&2; die "build failed"; }
tollgate_config "$TMP/tollgate.json" $MOCK_PORT
KEY=$(create_key bench)
[ -n "$KEY" ] || die "could not create a key"
start_tollgate
start_bg FW_PID "$TMP/forwarder.log" "$BENCH_ROOT/bench/Forwarder/bin/Release/net10.0/forwarder" \
  --urls "http://127.0.0.1:$FW_PORT" --upstream "http://127.0.0.1:$MOCK_PORT"
wait_http "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" 200 10 || exit 1
wait_http "http://127.0.0.1:$TG_PORT/readyz" 200 60 || { cat "$TMP/tollgate.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$FW_PORT/healthz" 200 30 || { cat "$TMP/forwarder.log" >&2; exit 1; }

if [ "$WORKLOAD" = plain ]; then BODY=$PLAIN_BODY PATH_=/v1/chat/completions; else BODY=$STREAM_BODY PATH_=/stream/v1/chat/completions; fi
load() { # load FILE AUTH
  {
    echo 'wrk.method = "POST"'
    echo "wrk.body = '$BODY'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [ -z "$2" ] || echo "wrk.headers[\"Authorization\"] = \"Bearer $2\""
    echo "function delay() return $(awk -v r="$RATE" 'BEGIN { printf "%.3f", 32 * 1000 / r }') end"
  } > "$1"
}
load "$TMP/tg.lua" "$KEY"
load "$TMP/fw.lua" ""

measure() { # measure NAME PID URL LUA
  log "$1: warm-up ${WARM}s…"
  timeout $((WARM + 30)) wrk -t2 -c32 -d"${WARM}s" -s "$4" "$3" >/dev/null
  start_bg WRK "$TMP/wrk-$1.txt" timeout $((SECS + 40)) wrk -t2 -c32 -d"$((SECS + 4))s" -s "$4" "$3"
  sleep 2
  perf stat -x, -e 'raw_syscalls:sys_enter,context-switches,page-faults,syscalls:sys_enter_*' -p "$2" -o "$TMP/stat-$1.csv" -- sleep "$SECS" 2>/dev/null
  wait "$WRK" || true
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk-$1.txt")
  echo "## $1 ($WORKLOAD, $RATE req/s held: $rps req/s; per request over ${SECS}s)"
  awk -F, -v n="$(awk -v r="$rps" -v s="$SECS" 'BEGIN{print r*s}')" '$1 ~ /^[0-9]+$/ && $1 / n >= 0.01 { printf "%-40s %8.2f\n", $3, $1 / n }' "$TMP/stat-$1.csv" | sort -k2 -nr | head -25
  echo
}
FW_URL="http://127.0.0.1:$FW_PORT$PATH_"
[ "$WORKLOAD" = plain ] && FW_URL="http://127.0.0.1:$FW_PORT/v1/chat/completions"
measure floor "$FW_PID" "$FW_URL" "$TMP/fw.lua"
measure tollgate "$TG_PID" "http://127.0.0.1:$TG_PORT/v1/chat/completions" "$TMP/tg.lua"
