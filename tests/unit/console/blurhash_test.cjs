// web/blurhash.js (our decoder) against npm blurhash's reference decode: every pixel within
// one level, and the same verdict on valid and invalid hashes. Exit 77 (skip) without the
// npm package (tests/package.json; scripts/install-deps runs npm ci).
const path = require("node:path");
const source = path.resolve(__dirname, "../../../web/blurhash.js");
let ref;
try {
  ref = require(path.resolve(__dirname, "../../node_modules/blurhash"));
} catch (e) {
  console.log("SKIP: npm blurhash is not installed in tests/node_modules");
  process.exit(77);
}
global.window = {};
require(source);
const mine = global.window.BlurHash;
let failures = 0;
const check = (ok, what) => {
  if (!ok) {
    failures++;
    console.error("FAIL: " + what);
  }
};
const hashes = ["LEHV6nWB2yk8pyo0adR*.7kCMdnj", "LKO2?U%2Tw=w]~RBVZRi};RPxuwH", "L6PZfSi_.AyE_3t7t7R**0o#DgR4", "00TI:j"];
for (const h of hashes) {
  for (const [w, hgt, punch] of [[32, 32, 1], [20, 12, 1], [8, 8, 3]]) {
    const a = ref.decode(h, w, hgt, punch);
    const b = mine.decode(h, w, hgt, punch);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    check(a.length === b.length && diff <= 1, h + " " + w + "x" + hgt + " differs by " + diff);
  }
  check(mine.isValid(h) && ref.isBlurhashValid(h).result, h + " validity");
}
for (const bad of ["", "abc", "LEHV6nWB2yk8pyo0adR*.7kCMdn", "LEHV6nWB2yk8pyo0adR*.7kCMdnj!", "LEHV6nWB2yk8pyo0adR*.7kCMdn\u00e9"]) {
  check(!mine.isValid(bad), JSON.stringify(bad) + " should be invalid");
}
if (failures) process.exit(1);
console.log("blurhash: " + hashes.length + " hashes decode as the reference does");
