#!/usr/bin/python3
"""Pillow over a list of files: open; thumbnail((128, 128)); save as JPEG q80 to memory.

Run with Debian's /usr/bin/python3 (python3-pil). Files are read into memory before timing.
--threads N runs N worker processes (Pillow holds the GIL while it decodes much of the time, so
processes, not threads, are how Pillow uses every core); each takes the next image from a
shared counter. Output: one JSON object per line per image, then a summary line (see
bench_harness.hpp). Since /usr/bin/time only sees the largest process of a tree, the summary
also carries rss_sum_kib: the peak RSS of every worker plus the parent, added up; its cpu_s is
the CPU time of the timed loop in every process.

Like the brief asks, this is Pillow's plain recipe: no EXIF auto-orientation (that would be
ImageOps.exif_transpose) and no colour management; alpha is dropped by the RGB conversion.

usage: pillow_bench.py [--threads N] [--repeat K] [--quiet] FILE...
"""
import argparse
import io
import json
import multiprocessing as mp
import resource
import sys
import time

from PIL import Image

INPUTS = []  # (path, bytes), read before the workers fork so they share the pages


def thumbnail(data):
    with Image.open(io.BytesIO(data)) as im:
        im.thumbnail((128, 128))
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        out = io.BytesIO()
        im.save(out, "JPEG", quality=80)
    if out.tell() == 0:
        raise ValueError("empty output")


def timed(index):
    t0 = time.perf_counter()
    error = ""
    try:
        thumbnail(INPUTS[index][1])
    except Exception as e:  # noqa: BLE001 - every failure is one failed image
        error = f"{type(e).__name__}: {e}"
    return (time.perf_counter() - t0) * 1000.0, error


def worker(counter, total, results):
    cpu_start = time.process_time()
    done = []
    while True:
        with counter.get_lock():
            i = counter.value
            counter.value += 1
        if i >= total:
            break
        ms, error = timed(i % len(INPUTS))
        done.append((i, ms, error))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put((done, rss, time.process_time() - cpu_start))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("files", nargs="+")
    opt = ap.parse_args()
    if opt.threads < 1 or opt.repeat < 1:
        ap.error("--threads and --repeat must be at least 1")

    for path in opt.files:
        try:
            with open(path, "rb") as f:
                INPUTS.append((path, f.read()))
        except OSError as e:
            print(f"warning: cannot read {path}: {e}", file=sys.stderr)
            INPUTS.append((path, b""))
    Image.init()  # load every plugin now, not during the first timed image
    timed(0)      # one untimed call, so start-up is not charged to the first image

    total = len(INPUTS) * opt.repeat
    samples = [None] * total
    rss_kib = []
    cpu_start = time.process_time()
    worker_cpu_s = 0.0
    if opt.threads == 1:
        start = time.perf_counter()
        for i in range(total):
            samples[i] = timed(i % len(INPUTS))
        wall_s = time.perf_counter() - start
    else:
        ctx = mp.get_context("fork")
        counter = ctx.Value("q", 0)
        results = ctx.Queue()
        procs = [ctx.Process(target=worker, args=(counter, total, results)) for _ in range(opt.threads)]
        # The clock includes forking the workers: a few ms, against seconds of work.
        start = time.perf_counter()
        for p in procs:
            p.start()
        for _ in procs:
            done, rss, cpu_s = results.get()
            rss_kib.append(rss)
            worker_cpu_s += cpu_s
            for i, ms, error in done:
                samples[i] = (ms, error)
        wall_s = time.perf_counter() - start
        for p in procs:
            p.join()
    cpu_s = time.process_time() - cpu_start + worker_cpu_s
    rss_kib.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    failed = 0
    out = []
    for i, (ms, error) in enumerate(samples):
        failed += bool(error)
        if opt.quiet:
            continue
        rec = {"tool": "pillow", "file": INPUTS[i % len(INPUTS)][0], "ms": ms, "ok": not error}
        if error:
            rec["error"] = error
        out.append(json.dumps(rec))
    out.append(json.dumps({
        "tool": "pillow", "summary": True, "threads": opt.threads, "repeat": opt.repeat,
        "images": total, "ok": total - failed, "failed": failed, "wall_s": wall_s,
        "cpu_s": cpu_s, "images_per_s": total / wall_s if wall_s > 0 else 0.0, "rss_sum_kib": sum(rss_kib),
        "pillow": Image.__version__,
    }))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
