// sharp in-process over a list of files, the peer thumbflow is read against:
//   sharp(buf).resize(128, 128, {fit: 'inside', withoutEnlargement: true}).rotate()
//            .jpeg({quality: 80}).toBuffer()
// Files are read into memory before timing (with --load-each, each one just before its image,
// outside the per-image timer, so the peak RSS is a worker's rather than the whole corpus's). sharp.concurrency(1) gives each image one libvips
// thread, like thumbflow; --threads N keeps N images in flight, which needs N libuv pool
// threads (UV_THREADPOOL_SIZE, set here before sharp loads when the caller has not set it).
// Output: one JSON object per line per image, then a summary line (see bench_harness.hpp).
//
// usage: node sharp_bench.mjs [--threads N] [--repeat K] [--quiet] [--load-each] FILE...
import { readFileSync } from 'node:fs';

function usage() {
  process.stderr.write('usage: node sharp_bench.mjs [--threads N] [--repeat K] [--quiet] [--load-each] FILE...\n');
  process.exit(2);
}

const opt = { threads: 1, repeat: 1, quiet: false, loadEach: false, files: [] };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if ((a === '--threads' || a === '--repeat') && i + 1 < args.length) {
    const n = Number(args[++i]);
    if (!Number.isInteger(n) || n < 1) usage();
    opt[a.slice(2)] = n;
  } else if (a === '--quiet') {
    opt.quiet = true;
  } else if (a === '--load-each') {
    opt.loadEach = true;
  } else if (a.startsWith('-')) {
    usage();
  } else {
    opt.files.push(a);
  }
}
if (opt.files.length === 0) usage();

if (!process.env.UV_THREADPOOL_SIZE || Number(process.env.UV_THREADPOOL_SIZE) < opt.threads) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(opt.threads, 4));
}
const sharp = (await import('sharp')).default;
sharp.concurrency(1);
// Each image is new, so the operation cache only costs memory; and with --repeat it would
// hand back cached results instead of doing the work again.
sharp.cache(false);

function readInput(path) {
  try {
    return readFileSync(path);
  } catch (e) {
    process.stderr.write(`warning: cannot read ${path}: ${e.message}\n`);
    return Buffer.alloc(0);
  }
}
const inputs = opt.files.map((path) => ({ path, bytes: opt.loadEach ? null : readInput(path) }));
const bytesOf = (input) => input.bytes ?? readInput(input.path);

function thumbnail(bytes) {
  return sharp(bytes)
    .resize(128, 128, { fit: 'inside', withoutEnlargement: true })
    .rotate()
    .jpeg({ quality: 80 })
    .toBuffer();
}

// One untimed call, so start-up is not charged to the first image.
await thumbnail(bytesOf(inputs[0])).catch(() => {});

const total = inputs.length * opt.repeat;
const samples = new Array(total);
let next = 0;
async function lane() {
  for (let i = next++; i < total; i = next++) {
    const input = i % inputs.length;
    const bytes = bytesOf(inputs[input]);
    const t0 = process.hrtime.bigint();
    let error = '';
    try {
      const out = await thumbnail(bytes);
      if (out.length === 0) error = 'empty output';
    } catch (e) {
      error = String(e.message || e).replace(/\s+/g, ' ').trim();
    }
    samples[i] = { input, ms: Number(process.hrtime.bigint() - t0) / 1e6, error };
  }
}

const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
await Promise.all(Array.from({ length: opt.threads }, lane));
const wallS = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuStart); // every thread of the process, libuv's pool included

let failed = 0;
const lines = [];
for (const s of samples) {
  if (s.error) failed++;
  if (opt.quiet) continue;
  const rec = { tool: 'sharp', file: inputs[s.input].path, ms: s.ms, ok: !s.error };
  if (s.error) rec.error = s.error;
  lines.push(JSON.stringify(rec));
}
lines.push(JSON.stringify({
  tool: 'sharp', summary: true, threads: opt.threads, repeat: opt.repeat, images: total,
  ok: total - failed, failed, wall_s: wallS, cpu_s: (cpu.user + cpu.system) / 1e6, images_per_s: wallS > 0 ? total / wallS : 0,
  sharp: sharp.versions.sharp, libvips: sharp.versions.vips,
}));
process.stdout.write(lines.join('\n') + '\n');
