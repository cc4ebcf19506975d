// The JPEG fast path: libjpeg-turbo directly, scaling in the DCT domain while decoding, and for
// progressive files stopping after the scans the scaled output needs. libvips' JPEG loader
// costs a pipeline set-up, EXIF string formatting and, for progressive files, a decode of every
// scan; this reads only what the thumbnail is made from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/image_info.hpp"

namespace thumbflow::imaging {

enum class JpegColour { grey, rgb, cmyk };

struct JpegPixels {
  std::vector<std::uint8_t> data;  // interleaved, row after row
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t bands = 0;  // 1 grey, 3 RGB, 4 CMYK (plain ink: 0 is no ink, Adobe's inversion undone)
  JpegColour colour = JpegColour::rgb;
  std::string icc_profile;  // the embedded ICC profile (APP2 chunks joined), empty without one
  // Figures for tests and benchmarks: scans read before stopping, and the input bytes libjpeg
  // consumed (the rest was only checked for structure).
  int scans_read = 0;
  std::size_t bytes_decoded = 0;
};

// Decodes at 1/shrink scale (shrink is 1, 2, 4 or 8); an empty optional for the rare colour
// layouts this path leaves to libvips (neither grey, YCbCr, RGB, CMYK nor YCCK). Fails with corrupt for damaged data and
// for a file that does not end as a JPEG must (see jpeg_decode.cpp for the policy on the part
// of a progressive file that is not decoded), with internal when memory runs out. The messages
// are the ones render() gives for libvips' loader: "truncated jpeg data: ..." or
// "corrupt jpeg data: ...", with libjpeg's own message in parentheses.
Result<std::optional<JpegPixels>> decode_jpeg(std::string_view bytes, int shrink);

// The header facts of a JPEG, read by libjpeg (jpeg_read_header: markers, tables and frame
// header, no entropy-coded data) and libexif, without libvips: the same ImageInfo libvips'
// loader gives (its interpretation names, EXIF orientation clipped the way it clips it, Make,
// Model and DateTimeOriginal as it formats them). An empty optional for anything libjpeg warns
// or fails on and for frames this path does not take (not 8-bit, unusual colour layouts), so the
// caller asks libvips, which then gives its own error or answer.
std::optional<ImageInfo> probe_jpeg(std::string_view bytes);

// The number of scans (SOS markers) in a JPEG, found by walking its markers and skipping the
// entropy-coded data (a memchr for 0xFF): no Huffman decoding, linear in the file's size. The
// walk stops at EOI or at the first thing that is not a well-formed marker, so damaged data
// counts the scans before the damage and is left for the decoder to report.
std::uint32_t count_jpeg_scans(std::string_view bytes);

// Skips entropy-coded data from pos: stuffed zero bytes (FF 00) and restart markers belong to it,
// fill bytes (FF FF...) precede a marker. Returns the position after the next marker's code and
// sets marker to the code, or returns the size (marker untouched) when the data ends first.
std::size_t skip_jpeg_entropy(std::string_view bytes, std::size_t pos, int& marker);

// Checks that bytes[pos..] is a well-formed run of JPEG markers, scans and entropy-coded data
// ending with EOI. pos is where a marker (0xFF) starts, or, when pending_marker is non-zero, the
// first byte after that marker's code. Exposed for tests.
Status check_jpeg_tail(std::string_view bytes, std::size_t pos, int pending_marker, int components);

}  // namespace thumbflow::imaging
