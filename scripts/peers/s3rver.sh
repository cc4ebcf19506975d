#!/usr/bin/env bash
# s3rver (npm s3rver@3.7.1, pinned in tests/package.json): a fast, functional S3 for tests.
# It does not verify signatures strictly, and lacks ListParts/AbortMultipartUpload and
# conditional writes; tests that need those use RADOS Gateway (rgw.sh).
#
# Usage: s3rver.sh start|stop STATE_DIR
#   start: runs `s3rver -p 0` on 127.0.0.1 (it picks a free port and prints it), waits until it
#          answers, writes STATE_DIR/s3rver.env (ENDPOINT, ACCESS_KEY, SECRET_KEY, REGION).
#   stop:  kills it (by its pid file) and removes its data.
# Installs nothing: scripts/install-deps runs `npm ci` in tests/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmd="${1:-}"
state="${2:-}"
[[ -n "$cmd" && -n "$state" ]] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
dir="$state/s3rver"
env_file="$state/s3rver.env"
bin="$here/tests/node_modules/.bin/s3rver"
start_timeout=30  # seconds; it normally answers in half a second

stop() {
  if [[ -f "$dir/pid" ]]; then
    local pid
    pid="$(cat "$dir/pid")"
    # The server runs in its own session (setsid): end that process group, then wait for it.
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir" "$env_file"
}

start() {
  command -v node >/dev/null || { echo "s3rver.sh: node is missing (run scripts/install-deps)" >&2; exit 1; }
  [[ -x "$bin" ]] || { echo "s3rver.sh: $bin is missing (run scripts/install-deps)" >&2; exit 1; }
  stop  # leftovers of an earlier run
  mkdir -p "$dir/data"
  # --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with single DES,
  # which Node 17+ (OpenSSL 3) only offers through the legacy provider; without it every
  # paginated list answers 500.
  setsid node --openssl-legacy-provider "$bin" -d "$dir/data" -a 127.0.0.1 -p 0 >"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"

  local port="" deadline=$((SECONDS + start_timeout))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "s3rver.sh: s3rver exited during start:" >&2
      cat "$dir/log" >&2
      exit 1
    fi
    port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/log" | head -1)"
    if [[ -n "$port" ]] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
      break
    fi
    port=""
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "s3rver.sh: s3rver did not answer within ${start_timeout}s; its log:" >&2
    cat "$dir/log" >&2
    stop
    exit 1
  fi
  cat >"$env_file" <<EOF
ENDPOINT=http://127.0.0.1:$port
ACCESS_KEY=S3RVER
SECRET_KEY=S3RVER
REGION=us-east-1
EOF
  echo "s3rver.sh: s3rver on http://127.0.0.1:$port (pid $(cat "$dir/pid"))"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
