#!/usr/bin/env bash
# dynalite: a DynamoDB-compatible server (npm dynalite, pinned in tests/package.json) for the
# catalog's integration tests. See scripts/peers/README.md for the start/stop contract.
#   dynalite.sh start STATE_DIR   start on a free 127.0.0.1 port, write STATE_DIR/dynalite.env
#   dynalite.sh stop STATE_DIR    stop it and remove its data
# Tables are ACTIVE at once (--createTableMs 0) and gone at once (--deleteTableMs 0), so tests
# can make a table each. dynalite accepts any SigV4 signature, so any keys work.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmd="${1:-}"
state="${2:-}"
if [[ -z "$cmd" || -z "$state" ]]; then
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
fi
mkdir -p "$state"
pid_file="$state/dynalite.pid"
env_file="$state/dynalite.env"
data_dir="$state/dynalite-data"
log_file="$state/dynalite.log"

stop() {
  if [[ -f "$pid_file" ]]; then
    local pid
    pid="$(cat "$pid_file")"
    # Only the dynalite this script started: a stale pid file must not kill whatever reuses the pid.
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q dynalite; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$pid_file" "$env_file" "$data_dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Any DynamoDB call answers once the server is up; ListTables needs no table.
answers() {
  curl -sf -m 2 -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'X-Amz-Date: 20260101T000000Z' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=thumbflow/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0' \
    -d '{}' 2>/dev/null | grep -q TableNames
}

start() {
  local bin="$here/tests/node_modules/dynalite/cli.js"
  if [[ ! -f "$bin" ]]; then
    echo "dynalite is not installed: run scripts/install-deps (npm ci in tests/)" >&2
    exit 1
  fi
  stop  # a previous run that was not stopped
  # A free port can be taken between choosing and binding it: try a few.
  for attempt in 1 2 3; do
    local port
    port="$(free_port)"
    rm -rf "$data_dir" && mkdir -p "$data_dir"
    # Detached, with no inherited stdio, so CTest does not wait for it.
    setsid node "$bin" --host 127.0.0.1 --port "$port" --path "$data_dir" \
      --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 </dev/null >"$log_file" 2>&1 &
    local pid=$!
    echo "$pid" >"$pid_file"
    for _ in $(seq 100); do
      if answers "$port"; then
        cat >"$env_file" <<EOF
ENDPOINT=http://127.0.0.1:$port
REGION=us-east-1
AWS_ACCESS_KEY_ID=thumbflow-test
AWS_SECRET_ACCESS_KEY=thumbflow-test-secret
EOF
        echo "dynalite $pid listening on http://127.0.0.1:$port (attempt $attempt)"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "dynalite did not answer on port $port (attempt $attempt):" >&2
    tail -5 "$log_file" >&2 || true
    stop
  done
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
