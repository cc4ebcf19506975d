// The thumbflow executable as a user runs it: exit codes, stderr lines, files written.
#include <gtest/gtest.h>
#include <vips/vips8>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace thumbflow {
namespace {
namespace fs = std::filesystem;

std::string exe() { return (test::binary_dir() / "src/cli/thumbflow").string(); }
std::string corpus(const char* name) { return (test::corpus_dir() / name).string(); }

// libvips, to read back what the CLI wrote.
vips::VImage load(const fs::path& path) {
  static const bool started = VIPS_INIT("cli_test") == 0;
  EXPECT_TRUE(started);
  return vips::VImage::new_from_file(path.c_str());
}

test::ProcessResult thumbflow(std::vector<std::string> args) {
  args.insert(args.begin(), exe());
  return test::run_process(args);
}

}  // namespace

TEST(CliThumbnail, writes_thumbnails_reports_each_failure_and_exits_1) {
  test::TempDir tmp;
  fs::path text = tmp.path() / "notes.jpg";
  test::write_bytes(text, "this is not a photo\n");
  fs::path out = tmp.path() / "out";
  auto r = thumbflow({"thumbnail", "-o", out.string(), corpus("mate_Storm.jpg"), corpus("skimage_astronaut.png"),
                      corpus("syn_exif6_plasma_EveningGlow.jpg"), corpus("skimage_truncated.jpg"), text.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(corpus("skimage_truncated.jpg") + ": corrupt: truncated jpeg data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(text.string() + ": unsupported_format: not an image"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("thumbnailed 3 of 5 files"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(2 failed)"), std::string::npos) << r.err;
  for (const char* name : {"mate_Storm.jpg", "skimage_astronaut.jpg", "syn_exif6_plasma_EveningGlow.jpg"})
    EXPECT_TRUE(fs::exists(out / name)) << name;
  EXPECT_FALSE(fs::exists(out / "skimage_truncated.jpg"));
  EXPECT_FALSE(fs::exists(out / "notes.jpg"));
  // No temporary files left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(out)) ++files;
  EXPECT_EQ(files, 3);
  auto img = load(out / "syn_exif6_plasma_EveningGlow.jpg");
  EXPECT_EQ(img.width(), 80);
  EXPECT_EQ(img.height(), 128);
}

TEST(CliThumbnail, size_format_and_quality_options_apply) {
  test::TempDir tmp;
  auto r = thumbflow({"thumbnail", "--size", "64x32", "--format", "webp", "--quality", "50", "--jobs", "1", "-o",
                      tmp.path().string(), corpus("mate_TwoWings.jpg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto img = load(tmp.path() / "mate_TwoWings.webp");
  EXPECT_EQ(img.get_string("vips-loader"), std::string("webpload"));
  EXPECT_EQ(img.width(), 51);
  EXPECT_EQ(img.height(), 32);
}

TEST(CliThumbnail, two_inputs_with_one_output_name_do_not_overwrite_each_other) {
  test::TempDir tmp;
  fs::create_directories(tmp.path() / "a");
  fs::create_directories(tmp.path() / "b");
  fs::copy_file(corpus("skimage_chelsea.png"), tmp.path() / "a/cat.png");
  fs::copy_file(corpus("syn_photo_skimage_chelsea.gif"), tmp.path() / "b/cat.gif");
  auto r = thumbflow({"thumbnail", "-o", (tmp.path() / "out").string(), (tmp.path() / "a/cat.png").string(),
                      (tmp.path() / "b/cat.gif").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("b/cat.gif: invalid_argument"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(tmp.path() / "out/cat.jpg"));
  EXPECT_NE(r.err.find("would overwrite"), std::string::npos) << r.err;
}

TEST(CliThumbnail, bad_options_exit_2_with_a_message) {
  test::TempDir tmp;
  auto r = thumbflow({"thumbnail", "--size", "0x10", "-o", tmp.path().string(), corpus("mate_Storm.jpg")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad size"), std::string::npos) << r.err;
  r = thumbflow({"thumbnail", "--format", "bmp", "-o", tmp.path().string(), corpus("mate_Storm.jpg")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown output format 'bmp'"), std::string::npos) << r.err;
  r = thumbflow({"thumbnail", corpus("mate_Storm.jpg")});  // no -o
  EXPECT_NE(r.exit_code, 0);
}

TEST(CliThumbnail, limits_options_refuse_large_images) {
  test::TempDir tmp;
  auto r = thumbflow({"thumbnail", "--max-pixels", "1000000", "-o", tmp.path().string(), corpus("mate_Storm.jpg")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("too_large"), std::string::npos) << r.err;
}

TEST(CliProbe, prints_header_facts_as_json) {
  auto r = thumbflow({"probe", corpus("mate_Blinds.jpg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "jpeg");
  EXPECT_EQ(j["width"], 1920);
  EXPECT_EQ(j["height"], 1200);
  EXPECT_EQ(j["cameraMake"], "Canon");
  EXPECT_EQ(j["captureTime"], "2008-01-22T03:28:22");
  EXPECT_EQ(j["bytes"], 1157513);
}

TEST(CliProbe, non_image_exits_1_with_kind) {
  test::TempDir tmp;
  test::write_bytes(tmp.path() / "x.png", "GIF? no: plain text");
  auto r = thumbflow({"probe", (tmp.path() / "x.png").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsupported_format"), std::string::npos) << r.err;
}

TEST(CliHelp, describes_every_command_and_option) {
  auto top = thumbflow({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* word : {"thumbnail", "probe"}) EXPECT_NE(top.out.find(word), std::string::npos) << word;
  auto help = thumbflow({"thumbnail", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* opt : {"--size", "--format", "--quality", "--jobs", "--out", "--upscale", "--background",
                          "--max-pixels", "--max-bytes", "--max-dimension", "--max-frames"})
    EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
}

}  // namespace thumbflow
