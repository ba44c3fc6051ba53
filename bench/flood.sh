#!/usr/bin/env bash
# Flood benchmark: one tenant floods Tollgate with many connections while another sends at a modest fixed rate; the
# report gives the modest tenant's latency (p50/p99) and success share with and without the flood, and the share of
# the flooder's requests shed with 503 overloaded. The upstream is `tollgate simulate` with a fixed latency, so that
# requests hold their concurrency slots (Global:MaxConcurrentRequests) for a while and the fair queue decides who
# gets the next one.
#
#   bench/flood.sh [--quick] [--seconds N] [--repeat R] [--flood-connections C] [--calm-rate R] [--calm-weight W]
#                  [--capacity N] [--queue N] [--max-wait HH:MM:SS.fff] [--latency MS] [--out FILE]
#
#   --quick              2 repetitions of 5 s per phase (default: 3 repetitions of 30 s); about 2 minutes
#   --seconds N          measured seconds per phase (overrides --quick)
#   --repeat R           repetitions of each phase, alternating calm alone / calm under the flood (overrides --quick)
#   --flood-connections C  the flooding tenant's connections, closed loop with wrk (default 256)
#   --calm-rate R        the modest tenant's requests per second, fixed rate with h2load (default 20)
#   --calm-weight W      the modest tenant's Weight; the flooder's is 1 (default 1)
#   --capacity N         Global:MaxConcurrentRequests (default 32)
#   --queue N            Gateway:QueueLength (default 64)
#   --max-wait D         Gateway:MaxQueueWait (default 00:00:02)
#   --latency MS         the simulated upstream's time to answer, in milliseconds (default 100)
#   --out FILE           where the report goes as well as standard output (default bench/results/flood-<UTC time>.md)
#
# Not part of CI. Installs wrk and h2load from Debian if missing (needs root). Everything listens on 127.0.0.1 only;
# every process started here is stopped by PID on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- options
QUICK=0 SECS="" REPEAT="" FLOOD_CONNECTIONS=256 CALM_RATE=20 CALM_WEIGHT=1 CAPACITY=32 QUEUE=64 MAX_WAIT=00:00:02 LATENCY=100 OUT=""
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --seconds) SECS=${2:?--seconds needs a number}; shift ;;
    --repeat) REPEAT=${2:?--repeat needs a number}; shift ;;
    --flood-connections) FLOOD_CONNECTIONS=${2:?--flood-connections needs a number}; shift ;;
    --calm-rate) CALM_RATE=${2:?--calm-rate needs a number}; shift ;;
    --calm-weight) CALM_WEIGHT=${2:?--calm-weight needs a number}; shift ;;
    --capacity) CAPACITY=${2:?--capacity needs a number}; shift ;;
    --queue) QUEUE=${2:?--queue needs a number}; shift ;;
    --max-wait) MAX_WAIT=${2:?--max-wait needs a duration}; shift ;;
    --latency) LATENCY=${2:?--latency needs milliseconds}; shift ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
if [ $QUICK = 1 ]; then SECS=${SECS:-5} REPEAT=${REPEAT:-2} WARMUP=3; else SECS=${SECS:-30} REPEAT=${REPEAT:-3} WARMUP=5; fi
for v in "$SECS" "$REPEAT" "$FLOOD_CONNECTIONS" "$CALM_RATE" "$CALM_WEIGHT" "$CAPACITY"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "--seconds, --repeat, --flood-connections, --calm-rate, --calm-weight and --capacity take positive integers: $v"
done
[[ "$QUEUE" =~ ^[0-9]+$ && "$LATENCY" =~ ^[0-9]+$ ]] || die "--queue and --latency take whole numbers"
[[ "$MAX_WAIT" =~ ^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?$ ]] || die "--max-wait takes hh:mm:ss[.fff]: $MAX_WAIT"
OUT=${OUT:-$BENCH_ROOT/bench/results/flood-$(date -u +%Y%m%dT%H%M%SZ).md}

SIM_PORT=18281 TG_PORT=18283 TG_METRICS_PORT=18293   # apart from run.sh's and soak.sh's ports
WRK_THREADS=2
# The calm tenant's fixed rate: h2load sends one request at a time per connection, so each connection sends a request
# every CALM_SPACING seconds: enough for one request's longest life (the queue wait plus the upstream's latency).
CALM_SPACING=4
CALM_CLIENTS=$((CALM_RATE * CALM_SPACING))
# The connections open one every CALM_SPACING / CALM_CLIENTS seconds, so their requests are spread evenly over time
# (opened all at once, they would arrive as a burst of CALM_CLIENTS every CALM_SPACING seconds, more than the calm
# tenant's fair share of the slots and the queue, and the excess would rightly be shed).
CALM_PERIOD_MS=$(( CALM_SPACING * 1000 / CALM_CLIENTS > 0 ? CALM_SPACING * 1000 / CALM_CLIENTS : 1 ))
[ "$SECS" -ge $CALM_SPACING ] || die "--seconds must be at least $CALM_SPACING (every calm connection sends at least one request)"
URL="http://127.0.0.1:$TG_PORT/v1/chat/completions"
BODY='{"model":"sim-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16}'

install_tools wrk h2load curl
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- the simulated upstream and Tollgate
build_tollgate
start_bg SIM_PID "$TMP/simulate.log" "$TG_BIN" simulate --urls "http://127.0.0.1:$SIM_PORT" --time-to-first-token "$LATENCY"

# Two tenants with their own weights; every limit far above what a run reaches, so only the gateway's concurrency
# (and its queue) refuses.
limits='"RequestsPerMinute": 100000000, "TokensPerMinute": 100000000000, "MaxConcurrentRequests": 100000, "BudgetPerDay": 1000000000'
cat > "$TMP/tollgate.json" <<EOF
{
  "Tollgate": {
    "Upstreams": { "sim": { "Kind": "openai", "BaseUrl": "http://127.0.0.1:$SIM_PORT/v1" } },
    "Models": {
      "sim-mini": { "Upstream": "sim", "Prices": { "Input": 0.15, "Output": 0.6 }, "ContextWindow": 128000, "MaxOutputTokens": 16384, "Encoding": "o200k_base" }
    },
    "Plans": { "bench": { "Models": [ "sim-mini" ], $limits, "MaxOutputTokens": 1024, "DefaultMaxOutputTokens": 16 } },
    "Tenants": {
      "flood": { $limits, "Weight": 1 },
      "calm": { $limits, "Weight": $CALM_WEIGHT }
    },
    "TenantDefaults": { $limits },
    "Global": { "TimeZone": "UTC", "MaxConcurrentRequests": $CAPACITY, "BudgetPerDay": 1000000000 },
    "Gateway": { "QueueLength": $QUEUE, "MaxQueueWait": "$MAX_WAIT" }
  }
}
EOF
"$TG_BIN" config check --config "$TMP/tollgate.json" >&2
FLOOD_KEY=$(create_key flood)
CALM_KEY=$(create_key calm)
if [ -z "$FLOOD_KEY" ] || [ -z "$CALM_KEY" ]; then die "could not create the keys"; fi
start_tollgate

wait_http "http://127.0.0.1:$SIM_PORT/v1/models" 200 30 || { cat "$TMP/simulate.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$TG_PORT/readyz" 200 60 || { cat "$TMP/tollgate.log" >&2; exit 1; }
check_loopback "$SIM_PID" "$TG_PID"

printf '%s' "$BODY" > "$TMP/body.json"
for key in "$FLOOD_KEY" "$CALM_KEY"; do
  code=$(curl -s -m 10 -o "$TMP/check.txt" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
    -H "Authorization: Bearer $key" --data-binary "@$TMP/body.json" "$URL")
  [ "$code" = 200 ] || die "Tollgate answered $code: $(head -c 400 "$TMP/check.txt")"
done
log "both tenants are served"

# The flood: wrk, closed loop, counting the answers by status (one Lua state per thread, summed in done()).
cat > "$TMP/flood.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $FLOOD_KEY"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; shed = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then shed = shed + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, s, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); s = s + t:get("shed"); x = x + t:get("other") end
  io.write(string.format("status-counts ok=%d shed=%d other=%d\n", o, s, x))
end
EOF

# flood_start SECONDS NAME: the flood in the background; FLOOD_PID gets wrk's PID, its output $TMP/flood-NAME.txt.
flood_start() {
  start_bg FLOOD_PID "$TMP/flood-$2.txt" timeout $(($1 + 30)) \
    wrk -t$WRK_THREADS -c"$FLOOD_CONNECTIONS" -d"${1}s" -s "$TMP/flood.lua" "$URL"
}

# calm OUTFILE: the calm tenant for SECS at CALM_RATE, CALM_CLIENTS connections each sending one request every
# CALM_SPACING seconds, opened evenly over CALM_SPACING seconds; the per-request log goes to OUTFILE.log (start, status, latency in µs).
calm() {
  local total rps
  total=$((CALM_RATE * SECS))
  rps=$(awk -v s=$CALM_SPACING 'BEGIN { printf "%.3f", 1 / s }')
  : > "$1.log"
  timeout $((SECS * 10 + 60)) h2load --h1 -t1 -c"$CALM_CLIENTS" -r1 --rate-period "${CALM_PERIOD_MS}ms" --rps "$rps" -n "$total" \
    --log-file "$1.log" -d "$TMP/body.json" -H "Content-Type: application/json" -H "Authorization: Bearer $CALM_KEY" \
    "$URL" > "$1" 2>&1 || WARNINGS+=("h2load failed (exit $?): $(tail -3 "$1" | tr '\n' ' ')")
}

shed_total() { # the gateway's own count of shed requests, both causes
  curl -s -m 5 "http://127.0.0.1:$TG_METRICS_PORT/metrics" | awk '/^tollgate_shed_total\{/ { n += $NF } END { printf "%d", n }'
}

# ---------------------------------------------------------------- one phase

declare -A SENT OK_SHARE P50 P99 CALM_SHED FLOOD_N FLOOD_OK_RPS FLOOD_SHED_SHARE GW_SHED LOADB
WARNINGS=()
CASE_LOG="$TMP/cases.md"
: > "$CASE_LOG"

# run_phase PHASE REPETITION: PHASE is alone or flood.
run_phase() {
  local phase=$1 rep=$2 key="$1|$2" out="$TMP/calm-$1-$2.txt" shed0 counts fok fshed fother ok shed p50 p99
  LOADB[$key]=$(load1)
  shed0=$(shed_total)
  if [ "$phase" = flood ]; then
    flood_start $((SECS + WARMUP)) "$rep"
    sleep "$WARMUP"   # the queue fills before the calm tenant starts
  fi
  calm "$out"
  if [ "$phase" = flood ]; then
    wait "$FLOOD_PID" || WARNINGS+=("wrk failed on repetition $rep: $(tail -3 "$TMP/flood-$rep.txt" | tr '\n' ' ')")
    counts=$(sed -n 's/^status-counts //p' "$TMP/flood-$rep.txt")
    read -r fok fshed fother < <(echo "$counts" | awk -F'[ =]' '{ print $2, $4, $6 }')
    FLOOD_N[$key]=$((fok + fshed + fother))
    FLOOD_OK_RPS[$key]=$(awk -v n="$fok" -v s=$((SECS + WARMUP)) 'BEGIN { printf "%.0f", n / s }')
    FLOOD_SHED_SHARE[$key]=$(awk -v a="$fshed" -v n="${FLOOD_N[$key]}" 'BEGIN { if (n > 0) printf "%.1f", 100 * a / n; else print "nan" }')
    [ "$fother" = 0 ] || WARNINGS+=("the flooder got $fother answers other than 200 and 503 on repetition $rep")
  else
    FLOOD_N[$key]="" FLOOD_OK_RPS[$key]="" FLOOD_SHED_SHARE[$key]=""
  fi
  GW_SHED[$key]=$(( $(shed_total) - shed0 ))
  SENT[$key]=$((CALM_RATE * SECS))
  read -r ok shed <<< "$(awk '{ if ($2 == 200) ok++; else if ($2 == 503) shed++ } END { printf "%d %d\n", ok, shed }' "$out.log")"
  OK_SHARE[$key]=$(awk -v a="$ok" -v n="${SENT[$key]}" 'BEGIN { printf "%.1f", 100 * a / n }')
  CALM_SHED[$key]=$shed
  read -r p50 p99 < <(awk '$2 == 200 {print $3}' "$out.log" | sort -n | awk '{v[NR] = $1}
    END { if (NR == 0) { print "nan nan"; exit }
          i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++; i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
          printf "%.1f %.1f\n", v[i50] / 1000, v[i99] / 1000 }')
  P50[$key]=$p50 P99[$key]=$p99
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$phase" "$rep" "${SENT[$key]}" "${OK_SHARE[$key]}" \
    "${P50[$key]}" "${P99[$key]}" "${CALM_SHED[$key]}" "${FLOOD_N[$key]:-—}" "${FLOOD_OK_RPS[$key]:-—}" "${FLOOD_SHED_SHARE[$key]:-—}" \
    "${GW_SHED[$key]}" "${LOADB[$key]}" >> "$CASE_LOG"
  log "$phase #$rep: calm ${OK_SHARE[$key]}% served, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms;" \
    "flood ${FLOOD_SHED_SHARE[$key]:-—}% shed; gateway shed ${GW_SHED[$key]}"
}

# ---------------------------------------------------------------- the run
log "load average at start: $START_LOAD; $((REPEAT * 2)) phases of ${SECS}s, about $(( (REPEAT * 2 * (SECS + WARMUP + 2) + WARMUP) / 60 + 1 )) min"
# Warm-up (JIT, connection pools), not measured.
flood_start "$WARMUP" warmup
wait "$FLOOD_PID" || true
for rep in $(seq "$REPEAT"); do
  run_phase alone "$rep"
  run_phase flood "$rep"
done
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
summary() { # FORMAT < values: "median (min–max)"
  grep -v -e '^nan$' -e '^$' | sort -g | awk -v f="$1" '{v[NR] = $1}
    END { if (NR == 0) { print "—"; exit }
          m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          s = sprintf(f, m); lo = sprintf(f, v[1]); hi = sprintf(f, v[NR])
          print (lo == hi ? s : s " (" lo "–" hi ")") }'
}
values() { # ARRAY phase
  local -n arr=$1; local rep
  for rep in $(seq "$REPEAT"); do echo "${arr[$2|$rep]:-}"; done
}
report() {
  local commit dirty=""
  commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || dirty=" with local changes"
  echo "# Flood, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/flood.sh${ARGS:+ $ARGS}\` at commit \`$commit\`$dirty."
  echo
  echo "Machine: nproc $(nproc); $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: //'); kernel $(uname -r);" \
    "Debian $(cat /etc/debian_version 2>/dev/null || echo '?'); .NET SDK $(cd "$BENCH_ROOT" && dotnet --version);" \
    "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(h2load --version 2>&1 | head -1)."
  echo
  echo "Setup: Global:MaxConcurrentRequests $CAPACITY, Gateway:QueueLength $QUEUE, Gateway:MaxQueueWait $MAX_WAIT; the upstream" \
    "(\`tollgate simulate\`) answers in $LATENCY ms. Flooder (weight 1): \`wrk -t$WRK_THREADS -c$FLOOD_CONNECTIONS\`, closed loop," \
    "started $WARMUP s before the calm tenant. Calm tenant (weight $CALM_WEIGHT): $CALM_RATE req/s with \`h2load --h1\`," \
    "$CALM_CLIENTS connections each sending a request every $CALM_SPACING s. $REPEAT repetitions of ${SECS} s per phase," \
    "alternating (calm alone, calm under the flood); each cell is the median of the repetitions with their range."
  echo
  echo "Load average at start: $START_LOAD; at the end: $END_LOAD."
  if [ ${#WARNINGS[@]} -gt 0 ]; then
    echo
    printf -- '- %s\n' "${WARNINGS[@]}"
  fi
  echo
  echo "| phase | calm: served % | calm: p50 ms | calm: p99 ms | calm: 503s | flood: requests | flood: 200 req/s | flood: 503 % |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  local phase
  for phase in alone flood; do
    echo "| $phase | $(values OK_SHARE $phase | summary %.1f) | $(values P50 $phase | summary %.1f) | $(values P99 $phase | summary %.1f)" \
      "| $(values CALM_SHED $phase | summary %.0f) | $(values FLOOD_N $phase | summary %.0f) | $(values FLOOD_OK_RPS $phase | summary %.0f)" \
      "| $(values FLOOD_SHED_SHARE $phase | summary %.1f) |"
  done
  echo
  echo "Calm latency counts the calm tenant's successful requests only (to the end of the answer); served % is of the" \
    "requests sent. The flooder's 503 % is of its completed requests; its 200 req/s is over the flood's whole run."
  echo
  echo "## Every phase"
  echo
  echo "| phase | # | calm sent | calm served % | calm p50 ms | calm p99 ms | calm 503s | flood requests | flood 200 req/s | flood 503 % | shed (gateway's count) | load before |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  cat "$CASE_LOG"
}

mkdir -p "$(dirname "$OUT")"
report | tee "$OUT"
log "report written to $OUT"
