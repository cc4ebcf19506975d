#!/usr/bin/env python3
"""Load and soak test of the local home (issue #9): `thumbflow serve` on a fresh data folder,
N uploads (default 10,000) from C concurrent boto3 clients (default 16) through the S3 endpoint,
the server killed with SIGKILL K times (default 3) at evenly spread points and restarted each time
on the same data folder and ports. Loopback only; bounded in count and time (--timeout).

Inputs: 30 small images (JPEG/PNG/WebP, 20-200 KB) made once at start with the `vips` CLI from
the corpus (or from noise when there is no corpus), plus hostile bodies for 1% of the uploads
(zero bytes, a truncated JPEG, text named .jpg) so failures appear. Every upload has its own key;
some keys have spaces, unicode or '+'. Clients retry on connection errors and 503 with boto3's
standard retry mode and, past its budget, start the same PUT again until the global deadline: an
upload counts as acknowledged only when a PUT of it returned 200.

Checks, after the queue has drained (the catalog holds a record for every acknowledged upload and
the count has stopped changing, bounded by --drain-timeout):
  - every acknowledged upload has exactly one record, processed or failed with a reason;
  - no record for a key that was never uploaded, no two records for one key;
  - every rendition of every processed record exists (HEAD through the endpoint);
  - memory stopped growing: VmRSS of the serve process sampled every second; within the last
    run segment (last restart to the end) the mean of the last third of the samples must not
    exceed the mean of the middle third by more than --rss-growth (default 10%).
Reported: uploads/s, images/s, per restart the time until it accepts connections and the time
until every upload acknowledged before its kill has a record (catch-up), the final drain time,
processed/failed counts and failure reasons, RSS over time (max, final, per segment).

Exit status 0 when every check passes, 1 otherwise, 2 on a usage or setup error.

usage: bench/soak.py [--exe build/release/src/cli/thumbflow] [--uploads 10000] [--clients 16]
                     [--kills 3] [--timeout 1800] [--out FILE] [--keep]
quick mode (CI): bench/soak.py --uploads 500 --kills 1
"""
import argparse
import collections
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCESS, SECRET = "SOAKACCESSKEY0000001", "soak-secret-key-00000000000000000000000000"
BUCKET = "image-processing-local"
# Key decorations that have broken S3 servers before: spaces, '+', unicode, percent signs.
NAME_VARIANTS = ["photo", "my photo (1)", "a+b", "\u00e9t\u00e9 \u2600", "100% real", "x_y-z"]


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_inputs(out_dir, corpus, count=30):
    """count distinct small images of 20-200 KB in three formats, and three hostile bodies."""
    out_dir.mkdir(parents=True)
    sources = []
    if corpus.is_dir():
        sources = sorted(p for p in corpus.iterdir()
                         if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") and "truncated" not in p.name)
    rng = random.Random(9)
    formats = [("jpg", "[Q=88]"), ("png", "[compression=6]"), ("webp", "[Q=85]")]
    made = []
    attempt = 0
    while len(made) < count and attempt < count * 6:
        ext, opts = formats[attempt % 3]
        width = rng.choice([240, 320, 400, 480, 560, 640, 800])
        dst = out_dir / f"img{attempt:03d}.{ext}"
        if sources:
            src = sources[attempt % len(sources)]
            cmd = ["vipsthumbnail", str(src), "--size", f"{width}x", "-o", f"{dst}{opts}"]
        else:
            cmd = ["vips", "gaussnoise", f"{dst}{opts}", str(width), str(width * 3 // 4), "--sigma", "40"]
        attempt += 1
        if subprocess.run(cmd, capture_output=True).returncode != 0 or not dst.exists():
            continue
        size = dst.stat().st_size
        if 20_000 <= size <= 200_000:
            made.append(dst)
        else:
            dst.unlink()
    if len(made) < 20:
        sys.exit(f"soak: could only make {len(made)} inputs of 20-200 KB in {out_dir}")
    jpeg = next(p for p in made if p.suffix == ".jpg").read_bytes()
    hostile = [("zero.jpg", b""), ("truncated.jpg", jpeg[: len(jpeg) // 3]),
               ("text.jpg", b"this is a text file, not a photo\n" * 20)]
    return [(p.suffix[1:], p.read_bytes()) for p in made], hostile


class Server:
    """thumbflow serve on fixed loopback ports, restartable on the same data folder."""

    def __init__(self, exe, data, workers, logs, extra_env):
        self.exe, self.data, self.workers, self.logs = exe, data, workers, logs
        self.extra_env = extra_env
        self.s3_port, self.console_port = free_port(), free_port()
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.proc = None
        self.starts = 0

    def start(self, limit=60):
        env = dict(os.environ, THUMBFLOW_ACCESS_KEY=ACCESS, THUMBFLOW_SECRET_KEY=SECRET,
                   THUMBFLOW_WORKERS_MAX=str(self.workers), THUMBFLOW_WORKERS_MIN="1")
        env.update(self.extra_env)
        self.starts += 1
        out = open(self.logs / f"serve{self.starts}.log", "w")
        t0 = time.time()
        self.proc = subprocess.Popen([str(self.exe), "serve", "--data", str(self.data), "--s3-listen",
                                      f"127.0.0.1:{self.s3_port}", "--console-listen",
                                      f"127.0.0.1:{self.console_port}"], env=env, stdout=out,
                                     stderr=subprocess.STDOUT)
        out.close()
        while time.time() - t0 < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}; see {self.logs}/serve{self.starts}.log")
            try:
                with socket.create_connection(("127.0.0.1", self.s3_port), timeout=0.2):
                    return time.time() - t0
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"serve did not listen within {limit} s")

    def kill9(self):
        self.proc.kill()  # SIGKILL: no shutdown path runs
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as st:
            vals = {}
            for line in st:
                if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:")):
                    vals[line.split(":")[0]] = int(line.split()[1])
            return vals.get("VmRSS"), vals.get("VmHWM"), vals.get("RssAnon")
    except OSError:
        return None, None, None


def catalog_count(data):
    db = data / ".thumbflow" / "catalog.db"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT count(*) FROM ImageMetadata").fetchone()[0]
    except sqlite3.Error:
        return -1


def list_records(exe, data):
    r = subprocess.run([str(exe), "images", "list", "--all", "--json", "--limit", "1000", "--data", str(data)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"images list failed: {r.stderr.strip()}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def third_means(samples):
    n = len(samples)
    if n < 6:
        return None, None
    return statistics.mean(samples[n // 3: 2 * n // 3]), statistics.mean(samples[2 * n // 3:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=str(REPO / "build" / "release" / "src" / "cli" / "thumbflow"))
    ap.add_argument("--uploads", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--timeout", type=float, default=1800, help="global bound in seconds, uploads and drain")
    ap.add_argument("--drain-timeout", type=float, default=900, help="bound on the wait after the last upload")
    ap.add_argument("--rss-growth", type=float, default=0.10, help="allowed last-third over middle-third growth")
    ap.add_argument("--hostile-every", type=int, default=100, help="one hostile body per this many uploads")
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus" / "public"))
    ap.add_argument("--out", default=str(REPO / "build" / "artifacts" / "soak.json"))
    ap.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    ap.add_argument("--serve-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for serve (e.g. MALLOC_ARENA_MAX=2), repeatable")
    args = ap.parse_args()
    if args.uploads < 1 or args.clients < 1 or args.kills < 0 or args.kills >= args.uploads:
        ap.error("need uploads >= 1, clients >= 1, 0 <= kills < uploads")
    exe = Path(args.exe)
    if not exe.exists():
        print(f"soak: {exe} missing; build it (cmake --build build/release --target thumbflow)", file=sys.stderr)
        return 2

    import boto3
    import botocore.exceptions
    from botocore.config import Config

    started = time.time()
    deadline = started + args.timeout
    tmp = Path(tempfile.mkdtemp(prefix="thumbflow-soak-"))
    data, logs = tmp / "data", tmp / "logs"
    logs.mkdir()
    images, hostile = make_inputs(tmp / "inputs", Path(args.corpus))
    log(f"{len(images)} inputs ({min(len(b) for _, b in images) // 1000}-{max(len(b) for _, b in images) // 1000} KB), "
        f"{len(hostile)} hostile bodies, work dir {tmp}")

    # The plan, fixed before the run: key -> body. Hostile bodies at a fixed stride.
    plan = []
    rng = random.Random(10_000)
    for i in range(args.uploads):
        variant = NAME_VARIANTS[i % len(NAME_VARIANTS)]
        if args.hostile_every and i % args.hostile_every == args.hostile_every // 2:
            name, body = hostile[(i // args.hostile_every) % len(hostile)]
            plan.append((f"uploads/soak/{i:05d} {variant}-{name}", body, True))
        else:
            ext, body = images[rng.randrange(len(images))]
            plan.append((f"uploads/soak/{i:05d} {variant}.{ext}", body, False))

    server = Server(exe, data, args.workers, logs, dict(kv.split("=", 1) for kv in args.serve_env))
    lock = threading.Lock()
    next_index = [0]
    acked = {}            # key -> time of the acknowledging PUT
    attempts = collections.Counter()  # key -> PUT calls made by the script (boto3 retries inside each)
    client_errors = collections.Counter()
    stop = threading.Event()
    samples = []          # (t, segment, rss_kib, hwm_kib)
    segment = [0]
    restarts = []         # per kill: acked at kill, time to listen, catch-up seconds
    failures = []

    def client(_):
        s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS,
                          aws_secret_access_key=SECRET, region_name="us-east-1",
                          config=Config(s3={"addressing_style": "path"}, connect_timeout=3, read_timeout=60,
                                        retries={"mode": "standard", "max_attempts": 8}))
        while not stop.is_set():
            with lock:
                i = next_index[0]
                if i >= len(plan):
                    return
                next_index[0] += 1
            key, body, _ = plan[i]
            while not stop.is_set() and time.time() < deadline:
                with lock:
                    attempts[key] += 1
                try:
                    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                    with lock:
                        acked[key] = time.time()
                    break
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    with lock:
                        client_errors[type(e).__name__ + ": " + str(e)[:80]] += 1
                    time.sleep(0.2)

    def sampler():
        while not stop.is_set():
            proc = server.proc
            if proc is not None and proc.poll() is None:
                rss, hwm, anon = rss_kib(proc.pid)
                if rss is not None:
                    samples.append((time.time() - started, segment[0], rss, hwm, anon))
            time.sleep(1.0)

    ok = True
    result = {}
    try:
        server.start()
        sampler_thread = threading.Thread(target=sampler, daemon=True)
        sampler_thread.start()
        first_put = time.time()
        threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(args.clients)]
        for t in threads:
            t.start()
        kill_points = [args.uploads * (k + 1) // (args.kills + 1) for k in range(args.kills)]
        pending_catchup = []  # (restart record, acked keys before the kill, restart time)
        while any(t.is_alive() for t in threads):
            if time.time() > deadline:
                failures.append(f"global timeout of {args.timeout:.0f} s reached during uploads")
                stop.set()
                break
            with lock:
                n_acked = len(acked)
                acked_before = set(acked)
            if kill_points and n_acked >= kill_points[0]:
                kill_points.pop(0)
                server.kill9()
                log(f"kill -9 at {n_acked} acknowledged uploads")
                segment[0] += 1
                listen_s = server.start()
                entry = {"acked_at_kill": n_acked, "listen_s": round(listen_s, 2), "catch_up_s": None}
                restarts.append(entry)
                pending_catchup.append((entry, n_acked, time.time()))
                log(f"restarted, listening after {listen_s:.2f} s")
            for entry, n_before, t_restart in list(pending_catchup):
                # Catch-up: every upload acknowledged before the kill has a record. Records are
                # counted, not matched key by key (cheap enough to do twice a second); the final
                # check below matches keys.
                if catalog_count(data) >= n_before:
                    entry["catch_up_s"] = round(time.time() - t_restart, 1)
                    pending_catchup.remove((entry, n_before, t_restart))
            time.sleep(0.5)
        for t in threads:
            t.join(timeout=5)
        last_put = max(acked.values()) if acked else time.time()
        log(f"uploads done: {len(acked)} acknowledged of {len(plan)} in {last_put - first_put:.1f} s")

        # Drain: every acknowledged upload has a record and the count stays put for 3 s.
        drain_deadline = min(deadline, time.time() + args.drain_timeout)
        drain_start = time.time()
        stable_since, last_count = None, -2
        while time.time() < drain_deadline:
            count = catalog_count(data)
            for entry, n_before, t_restart in list(pending_catchup):
                if count >= n_before:
                    entry["catch_up_s"] = round(time.time() - t_restart, 1)
                    pending_catchup.remove((entry, n_before, t_restart))
            if count >= len(acked):
                if count != last_count:
                    stable_since = time.time()
                elif time.time() - stable_since >= 3:
                    break
            last_count = count
            time.sleep(0.5)
        else:
            failures.append(f"queue not drained within {args.drain_timeout:.0f} s: "
                            f"{catalog_count(data)} records for {len(acked)} uploads")
        drained_at = time.time()
        drain_s = (stable_since or drained_at) - drain_start
        log(f"drained after {drain_s:.1f} s (last record count {last_count})")

        # Checks.
        records = list_records(exe, data)
        by_key = collections.defaultdict(list)
        for r in records:
            by_key[r["originalImage"]].append(r)
        planned = {key for key, _, _ in plan}
        dupes = {k: len(v) for k, v in by_key.items() if len(v) > 1}
        missing = [k for k in acked if k not in by_key]
        strays = [k for k in by_key if k not in planned]
        unacked_with_record = [k for k in by_key if k in planned and k not in acked]
        bad_status = [r["originalImage"] for r in records if r.get("status") not in ("processed", "failed")]
        failed_without_reason = [r["originalImage"] for r in records
                                 if r.get("status") == "failed" and not (r.get("errorKind") and r.get("errorMessage"))]
        processed = [r for r in records if r.get("status") == "processed"]
        failed = [r for r in records if r.get("status") == "failed"]
        hostile_keys = {key for key, _, h in plan if h}
        processed_hostile = [r["originalImage"] for r in processed if r["originalImage"] in hostile_keys]
        failed_good = [r["originalImage"] for r in failed if r["originalImage"] not in hostile_keys]
        reasons = collections.Counter(str(r.get("errorKind")) for r in failed)

        # Every rendition of every processed record, HEAD through the endpoint, 8 threads.
        want = []
        for r in processed:
            keys = [x.get("key") for x in r.get("renditions", []) if isinstance(x, dict) and x.get("key")]
            want.extend(keys or [r.get("thumbnailImage")])
        absent = []

        def head_some(chunk):
            s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS,
                              aws_secret_access_key=SECRET, region_name="us-east-1",
                              config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}))
            for k in chunk:
                try:
                    s3.head_object(Bucket=BUCKET, Key=k)
                except botocore.exceptions.ClientError:
                    with lock:
                        absent.append(k)

        chunks = [want[i::8] for i in range(8)]
        heads = [threading.Thread(target=head_some, args=(c,)) for c in chunks]
        for t in heads:
            t.start()
        for t in heads:
            t.join()

        stop.set()
        sampler_thread.join(timeout=3)

        # Memory: within the last segment, last third against middle third.
        last_seg = [s[2] for s in samples if s[1] == segment[0]]
        mid, tail = third_means(last_seg)
        growth = (tail - mid) / mid if mid else None
        mem_ok = growth is not None and growth <= args.rss_growth
        per_segment = {}
        for _, seg, rss, hwm, _ in samples:
            d = per_segment.setdefault(seg, {"samples": 0, "rss_max_mib": 0.0, "hwm_mib": 0.0})
            d["samples"] += 1
            d["rss_max_mib"] = round(max(d["rss_max_mib"], rss / 1024), 1)
            d["hwm_mib"] = round(max(d["hwm_mib"], hwm / 1024), 1)
            d["rss_final_mib"] = round(rss / 1024, 1)
        # RSS over time, every sample (one a second): seconds since start, segment, VmRSS and RssAnon MiB.
        timeline = [(round(t), seg, round(rss / 1024, 1), round((anon or 0) / 1024, 1))
                    for t, seg, rss, _, anon in samples]

        checks = {
            "every_acked_upload_has_a_record": not missing,
            "no_duplicate_records": not dupes,
            "no_record_without_an_upload": not strays,
            "status_is_processed_or_failed": not bad_status,
            "every_failure_has_a_reason": not failed_without_reason,
            "every_processed_record_has_its_renditions": not absent,
            "hostile_uploads_fail_good_ones_process": not processed_hostile and not failed_good,
            "every_planned_upload_acknowledged": len(acked) == len(plan),
            "restarts_done": len(restarts) == args.kills,
            "memory_stopped_growing": mem_ok,
        }
        for name, passed in checks.items():
            if not passed:
                failures.append(name)
        upload_s = last_put - first_put
        last_record_s = drained_at - first_put
        result = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "exe": str(exe),
            "uploads_planned": len(plan),
            "uploads_acknowledged": len(acked),
            "hostile_planned": len(hostile_keys),
            "put_calls": sum(attempts.values()),
            "puts_started_again_after_boto3_gave_up": sum(v - 1 for v in attempts.values()),
            "client_errors": dict(client_errors.most_common(8)),
            "clients": args.clients,
            "workers": args.workers,
            "kills": args.kills,
            "restarts": restarts,
            "upload_phase_s": round(upload_s, 1),
            "uploads_per_s": round(len(acked) / upload_s, 1) if upload_s > 0 else None,
            "images_per_s": round(len(records) / last_record_s, 1) if last_record_s > 0 else None,
            "drain_after_last_upload_s": round(drain_s, 1),
            "records": len(records),
            "processed": len(processed),
            "failed": len(failed),
            "failure_reasons": dict(reasons),
            "renditions_checked": len(want),
            "missing_records": missing[:10],
            "duplicate_records": dict(list(dupes.items())[:10]),
            "stray_records": strays[:10],
            "records_for_unacknowledged_uploads": len(unacked_with_record),
            "absent_renditions": absent[:10],
            "processed_hostile": processed_hostile[:10],
            "failed_good": failed_good[:10],
            "memory": {
                "criterion": f"last segment: mean VmRSS of the last third of 1 s samples <= mean of the middle "
                             f"third x {1 + args.rss_growth:.2f}",
                "last_segment_samples": len(last_seg),
                "middle_third_mean_mib": round(mid / 1024, 1) if mid else None,
                "last_third_mean_mib": round(tail / 1024, 1) if tail else None,
                "growth": round(growth, 4) if growth is not None else None,
                "rss_max_mib": round(max(s[2] for s in samples) / 1024, 1) if samples else None,
                "rss_final_mib": round(samples[-1][2] / 1024, 1) if samples else None,
                "per_segment": per_segment,
                "timeline_t_segment_rss_anon_mib": timeline,
            },
            "checks": checks,
            "failures": failures,
            "wall_s": round(time.time() - started, 1),
            "load_average_at_end": os.getloadavg(),
        }
        ok = not failures
    except Exception as e:  # a setup failure is reported as such, never as a pass
        failures.append(f"{type(e).__name__}: {e}")
        result["failures"] = failures
        ok = False
    finally:
        stop.set()
        server.stop()

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "memory"}, indent=2, ensure_ascii=False))
    if "memory" in result:
        m = result["memory"]
        print(json.dumps({k: v for k, v in m.items() if k != "timeline_t_segment_rss_anon_mib"}, indent=2))
    print(f"soak: {'PASS' if ok else 'FAIL'}; result in {args.out}; {'kept' if args.keep or not ok else 'removed'} {tmp}")
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
