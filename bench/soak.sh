#!/usr/bin/env bash
# Memory soak: Tollgate (Release, every policy on) in front of the nginx mock upstream, with many keys imported and
# used, under a steady request rate, its memory sampled as it goes.
#
#   bench/soak.sh [--minutes M] [--keys K] [--rate R] [--hot PERCENT] [--interval S] [--out FILE]
#
#   --minutes M    minutes of load with every key (default 10)
#   --keys K       keys imported with `tollgate keys import` and used round robin (default 100000)
#   --rate R       requests per second to aim at (default 1500, so that every key is used by minute 2 on a 2-core
#                  machine); latency lowers it, the report gives the achieved rate
#   --hot PERCENT  share of requests sent with one of 10 hot keys instead of the next key in turn (default 20)
#   --interval S   seconds between samples (default 30)
#   --out FILE     where the report goes as well as standard output (default bench/results/soak-<UTC time>.md)
#
# Memory: RSS (VmRSS from /proc/PID/status) and the managed heap (the GC's heap size at its last collection, summed
# over generations, read with dotnet-counters, which is installed into bench/.tools if missing). Not part of CI.
# Everything listens on 127.0.0.1 only; every process started here is stopped by PID on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- options
MINUTES=10 KEYS=100000 RATE=1500 HOT=20 INTERVAL=30 OUT=""
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=${2:?}; shift ;;
    --keys) KEYS=${2:?}; shift ;;
    --rate) RATE=${2:?}; shift ;;
    --hot) HOT=${2:?}; shift ;;
    --interval) INTERVAL=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
for v in "$MINUTES" "$KEYS" "$RATE" "$INTERVAL"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "options take positive integers: $v"; done
[[ "$HOT" =~ ^[0-9]+$ && $HOT -le 100 ]] || die "--hot takes a percentage"
[ "$KEYS" -ge 10 ] || die "--keys takes at least 10"
OUT=${OUT:-$BENCH_ROOT/bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ).md}

MOCK_PORT=18181 TG_PORT=18183 TG_METRICS_PORT=18193   # apart from run.sh's ports
HOT_KEYS=10
CONNECTIONS=20 WRK_THREADS=2
WARMUP=$(( MINUTES * 6 < 60 ? (MINUTES * 6 < 10 ? 10 : MINUTES * 6) : 60 ))   # one-key warm-up, seconds
COUNTERS_VERSION=10.0.750501
COUNTERS="$BENCH_ROOT/bench/.tools/dotnet-counters"

install_tools wrk nginx curl
if [ ! -x "$COUNTERS" ]; then
  log "installing dotnet-counters $COUNTERS_VERSION into bench/.tools…"
  (cd "$TMP" && timeout 300 dotnet tool install --tool-path "$BENCH_ROOT/bench/.tools" dotnet-counters \
    --version $COUNTERS_VERSION >"$TMP/tool.log" 2>&1) || { cat "$TMP/tool.log" >&2; log "no dotnet-counters: the managed heap is not measured"; }
fi

# ---------------------------------------------------------------- mock upstream, Tollgate, keys
nginx_conf mock "$(mock_server $MOCK_PORT)"
start_nginx MOCK_PID mock
build_tollgate
tollgate_config "$TMP/tollgate.json" $MOCK_PORT

log "importing $KEYS keys…"
awk -v n="$KEYS" 'BEGIN { printf "["; for (i = 0; i < n; i++) printf "%s{\"tenant\":\"t%d\",\"user\":\"u%d\",\"plan\":\"bench\"}", (i ? "," : ""), i % 100, i; print "]" }' \
  > "$TMP/import.json"
import_start=$SECONDS
timeout 1800 "$TG_BIN" keys import "$TMP/import.json" --data "$TMP/data" --config "$TMP/tollgate.json" > "$TMP/keys.json"
IMPORT_SECONDS=$((SECONDS - import_start))
sed -n 's/^ *"key": "\(.*\)",\{0,1\}$/\1/p' "$TMP/keys.json" > "$TMP/keys.txt"
[ "$(wc -l < "$TMP/keys.txt")" = "$KEYS" ] || die "the import printed $(wc -l < "$TMP/keys.txt") keys, not $KEYS"
rm -f "$TMP/import.json" "$TMP/keys.json"
log "imported $KEYS keys in ${IMPORT_SECONDS}s"

start_tollgate
wait_http "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" 200 10 || { cat "$TMP/mock/logs/error.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$TG_PORT/readyz" 200 60 || { cat "$TMP/tollgate.log" >&2; exit 1; }
# shellcheck disable=SC2046
check_loopback "$MOCK_PID" $(children "$MOCK_PID") "$TG_PID"

# ---------------------------------------------------------------- load
# wrk, one Lua state per thread: each thread walks its share of the keys round robin (thread t takes keys t, t+T,
# t+2T, …), and HOT% of the requests take one of the first HOT_KEYS keys instead. delay() spaces each connection's
# requests so that CONNECTIONS connections together send about RATE requests a second.
DELAY_MS=$(awk -v c=$CONNECTIONS -v r="$RATE" 'BEGIN { printf "%.3f", c * 1000 / r }')
cat > "$TMP/soak.lua" <<EOF
local body = '$PLAIN_BODY'
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  thread:set("keyfile", "@KEYFILE@")
  next_id = next_id + 1
end
function init(args)
  keys = {}
  for line in io.lines(keyfile) do keys[#keys + 1] = line end
  first = id % #keys + 1
  position = first
  hot = math.min($HOT_KEYS, #keys)
  math.randomseed(os.time() + id)
end
function request()
  local key
  if math.random(100) <= $HOT then
    key = keys[math.random(hot)]
  else
    key = keys[position]
    position = position + $WRK_THREADS
    if position > #keys then position = first end
  end
  return wrk.format("POST", "/v1/chat/completions",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }, body)
end
function delay() return $DELAY_MS end
EOF

# load NAME SECONDS KEYFILE: starts wrk in the background with the keys of KEYFILE; WRK_PID gets its PID, and its
# output goes to $TMP/wrk-NAME.txt.
load() {
  sed "s|@KEYFILE@|$3|" "$TMP/soak.lua" > "$TMP/soak-$1.lua"
  start_bg WRK_PID "$TMP/wrk-$1.txt" timeout $(($2 + 60)) \
    wrk -t$WRK_THREADS -c$CONNECTIONS -d"${2}s" -s "$TMP/soak-$1.lua" "http://127.0.0.1:$TG_PORT/v1/chat/completions"
}

# ---------------------------------------------------------------- sampling

requests_served() { # from Tollgate's own metrics
  curl -s -m 5 "http://127.0.0.1:$TG_METRICS_PORT/metrics" | awk '/^tollgate_requests_total\{/ { n += $NF } END { printf "%d", n }'
}

heap_bytes() { # the managed heap at the GC's last collection, over every generation; "nan" without dotnet-counters
  local csv="$TMP/counters-$RANDOM.csv"
  [ -x "$COUNTERS" ] || { echo nan; return; }
  (cd "$TMP" && timeout 30 "$COUNTERS" collect -p "$TG_PID" --format csv --refresh-interval 1 --duration 00:00:00:03 \
    --counters 'System.Runtime[dotnet.gc.last_collection.heap.size]' -o "$csv" >/dev/null 2>&1) || true
  # the last reading that has every generation
  awk -F, '$3 ~ /^dotnet.gc.last_collection.heap.size/ { sum[$1] += $5; n[$1]++; if (n[$1] > most) most = n[$1]; order[++k] = $1 }
    END { for (i = k; i > 0; i--) if (n[order[i]] == most) { printf "%d", sum[order[i]]; exit } print "nan" }' "$csv" 2>/dev/null || echo nan
  rm -f "$csv"
}

# sample LABEL ELAPSED-SECONDS KEYS-USED: one row of the samples table; sets S_RSS and S_HEAP (bytes).
SAMPLES="$TMP/samples.md"
: > "$SAMPLES"
sample() {
  local rss served
  rss=$(( $(rss_kib "$TG_PID") * 1024 ))
  S_HEAP=$(heap_bytes)
  S_RSS=$rss
  served=$(requests_served)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(awk -v s="$2" 'BEGIN { printf "%.1f", s / 60 }')" "$served" "$3" \
    "$(mib "$S_RSS")" "$(mib "$S_HEAP")" >> "$SAMPLES"
  log "$1 at $(awk -v s="$2" 'BEGIN { printf "%.1f", s / 60 }') min: $served requests, $3 keys used, RSS $(mib "$S_RSS") MiB, managed heap $(mib "$S_HEAP") MiB"
}
mib() { awk -v b="$1" 'BEGIN { if (b == "nan") print "—"; else printf "%.1f", b / 1048576 }'; }

# keys_used REQUESTS-OF-THE-SOAK: keys used so far (the round-robin share walks the keys; the hot keys are among them).
keys_used() { awk -v n="$1" -v hot="$HOT" -v k="$KEYS" -v h=$HOT_KEYS 'BEGIN { u = int(n * (100 - hot) / 100); if (u < h) u = h; if (u > k) u = k; print u }'; }

# ---------------------------------------------------------------- the soak
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 3
sample "idle, no request served" 0 0
IDLE0_RSS=$S_RSS IDLE0_HEAP=$S_HEAP

# Warm-up with one key: JIT, connection pools and the ledger reach their steady size before keys are counted.
head -1 "$TMP/keys.txt" > "$TMP/one-key.txt"
log "warm-up: ${WARMUP}s at $RATE req/s with one key…"
load warmup "$WARMUP" "$TMP/one-key.txt"
wait "$WRK_PID" || die "wrk (warm-up) failed: $(cat "$TMP/wrk-warmup.txt")"
sleep 5
sample "idle after a one-key warm-up" 0 1
WARM_RSS=$S_RSS WARM_HEAP=$S_HEAP
BASE_REQUESTS=$(requests_served)

log "soak: $MINUTES min at $RATE req/s over $KEYS keys ($HOT% on $HOT_KEYS hot keys), a sample every ${INTERVAL}s…"
load soak $((MINUTES * 60 + 10)) "$TMP/keys.txt"   # 10 s over, so that the last sample is taken under load
soak_start=$(now_s)
REF_MINUTES=$(( MINUTES >= 4 ? 2 : 0 ))   # the early sample the end is compared with: minute 2, or the first one
REF_RSS="" REF_HEAP="" REF_AT=""
next=$INTERVAL
while kill -0 "$WRK_PID" 2>/dev/null; do
  elapsed=$(awk -v a="$soak_start" -v b="$(now_s)" 'BEGIN { printf "%d", b - a }')
  if [ "$elapsed" -ge "$next" ] && [ "$elapsed" -le $((MINUTES * 60)) ]; then
    served=$(( $(requests_served) - BASE_REQUESTS ))
    sample "under load" "$elapsed" "$(keys_used "$served")"
    if [ -z "$REF_RSS" ] && [ "$elapsed" -ge $((REF_MINUTES * 60)) ]; then REF_RSS=$S_RSS REF_HEAP=$S_HEAP REF_AT=$elapsed; fi
    END_RSS=$S_RSS END_HEAP=$S_HEAP END_AT=$elapsed
    next=$((next + INTERVAL))
  fi
  sleep 1
done
wait "$WRK_PID" || die "wrk failed: $(cat "$TMP/wrk-soak.txt")"
SOAK_REQUESTS=$(( $(requests_served) - BASE_REQUESTS ))
USED=$(keys_used "$SOAK_REQUESTS")
sleep 5
sample "idle after the soak" "$(awk -v a="$soak_start" -v b="$(now_s)" 'BEGIN { printf "%d", b - a }')" "$USED"
IDLE_END_RSS=$S_RSS IDLE_END_HEAP=$S_HEAP
[ -n "${END_RSS:-}" ] || die "no sample was taken under load (--interval longer than the soak?)"
ERRORS=$(awk '/Non-2xx or 3xx responses/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$TMP/wrk-soak.txt")
ACHIEVED=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$TMP/wrk-soak.txt")

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "—"; else printf "%.2f", a / b }'; }
per_key() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (a == "nan" || b == "nan") print "—"; else printf "%.0f", (a - b) / n }'; }
report() {
  local commit dirty=""
  commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || dirty=" with local changes"
  echo "# Memory soak, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/soak.sh${ARGS:+ $ARGS}\` at commit \`$commit\`$dirty."
  echo
  echo "Machine: nproc $(nproc); $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: //'); kernel $(uname -r);" \
    "Debian $(cat /etc/debian_version 2>/dev/null || echo '?'); .NET SDK $(cd "$BENCH_ROOT" && dotnet --version)." \
    "Load average at start: $START_LOAD; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Load: $KEYS keys imported in ${IMPORT_SECONDS} s; wrk, $CONNECTIONS connections spaced to $RATE req/s for $MINUTES min," \
    "keys round robin with $HOT% of requests on $HOT_KEYS hot keys; $SOAK_REQUESTS requests ($ACHIEVED req/s), $ERRORS errors;" \
    "$USED keys used. Before it, a ${WARMUP} s warm-up at the same rate with one key."
  echo
  echo "| when | minute | requests served | keys used | RSS MiB | managed heap MiB |"
  echo "|---|---:|---:|---:|---:|---:|"
  cat "$SAMPLES"
  echo
  echo "- Under load, minute $(awk -v s="$REF_AT" 'BEGIN { printf "%.1f", s / 60 }') → minute $(awk -v s="$END_AT" 'BEGIN { printf "%.1f", s / 60 }'):" \
    "RSS $(mib "$REF_RSS") → $(mib "$END_RSS") MiB (× $(ratio "$END_RSS" "$REF_RSS")), managed heap $(mib "$REF_HEAP") → $(mib "$END_HEAP") MiB (× $(ratio "$END_HEAP" "$REF_HEAP"))."
  echo "- Memory per active key, idle after the soak minus idle after the one-key warm-up, over $USED keys:" \
    "RSS $(per_key "$IDLE_END_RSS" "$WARM_RSS" "$USED") bytes, managed heap $(per_key "$IDLE_END_HEAP" "$WARM_HEAP" "$USED") bytes."
  echo "- The same from a gateway that had served no request (the last sample under load minus the idle gateway before" \
    "any request): RSS $(per_key "$END_RSS" "$IDLE0_RSS" "$USED") bytes, managed heap $(per_key "$END_HEAP" "$IDLE0_HEAP" "$USED")" \
    "bytes per key; this also counts what serving at all costs (JIT, pools, buffers, GC headroom), not just the keys."
}

mkdir -p "$(dirname "$OUT")"
report | tee "$OUT"
log "report written to $OUT"
