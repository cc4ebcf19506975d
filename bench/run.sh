#!/usr/bin/env bash
# Runs the corpus benchmark (the `make bench` entry): makes sure sharp is installed in bench/
# from package-lock.json, then hands every argument to run.py.
#   bench/run.sh [BUILD_DIR] [--quick] [--runs R] [--threads N] [--tools a,b]
# (bench/run.py --from-json bench/results/results.json rebuilds the report and chart, running no tool.)
# It builds nothing: build first with `cmake --preset release && cmake --build build/release`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for need in node npm /usr/bin/time vipsthumbnail; do
  command -v "$need" >/dev/null || { echo "bench/run.sh: $need missing (scripts/install-deps)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import PIL' 2>/dev/null ||
  { echo "bench/run.sh: Pillow missing for /usr/bin/python3 (apt-get install python3-pil)" >&2; exit 1; }

# npm ci only when node_modules is missing or older than the lock file.
if [[ ! -d "$here/node_modules/sharp" ]] ||
   [[ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  echo "bench/run.sh: npm ci in bench/" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$here/.."
exec /usr/bin/python3 "$here/run.py" "$@"
