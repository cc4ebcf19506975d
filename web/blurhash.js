// BlurHash decoder (https://blurha.sh, the algorithm by Wolt), written for thumbflow's console.
// decode(hash, width, height, punch) returns RGBA pixels; isValid(hash) checks the length.
"use strict";
(function () {
  const CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    let value = 0;
    for (const c of text) {
      const digit = CHARS.indexOf(c);
      if (digit < 0) throw new Error("blurhash: bad character");
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(v) {
    const x = v / 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  }

  function toSrgb(v) {
    const x = Math.max(0, Math.min(1, v));
    return x <= 0.0031308 ? Math.round(x * 12.92 * 255 + 0.5) : Math.round((1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255 + 0.5);
  }

  function signPow(v, e) {
    return Math.sign(v) * Math.pow(Math.abs(v), e);
  }

  function sizes(hash) {
    if (typeof hash !== "string" || hash.length < 6) return null;
    const flag = decode83(hash[0]);
    const ny = Math.floor(flag / 9) + 1;
    const nx = (flag % 9) + 1;
    return hash.length === 4 + 2 * nx * ny ? { nx, ny } : null;
  }

  // The length fits the component counts and every character is a base-83 digit.
  function isValid(hash) {
    try {
      return sizes(hash) !== null && [...hash].every((c) => CHARS.includes(c));
    } catch (e) {
      return false;
    }
  }

  function decode(hash, width, height, punch) {
    const size = sizes(hash);
    if (!size) throw new Error("blurhash: wrong length");
    const { nx, ny } = size;
    const maxAc = ((decode83(hash[1]) + 1) / 166) * (punch || 1);
    const colours = new Array(nx * ny);
    const dc = decode83(hash.substring(2, 6));
    colours[0] = [toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)];
    for (let i = 1; i < nx * ny; i++) {
      const v = decode83(hash.substring(4 + i * 2, 6 + i * 2));
      const r = Math.floor(v / (19 * 19));
      const g = Math.floor(v / 19) % 19;
      const b = v % 19;
      colours[i] = [signPow((r - 9) / 9, 2) * maxAc, signPow((g - 9) / 9, 2) * maxAc, signPow((b - 9) / 9, 2) * maxAc];
    }
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0, g = 0, b = 0;
        for (let j = 0; j < ny; j++) {
          const by = Math.cos((Math.PI * y * j) / height);
          for (let i = 0; i < nx; i++) {
            const basis = Math.cos((Math.PI * x * i) / width) * by;
            const c = colours[i + j * nx];
            r += c[0] * basis;
            g += c[1] * basis;
            b += c[2] * basis;
          }
        }
        const p = 4 * (x + y * width);
        pixels[p] = toSrgb(r);
        pixels[p + 1] = toSrgb(g);
        pixels[p + 2] = toSrgb(b);
        pixels[p + 3] = 255;
      }
    }
    return pixels;
  }

  window.BlurHash = { decode, isValid };
})();
