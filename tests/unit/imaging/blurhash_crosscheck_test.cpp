// Cross-checks our BlurHash against the npm `blurhash` package, the reference implementation:
// its decoder must turn our hash back into a blurred version of our thumbnail, and its encoder
// must produce our hash from the same pixels.
#include <gtest/gtest.h>
#include <vips/vips8>

#include "imaging/extras.hpp"
#include "imaging/image_ops.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

std::string peer_script() { return (test::source_dir() / "tests/tools/blurhash_peer.cjs").string(); }

bool peer_available() {
  return std::filesystem::exists(test::source_dir() / "tests/node_modules/blurhash") &&
         test::run_process({"node", "--version"}).exit_code == 0;
}

struct Thumb {
  VImage pixels;  // 8-bit sRGB, 3 bands
  std::string blurhash;
};

Thumb thumb_of(const std::string& name) {
  std::string bytes = test::read_bytes(test::corpus_dir() / name);
  auto r = render(bytes, RenditionSpec{});
  EXPECT_TRUE(r.ok());
  const auto& out = r->renditions.front().bytes;
  return {VImage::new_from_buffer(out.data(), out.size(), "").copy_memory(), r->blurhash};
}

// The npm decoder's image of `hash` at w x h, as 3-band 8-bit.
VImage peer_decode(const std::string& hash, int w, int h) {
  auto res = test::run_process({"node", peer_script(), "decode", hash, std::to_string(w), std::to_string(h)});
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out.size(), static_cast<std::size_t>(w * h * 4));
  VImage rgba = VImage::new_from_memory(res.out.data(), res.out.size(), w, h, 4, VIPS_FORMAT_UCHAR).copy_memory();
  return rgba.extract_band(0, VImage::option()->set("n", 3));
}

double mean_abs_diff(VImage a, VImage b) { return (a.cast(VIPS_FORMAT_FLOAT) - b.cast(VIPS_FORMAT_FLOAT)).abs().avg(); }

}  // namespace

namespace {
std::string peer_encode(const VImage& rgb) {
  VImage rgba = rgb.bandjoin_const({255});
  std::size_t len = 0;
  void* mem = rgba.write_to_memory(&len);
  std::string raw(static_cast<const char*>(mem), len);
  g_free(mem);
  bool portrait = rgb.height() > rgb.width();
  auto res = test::run_process({"node", peer_script(), "encode", std::to_string(rgb.width()),
                                std::to_string(rgb.height()), portrait ? "3" : "4", portrait ? "4" : "3"},
                               raw);
  EXPECT_EQ(res.exit_code, 0) << res.err;
  return res.out;
}

std::string own_encode(VImage rgb) {
  rgb = rgb.copy_memory();
  return encode_blurhash(PixelView{static_cast<const std::uint8_t*>(rgb.data()), static_cast<std::uint32_t>(rgb.width()),
                                   static_cast<std::uint32_t>(rgb.height()), static_cast<std::uint32_t>(rgb.bands())});
}
}  // namespace

TEST(BlurHashCrossCheck, npm_decoder_shows_our_hash_as_a_blur_at_least_as_faithful_as_its_own_encoders) {
  if (!peer_available()) GTEST_SKIP() << "npm blurhash not installed (scripts/install-deps installs it)";
  const std::vector<std::string> names = {"mate_FreshFlower.jpg", "skimage_astronaut.png", "l16_Wine_by_Jakkub_Mede.jpg",
                                          "plasma_ColorfulCups_2560x1600.jpg", "skimage_coins.png"};
  std::vector<Thumb> thumbs;
  for (const auto& n : names) thumbs.push_back(thumb_of(n));
  for (std::size_t i = 0; i < thumbs.size(); ++i) {
    const int w = 16, h = 16;
    // The thumbnail reduced to 16x16 is what a 4x3 BlurHash can describe.
    VImage target = thumbs[i].pixels.resize(double(w) / thumbs[i].pixels.width(),
                                            VImage::option()->set("vscale", double(h) / thumbs[i].pixels.height()));
    double own = mean_abs_diff(peer_decode(thumbs[i].blurhash, w, h), target);
    double reference = mean_abs_diff(peer_decode(peer_encode(thumbs[i].pixels), w, h), target);
    EXPECT_LE(own, reference * 1.05 + 1.0) << names[i] << " ours " << thumbs[i].blurhash;
    // And clearly closer than another image's hash decoded the same way.
    const Thumb& other = thumbs[(i + 1) % thumbs.size()];
    double foreign = mean_abs_diff(peer_decode(other.blurhash, w, h), target);
    EXPECT_LT(own, foreign) << names[i] << " vs " << names[(i + 1) % names.size()];
  }
}

TEST(BlurHashCrossCheck, npm_encoder_agrees_on_components_and_average_colour) {
  if (!peer_available()) GTEST_SKIP() << "npm blurhash not installed (scripts/install-deps installs it)";
  for (const char* name : {"mate_FreshFlower.jpg", "skimage_chelsea.png", "l16_Wine_by_Jakkub_Mede.jpg", "gnome_vnc-d.webp"}) {
    Thumb t = thumb_of(name);
    std::string ours = own_encode(t.pixels);
    std::string theirs = peer_encode(t.pixels);
    ASSERT_EQ(ours.size(), theirs.size()) << name;
    EXPECT_EQ(ours[0], theirs[0]) << name << ": component counts differ";
    EXPECT_EQ(ours.substr(2, 4), theirs.substr(2, 4)) << name << ": average colour differs";
  }
}

}  // namespace thumbflow::imaging
