// The hostile corpus: files an uploader can send to break, hang or exhaust the service, each
// with the outcome thumbflow promises for it. Everything is generated in memory at test time
// (deterministic, well under a second); nothing is written into the repository.
//
// The expectations are policy, written down here once and checked by the pipeline integration
// test and the serve e2e test:
// - not an image (zero bytes, text, MVG scripts, anything whose first bytes are not an allowed
//   image format's magic): unsupported_format. The name's extension is a claim and is ignored.
// - a format libvips could load but the imaging policy refuses (SVG, PDF): unsupported_format,
//   refused from the sniff, before any parser runs, so external references and entity
//   expansion never happen.
// - damaged or truncated data of an allowed format: corrupt. A file cut anywhere, even one byte
//   short of its end marker, fails: a thumbnail is never made from part of a file.
// - a declaration over a limit (dimension, pixels, frames, progressive scans): too_large, from
//   the header alone, with the declared figure in the message.
// - polyglots: a file that starts as an allowed image and holds that whole image is an image,
//   whatever else it also is (trailing ZIP, HTML, JavaScript around a GIF). Its thumbnail is
//   re-encoded from decoded pixels with metadata stripped, so no byte of the payload reaches an
//   output, and thumbflow never serves the original. A polyglot that starts as anything else
//   (HTML, ZIP or PDF first, an image inside) is not an image.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace thumbflow::test::hostile {

struct Case {
  std::string name;    // short identifier, unique: "png_declares_30000x30000"
  std::string key;     // object key under uploads/hostile/, with the misleading extension
  std::string bytes;
  // The failure kind; empty for a polyglot accepted as an image (processed, one thumbnail).
  std::optional<ErrorKind> kind;
  std::string phrase;  // what the failure message must contain (the declared size for bombs)
  std::string why;     // the documented reason for the expectation
};

// Every case, in a fixed order. Reads a few small files of the shared corpus (truncations).
std::vector<Case> corpus();

// Building blocks, also used by unit tests.
// A valid greyscale PNG (8-bit, stored deflate) of w x h, every pixel `grey`.
std::string png_image(std::uint32_t w, std::uint32_t h, std::uint8_t grey = 128);
// An 8x8 PNG whose IHDR declares w x h (CRC fixed): a few hundred bytes.
std::string png_declaring(std::uint32_t w, std::uint32_t h);
// A valid baseline greyscale JPEG of w x h (mid grey).
std::string jpeg_image(std::uint32_t w, std::uint32_t h);
// An 8x8 baseline JPEG whose SOF0 declares w x h: a few hundred bytes.
std::string jpeg_declaring(std::uint32_t w, std::uint32_t h);
// A valid progressive greyscale JPEG of w x h with the longest legal scan script: one DC scan,
// then each of the 63 AC coefficients in its own band, sent at Al=13 and refined bit by bit to
// Al=0 (883 scans). All coefficients are zero, so the file is small, yet a decoder that runs
// every scan makes 883 passes over every block. With `scans` below 883, the script's first ones.
int progressive_jpeg_scans();  // 883, the longest legal script for one component
std::string progressive_jpeg(std::uint32_t w, std::uint32_t h, int scans = progressive_jpeg_scans());
// A GIF89a of `frames` 1x1 frames spread over a screen_w x screen_h logical screen.
std::string gif_animation(std::uint32_t frames, std::uint16_t screen_w, std::uint16_t screen_h);

}  // namespace thumbflow::test::hostile
