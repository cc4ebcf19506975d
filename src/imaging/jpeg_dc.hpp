// The 1/8-scale image of a progressive JPEG from its DC coefficients alone.
//
// At 1/8 scale each 8x8 block becomes one pixel whose value is the block's DC coefficient
// (libjpeg's 1x1 inverse DCT). A progressive file sends the DC of every block in its first
// scans (one Huffman symbol per block, 3-11% of the file) and, in the usual scan script
// (libjpeg's, mozjpeg's), a one-bit-per-block DC refinement after the large AC scans. libjpeg
// must decode every AC scan up to that refinement (and keeps a whole-image coefficient buffer,
// 2-6 bytes per pixel) because its 1/8 output also gives subsampled chroma a 2x2 inverse DCT;
// this decoder reads the DC scans only, skips the AC scans' entropy-coded data with a memchr,
// and keeps two bytes per block. Chroma then comes from its own DC, one value per chroma block,
// replicated over the luma blocks it covers: at least twice the thumbnail's resolution still,
// since the plan only shrinks by 8 when the image is 16 or more times the target.
//
// Luma and grey come out exactly as libjpeg's 1/8 decode gives them, and so does colour with
// 4:4:4 or 2x1 chroma (libjpeg too takes the chroma block's DC alone there); with 2x2 chroma
// libjpeg interpolates between chroma blocks where this replicates (a mean difference of about
// one level per channel on the corpus's 2x2 file).
#pragma once

#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "imaging/jpeg_decode.hpp"

namespace thumbflow::imaging {

// Decodes a progressive, Huffman-coded, 8-bit JPEG at 1/8 scale from its DC scans, then checks
// the rest of the file for structure up to EOI (check_jpeg_tail: a file cut anywhere fails as
// truncated). Output: grey (1 band) or RGB (3 bands, converted from YCbCr with libjpeg's
// arithmetic), ceil(width/8) x ceil(height/8), the ICC profile as decode_jpeg gives it.
//
// An empty optional for every file this path does not take or does not like: sequential or
// arithmetic-coded files, layouts other than grey, YCbCr and RGB, sampling factors that are not
// multiples of each other, and any damage or oddity in the markers or DC scans (a bad Huffman
// code, a missing restart marker, an unknown marker, a DC that never reaches full precision).
// The caller then decodes with libjpeg (decode_jpeg), which gives its own verdict and message:
// this path only makes good files faster and never decides on a damaged one, apart from the
// tail check that the libjpeg path runs the same way.
Result<std::optional<JpegPixels>> decode_jpeg_dc(std::string_view bytes);

}  // namespace thumbflow::imaging
