#include <gtest/gtest.h>

#include "hostile_corpus.hpp"
#include "imaging/container_check.hpp"
#include "imaging/gif_scan.hpp"
#include "imaging/sniff.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {

TEST(ContainerCheck, every_whole_corpus_file_is_complete) {
  for (const auto& f : test::corpus_files()) {
    const std::string& bytes = test::corpus_bytes(f.filename().string());
    auto st = check_complete(sniff_format(bytes), bytes);
    EXPECT_TRUE(st.ok()) << f.filename() << ": " << st.error().message;
  }
}

TEST(ContainerCheck, a_cut_png_gif_webp_or_tiff_is_truncated_wherever_it_is_cut) {
  for (const char* name : {"skimage_coins.png", "skimage_no_time_for_that_tiny.gif", "syn_photo_mate_RainDrops.webp",
                           "skimage_chessboard_GRAY_U16.tif", "syn_jpegtiff_l16_friends.tif"}) {
    const std::string& whole = test::corpus_bytes(name);
    const SourceFormat format = sniff_format(whole);
    for (std::size_t cut : {std::size_t{16}, whole.size() / 3, whole.size() / 2, whole.size() - 1}) {
      auto st = check_complete(format, std::string_view(whole).substr(0, cut));
      ASSERT_FALSE(st.ok()) << name << " cut at " << cut;
      EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
      EXPECT_EQ(st.error().message.rfind("truncated " + std::string(to_string(format)) + " data", 0), 0u)
          << st.error().message;
    }
  }
}

TEST(ContainerCheck, bytes_after_the_end_marker_are_allowed) {
  const std::string png = test::hostile::png_image(8, 8) + "<html>trailing</html>";
  EXPECT_TRUE(check_complete(SourceFormat::png, png).ok());
  const std::string gif = test::hostile::gif_animation(3, 4, 4) + "*/=alert(1);";
  EXPECT_TRUE(check_complete(SourceFormat::gif, gif).ok());
  const std::string& webp = test::corpus_bytes("gnome_vnc-d.webp");
  EXPECT_TRUE(check_complete(SourceFormat::webp, webp + "PK\x05\x06").ok());
}

TEST(ContainerCheck, a_png_without_iend_and_a_gif_without_trailer_are_truncated) {
  std::string png = test::hostile::png_image(8, 8);
  png.resize(png.size() - 12);  // IEND removed: libpng never reads it
  auto st = check_complete(SourceFormat::png, png);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no IEND chunk"), std::string::npos) << st.error().message;
  std::string gif = test::hostile::gif_animation(5, 4, 4);
  gif.pop_back();  // the trailer
  auto scan = scan_gif(gif);
  EXPECT_EQ(scan.frames, 5u);
  EXPECT_TRUE(scan.ran_out);
  st = check_complete(SourceFormat::gif, gif);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("after 5 frames, before the trailer"), std::string::npos) << st.error().message;
}

}  // namespace thumbflow::imaging
