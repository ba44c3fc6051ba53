#!/usr/bin/env bash
# Gateway overhead benchmark: the cost per request of Tollgate, side by side with a plain nginx reverse proxy and the
# Portkey open-source gateway, all in front of one fast mock upstream (nginx returning a canned chat completion, or
# a canned SSE stream), driven by wrk (closed loop) and h2load (fixed request rates).
#
#   bench/run.sh [--quick] [--seconds N] [--repeat R] [--rates "500 2000"] [--out FILE]
#
#   --quick        2 repetitions of 3 s per case (default: 3 repetitions of 30 s); under 5 minutes
#   --seconds N    measured seconds per case (overrides --quick)
#   --repeat R     repetitions of each case (overrides --quick)
#   --rates "A B"  the fixed request rates for h2load, in requests per second (default "500 2000")
#   --out FILE     where the report goes as well as standard output (default bench/results/<UTC time>.md)
#   --targets "A B"  measure these of nginx, portkey, tollgate, aspnet (default: the first three; direct is always
#                  measured: it is the baseline). aspnet is a bare ASP.NET Core forwarder (bench/Forwarder): Tollgate's
#                  stack with none of its work, the floor under what Tollgate can cost
#   --workloads "A"  measure only these of plain, stream
#   --warmup S     seconds of unmeasured load before the first case, per workload, for the gateways that compile
#                  at run time (Tollgate's tiered JIT, Portkey's V8); default 30 (--quick: 8); 5 for direct and nginx
#
# Not part of CI. Installs nginx, wrk and h2load from Debian if missing (needs root), and Portkey from npm into
# bench/portkey/node_modules (package-lock.json pins it). Everything listens on 127.0.0.1 only; every process
# started here is stopped by PID on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- options
QUICK=0 SECS="" REPEAT="" RATES="500 2000" OUT="" ONLY_TARGETS="nginx portkey tollgate" ONLY_WORKLOADS="plain stream"
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --seconds) SECS=${2:?--seconds needs a number}; shift ;;
    --repeat) REPEAT=${2:?--repeat needs a number}; shift ;;
    --rates) RATES=${2:?--rates needs a list}; shift ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    --targets) ONLY_TARGETS=${2:?--targets needs a list}; shift ;;
    --workloads) ONLY_WORKLOADS=${2:?--workloads needs a list}; shift ;;
    --warmup) JIT_WARMUP=${2:?--warmup needs a number}; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
if [ $QUICK = 1 ]; then SECS=${SECS:-3} REPEAT=${REPEAT:-2} WARMUP=2 JIT_WARMUP=${JIT_WARMUP:-8}
else SECS=${SECS:-30} REPEAT=${REPEAT:-3} WARMUP=5 JIT_WARMUP=${JIT_WARMUP:-30}; fi
[[ "$SECS" =~ ^[1-9][0-9]*$ && "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--seconds and --repeat take positive integers"
[[ "$JIT_WARMUP" =~ ^[0-9]+$ ]] || die "--warmup takes a whole number of seconds"
for rate in $RATES; do [[ "$rate" =~ ^[1-9][0-9]*$ ]] || die "--rates takes positive integers: $rate"; done
OUT=${OUT:-$BENCH_ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ).md}

MOCK_PORT=18081 NGINX_PORT=18082 TG_PORT=18083 PK_PORT=18084 FW_PORT=18085 TG_METRICS_PORT=18093
WRK_THREADS=2 WRK_CONNECTIONS=32     # closed loop
H2_CONNECTION_RATE=20                # fixed rate: one h2load connection per 20 req/s
LOAD_WARN=0.5 OTHERS_WARN=0.10       # "machine busy": load average before a case, cores used by other processes
TARGETS=(direct)
for t in $ONLY_TARGETS; do
  case "$t" in nginx|portkey|tollgate|aspnet) TARGETS+=("$t") ;; *) die "--targets takes nginx, portkey, tollgate, aspnet: $t" ;; esac
done
WORKLOADS=()
for w in $ONLY_WORKLOADS; do
  case "$w" in plain|stream) WORKLOADS+=("$w") ;; *) die "--workloads takes plain, stream: $w" ;; esac
done
DRIVERS=(closed)
for rate in $RATES; do DRIVERS+=("r$rate"); done
PORTKEY_DIR="$BENCH_ROOT/bench/portkey"
PORTKEY_VERSION=1.15.2

install_tools wrk nginx h2load curl
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- mock upstream and nginx proxy
nginx_conf mock "$(mock_server $MOCK_PORT)"
nginx_conf proxy "
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering off;
    }
  }"
start_nginx MOCK_PID mock
start_nginx NGINX_PID proxy

# ---------------------------------------------------------------- Tollgate
build_tollgate
tollgate_config "$TMP/tollgate.json" $MOCK_PORT
KEY=$(create_key bench)
[ -n "$KEY" ] || die "could not create a key"
start_tollgate

# ---------------------------------------------------------------- Portkey
# Portkey takes its port from --port=N but listens on every interface; loopback.cjs makes it listen on 127.0.0.1.
# --headless and NODE_ENV=production leave out its log UI, as in a production deployment.
if [ "$(node -p "require('$PORTKEY_DIR/node_modules/@portkey-ai/gateway/package.json').version" 2>/dev/null)" != $PORTKEY_VERSION ]; then
  log "installing Portkey $PORTKEY_VERSION (npm ci)…"
  # --ignore-scripts: the package's only install script runs patch-package, which has no patches in the package.
  (cd "$PORTKEY_DIR" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund >"$TMP/npm.log" 2>&1) \
    || { cat "$TMP/npm.log" >&2; die "npm ci failed in $PORTKEY_DIR"; }
fi
start_bg PK_PID "$TMP/portkey.log" env NODE_ENV=production node --require "$PORTKEY_DIR/loopback.cjs" \
  "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js" --port=$PK_PORT --headless

# ---------------------------------------------------------------- the bare ASP.NET Core forwarder (on request)
FW_PID=""
if [[ " ${TARGETS[*]} " == *" aspnet "* ]]; then
  log "building the bare ASP.NET Core forwarder (Release)…"
  timeout 900 dotnet build "$BENCH_ROOT/bench/Forwarder" -c Release -nologo -v q >"$TMP/fw-build.log" 2>&1 \
    || { cat "$TMP/fw-build.log" >&2; die "build failed"; }
  start_bg FW_PID "$TMP/forwarder.log" "$BENCH_ROOT/bench/Forwarder/bin/Release/net10.0/forwarder" \
    --urls "http://127.0.0.1:$FW_PORT" --upstream "http://127.0.0.1:$MOCK_PORT"
fi

wait_http "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" 200 10 || { cat "$TMP/mock/logs/error.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$NGINX_PORT/v1/chat/completions" 200 10 || { cat "$TMP/proxy/logs/error.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$TG_PORT/readyz" 200 60 || { cat "$TMP/tollgate.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$PK_PORT/" 200 30 || { cat "$TMP/portkey.log" >&2; exit 1; }
[ -z "$FW_PID" ] || wait_http "http://127.0.0.1:$FW_PORT/healthz" 200 30 || { cat "$TMP/forwarder.log" >&2; exit 1; }

MOCK_WORKERS=$(children "$MOCK_PID")
NGINX_WORKERS=$(children "$NGINX_PID")
if [ -z "$MOCK_WORKERS" ] || [ -z "$NGINX_WORKERS" ]; then die "no nginx worker found"; fi

# Every socket that any of these processes listens on must be on the loopback address.
# shellcheck disable=SC2086
check_loopback "$MOCK_PID" $MOCK_WORKERS "$NGINX_PID" $NGINX_WORKERS "$TG_PID" "$PK_PID" $FW_PID

# ---------------------------------------------------------------- requests
printf '%s' "$PLAIN_BODY" > "$TMP/body-plain.json"
printf '%s' "$STREAM_BODY" > "$TMP/body-stream.json"

url() { # target workload
  local path=/v1/chat/completions
  case "$1" in
    direct) [ "$2" = stream ] && path=/stream$path; echo "http://127.0.0.1:$MOCK_PORT$path" ;;
    nginx) [ "$2" = stream ] && path=/stream$path; echo "http://127.0.0.1:$NGINX_PORT$path" ;;
    portkey) echo "http://127.0.0.1:$PK_PORT$path" ;;
    tollgate) echo "http://127.0.0.1:$TG_PORT$path" ;;
    aspnet) [ "$2" = stream ] && path=/stream$path; echo "http://127.0.0.1:$FW_PORT$path" ;;
  esac
}

headers() { # target workload: one header a line. Portkey is told the provider and the mock's address per request.
  echo "Content-Type: application/json"
  if [ "$1" = portkey ]; then
    echo "Authorization: Bearer dummy"
    echo "x-portkey-provider: openai"
    if [ "$2" = stream ]; then echo "x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/stream/v1"
    else echo "x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/v1"; fi
  else
    echo "Authorization: Bearer $KEY"
  fi
}

proxy_pids() { # target: the processes whose CPU is the hop's cost
  case "$1" in
    direct) ;;
    nginx) echo "$NGINX_WORKERS" ;;
    portkey) echo "$PK_PID" ;;
    tollgate) echo "$TG_PID" ;;
    aspnet) echo "$FW_PID" ;;
  esac
}

for target in "${TARGETS[@]}"; do
  for workload in "${WORKLOADS[@]}"; do
    {
      echo 'wrk.method = "POST"'
      echo "wrk.body = '$(cat "$TMP/body-$workload.json")'"
      headers "$target" "$workload" | while IFS= read -r h; do echo "wrk.headers[\"${h%%: *}\"] = \"${h#*: }\""; done
    } > "$TMP/wrk-$target-$workload.lua"

    # Sanity: 200, and for streams the whole stream (the usage chunk and [DONE]).
    args=()
    while IFS= read -r h; do args+=(-H "$h"); done < <(headers "$target" "$workload")
    code=$(curl -s -m 10 -o "$TMP/check.txt" -w '%{http_code}' -X POST "${args[@]}" \
      --data-binary "@$TMP/body-$workload.json" "$(url "$target" "$workload")")
    [ "$code" = 200 ] || die "$target ($workload) answered $code: $(head -c 400 "$TMP/check.txt")"
    if [ "$workload" = stream ]; then
      if ! grep -q '"completion_tokens":[1-9]' "$TMP/check.txt" || ! grep -q '^data: \[DONE\]' "$TMP/check.txt"; then
        die "$target (stream) did not relay the whole stream: $(head -c 600 "$TMP/check.txt")"
      fi
    else
      grep -q '"completion_tokens":9' "$TMP/check.txt" || die "$target (plain) answer: $(head -c 400 "$TMP/check.txt")"
    fi
  done
done
log "every target answers 200, plain and streaming"

# ---------------------------------------------------------------- one measurement

# Results per case, keyed "workload|driver|target|repetition".
declare -A RPS P50 P99 CPU MOCKCPU DRVCPU OTHERS LOADB LOADA
WARNINGS=()
CASE_LOG="$TMP/cases.md"
: > "$CASE_LOG"

ms() { # wrk latency (812.00us, 1.23ms, 1.01s) -> ms
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else print "nan" }'
}

# drive_closed TARGET WORKLOAD OUTFILE: wrk closed loop. Sets REQUESTS, ERRORS, C_RPS, C_P50, C_P99.
drive_closed() {
  local out=$3
  local rc=0
  timeout $((SECS + 30)) wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d"${SECS}s" --latency -s "$TMP/wrk-$1-$2.lua" \
    "$(url "$1" "$2")" > "$out" 2>&1 || rc=$?
  if [ $rc != 0 ]; then
    WARNINGS+=("wrk failed (exit $rc) on $2/closed/$1: $(tail -3 "$out" | tr '\n' ' ')")
    REQUESTS=0 ERRORS=0 C_RPS=nan C_P50=nan C_P99=nan
    return
  fi
  REQUESTS=$(awk '/requests in/ {print $1}' "$out")
  ERRORS=$(awk '/Non-2xx or 3xx responses/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
  C_RPS=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
  C_P50=$(ms "$(awk '$1 == "50%" {print $2}' "$out")")
  C_P99=$(ms "$(awk '$1 == "99%" {print $2}' "$out")")
}

# drive_rate TARGET WORKLOAD RATE OUTFILE: h2load over HTTP/1.1 keep-alive connections at a fixed request rate: one
# connection per H2_CONNECTION_RATE req/s, each sending --rps requests a second (one at a time), the connections
# opened 1 ms apart so that their requests interleave instead of arriving in bursts. h2load then needs a request
# count (-n) rather than a duration, so a target that cannot hold the rate takes longer than SECS; the case is
# bounded by a timeout. Percentiles come from h2load's per-request log.
# Sets REQUESTS, ERRORS, C_RPS (achieved: completed ÷ wall time), C_P50, C_P99.
drive_rate() {
  local target=$1 workload=$2 rate=$3 out=$4 clients rps total args=() rc=0
  clients=$(( (rate + H2_CONNECTION_RATE - 1) / H2_CONNECTION_RATE ))
  rps=$(awk -v r="$rate" -v c="$clients" 'BEGIN {printf "%.3f", r / c}')
  total=$(awk -v r="$rate" -v s="$SECS" -v c="$clients" 'BEGIN {printf "%d", int(r * s / c + 0.5) * c}')
  while IFS= read -r h; do args+=(-H "$h"); done < <(headers "$target" "$workload")
  timeout $((SECS * 10 + 30)) h2load --h1 -t1 -c"$clients" -r1 --rate-period 1ms --rps "$rps" -n "$total" \
    --log-file "$out.log" -d "$TMP/body-$workload.json" "${args[@]}" "$(url "$target" "$workload")" > "$out" 2>&1 || rc=$?
  if [ $rc != 0 ]; then
    WARNINGS+=("h2load failed (exit $rc) on $workload/r$rate/$target: $(tail -3 "$out" | tr '\n' ' ')")
    REQUESTS=0 ERRORS=$total C_RPS=nan C_P50=nan C_P99=nan
    return
  fi
  REQUESTS=$(awk '$1 == "status" && $2 == "codes:" {print $3 + 0}' "$out")
  ERRORS=$(awk '$1 == "requests:" {done = $6; failed = $10; errored = $12} $1 == "status" && $2 == "codes:" {ok = $3}
                END {print done - ok + failed + errored}' "$out")
  C_RPS=$(awk -v n="$REQUESTS" '$1 == "finished" && $2 == "in" {sub(/s,$/, "", $3); printf "%.0f", n / $3}' "$out")
  read -r C_P50 C_P99 < <(awk '$2 ~ /^2/ {print $3}' "$out.log" | sort -n | awk '{v[NR] = $1}
    END { if (NR == 0) { print "nan nan"; exit }
          i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++; i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
          printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
}

per_request() { # TICKS: CPU µs per completed request of the case
  awk -v t="$1" -v hz="$HZ" -v n="$REQUESTS" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "nan" }'
}

# run_case WORKLOAD DRIVER TARGET REPETITION: one measurement, with the CPU of every process involved and the
# load of the machine around it.
run_case() {
  local workload=$1 driver=$2 target=$3 rep=$4 key="$1|$2|$3|$4"
  local ours_pids hop_pids t0 t1 hop0 hop1 mock0 mock1 own0 own1 drv0 drv1 busy0 busy1 out="$TMP/out-${key//|/-}.txt"
  ours_pids="$MOCK_PID $MOCK_WORKERS $NGINX_PID $NGINX_WORKERS $PK_PID $TG_PID $FW_PID $(kernel_net_pids)"
  hop_pids=$(proxy_pids "$target")
  LOADB[$key]=$(load1)
  # shellcheck disable=SC2086
  { t0=$(now_s); busy0=$(busy_ticks); own0=$(cpu_ticks $ours_pids); hop0=$(cpu_ticks $hop_pids)
    mock0=$(cpu_ticks $MOCK_WORKERS); drv0=$(child_ticks); }
  if [ "$driver" = closed ]; then drive_closed "$target" "$workload" "$out"
  else drive_rate "$target" "$workload" "${driver#r}" "$out"; fi
  # shellcheck disable=SC2086
  { drv1=$(child_ticks); mock1=$(cpu_ticks $MOCK_WORKERS); hop1=$(cpu_ticks $hop_pids); own1=$(cpu_ticks $ours_pids)
    busy1=$(busy_ticks); t1=$(now_s); }
  LOADA[$key]=$(load1)
  RPS[$key]=$C_RPS P50[$key]=$C_P50 P99[$key]=$C_P99
  if [ -n "$hop_pids" ]; then CPU[$key]=$(per_request $((hop1 - hop0))); else CPU[$key]=""; fi
  MOCKCPU[$key]=$(per_request $((mock1 - mock0)))
  DRVCPU[$key]=$(per_request $((drv1 - drv0)))
  # Cores used by everything else on the machine meanwhile (other users' builds, tests, …).
  OTHERS[$key]=$(awk -v b=$((busy1 - busy0)) -v o=$((own1 - own0 + drv1 - drv0)) -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    'BEGIN { v = (b - o) / hz / (t1 - t0); printf "%.2f", v < 0 ? 0 : v }')
  if awk -v l="${LOADB[$key]}" -v w=$LOAD_WARN -v o="${OTHERS[$key]}" -v ow=$OTHERS_WARN 'BEGIN { exit !(l > w && o > ow) }'; then
    WARNINGS+=("machine busy: load average ${LOADB[$key]} before $workload/$driver/$target #$rep; other processes used ${OTHERS[$key]} cores during it")
  fi
  [ "$ERRORS" = 0 ] || WARNINGS+=("errors: $workload/$driver/$target #$rep had $ERRORS failed or non-2xx requests")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$workload" "$driver" "$target" "$rep" \
    "$REQUESTS" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "${CPU[$key]:-—}" "${MOCKCPU[$key]}" "${DRVCPU[$key]}" \
    "${OTHERS[$key]}" "${LOADB[$key]} → ${LOADA[$key]}" "$ERRORS" >> "$CASE_LOG"
  log "$workload $driver $target #$rep: ${RPS[$key]} req/s, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms," \
    "CPU ${CPU[$key]:-—} µs/req, others ${OTHERS[$key]} cores, load ${LOADB[$key]}"
}

# ---------------------------------------------------------------- the run
cases=$(( ${#WORKLOADS[@]} * ${#DRIVERS[@]} * ${#TARGETS[@]} * REPEAT ))
log "load average at start: $START_LOAD; $cases cases of ${SECS}s, about $(( (cases * (SECS + 1) + ${#TARGETS[@]} * ${#WORKLOADS[@]} * (JIT_WARMUP + 1)) / 60 + 1 )) min"

# Warm-up (connection pools; for the gateways that compile at run time, long enough for the JIT to reach its
# steady tier: Tollgate's tiered compiler was still busy 15 s into a 5-s-warmed run), not measured.
for workload in "${WORKLOADS[@]}"; do
  for target in "${TARGETS[@]}"; do
    case "$target" in tollgate|portkey|aspnet) secs=$JIT_WARMUP ;; *) secs=$WARMUP ;; esac
    [ "$secs" -gt 0 ] || continue
    timeout $((secs + 30)) wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d"${secs}s" -s "$TMP/wrk-$target-$workload.lua" \
      "$(url "$target" "$workload")" >/dev/null
  done
done

# Repetitions alternate the targets: direct, nginx, portkey, tollgate, direct, nginx, … so that a slow spell of the
# machine touches every target alike.
for rep in $(seq "$REPEAT"); do
  for workload in "${WORKLOADS[@]}"; do
    for driver in "${DRIVERS[@]}"; do
      for target in "${TARGETS[@]}"; do
        run_case "$workload" "$driver" "$target" "$rep"
      done
    done
  done
done
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

# summary FORMAT < values: "median (min–max)" of the values, one a line (just the value when they agree).
summary() {
  grep -v -e '^nan$' -e '^$' | sort -g | awk -v f="$1" '{v[NR] = $1}
    END { if (NR == 0) { print "—"; exit }
          m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          s = sprintf(f, m); lo = sprintf(f, v[1]); hi = sprintf(f, v[NR])
          print (lo == hi ? s : s " (" lo "–" hi ")") }'
}

values() { # ARRAY workload driver target: the repetitions' values
  local -n arr=$1; local rep
  for rep in $(seq "$REPEAT"); do echo "${arr[$2|$3|$4|$rep]:-}"; done
}

added() { # P50|P99 workload driver target: per repetition, the target's latency minus direct's in that repetition
  local -n arr=$1; local rep
  for rep in $(seq "$REPEAT"); do
    awk -v a="${arr[$2|$3|$4|$rep]}" -v b="${arr[$2|$3|direct|$rep]}" 'BEGIN { if (a == "nan" || b == "nan") print "nan"; else printf "%.3f\n", a - b }'
  done
}

workload_table() { # workload
  local w=$1 t d header="| target | req/s | p50 ms | p99 ms | added p50 / p99 ms | CPU µs/req |" rule="|---|---:|---:|---:|---:|---:|"
  for d in "${DRIVERS[@]:1}"; do
    header+=" ${d#r}/s: achieved | ${d#r}/s: added p50 / p99 ms | ${d#r}/s: CPU µs/req |"
    rule+="---:|---:|---:|"
  done
  echo "$header"; echo "$rule"
  for t in "${TARGETS[@]}"; do
    local row
    row="| $t | $(values RPS "$w" closed "$t" | summary %.0f) | $(values P50 "$w" closed "$t" | summary %.3f) | $(values P99 "$w" closed "$t" | summary %.3f)"
    if [ "$t" = direct ]; then row+=" | — | — |"
    else row+=" | $(added P50 "$w" closed "$t" | summary %+.3f) / $(added P99 "$w" closed "$t" | summary %+.3f) | $(values CPU "$w" closed "$t" | summary %.1f) |"; fi
    for d in "${DRIVERS[@]:1}"; do
      local achieved held
      achieved=$(values RPS "$w" "$d" "$t" | summary %.0f)
      held=$(values RPS "$w" "$d" "$t" | sort -g | awk -v target="${d#r}" '{v[NR] = $1}
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print (m < 0.95 * target ? " rate not held" : "") }')
      row+=" $achieved$held |"
      if [ "$t" = direct ]; then row+=" p50 $(values P50 "$w" "$d" "$t" | summary %.3f) / p99 $(values P99 "$w" "$d" "$t" | summary %.3f) | — |"
      else row+=" $(added P50 "$w" "$d" "$t" | summary %+.3f) / $(added P99 "$w" "$d" "$t" | summary %+.3f) | $(values CPU "$w" "$d" "$t" | summary %.1f) |"; fi
    done
    echo "$row"
  done
}

version() { "$@" 2>&1 | head -1 || true; }
report() {
  local commit dirty=""
  commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || dirty=" with local changes"
  echo "# Gateway overhead, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/run.sh${ARGS:+ $ARGS}\` at commit \`$commit\`$dirty."
  echo
  echo "Machine: nproc $(nproc); $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: //'); kernel $(uname -r);" \
    "Debian $(cat /etc/debian_version 2>/dev/null || echo '?'); .NET SDK $(cd "$BENCH_ROOT" && dotnet --version); $(version "$(nginx_bin)" -v | sed 's/^nginx version: //');" \
    "node $(node -v); Portkey gateway $PORTKEY_VERSION; $(version wrk -v | cut -d' ' -f1-2); $(version h2load --version)."
  echo
  echo "Method: $REPEAT repetition$([ "$REPEAT" = 1 ] || echo s) of ${SECS} s per case, targets alternating (${TARGETS[*]}); each cell is the median" \
    "of the repetitions with their range (min–max); before the first case, ${JIT_WARMUP} s of unmeasured closed-loop load" \
    "per workload for Tollgate and Portkey (${WARMUP} s for direct and nginx). Closed loop: \`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS\`." \
    "Fixed rates: \`h2load --h1\`, one keep-alive connection per $H2_CONNECTION_RATE req/s (\`--rps\`), opened 1 ms apart;" \
    "achieved rate: completed requests ÷ the run's wall time;" \
    "\"rate not held\" when the median achieved rate is under 95% of the target. Added latency: the target's minus" \
    "direct's in the same repetition. CPU µs/req: utime+stime of the proxy's process (nginx: its worker) from" \
    "/proc over the case, divided by the completed requests. Streaming latency is to the end of the stream."
  echo
  echo "Load average at start: $START_LOAD; at the end: $END_LOAD."
  if awk -v l="${START_LOAD%% *}" -v w=$LOAD_WARN 'BEGIN { exit !(l > w) }'; then
    WARNINGS=("machine busy: load average ${START_LOAD%% *} at start" "${WARNINGS[@]}")
  fi
  if [ ${#WARNINGS[@]} -gt 0 ]; then
    echo
    printf -- '- %s\n' "${WARNINGS[@]}"
  fi
  echo
  local w
  for w in "${WORKLOADS[@]}"; do
    if [ "$w" = plain ]; then echo "## Plain requests"
    else echo "## Streaming requests ($(( ${#STREAM_WORDS[@]} )) content chunks, a usage chunk, [DONE])"; fi
    echo
    workload_table "$w"
    echo
  done
  echo "## Every case"
  echo
  echo "CPU in µs per request: the proxy's, the mock upstream's and the load generator's. Others: cores used by" \
    "processes outside the benchmark during the case. Load: the 1-minute load average before → after."
  echo
  echo "| workload | driver | target | # | requests | req/s | p50 ms | p99 ms | CPU proxy | CPU mock | CPU driver | others | load | errors |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  cat "$CASE_LOG"
}

mkdir -p "$(dirname "$OUT")"
report | tee "$OUT"
log "report written to $OUT"
