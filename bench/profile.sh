#!/usr/bin/env bash
# CPU profile of Tollgate under load: where the gateway's own time goes, by library and by function, with the JIT's
# method names. Tollgate (Release, every policy on, the configuration of bench/run.sh) runs in front of the nginx mock
# upstream, is warmed up, then sampled with `perf record -g` while wrk drives it. With --target aspnet the bare ASP.NET
# Core forwarder (bench/Forwarder) takes Tollgate's place, so that the floor's profile can be set beside the gateway's.
#
#   bench/profile.sh [--target tollgate|aspnet] [--workload plain|stream] [--seconds N] [--warmup S] [--rate R] [--top N] [--out FILE]
#   bench/profile.sh --gc FILE [the same options]
#
#   --target T     tollgate (default), or aspnet: the bare ASP.NET Core forwarder (bench/Forwarder), the floor under
#                  Tollgate's own work, profiled the same way so that the two profiles can be compared per request
#   --workload W   plain (default) or stream
#   --seconds N    seconds sampled (default 20)
#   --warmup S     seconds of unmeasured load first, for the tiered JIT to settle (default 30)
#   --rate R       requests per second (wrk spaced with delay()); default: a closed loop of 32 connections
#   --top N        rows of each table (default 40)
#   --out FILE     where the report goes as well as standard output (default bench/results/profile-<UTC time>.md)
#   --keep FILE    keep the samples (perf.data) there, with the target's perf map beside it (FILE.map), for perf report
#   --gc FILE      instead of CPU samples, trace the runtime's garbage-collection events into FILE (dotnet-trace, installed
#                  into bench/.tools if missing) and report each generation's collections, their pauses and what they
#                  found alive (dotnet run --project bench/Tollgate.Benchmarks -- gc-pauses FILE); for Tollgate, also
#                  its ledger's requests of those seconds, their time inside the gateway with and without a pause
#
# Not part of CI. CPU samples need perf (Debian's linux-perf; installed if missing) and the right to sample a process of this
# user (kernel.perf_event_paranoid ≤ 1, or root). Tollgate runs with DOTNET_PerfMapEnabled=1, which writes
# /tmp/perf-PID.map so perf can name JIT-compiled methods, and DOTNET_EnableWriteXorExecute=0, without which the
# JIT's code sits in a double mapping that perf cannot match with that map. Everything listens on 127.0.0.1 only; every process
# started here is stopped by PID on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

TARGET=tollgate WORKLOAD=plain SECS=20 WARM=30 RATE="" TOP=40 OUT="" KEEP="" GC_TRACE=""
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET=${2:?}; shift ;;
    --workload) WORKLOAD=${2:?}; shift ;;
    --seconds) SECS=${2:?}; shift ;;
    --warmup) WARM=${2:?}; shift ;;
    --rate) RATE=${2:?}; shift ;;
    --top) TOP=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --keep) KEEP=${2:?}; shift ;;
    --gc) GC_TRACE=${2:?}; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
case "$WORKLOAD" in plain|stream) ;; *) die "--workload takes plain or stream" ;; esac
case "$TARGET" in tollgate|aspnet) ;; *) die "--target takes tollgate or aspnet" ;; esac
for v in "$SECS" "$WARM" "$TOP" ${RATE:+"$RATE"}; do [[ "$v" =~ ^[0-9]+$ ]] || die "options take whole numbers: $v"; done
[ -z "$GC_TRACE" ] || [ -z "$KEEP" ] || die "--keep keeps CPU samples; with --gc the trace is already kept in its FILE"
TITLE="CPU profile" SAMPLED="sampled at 999 Hz" SAMPLER=perf
if [ -n "$GC_TRACE" ]; then
  GC_TRACE=$(realpath -m "$GC_TRACE") TITLE="Garbage collections" SAMPLED=traced SAMPLER=dotnet-trace
fi
OUT=${OUT:-$BENCH_ROOT/bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ).md}

MOCK_PORT=18281 TG_PORT=18283 TG_METRICS_PORT=18293   # apart from run.sh's and soak.sh's ports
install_tools wrk nginx curl
TRACE_VERSION=10.0.750501
TRACE_TOOL="$BENCH_ROOT/bench/.tools/dotnet-trace"
if [ -z "$GC_TRACE" ]; then
  command -v perf >/dev/null || install_tools linux-perf
  command -v perf >/dev/null || die "perf is not available"
else
  if [ ! -x "$TRACE_TOOL" ]; then
    log "installing dotnet-trace $TRACE_VERSION into bench/.tools…"
    (cd "$TMP" && timeout 300 dotnet tool install --tool-path "$BENCH_ROOT/bench/.tools" dotnet-trace \
      --version $TRACE_VERSION >"$TMP/tool.log" 2>&1) || { cat "$TMP/tool.log" >&2; die "dotnet-trace could not be installed"; }
  fi
  log "building the benchmarks' report (Release)…"
  timeout 900 dotnet build "$BENCH_ROOT/bench/Tollgate.Benchmarks" -c Release -nologo -v q >"$TMP/report-build.log" 2>&1 \
    || { cat "$TMP/report-build.log" >&2; die "build failed"; }
fi

nginx_conf mock "$(mock_server $MOCK_PORT)"
start_nginx MOCK_PID mock
if [ "$TARGET" = tollgate ]; then
  build_tollgate
  tollgate_config "$TMP/tollgate.json" $MOCK_PORT
  KEY=$(create_key bench)
  [ -n "$KEY" ] || die "could not create a key"
  start_tollgate DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
  URL="http://127.0.0.1:$TG_PORT/v1/chat/completions"
  READY="http://127.0.0.1:$TG_PORT/readyz"
else
  log "building the bare ASP.NET Core forwarder (Release)…"
  timeout 900 dotnet build "$BENCH_ROOT/bench/Forwarder" -c Release -nologo -v q >"$TMP/fw-build.log" 2>&1 \
    || { cat "$TMP/fw-build.log" >&2; die "build failed"; }
  KEY=unused
  start_bg TG_PID "$TMP/tollgate.log" env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
    "$BENCH_ROOT/bench/Forwarder/bin/Release/net10.0/forwarder" --urls "http://127.0.0.1:$TG_PORT" \
    --upstream "http://127.0.0.1:$MOCK_PORT"
  URL="http://127.0.0.1:$TG_PORT/v1/chat/completions"
  [ "$WORKLOAD" = plain ] || URL="http://127.0.0.1:$TG_PORT/stream/v1/chat/completions"
  READY="http://127.0.0.1:$TG_PORT/healthz"
fi
wait_http "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" 200 10 || { cat "$TMP/mock/logs/error.log" >&2; exit 1; }
wait_http "$READY" 200 60 || { cat "$TMP/tollgate.log" >&2; exit 1; }
# shellcheck disable=SC2046
check_loopback "$MOCK_PID" $(children "$MOCK_PID") "$TG_PID"

if [ "$WORKLOAD" = plain ]; then BODY=$PLAIN_BODY; else BODY=$STREAM_BODY; fi
{
  echo 'wrk.method = "POST"'
  echo "wrk.body = '$BODY'"
  echo 'wrk.headers["Content-Type"] = "application/json"'
  echo "wrk.headers[\"Authorization\"] = \"Bearer $KEY\""
  [ -z "$RATE" ] || echo "function delay() return $(awk -v r="$RATE" 'BEGIN { printf "%.3f", 32 * 1000 / r }') end"
} > "$TMP/load.lua"

log "warm-up: ${WARM}s…"
[ "$WARM" = 0 ] || timeout $((WARM + 30)) wrk -t2 -c32 -d"${WARM}s" -s "$TMP/load.lua" "$URL" >/dev/null
log "$SAMPLER: ${SECS}s under load…"
start_bg WRK_PID "$TMP/wrk.txt" timeout $((SECS + 40)) wrk -t2 -c32 -d"$((SECS + 4))s" -s "$TMP/load.lua" "$URL"
sleep 2
cpu0=$(cpu_ticks "$TG_PID") t0=$(now_s)
PERF_RC=0
# The samples go to a directory of their own: written as perf runs, they would otherwise wake the gateway's watcher of
# its configuration file, which sits in $TMP, on every write.
mkdir -p "$TMP/perf"
if [ -n "$GC_TRACE" ]; then
  # Informational GC events only (keyword 0x1, level 4): the allocation samples of level 5 would slow the gateway.
  "$TRACE_TOOL" collect -p "$TG_PID" --providers 'Microsoft-Windows-DotNETRuntime:0x1:4' \
    --duration "$(printf '%02d:%02d:%02d:%02d' $((SECS / 86400)) $((SECS / 3600 % 24)) $((SECS / 60 % 60)) $((SECS % 60)))" \
    -o "$GC_TRACE" >"$TMP/perf/trace.log" 2>&1 || { cat "$TMP/perf/trace.log" >&2; die "dotnet-trace failed"; }
else
perf record -F 999 -g -p "$TG_PID" -o "$TMP/perf/perf.data" -- sleep "$SECS" >"$TMP/perf/perf.log" 2>&1 || PERF_RC=$?
if [ ! -s "$TMP/perf/perf.data" ]; then
  cat "$TMP/perf/perf.log" >&2
  die "perf record failed (exit $PERF_RC; kernel.perf_event_paranoid is $(cat /proc/sys/kernel/perf_event_paranoid))"
fi
fi
cpu1=$(cpu_ticks "$TG_PID") t1=$(now_s)
wait "$WRK_PID" || true

report() {
  set +o pipefail   # head closes the pipe of perf report early
  local commit dirty=""
  commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || dirty=" with local changes"
  echo "# $TITLE of $TARGET, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/profile.sh${ARGS:+ $ARGS}\` at commit \`$commit\`$dirty. Machine: nproc $(nproc);" \
    "$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: //'); kernel $(uname -r)."
  echo
  echo "Load: $WORKLOAD requests, wrk -t2 -c32${RATE:+ spaced to $RATE req/s}: $(awk '/Requests\/sec/ {printf "%.0f req/s", $2}' "$TMP/wrk.txt")," \
    "$(awk '/Non-2xx/ {print $NF " non-2xx, "}' "$TMP/wrk.txt")${SECS} s $SAMPLED; $TARGET's CPU over them:" \
    "$(awk -v t=$((cpu1 - cpu0)) -v hz="$HZ" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f cores", t / hz / (b - a) }')" \
    "($SAMPLER's own start and stop included), about" \
    "$(awk -v t=$((cpu1 - cpu0)) -v hz="$HZ" -v a="$t0" -v b="$t1" '/Requests\/sec/ { printf "%.1f", t / hz / (b - a) * 1e6 / $2 }' "$TMP/wrk.txt")" \
    "µs per request."
  echo
  if [ -n "$GC_TRACE" ]; then
    echo "## Garbage collections"
    echo
    # Tollgate's ledger holds each request's time inside the gateway: set against the pauses (read-only, while it runs).
    local ledger=()
    [ "$TARGET" != tollgate ] || ledger=("$TMP/data/tollgate.db")
    "$BENCH_ROOT/bench/Tollgate.Benchmarks/bin/Release/net10.0/Tollgate.Benchmarks" gc-pauses "$GC_TRACE" "${ledger[@]}"
    return
  fi
  echo "## By library (self time)"
  echo
  echo '```'
  perf report -i "$TMP/perf/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n "$TOP"
  echo '```'
  echo
  echo "## By function (self time)"
  echo
  echo '```'
  perf report -i "$TMP/perf/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n "$TOP"
  echo '```'
  echo
  echo "## By function, with what it calls (inclusive time)"
  echo
  echo '```'
  perf report -i "$TMP/perf/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n "$TOP"
  echo '```'
}

mkdir -p "$(dirname "$OUT")"
report | tee "$OUT"
if [ -n "$KEEP" ] && [ -z "$GC_TRACE" ]; then
  cp "$TMP/perf/perf.data" "$KEEP"
  cp "/tmp/perf-$TG_PID.map" "$KEEP.map" 2>/dev/null || true
  log "samples kept in $KEEP (JIT names: perf report reads /tmp/perf-$TG_PID.map; a copy is in $KEEP.map)"
fi
log "report written to $OUT"
