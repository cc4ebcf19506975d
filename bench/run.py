#!/usr/bin/python3
"""The corpus benchmark: thumbflow against vipsthumbnail, sharp, Pillow and the libjpeg floor.

Every tool makes a 128x128 (fit inside, never enlarged) JPEG q80 of every image, once with one
image at a time and once with one image per core, on the same files in the same run. Each timed
run is wrapped in /usr/bin/time -v for its peak RSS and repeated --runs times; the report gives
the best run (the one least disturbed by anything else on the machine) and the spread. It builds nothing: pass the build directory (default build/release).

    /usr/bin/python3 bench/run.py [BUILD_DIR] [--quick] [--runs R] [--threads N]
    /usr/bin/python3 bench/run.py --from-json bench/results/results.json   # no tool run

Prints a markdown report and writes it to bench/results/report.md, with the raw figures in
bench/results/results.json and a chart of throughput and peak RSS beside it (chart.svg, and
chart.png rendered by `vips svgload`). docs/benchmarks.md says what each column means.
"""
import argparse
import csv
import datetime
import html
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CLASSES = ("S", "M", "L")
TOOLS = ("thumbflow", "vipsthumbnail", "sharp", "pillow", "jpeg_floor")
# vipsthumbnail's per-class runs repeat a class's files until they add up to this many
# megapixels (at most 50 times), so that its start-up is small beside the work.
CLASS_RUN_MP = 30.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The corpus

def load_corpus(corpus_dir):
    """Files listed in MANIFEST.tsv (beside the corpus folder) that exist, with format and class."""
    manifest = Path(corpus_dir).parent / "MANIFEST.tsv"
    if not manifest.exists():
        sys.exit(f"run.py: {manifest} not found (it gives each image's size class)")
    files = []
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            path = Path(corpus_dir) / row["file"]
            if path.exists():
                files.append({
                    "path": str(path), "name": row["file"], "format": row["format"],
                    "size_class": row["size_class"], "megapixels": float(row["megapixels"] or 0),
                })
    files.sort(key=lambda x: x["name"])
    return files


def quick_subset(files):
    """Per size class, two JPEGs and one other format: about nine files, for a smoke run."""
    out = []
    for c in CLASSES:
        jpegs = [f for f in files if f["size_class"] == c and f["format"] == "JPEG" and f["megapixels"] > 0]
        others = [f for f in files if f["size_class"] == c and f["format"] != "JPEG"]
        out += jpegs[:2] + others[:1]
    return out


# ---------------------------------------------------------------------------------------------
# Running one timed command

TIME_RSS = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")
TIME_CPU = re.compile(r"(?:User|System) time \(seconds\):\s*([\d.]+)")


def timed_process(cmd, env=None):
    """Starts cmd under /usr/bin/time -v; returns (Popen, path of time's report)."""
    fd, time_out = tempfile.mkstemp(prefix="thumbflow-bench-time-")
    os.close(fd)
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", time_out, *cmd], env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, time_out


def finish(proc, time_out):
    """Waits for a timed_process; returns (stdout, stderr, returncode, peak RSS in KiB, CPU
    seconds: user + system, the process's own and those of the children it waited for)."""
    stdout, stderr = proc.communicate()
    report = Path(time_out).read_text(errors="replace")
    os.unlink(time_out)
    m = TIME_RSS.search(report)
    cpu_s = sum(float(x) for x in TIME_CPU.findall(report))
    return stdout, stderr, proc.returncode, int(m.group(1)) if m else 0, cpu_s


def parse_json_lines(stdout):
    per_image, summary = [], None
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        if rec.get("summary"):
            summary = rec
        else:
            per_image.append(rec)
    return per_image, summary


def run_in_process(cmd, files, threads, env=None):
    """A tool that loops in-process and prints the JSON lines (thumbflow, floor, sharp, Pillow)."""
    proc, time_out = timed_process([*cmd, "--threads", str(threads), *[f["path"] for f in files]], env)
    stdout, stderr, rc, rss, cpu_s = finish(proc, time_out)
    per_image, summary = parse_json_lines(stdout)
    if rc != 0 or summary is None:
        raise RuntimeError(f"{cmd[0]} exited {rc}: {stderr.strip()[-500:]}")
    # A multi-process tool (Pillow) adds up its processes' peaks itself: time sees only the largest.
    rss = max(rss, summary.get("rss_sum_kib", 0))
    # The tools count the CPU time of their timed loop; time's figure adds start-up and reading.
    cpu_s = summary.get("cpu_s", cpu_s)
    ms = {}
    for rec in per_image:
        if rec["ok"]:
            ms[Path(rec["file"]).name] = rec["ms"]
    return {
        "images_per_s": summary["images_per_s"], "images": summary["images"],
        "failed": summary["failed"], "rss_kib": rss, "cpu_s": cpu_s, "ms": ms,
        "errors": sorted({Path(r["file"]).name for r in per_image if not r["ok"]}),
        "versions": {k: v for k, v in summary.items() if k in ("sharp", "libvips", "pillow")},
    }


def split_balanced(files, n):
    """Splits files into n lists of about equal work (longest first, onto the lightest list)."""
    groups = [[] for _ in range(n)]
    load = [0.0] * n
    for f in sorted(files, key=lambda x: -x["megapixels"]):
        i = load.index(min(load))
        groups[i].append(f)
        load[i] += max(f["megapixels"], 0.01)
    return [g for g in groups if g]


def vips_startup():
    """What starting vipsthumbnail costs before its first image (libvips loading its modules):
    the fastest of five runs of `vipsthumbnail --vips-version`, as (wall s, CPU s)."""
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        *_, cpu_s = finish(*timed_process(["vipsthumbnail", "--vips-version"]))
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, cpu_s)
    return best_wall, best_cpu


def run_vipsthumbnail(files, threads, startup=(0.0, 0.0)):
    """vipsthumbnail has no per-image timing: whole runs are timed, one process per core.
    The start-up (wall s, CPU s, from vips_startup) is taken off each process, since the
    in-process tools do not count theirs either; the raw throughput is kept as images_per_s_raw."""
    startup_s, startup_cpu_s = startup
    out_dir = tempfile.mkdtemp(prefix="thumbflow-bench-vips-")
    try:
        env = {"VIPS_CONCURRENCY": "1"}
        groups = split_balanced(files, threads)
        start = time.perf_counter()
        procs = []
        for g in groups:
            cmd = ["vipsthumbnail", "-s", "128x128>", "-o", f"{out_dir}/%s.jpg[Q=80,strip]",
                   *[f["path"] for f in g]]
            procs.append((timed_process(cmd, env), time.perf_counter()))

        def wait(item):
            (proc, time_out), t0 = item
            _, stderr, _, rss, cpu_s = finish(proc, time_out)
            return time.perf_counter() - t0, stderr, rss, cpu_s

        # One waiter per process, so each one's own start-to-exit time is known.
        with ThreadPoolExecutor(len(procs)) as pool:
            done = list(pool.map(wait, procs))
        wall_s = time.perf_counter() - start
        errors = [Path(m.group(1)).name for _, stderr, _, _ in done
                  for m in re.finditer(r"unable to thumbnail (\S+)", stderr)]
        # Separate processes: their peaks add up.
        rss = sum(d[2] for d in done)
        cpu_s = max(sum(d[3] for d in done) - startup_cpu_s * len(done), 0.0)
        busy_s = sum(d[0] for d in done)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    # busy_s is each process's start-to-exit time added up: with one process, the wall time.
    work_s = max(wall_s - startup_s, 1e-6)
    return {"images_per_s": len(files) / work_s, "images_per_s_raw": len(files) / wall_s,
            "images": len(files), "failed": len(errors), "rss_kib": rss, "cpu_s": cpu_s, "wall_s": wall_s,
            "busy_s": max(busy_s - startup_s * len(done), 0.0), "startup": startup, "startup_s": startup_s,
            "errors": sorted(errors)}


# ---------------------------------------------------------------------------------------------
# The tools

def tool_commands(build_dir):
    """Per tool: a function (files, threads) -> run record, or a reason it cannot run."""
    node_ok = (BENCH_DIR / "node_modules" / "sharp").is_dir()
    cmds = {
        "thumbflow": [str(Path(build_dir) / "bench" / "thumbflow_corpus_bench")],
        "jpeg_floor": [str(Path(build_dir) / "bench" / "thumbflow_jpeg_floor")],
        "sharp": ["node", str(BENCH_DIR / "sharp_bench.mjs")],
        "pillow": ["/usr/bin/python3", str(BENCH_DIR / "pillow_bench.py")],
    }
    runners, missing = {}, {}
    for name in ("thumbflow", "jpeg_floor"):
        if not os.access(cmds[name][0], os.X_OK):
            missing[name] = f"{cmds[name][0]} not built (cmake --preset release && cmake --build build/release)"
    if not shutil.which("node") or not node_ok:
        missing["sharp"] = "node or bench/node_modules missing (run bench/run.sh, or npm ci in bench/)"
    if subprocess.run(["/usr/bin/python3", "-c", "import PIL"], capture_output=True).returncode != 0:
        missing["pillow"] = "Pillow missing for /usr/bin/python3 (apt-get install python3-pil)"
    if not shutil.which("vipsthumbnail"):
        missing["vipsthumbnail"] = "vipsthumbnail missing (apt-get install libvips-tools)"

    for name, cmd in cmds.items():
        if name in missing:
            continue
        # The in-process tools read each file just before its image (--load-each), as a worker
        # given one upload at a time would, so their peak RSS is a worker's, not the corpus's.
        # Pillow's worker processes share the inputs read before they fork.
        if name == "sharp":
            runners[name] = lambda files, t, cmd=cmd: run_in_process(
                [*cmd, "--load-each"], files, t, env={"UV_THREADPOOL_SIZE": str(max(t, 4))})
        elif name == "pillow":
            runners[name] = lambda files, t, cmd=cmd: run_in_process(cmd, files, t)
        else:
            runners[name] = lambda files, t, cmd=cmd: run_in_process([*cmd, "--load-each"], files, t)
    if "vipsthumbnail" not in missing:
        runners["vipsthumbnail"] = lambda files, t: run_vipsthumbnail(files, t, vips_startup())
    return runners, missing


def git_commit():
    """The repository's HEAD, short, or "?" outside a git checkout."""
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "?"


def versions():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "libvips (system; thumbflow, vipsthumbnail)": out(["pkg-config", "--modversion", "vips-cpp"]),
        "libjpeg-turbo (libjpeg62-turbo)": out(["dpkg-query", "-W", "-f=${Version}", "libjpeg62-turbo"]),
        "Pillow (python3-pil)": out(["/usr/bin/python3", "-c", "import PIL; print(PIL.__version__)"]),
        "node": out(["node", "--version"]),
        "python": out(["/usr/bin/python3", "-c", "import platform; print(platform.python_version())"]),
        "kernel": platform.release(),
        "cpu": f"{cpu} ({len(os.sched_getaffinity(0))} cores usable)",
        "memory": out(["sh", "-c", "free -h | awk '/Mem:/ {print $2}'"]),
    }


# ---------------------------------------------------------------------------------------------
# Aggregating and reporting

FORMAT_ORDER = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "AVIF")


def formats_of(files):
    """The source formats among files (MANIFEST.tsv's format column), the common ones first."""
    present = {f["format"] for f in files}
    return [fm for fm in FORMAT_ORDER if fm in present] + sorted(present - set(FORMAT_ORDER))


def class_formats_of(files):
    """The (size class, format) pairs that have at least one file, by class then format."""
    present = {(f["size_class"], f["format"]) for f in files}
    return [(c, fm) for c in CLASSES for fm in formats_of(files) if (c, fm) in present]


def group_ms(records, names_by_group):
    """Per group of files: the mean ms of one image over those the tool managed, lowest of the
    runs, with n (how many it managed) and cpu_ms, the run's loop CPU time apportioned to the
    group by its share of the per-image times (the tools measure CPU for the whole loop only).
    None for a tool without per-image figures (vipsthumbnail's whole-process runs)."""
    if any("ms" not in r for r in records):
        return None
    out = {}
    for group, names in names_by_group.items():
        ms_runs, cpu_runs, n = [], [], 0
        for r in records:
            vals = [r["ms"][x] for x in names if x in r["ms"]]
            total_ms = sum(r["ms"].values())
            if not vals:
                continue
            ms_runs.append(statistics.fmean(vals))
            if total_ms > 0:
                cpu_runs.append(r["cpu_s"] * 1000.0 * sum(vals) / total_ms / len(vals))
            n = max(n, len(vals))
        out[group] = {"ms": min(ms_runs) if ms_runs else None,
                      "cpu_ms": min(cpu_runs) if cpu_runs else None, "n": n, "of": len(names)}
    return out


def aggregate(records, files):
    """Best throughput over the runs (other work on a machine only ever slows a run down), the
    lowest per-class mean ms, the highest peak RSS, and the spread of the throughputs."""
    if not records:
        return None
    by_class = {c: [f["name"] for f in files if f["size_class"] == c] for c in CLASSES}
    class_ms = {}
    for c, names in by_class.items():
        per_run = []
        for r in records:
            if "class_ms" in r:  # vipsthumbnail: whole-run time per class
                if r["class_ms"].get(c) is not None:
                    per_run.append(r["class_ms"][c])
            else:
                vals = [r["ms"][n] for n in names if n in r["ms"]]
                if vals:
                    per_run.append(statistics.fmean(vals))
        class_ms[c] = min(per_run) if per_run else None
    names_by_format = {fm: [f["name"] for f in files if f["format"] == fm] for fm in formats_of(files)}
    names_by_class_format = {f"{c} {fm}": [f["name"] for f in files if (f["size_class"], f["format"]) == (c, fm)]
                             for c, fm in class_formats_of(files)}
    return {
        "format_ms": group_ms(records, names_by_format),
        "class_format_ms": group_ms(records, names_by_class_format),
        "images_per_s": max(r["images_per_s"] for r in records),
        "spread_pct": 100.0 * (1 - min(r["images_per_s"] for r in records)
                               / max(r["images_per_s"] for r in records)),
        "images_per_s_runs": [round(r["images_per_s"], 3) for r in records],
        "class_ms": class_ms,
        "rss_mib": max(r["rss_kib"] for r in records) / 1024.0,
        "cpu_ms": min(r["cpu_s"] / r["images"] for r in records) * 1000.0,
        "failed": max(r["failed"] for r in records),
        "images": records[0]["images"],
        "errors": records[0].get("errors", []),
        "versions": records[0].get("versions", {}),
        "images_per_s_raw": (max(r["images_per_s_raw"] for r in records)
                             if "images_per_s_raw" in records[0] else None),
        "startup_ms": (min(r["startup_s"] for r in records) * 1000.0
                       if "startup_s" in records[0] else None),
    }


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def table(results, workload, threads, tools, files):
    counts = {c: sum(1 for f in files if f["size_class"] == c) for c in CLASSES}
    head = ("| tool | images/s | ms/image S (n={S}) | ms/image M (n={M}) | ms/image L (n={L}) "
            "| CPU ms/image | peak RSS MiB | failures | vs sharp | spread |").format(**counts)
    lines = [head, "|" + "---|" * 10]
    sharp = results.get((workload, "sharp", threads))
    for tool in tools:
        a = results.get((workload, tool, threads))
        if a is None:
            continue
        ratio = "n/a"
        if sharp and sharp["images_per_s"] > 0:
            ratio = f"{a['images_per_s'] / sharp['images_per_s']:.2f}x"
        lines.append(f"| {tool} | {a['images_per_s']:.1f} | {fmt(a['class_ms']['S'])} | "
                     f"{fmt(a['class_ms']['M'])} | {fmt(a['class_ms']['L'])} | {a['cpu_ms']:.0f} | {a['rss_mib']:.0f} | "
                     f"{a['failed']}/{a['images']} | {ratio} | {a['spread_pct']:.0f}% |")
    return "\n".join(lines)


def group_cell(groups, key, cpu=False):
    """"ms / CPU ms (n)" (or "ms (n)") of one group of a tool's aggregate; n/a without figures."""
    if groups is None:
        return "n/a"
    g = groups.get(key)
    if g is None or g["ms"] is None:
        return "–"
    cpu_part = f" / {fmt(g['cpu_ms'], 0)}" if cpu else ""
    return f"{g['ms']:.1f}{cpu_part} ({g['n']})"


def format_table(results, workload, threads, tools, files):
    """Rows: tools; columns: source formats; cells: ms / CPU ms per image (images managed)."""
    formats = formats_of(files)
    counts = {fm: sum(1 for f in files if f["format"] == fm) for fm in formats}
    lines = ["| tool | " + " | ".join(f"{fm} (n={counts[fm]})" for fm in formats) + " |",
             "|" + "---|" * (len(formats) + 1)]
    for tool in tools:
        a = results.get((workload, tool, threads))
        if a is not None:
            lines.append(f"| {tool} | " + " | ".join(group_cell(a.get("format_ms"), fm, cpu=True)
                                                     for fm in formats) + " |")
    return "\n".join(lines)


def class_format_table(results, workload, threads, tools, files):
    """Rows: size class x format; columns: tools; cells: ms per image (images managed)."""
    present = [t for t in tools if (workload, t, threads) in results]
    lines = ["| class, format | " + " | ".join(present) + " |", "|" + "---|" * (len(present) + 1)]
    for c, fm in class_formats_of(files):
        n = sum(1 for f in files if (f["size_class"], f["format"]) == (c, fm))
        cells = [group_cell(results[(workload, t, threads)].get("class_format_ms"), f"{c} {fm}") for t in present]
        lines.append(f"| {c} {fm} (n={n}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def thread_label(t):
    return "1 thread (one image at a time)" if t == 1 else f"{t} threads (one image per core)"


def format_sections(results, workloads, thread_counts):
    """The per-format tables of every workload and thread count, then size class x format
    (every corpus file only: on the JPEGs it is the size-class columns above)."""
    out = ["## By source format", "",
           "ms per image / CPU ms per image (images the tool managed); the CPU figure is the run's "
           "CPU time shared out by each image's time, since the tools measure CPU for the whole "
           "loop only. vipsthumbnail has no per-image figures (n/a).", ""]
    for wl, files, tools in workloads:
        desc = "every corpus file" if wl == "all" else "JPEG files only"
        for t in thread_counts:
            if len(formats_of(files)) > 1 or wl == "all":
                out += [f"### By format, {desc}: {thread_label(t)}", "",
                        format_table(results, wl, t, tools, files), ""]
    for wl, files, tools in workloads:
        if wl != "all":
            continue
        for t in thread_counts:
            out += [f"### By size class and format, every corpus file: {thread_label(t)}, ms per image", "",
                    class_format_table(results, wl, t, tools, files), ""]
    return out


def report(results, workloads, thread_counts, missing, meta, chart_note=None):
    out = [f"# thumbflow corpus benchmark ({meta['date']}, commit {meta.get('commit', '?')})", ""]
    out.append(f"{meta['mode']}; {meta['runs']} timed run(s) per figure, the best one shown; "
               f"whole benchmark took {meta['elapsed_s']:.0f} s; load average (1/5/15 min) "
               f"{meta['load']} (other work on the machine skews the figures).")
    out.append("")
    for k, v in meta["versions"].items():
        out.append(f"- {k}: {v}")
    out.append("")
    for (wl, files, tools) in workloads:
        for t in thread_counts:
            label = thread_label(t)
            desc = "every corpus file" if wl == "all" else "JPEG files only (the floor's workload)"
            out.append(f"## {desc}, {len(files)} files: {label}")
            out.append("")
            out.append(table(results, wl, t, tools, files))
            out.append("")
    vt = [(k, a) for k, a in sorted(results.items()) if k[1] == "vipsthumbnail" and a["startup_ms"] is not None]
    if vt:
        out.append("vipsthumbnail is timed as whole processes; its figures above leave out its start-up "
                   f"({min(a['startup_ms'] for _, a in vt):.0f} ms, the fastest "
                   "`vipsthumbnail --vips-version`), as the in-process tools leave out theirs. "
                   "With start-up counted: " +
                   ", ".join(f"{wl} x{t}: {a['images_per_s_raw']:.1f} images/s" for (wl, _, t), a in vt) + ".")
        out.append("")
    if chart_note:
        out += [chart_note, ""]
    out += format_sections(results, workloads, thread_counts)
    fails = {}
    for (wl, tool, _), a in results.items():
        if a and a["errors"]:
            fails.setdefault(tool, set()).update(a["errors"])
    if fails:
        out.append("Failed files: " + "; ".join(f"{t}: {', '.join(sorted(v))}" for t, v in sorted(fails.items())))
        out.append("")
    for tool, why in missing.items():
        out.append(f"- {tool} not run: {why}")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# The chart: an SVG built by hand (no plotting library), rendered to PNG by libvips' vips CLI

CHART_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759")
PANEL_W, PANEL_H, CHART_TOP = 600, 330, 96


def svg_text(x, y, text, size=12, anchor="middle", weight="normal", fill="#222"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{html.escape(str(text))}</text>')


def nice_ticks(vmax):
    """Axis ticks from 0 to at least vmax, 4 to 8 of them, at 1, 2 or 5 times a power of ten."""
    vmax = max(vmax, 1e-9)
    step = 10 ** math.floor(math.log10(vmax / 5))
    for m in (1, 2, 5, 10):
        if vmax / (step * m) <= 6:
            step *= m
            break
    return [i * step for i in range(int(math.ceil(vmax / step)) + 1)]


def ratio_label(value, sharp_value):
    return "n/a" if not sharp_value else f"{value / sharp_value:.2f}x"


def bar_panel(x0, y0, title, groups, thread_counts, digits):
    """One grouped bar chart: groups is [(tool, {threads: (value, ratio label)})], the values
    written with digits decimals."""
    left, bottom, top = 56, 44, 34
    plot_w, plot_h = PANEL_W - left - 12, PANEL_H - top - bottom
    values = [v for _, by_t in groups for v, _ in by_t.values()]
    ticks = nice_ticks(max(values, default=1) * 1.15)
    scale = plot_h / ticks[-1]
    base_y = y0 + top + plot_h
    parts = [svg_text(x0 + PANEL_W / 2, y0 + 18, title, 14, weight="bold")]
    for tick in ticks:
        y = base_y - tick * scale
        parts.append(f'<line x1="{x0 + left}" y1="{y:.1f}" x2="{x0 + left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#ddd" stroke-width="1"/>')
        parts.append(svg_text(x0 + left - 6, y + 4, f"{tick:g}", 11, anchor="end", fill="#555"))
    parts.append(f'<line x1="{x0 + left}" y1="{y0 + top}" x2="{x0 + left}" y2="{base_y}" stroke="#444"/>')
    parts.append(f'<line x1="{x0 + left}" y1="{base_y}" x2="{x0 + left + plot_w}" y2="{base_y}" stroke="#444"/>')
    group_w = plot_w / max(len(groups), 1)
    bar_w = min(40.0, group_w * 0.8 / len(thread_counts))
    for gi, (tool, by_t) in enumerate(groups):
        centre = x0 + left + group_w * (gi + 0.5)
        parts.append(svg_text(centre, base_y + 18, tool, 12))
        for ti, t in enumerate(thread_counts):
            if t not in by_t:
                continue
            value, ratio = by_t[t]
            bx = centre - bar_w * len(thread_counts) / 2 + ti * bar_w
            h = value * scale
            parts.append(f'<rect x="{bx + 1:.1f}" y="{base_y - h:.1f}" width="{bar_w - 2:.1f}" '
                         f'height="{h:.1f}" fill="{CHART_COLOURS[ti % len(CHART_COLOURS)]}"/>')
            parts.append(svg_text(bx + bar_w / 2, base_y - h - 4, f"{value:.{digits}f}", 10))
            parts.append(svg_text(bx + bar_w / 2, base_y - h - 16, ratio, 10, fill="#666"))
    return parts


def chart_panels(results, workloads, thread_counts):
    """(title, groups, digits) per panel: throughput and peak RSS for each workload."""
    panels = []
    for wl, files, tools in workloads:
        desc = f"every corpus file ({len(files)})" if wl == "all" else f"JPEGs only ({len(files)})"
        for metric, title, digits in (("images_per_s", "images/s", 1), ("rss_mib", "peak RSS MiB", 0)):
            groups = []
            for tool in tools:
                by_t = {}
                for t in thread_counts:
                    a, sharp = results.get((wl, tool, t)), results.get((wl, "sharp", t))
                    if a is not None:
                        by_t[t] = (a[metric], ratio_label(a[metric], sharp and sharp[metric]))
                if by_t:
                    groups.append((tool, by_t))
            if groups:
                panels.append((f"{title}, {desc}", groups, digits))
    return panels


def chart_svg(results, workloads, thread_counts, meta):
    panels = chart_panels(results, workloads, thread_counts)
    sharp_note = "" if any(k[1] == "sharp" for k in results) else "; sharp was not run, so every ratio is n/a"
    rows = max(1, math.ceil(len(panels) / 2))
    width, height = 2 * PANEL_W + 30, CHART_TOP + rows * (PANEL_H + 16)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             svg_text(width / 2, 28, f"thumbflow corpus benchmark, {meta['date']}, commit "
                      f"{meta.get('commit', '?')}", 18, weight="bold"),
             svg_text(width / 2, 50, f"{meta['mode']}, best of {meta['runs']} run(s); load average "
                      f"{meta['load']}", 12, fill="#555"),
             svg_text(width / 2, 68, "above each bar: its value and its ratio to sharp's in the same "
                      "workload and thread count (higher images/s is faster, lower RSS is leaner)" + sharp_note,
                      12, fill="#555")]
    legend_x = width / 2 - 110 * len(thread_counts) / 2
    for ti, t in enumerate(thread_counts):
        x = legend_x + ti * 110
        parts.append(f'<rect x="{x:.1f}" y="78" width="12" height="12" fill="{CHART_COLOURS[ti]}"/>')
        parts.append(svg_text(x + 18, 89, "1 thread" if t == 1 else f"{t} threads", 12, anchor="start"))
    for i, (title, groups, digits) in enumerate(panels):
        x0, y0 = 10 + (i % 2) * (PANEL_W + 10), CHART_TOP + (i // 2) * (PANEL_H + 16)
        parts += bar_panel(x0, y0, title, groups, thread_counts, digits)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_chart(results, workloads, thread_counts, meta, out_dir):
    """Writes chart.svg and, through `vips svgload`, chart.png in out_dir; returns the report's
    line about it (the image, or why there is only the SVG)."""
    svg, png = Path(out_dir) / "chart.svg", Path(out_dir) / "chart.png"
    svg.write_text(chart_svg(results, workloads, thread_counts, meta))
    png.unlink(missing_ok=True)
    why = None
    if not shutil.which("vips"):
        why = "the vips command is missing (apt-get install libvips-tools)"
    else:
        done = subprocess.run(["vips", "svgload", str(svg), str(png), "--dpi", "96"],
                              capture_output=True, text=True)
        if done.returncode != 0 or not png.exists():
            why = f"vips svgload exited {done.returncode}: {done.stderr.strip()[-300:]}"
    if why:
        log(f"chart: {why}")
        return f"The chart could not be rendered to PNG ({why}); it is in [chart.svg](chart.svg)."
    return "![Throughput and peak RSS against sharp](chart.png)\n\n(also as [chart.svg](chart.svg))"


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir", nargs="?", default=str(REPO / "build" / "release"))
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus" / "public"))
    ap.add_argument("--quick", action="store_true", help="smoke run: ~9 files, one run each")
    ap.add_argument("--runs", type=int, help="timed runs per figure (default 3, 1 with --quick)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="threads for the all-cores runs (default: the usable cores)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    ap.add_argument("--out", default=str(BENCH_DIR / "results" / "report.md"))
    ap.add_argument("--wait-idle", type=float, default=0, metavar="S",
                    help="first wait up to S seconds for the 1-minute load average to fall below 0.5")
    ap.add_argument("--from-json", metavar="FILE",
                    help="run no tool: rebuild the report and the chart from FILE (a results.json)")
    opt = ap.parse_args()
    if opt.from_json:
        return report_from_json(opt.from_json, opt.out)
    if not Path("/usr/bin/time").exists():
        sys.exit("run.py: /usr/bin/time missing (apt-get install time)")
    runs = opt.runs or (1 if opt.quick else 3)
    wanted = [t for t in opt.tools.split(",") if t]
    if unknown := set(wanted) - set(TOOLS):
        sys.exit(f"run.py: unknown tool(s) {', '.join(sorted(unknown))}")

    files = load_corpus(opt.corpus)
    if opt.quick:
        files = quick_subset(files)
    if not files:
        sys.exit(f"run.py: no corpus files under {opt.corpus}")
    jpegs = [f for f in files if f["format"] == "JPEG"]
    runners, missing = tool_commands(opt.build_dir)
    missing = {t: why for t, why in missing.items() if t in wanted}
    workloads = [("all", files, [t for t in TOOLS if t != "jpeg_floor" and t in wanted and t in runners]),
                 ("jpeg", jpegs, [t for t in TOOLS if t in wanted and t in runners])]
    thread_counts = [1] if opt.threads <= 1 else [1, opt.threads]

    deadline = time.monotonic() + opt.wait_idle
    while float(Path("/proc/loadavg").read_text().split()[0]) >= 0.5 and time.monotonic() < deadline:
        log(f"waiting for an idle machine (load {Path('/proc/loadavg').read_text().split()[0]})")
        time.sleep(15)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    # Rounds go over every tool in turn, so a slow spell on the machine hits all tools alike.
    started = time.perf_counter()
    raw = {}
    for rnd in range(runs):
        for wl, wl_files, tools in workloads:
            for t in thread_counts:
                for tool in tools:
                    log(f"round {rnd + 1}/{runs}: {tool}, {wl} ({len(wl_files)} files), {t} thread(s)")
                    try:
                        rec = runners[tool](wl_files, t)
                        if tool == "vipsthumbnail":
                            # ms per image by class needs a run per class; with N processes a
                            # process's time per image is the latency its images saw.
                            rec["class_ms"] = {}
                            for c in CLASSES:
                                cf = [f for f in wl_files if f["size_class"] == c]
                                if cf:
                                    # Small images are repeated until the run is long enough
                                    # that start-up noise does not swamp it.
                                    mp = sum(max(f["megapixels"], 0.01) for f in cf)
                                    k = min(50, math.ceil(CLASS_RUN_MP / mp))
                                    r = run_vipsthumbnail(cf * k, t, rec["startup"])
                                    rec["class_ms"][c] = r["busy_s"] * 1000.0 / (len(cf) * k)
                        raw.setdefault((wl, tool, t), []).append(rec)
                    except (RuntimeError, OSError, json.JSONDecodeError) as e:
                        log(f"  failed: {e}")
                        missing[tool] = str(e)
    elapsed = time.perf_counter() - started
    load_after = Path("/proc/loadavg").read_text().split()[:3]

    results = {k: aggregate(v, dict((w, f) for w, f, _ in workloads)[k[0]]) for k, v in raw.items()}
    vers = versions()
    for (_, tool, _), a in results.items():
        if tool == "sharp" and a["versions"]:
            vers["sharp"] = f"{a['versions'].get('sharp')} (its own libvips {a['versions'].get('libvips')})"
    meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": git_commit(),
        "mode": "quick smoke run" if opt.quick else "full run",
        "runs": runs, "elapsed_s": elapsed, "versions": vers,
        "load": f"{' '.join(load_before)} before, {' '.join(load_after)} after",
    }
    meta["workloads"] = [{"name": wl, "files": wl_files, "tools": tools} for wl, wl_files, tools in workloads]
    meta["thread_counts"], meta["missing"] = thread_counts, missing
    out = Path(opt.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / "results.json").write_text(json.dumps({
        "meta": meta, "results": [{"workload": w, "tool": tl, "threads": t, **a}
                                  for (w, tl, t), a in sorted(results.items())]}, indent=1))
    write_report(results, workloads, thread_counts, missing, meta, out)
    return 0


def write_report(results, workloads, thread_counts, missing, meta, out):
    """Writes the chart and report.md (printing the report), from a run or a results.json."""
    out.parent.mkdir(parents=True, exist_ok=True)
    chart_note = write_chart(results, workloads, thread_counts, meta, out.parent)
    text = report(results, workloads, thread_counts, missing, meta, chart_note)
    out.write_text(text)
    print(text)
    log(f"wrote {out}, {out.parent / 'chart.svg'}")


def report_from_json(path, out):
    """--from-json: rebuilds report.md and the chart from a results.json, running no tool."""
    try:
        data = json.loads(Path(path).read_text())
        meta = data["meta"]
        results = {(r["workload"], r["tool"], r["threads"]): r for r in data["results"]}
        workloads = [(w["name"], w["files"], w["tools"]) for w in meta["workloads"]]
        thread_counts = meta["thread_counts"]
    except (OSError, ValueError) as e:
        sys.exit(f"run.py: cannot read {path}: {e}")
    except (KeyError, TypeError) as e:
        sys.exit(f"run.py: {path} lacks {e} (a results.json from an older run.py has no file list; run again)")
    write_report(results, workloads, thread_counts, meta.get("missing", {}), meta, Path(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
