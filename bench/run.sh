#!/usr/bin/env bash
# Gateway overhead benchmark: the cost per request of Tollgate, side by side with a plain nginx reverse proxy,
# both in front of one fast mock upstream (nginx returning a canned chat completion), driven by wrk.
#
#   bench/run.sh [--quick]      # --quick: 10 s per target (default 30 s)
#
# Not part of CI. Needs root (or the packages already installed) to install nginx and wrk from Debian.
# Everything listens on 127.0.0.1 only; every process started here is stopped by PID on exit.
set -euo pipefail

DURATION=30
for arg in "$@"; do
  case "$arg" in
    --quick) DURATION=10 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOCK_PORT=18081 NGINX_PORT=18082 TG_PORT=18083 TG_METRICS_PORT=18093
THREADS=2 CONNECTIONS=32

# ---------------------------------------------------------------- tools
need=()
command -v wrk >/dev/null || need+=(wrk)
NGINX_BIN=$(command -v nginx || true)
[ -z "$NGINX_BIN" ] && [ -x /usr/sbin/nginx ] && NGINX_BIN=/usr/sbin/nginx
if [ -z "$NGINX_BIN" ]; then
  need+=(nginx)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  pkgs=()
  for p in "${need[@]}"; do
    if [ "$p" = nginx ]; then
      if apt-cache policy nginx-light 2>/dev/null | grep -q 'Candidate: [0-9]'; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
    else
      pkgs+=("$p")
    fi
  done
  apt-get install -y -qq "${pkgs[@]}" >/dev/null
  NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
fi

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # url expected-code seconds
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true)" = "$2" ] && return 0
    sleep 0.2
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# ---------------------------------------------------------------- mock upstream and nginx proxy
RESPONSE='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":9,"total_tokens":28}}'

nginx_conf() { # name port server-block
  mkdir -p "$TMP/$1/logs"
  cat > "$TMP/$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $TMP/$1/nginx.pid;
error_log $TMP/$1/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/$1/body;
  proxy_temp_path $TMP/$1/proxy;
  fastcgi_temp_path $TMP/$1/fastcgi;
  uwsgi_temp_path $TMP/$1/uwsgi;
  scgi_temp_path $TMP/$1/scgi;
  keepalive_requests 1000000;
  $3
}
EOF
}

nginx_conf mock $MOCK_PORT "
  server {
    listen 127.0.0.1:$MOCK_PORT;
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '$RESPONSE';
    }
  }"
nginx_conf proxy $NGINX_PORT "
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

"$NGINX_BIN" -p "$TMP/mock" -c "$TMP/mock/nginx.conf" -e "$TMP/mock/logs/error.log" </dev/null >/dev/null 2>&1 &
MOCK_PID=$!; PIDS+=("$MOCK_PID")
"$NGINX_BIN" -p "$TMP/proxy" -c "$TMP/proxy/nginx.conf" -e "$TMP/proxy/logs/error.log" </dev/null >/dev/null 2>&1 &
NGINX_PID=$!; PIDS+=("$NGINX_PID")

# ---------------------------------------------------------------- Tollgate
echo "building Tollgate (Release)…" >&2
dotnet build "$ROOT/src/Tollgate" -c Release -nologo -v q >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; exit 1; }
TG="$ROOT/src/Tollgate/bin/Release/net10.0/tollgate"

# Every policy runs (rates, tokens, concurrency, budgets at key, user, tenant, source address and global scope);
# the limits are far above what the run can reach, so none refuses.
LIMITS='"RequestsPerMinute": 100000000, "RequestsPerHour": 1000000000, "RequestsPerDay": 1000000000,
        "TokensPerMinute": 100000000000, "TokensPerDay": 1000000000000,
        "MaxConcurrentRequests": 100000, "BudgetPerDay": 1000000000, "BudgetPerMonth": 1000000000'
cat > "$TMP/tollgate.json" <<EOF
{
  "Tollgate": {
    "Upstreams": { "mock": { "Kind": "openai", "BaseUrl": "http://127.0.0.1:$MOCK_PORT/v1" } },
    "Models": {
      "bench-model": {
        "Upstream": "mock",
        "Prices": { "Input": 0.15, "Output": 0.6 },
        "ContextWindow": 128000, "MaxOutputTokens": 16384, "Encoding": "o200k_base"
      }
    },
    "Plans": {
      "bench": {
        "Models": [ "bench-model" ],
        $LIMITS,
        "MaxInputTokens": 128000, "MaxOutputTokens": 16384, "DefaultMaxOutputTokens": 256,
        "TaskBudgetPerDay": 1000000000
      }
    },
    "TenantDefaults": { $LIMITS },
    "SourceAddresses": { $LIMITS },
    "Global": { "TimeZone": "UTC", $LIMITS }
  }
}
EOF
"$TG" config check --config "$TMP/tollgate.json" >&2
KEY=$("$TG" keys create --tenant bench --user bench --plan bench --data "$TMP/data" --config "$TMP/tollgate.json" \
  | sed -n 's/^Key (shown once, store it now): //p')
[ -n "$KEY" ] || { echo "could not create a key" >&2; exit 1; }

"$TG" serve --urls "http://127.0.0.1:$TG_PORT" --metrics-urls "http://127.0.0.1:$TG_METRICS_PORT" \
  --data "$TMP/data" --config "$TMP/tollgate.json" >"$TMP/tollgate.log" 2>&1 &
TG_PID=$!; PIDS+=("$TG_PID")

wait_http "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" 200 10
wait_http "http://127.0.0.1:$TG_PORT/readyz" 200 30 || { cat "$TMP/tollgate.log" >&2; exit 1; }

# ---------------------------------------------------------------- load
BODY='{"model":"bench-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64}'
cat > "$TMP/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
EOF

# Sanity: each target answers the body with 200.
for port in $MOCK_PORT $NGINX_PORT $TG_PORT; do
  code=$(curl -s -o "$TMP/check.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $KEY" --data "$BODY" "http://127.0.0.1:$port/v1/chat/completions")
  [ "$code" = 200 ] || { echo "port $port answered $code: $(head -c 400 "$TMP/check.json")" >&2; exit 1; }
done

cpu_ticks() { # pids... -> utime+stime summed, in clock ticks
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat") || continue
    stat=${stat##*) }            # drop "pid (comm) "
    set -- $stat
    total=$((total + ${12} + ${13}))   # fields 14 and 15 of the full line
  done
  echo $total
}
HZ=$(getconf CLK_TCK)

to_ms() { # wrk latency (e.g. 812.00us, 1.23ms, 1.01s) -> ms
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else print "nan" }'
}

declare -A RPS P50 P99 CPU
run_target() { # name port pids-to-measure...
  local name=$1 port=$2; shift 2
  local before after out requests errors
  # short warm-up (JIT, connection pools), not measured
  wrk -t$THREADS -c$CONNECTIONS -d3s -s "$TMP/post.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
  before=$( [ $# -gt 0 ] && cpu_ticks "$@" || echo 0 )
  out=$(timeout $((DURATION + 30)) wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s "$TMP/post.lua" \
    "http://127.0.0.1:$port/v1/chat/completions")
  after=$( [ $# -gt 0 ] && cpu_ticks "$@" || echo 0 )
  echo "$out" > "$TMP/wrk-$name.txt"
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  errors=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $NF}')
  if [ -n "$errors" ]; then echo "$name: $errors non-2xx responses" >&2; echo "$out" >&2; exit 1; fi
  RPS[$name]=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  P50[$name]=$(to_ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  P99[$name]=$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  if [ $# -gt 0 ]; then
    CPU[$name]=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  else
    CPU[$name]="—"
  fi
  echo "$name: ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p99 ${P99[$name]} ms, CPU ${CPU[$name]} µs/request" >&2
}

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average at start: $LOADAVG; ${DURATION}s per target, wrk -t$THREADS -c$CONNECTIONS" >&2

run_target direct $MOCK_PORT
NGINX_WORKERS=$(awk -v p="$NGINX_PID" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[2] == p) { split(FILENAME, d, "/"); print d[3] } }' /proc/[0-9]*/stat 2>/dev/null | tr '\n' ' ')
[ -n "$NGINX_WORKERS" ] || { echo "no nginx worker found" >&2; exit 1; }
# shellcheck disable=SC2086
run_target nginx $NGINX_PORT $NGINX_WORKERS
run_target tollgate $TG_PORT "$TG_PID"

added() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.3f", a - b}'; }
echo
echo "Load average at start: $LOADAVG. $(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, POST /v1/chat/completions."
echo
echo "| target | req/s | p50 ms | p99 ms | added p50 / p99 ms | CPU µs/request (proxy) |"
echo "|---|---:|---:|---:|---:|---:|"
for t in direct nginx tollgate; do
  if [ $t = direct ]; then add="—"; else add="$(added "${P50[$t]}" "${P50[direct]}") / $(added "${P99[$t]}" "${P99[direct]}")"; fi
  echo "| $t | ${RPS[$t]} | ${P50[$t]} | ${P99[$t]} | $add | ${CPU[$t]} |"
done
