# Shared parts of bench/run.sh and bench/soak.sh (sourced, not run): tool installation, process bookkeeping,
# the nginx mock upstream, Tollgate's benchmark configuration, CPU and memory readings from /proc.
# Everything listens on 127.0.0.1 only; every process started through start_bg is stopped by PID on exit.
# shellcheck shell=bash disable=SC2034  # the variables set here are used by the scripts that source it

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HZ=$(getconf CLK_TCK)

log() { echo "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools

# install_tools wrk nginx h2load: installs the Debian packages of the tools that are missing.
install_tools() {
  local need=() tool
  for tool in "$@"; do
    case "$tool" in
      nginx) [ -n "$(nginx_bin)" ] || need+=("$(nginx_package)") ;;
      h2load) command -v h2load >/dev/null || need+=(nghttp2-client) ;;
      *) command -v "$tool" >/dev/null || need+=("$tool") ;;
    esac
  done
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing from Debian: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 600 apt-get install -y -qq "${need[@]}" >/dev/null
}

nginx_bin() {
  if command -v nginx >/dev/null; then command -v nginx
  elif [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx
  fi
}

nginx_package() { # the smallest nginx Debian has
  if apt-cache policy nginx-light 2>/dev/null | grep -q 'Candidate: [0-9]'; then echo nginx-light; else echo nginx; fi
}

# ---------------------------------------------------------------- processes

TMP=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
PIDS=()

cleanup() {
  local pid alive
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_bg VAR log-file command...: starts a process in the background, remembers its PID for cleanup, sets VAR.
start_bg() {
  local var=$1 logfile=$2; shift 2
  "$@" </dev/null >"$logfile" 2>&1 &
  PIDS+=("$!")
  printf -v "$var" '%s' "$!"
}

# wait_http URL CODE SECONDS: waits until GET URL answers CODE.
wait_http() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true)" = "$2" ] && return 0
    sleep 0.2
  done
  log "timed out after $3 s waiting for $1 to answer $2"
  return 1
}

# children PID: the PIDs of PID's child processes (nginx: the workers of a master).
children() { pgrep -P "$1" | tr '\n' ' '; }

# cpu_ticks PID...: utime+stime of the processes, summed, in clock ticks (1/HZ s). Gone processes count 0.
cpu_ticks() {
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }                 # drop "pid (comm) ": field 3 of the full line is now field 1
    # shellcheck disable=SC2086
    set -- $stat
    total=$((total + ${12} + ${13}))  # fields 14 (utime) and 15 (stime) of the full line
  done
  echo $total
}

# child_ticks: CPU of this shell's finished (waited-for) descendants, such as a load generator run in the foreground.
child_ticks() {
  local stat
  stat=$(cat /proc/$$/stat)
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo $((${14} + ${15}))             # fields 16 (cutime) and 17 (cstime)
}

# busy_ticks: user+nice+system time of the whole machine, in clock ticks.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4; exit }' /proc/stat; }

# kernel_net_pids: the per-CPU softirq threads, which carry part of the loopback traffic under load.
kernel_net_pids() { pgrep '^ksoftirqd/' | tr '\n' ' '; }

# check_loopback PID...: fails unless every TCP socket these processes listen on is bound to 127.0.0.1.
check_loopback() {
  local pid sockets
  for pid in "$@"; do
    sockets=$(ss -Hltnp | grep "pid=$pid," | awk '{print $4}' || true)
    if echo "$sockets" | grep -v '^$' | grep -qv '^127\.0\.0\.1:'; then
      die "process $pid listens beyond 127.0.0.1: $(echo "$sockets" | tr '\n' ' ')"
    fi
  done
}

load1() { cut -d' ' -f1 /proc/loadavg; }

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

now_s() { date +%s.%N; }

# ---------------------------------------------------------------- mock upstream

# The canned answers. Plain: one chat completion with usage. Streaming: 20 content chunks, a finish chunk, a
# usage-only chunk (what stream_options.include_usage asks for) and [DONE], as one fixed SSE body.
MOCK_JSON='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":9,"total_tokens":28}}'
STREAM_WORDS=("Hello" " there" "!" " How" " can" " I" " help" " you" " today" "?"
              " I" " can" " answer" " questions" "," " write" " code" " and" " more" ".")
STREAM_COMPLETION_TOKENS=20   # common words and punctuation: about a token per piece above

# mock_sse: the SSE body with literal \n escapes, for an nginx quoted string (nginx turns \n into a newline).
mock_sse() {
  local head='{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-stream"'
  local out="" i delta
  for i in "${!STREAM_WORDS[@]}"; do
    if [ "$i" = 0 ]; then delta="{\"role\":\"assistant\",\"content\":\"${STREAM_WORDS[$i]}\"}"; else delta="{\"content\":\"${STREAM_WORDS[$i]}\"}"; fi
    out+="data: $head,\"choices\":[{\"index\":0,\"delta\":$delta,\"finish_reason\":null}]}\\n\\n"
  done
  out+="data: $head,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\\n\\n"
  out+="data: $head,\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":$STREAM_COMPLETION_TOKENS,\"total_tokens\":$((19 + STREAM_COMPLETION_TOKENS))}}\\n\\n"
  out+="data: [DONE]\\n\\n"
  printf '%s' "$out"
}

# nginx_conf NAME SERVER-BLOCKS: writes $TMP/NAME/nginx.conf (one worker, no access log, foreground).
nginx_conf() {
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
  $2
}
EOF
}

# start_nginx VAR NAME: starts the nginx of $TMP/NAME/nginx.conf; VAR gets the master's PID.
start_nginx() {
  start_bg "$1" "$TMP/$2/logs/stdout.log" "$(nginx_bin)" -p "$TMP/$2" -c "$TMP/$2/nginx.conf" -e "$TMP/$2/logs/error.log"
}

# mock_server PORT: the mock upstream's server block. POST /v1/chat/completions answers the canned completion,
# POST /stream/v1/chat/completions the canned SSE stream (the request body is not read).
mock_server() {
  cat <<EOF
  server {
    listen 127.0.0.1:$1;
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '$MOCK_JSON';
    }
    location = /stream/v1/chat/completions {
      default_type text/event-stream;
      add_header Cache-Control no-cache;
      return 200 '$(mock_sse)';
    }
  }
EOF
}

# ---------------------------------------------------------------- Tollgate

TG_BIN="$BENCH_ROOT/src/Tollgate/bin/Release/net10.0/tollgate"

build_tollgate() {
  log "building Tollgate (Release)…"
  timeout 900 dotnet build "$BENCH_ROOT/src/Tollgate" -c Release -nologo -v q >"$TMP/build.log" 2>&1 \
    || { cat "$TMP/build.log" >&2; die "build failed"; }
}

# create_key TENANT: a key (the secret) for user TENANT of TENANT on plan bench, in $TMP/data.
create_key() {
  "$TG_BIN" keys create --tenant "$1" --user "$1" --plan bench --data "$TMP/data" --config "$TMP/tollgate.json" \
    | sed -n 's/^Key (shown once, store it now): //p'
}

# start_tollgate [NAME=VALUE...]: starts `tollgate serve` on TG_PORT (metrics on TG_METRICS_PORT) over $TMP/data and
# $TMP/tollgate.json, with the given environment added; TG_PID gets its PID, its output goes to $TMP/tollgate.log.
start_tollgate() {
  start_bg TG_PID "$TMP/tollgate.log" env "$@" "$TG_BIN" serve --urls "http://127.0.0.1:$TG_PORT" \
    --metrics-urls "http://127.0.0.1:$TG_METRICS_PORT" --data "$TMP/data" --config "$TMP/tollgate.json"
}

# tollgate_config FILE MOCK-PORT: every policy on (rates, tokens, concurrency, budgets at key, user, tenant, source
# address and global scope), with limits far above what a run can reach, so that every one runs and none refuses.
# Model bench-model goes to the mock's plain answer, bench-stream to its SSE stream.
tollgate_config() {
  local limits='"RequestsPerMinute": 100000000, "RequestsPerHour": 1000000000, "RequestsPerDay": 1000000000,
        "TokensPerMinute": 100000000000, "TokensPerDay": 1000000000000,
        "MaxConcurrentRequests": 100000, "BudgetPerDay": 1000000000, "BudgetPerMonth": 1000000000'
  local model='"Prices": { "Input": 0.15, "Output": 0.6 }, "ContextWindow": 128000, "MaxOutputTokens": 16384, "Encoding": "o200k_base"'
  cat > "$1" <<EOF
{
  "Tollgate": {
    "Upstreams": {
      "mock": { "Kind": "openai", "BaseUrl": "http://127.0.0.1:$2/v1" },
      "mock-stream": { "Kind": "openai", "BaseUrl": "http://127.0.0.1:$2/stream/v1" }
    },
    "Models": {
      "bench-model": { "Upstream": "mock", $model },
      "bench-stream": { "Upstream": "mock-stream", $model }
    },
    "Plans": {
      "bench": {
        "Models": [ "bench-model", "bench-stream" ],
        $limits,
        "MaxInputTokens": 128000, "MaxOutputTokens": 16384, "DefaultMaxOutputTokens": 256,
        "TaskBudgetPerDay": 1000000000
      }
    },
    "TenantDefaults": { $limits },
    "SourceAddresses": { $limits },
    "Global": { "TimeZone": "UTC", $limits }
  }
}
EOF
  "$TG_BIN" config check --config "$1" >&2
}

# The request bodies: the same prompt and answer cap for every target; the streaming one asks for the usage chunk.
PLAIN_BODY='{"model":"bench-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64}'
STREAM_BODY='{"model":"bench-stream","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64,"stream":true,"stream_options":{"include_usage":true}}'
