#!/usr/bin/env python3
"""End-to-end benchmark of the local home: `thumbflow serve` on a fresh data folder, C clients
(default 8, boto3, one thread each) uploading the whole corpus through the S3 endpoint at once,
the queue, the workers and the SQLite catalog doing the rest.

Reported, all from one run on this machine:
  - uploads per second (client side: first PUT sent to last PUT acknowledged),
  - images per second end to end (first PUT sent to last record written),
  - upload-to-thumbnail latency p50 / p99 / max (PUT acknowledged -> record's updatedAt),
  - the pipeline's overhead over bare render time, per image: sum(processingMs - renderMs) /
    sum(renderMs) from the records (fetch, probe, rendition puts; the target is under 15%),
  - the same images rendered bare, in one process, with as many threads as serve has workers:
    thumbflow's own renderer (bench/corpus_bench) and sharp (bench/sharp_bench.mjs), and the
    end-to-end rate as a ratio of each,
  - peak RSS of the serve process (VmHWM).

The clients run on the same cores as the server, as they would on a laptop; the bare figures
have the machine to themselves.

usage: bench/e2e_bench.py [BUILD_DIR] [--clients 8] [--workers N] [--corpus DIR] [--out FILE]
"""
import argparse
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
ACCESS, SECRET = "BENCHACCESSKEY000001", "bench-secret-key-000000000000000000000000"
BUCKET = "image-processing-local"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def iso_to_epoch(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def start_serve(exe, data, workers):
    s3_port, console_port = free_port(), free_port()
    env = dict(os.environ, THUMBFLOW_ACCESS_KEY=ACCESS, THUMBFLOW_SECRET_KEY=SECRET,
               THUMBFLOW_WORKERS_MAX=str(workers), THUMBFLOW_WORKERS_MIN="1")
    log = open(data.parent / "serve.log", "w")
    proc = subprocess.Popen([str(exe), "serve", "--data", str(data), "--s3-listen", f"127.0.0.1:{s3_port}",
                             "--console-listen", f"127.0.0.1:{console_port}"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", s3_port), timeout=0.2):
                return proc, f"http://127.0.0.1:{s3_port}"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"e2e_bench: thumbflow serve did not start; see {data.parent / 'serve.log'}")


def bare_rate(cmd, files, threads, repeat):
    out = subprocess.run(cmd + ["--threads", str(threads), "--repeat", str(repeat), "--quiet"] + files,
                         check=True, capture_output=True, text=True).stdout
    summary = [json.loads(line) for line in out.splitlines() if '"summary"' in line][-1]
    return summary["images_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_dir", nargs="?", default=str(REPO / "build" / "release"))
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus" / "public"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for every record")
    ap.add_argument("--out", default=str(BENCH_DIR / "results" / "e2e.json"))
    args = ap.parse_args()

    import boto3
    from botocore.config import Config

    build = Path(args.build_dir)
    exe = build / "src" / "cli" / "thumbflow"
    corpus_bench = build / "bench" / "thumbflow_corpus_bench"
    for need in (exe, corpus_bench):
        if not need.exists():
            sys.exit(f"e2e_bench: {need} missing: build first (cmake --build --preset release)")
    files = sorted(str(p) for p in Path(args.corpus).iterdir() if p.is_file() and p.name != "MANIFEST.tsv")
    if not files:
        sys.exit(f"e2e_bench: no files in {args.corpus}")

    with tempfile.TemporaryDirectory(prefix="thumbflow-e2e-bench-") as tmp:
        data = Path(tmp) / "data"
        proc, endpoint = start_serve(exe, data, args.workers)
        try:
            put_done = {}
            put_start = []
            errors = []
            lock = threading.Lock()

            def client(i):
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS,
                                  aws_secret_access_key=SECRET, region_name="us-east-1",
                                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 10}))
                order = files[:]
                random.Random(i).shuffle(order)
                for f in order:
                    key = f"uploads/c{i}/{Path(f).name}"
                    with open(f, "rb") as body:
                        t0 = time.time()
                        try:
                            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                        except Exception as e:  # counted and reported, never hidden
                            with lock:
                                errors.append(f"{key}: {e}")
                            continue
                    with lock:
                        put_start.append(t0)
                        put_done[key] = time.time()

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            uploaded = len(put_done)
            first_put, last_put = min(put_start), max(put_done.values())

            db = data / ".thumbflow" / "catalog.db"
            deadline = time.time() + args.timeout
            count = 0
            while time.time() < deadline:
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
                        count = c.execute("SELECT count(*) FROM ImageMetadata").fetchone()[0]
                except sqlite3.Error:
                    count = 0
                if count >= uploaded:
                    break
                time.sleep(0.5)
            listed = subprocess.run([str(exe), "images", "list", "--all", "--json", "--limit", "1000", "--data",
                                     str(data)], check=True, capture_output=True, text=True).stdout
            records = [json.loads(line) for line in listed.splitlines() if line.strip()]
            with open(f"/proc/{proc.pid}/status") as st:
                hwm_kib = next(int(line.split()[1]) for line in st if line.startswith("VmHWM:"))
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    processed = [r for r in records if r["status"] == "processed"]
    latencies = [iso_to_epoch(r["updatedAt"]) - put_done[r["originalImage"]]
                 for r in records if r["originalImage"] in put_done]
    last_record = max(iso_to_epoch(r["updatedAt"]) for r in records)
    render = sum(r.get("renderMs", 0.0) for r in processed)
    processing = sum(r["processingMs"] for r in processed)

    # Bare renders of the same images, the machine to itself, as many threads as workers.
    bare_thumbflow = bare_rate([str(corpus_bench)], files, args.workers, args.clients)
    sharp_script = BENCH_DIR / "sharp_bench.mjs"
    bare_sharp = None
    if (BENCH_DIR / "node_modules" / "sharp").exists():
        bare_sharp = bare_rate(["node", str(sharp_script)], files, args.workers, args.clients)

    e2e_rate = len(records) / (last_record - first_put)
    result = {
        "clients": args.clients,
        "workers": args.workers,
        "cores": len(os.sched_getaffinity(0)),
        "corpus_files": len(files),
        "uploads": uploaded,
        "upload_errors": errors[:10],
        "records": len(records),
        "processed": len(processed),
        "failed": len(records) - len(processed),
        "uploads_per_s": uploaded / (last_put - first_put),
        "e2e_images_per_s": e2e_rate,
        "latency_s": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                      "max": max(latencies) if latencies else float("nan")},
        "pipeline_overhead_over_render": (processing - render) / render if render else float("nan"),
        "bare_thumbflow_images_per_s": bare_thumbflow,
        "bare_sharp_images_per_s": bare_sharp,
        "e2e_vs_bare_thumbflow": e2e_rate / bare_thumbflow,
        "e2e_vs_bare_sharp": e2e_rate / bare_sharp if bare_sharp else None,
        "serve_peak_rss_mib": hwm_kib / 1024.0,
        "load_average_at_end": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = uploaded == args.clients * len(files) and len(records) == uploaded
    if not ok:
        print(f"e2e_bench: {uploaded} uploads, {len(records)} records: something was lost", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
