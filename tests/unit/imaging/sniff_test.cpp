#include <gtest/gtest.h>

#include <string>

#include "imaging/sniff.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
using namespace std::string_literals;

TEST(SniffFormat, recognises_magic_bytes_not_names) {
  EXPECT_EQ(sniff_format("\xFF\xD8\xFF\xE0rest"s), SourceFormat::jpeg);
  EXPECT_EQ(sniff_format("\x89PNG\r\n\x1A\n...."s), SourceFormat::png);
  EXPECT_EQ(sniff_format("GIF89a...."), SourceFormat::gif);
  EXPECT_EQ(sniff_format("GIF87a...."), SourceFormat::gif);
  EXPECT_EQ(sniff_format("RIFF\x10\0\0\0WEBPVP8 "s), SourceFormat::webp);
  EXPECT_EQ(sniff_format("II*\0\x08\0\0\0"s), SourceFormat::tiff);
  EXPECT_EQ(sniff_format("MM\0*\0\0\0\x08"s), SourceFormat::tiff);
  EXPECT_EQ(sniff_format("%PDF-1.7\n"), SourceFormat::pdf);
  EXPECT_EQ(sniff_format("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), SourceFormat::svg);
  EXPECT_EQ(sniff_format("  <svg width=\"10\"></svg>"), SourceFormat::svg);
}

TEST(SniffFormat, tells_avif_from_heic_by_brand) {
  EXPECT_EQ(sniff_format("\0\0\0\x1C" "ftypavif\0\0\0\0avifmif1miaf"s), SourceFormat::avif);
  EXPECT_EQ(sniff_format("\0\0\0\x18" "ftypheic\0\0\0\0mif1heic"s), SourceFormat::heif);
  EXPECT_EQ(sniff_format("\0\0\0\x18" "ftypmif1\0\0\0\0mif1avif"s), SourceFormat::avif);
  EXPECT_EQ(sniff_format("\0\0\0\x18" "ftypmif1\0\0\0\0mif1heic"s), SourceFormat::heif);
  EXPECT_EQ(sniff_format("\0\0\0\x18" "ftypisom\0\0\0\0isommp41"s), SourceFormat::unknown);  // an MP4
}

TEST(SniffFormat, unknown_for_text_empty_and_short_input) {
  EXPECT_EQ(sniff_format(""), SourceFormat::unknown);
  EXPECT_EQ(sniff_format("\xFF\xD8"s), SourceFormat::unknown);
  EXPECT_EQ(sniff_format("hello, this is a text file named photo.jpg\n"), SourceFormat::unknown);
  EXPECT_EQ(sniff_format("push graphic-context\nviewbox 0 0 640 480\n"), SourceFormat::unknown);  // MVG
  EXPECT_EQ(sniff_format("<html><body>hi</body></html>"), SourceFormat::unknown);
}

TEST(SniffFormat, agrees_with_manifest_for_every_corpus_file) {
  for (const auto& path : test::corpus_files()) {
    auto it = test::manifest().find(path.filename().string());
    if (it == test::manifest().end()) continue;
    std::string expected = it->second.format;
    for (auto& c : expected) c = static_cast<char>(std::tolower(c));
    std::string got(to_string(sniff_format(test::read_bytes(path))));
    EXPECT_EQ(got, expected) << path;
  }
}

}  // namespace thumbflow::imaging
