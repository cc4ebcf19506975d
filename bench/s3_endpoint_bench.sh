#!/usr/bin/env bash
# PUT and GET throughput of thumbflow's local S3 endpoint and of s3rver, side by side in one run:
# 100 KB objects from 8 concurrent signed clients (thumbflow_s3_endpoint_bench), each server in
# its own process on a free 127.0.0.1 port with a fresh data folder.
#
# Usage: bench/s3_endpoint_bench.sh [BUILD_DIR] [OBJECTS] [CLIENTS] [SIZE]
#   BUILD_DIR defaults to build/release (needs src/cli/thumbflow and bench/thumbflow_s3_endpoint_bench).
# s3rver (npm s3rver@3.7.1) is taken from tests/node_modules or bench/node_modules, else installed
# pinned into BUILD_DIR/bench-peers. Writes BUILD_DIR/s3_endpoint_bench.json (one line per server).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build/release}" && pwd)"
objects="${2:-800}"
clients="${3:-8}"
size="${4:-102400}"
thumbflow="$build/src/cli/thumbflow"
gen="$build/bench/thumbflow_s3_endpoint_bench"
for f in "$thumbflow" "$gen"; do
  [[ -x "$f" ]] || { echo "missing $f: build it first (cmake --build $build)" >&2; exit 1; }
done

s3rver=""
for c in "$here/tests/node_modules/.bin/s3rver" "$here/bench/node_modules/.bin/s3rver" \
         "$build/bench-peers/node_modules/.bin/s3rver"; do
  [[ -x "$c" ]] && { s3rver="$c"; break; }
done
if [[ -z "$s3rver" ]]; then
  echo "s3_endpoint_bench: installing s3rver@3.7.1 into $build/bench-peers" >&2
  npm install --prefix "$build/bench-peers" --no-save --no-audit --no-fund --loglevel=error s3rver@3.7.1 >&2
  s3rver="$build/bench-peers/node_modules/.bin/s3rver"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

key=benchkey
secret=benchsecret
out="$build/s3_endpoint_bench.json"
: > "$out"

tport=$(free_port)
cport=$(free_port)
# Keys under bench/ are outside the trigger prefix (uploads/): no thumbnail jobs, the endpoint alone.
THUMBFLOW_ACCESS_KEY=$key THUMBFLOW_SECRET_KEY=$secret \
  "$thumbflow" serve --data "$work/thumbflow" --s3-listen "127.0.0.1:$tport" --console-listen "127.0.0.1:$cport" \
  > "$work/thumbflow.log" 2>&1 &
pids+=($!)
wait_port "$tport"

sport=$(free_port)
node --openssl-legacy-provider "$s3rver" -d "$work/s3rver" -a 127.0.0.1 -p "$sport" --silent \
  > "$work/s3rver.log" 2>&1 &
pids+=($!)
wait_port "$sport"

echo "s3_endpoint_bench: $objects objects of $size bytes, $clients clients, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$gen" --endpoint "http://127.0.0.1:$tport" --access-key $key --secret-key $secret --bucket image-processing-local \
  --clients "$clients" --objects "$objects" --size "$size" --label thumbflow | tee -a "$out"
"$gen" --endpoint "http://127.0.0.1:$sport" --access-key S3RVER --secret-key S3RVER --bucket bench --create-bucket \
  --clients "$clients" --objects "$objects" --size "$size" --label s3rver | tee -a "$out"

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'server':<10} {'PUT MB/s':>9} {'PUT req/s':>10} {'PUT p99 ms':>11} {'GET MB/s':>9} {'GET req/s':>10} {'GET p99 ms':>11}")
for r in rows:
    p, g = r["put"], r["get"]
    print(f"{r['server']:<10} {p['mb_per_s']:>9.1f} {p['requests_per_s']:>10.0f} {p['p99_ms']:>11.1f} "
          f"{g['mb_per_s']:>9.1f} {g['requests_per_s']:>10.0f} {g['p99_ms']:>11.1f}")
PY
