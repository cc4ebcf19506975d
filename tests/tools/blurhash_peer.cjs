// Runs the npm `blurhash` package (the reference implementation) for thumbflow's tests.
//   node blurhash_peer.cjs decode HASH W H      -> raw RGBA bytes on stdout
//   node blurhash_peer.cjs encode W H CX CY     -> reads raw RGBA from stdin, prints the hash
const { decode, encode } = require('blurhash');
const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'decode') {
  const [hash, w, h] = args;
  process.stdout.write(Buffer.from(decode(hash, Number(w), Number(h))));
} else if (cmd === 'encode') {
  const [w, h, cx, cy] = args.map(Number);
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const px = new Uint8ClampedArray(Buffer.concat(chunks));
    process.stdout.write(encode(px, w, h, cx, cy));
  });
} else {
  process.stderr.write('usage: blurhash_peer.cjs decode HASH W H | encode W H CX CY\n');
  process.exit(2);
}
