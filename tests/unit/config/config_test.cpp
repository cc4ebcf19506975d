#include <gtest/gtest.h>

#include "config/config.hpp"
#include "test_support.hpp"

namespace thumbflow::config {
namespace {
Result<Config> parse(const std::string& text, Environment env = {}) { return parse_toml(text, "test.toml", env); }

void expect_refused(const std::string& text, const std::string& field, Environment env = {}) {
  auto c = parse(text, env);
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_EQ(c.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(c.error().message.find(field), std::string::npos) << c.error().message;
}
}  // namespace

TEST(Config, the_documented_example_is_exactly_the_defaults) {
  auto c = load(test::source_dir() / "thumbflow.example.toml", {});
  ASSERT_TRUE(c.ok()) << c.error().describe();
  Config d;
  EXPECT_EQ(c->server.data, d.server.data);
  EXPECT_EQ(c->server.s3_listen, d.server.s3_listen);
  EXPECT_EQ(c->server.console_listen, d.server.console_listen);
  EXPECT_EQ(c->server.bucket, d.server.bucket);
  EXPECT_EQ(c->storage.kind, d.storage.kind);
  EXPECT_EQ(c->catalog.table, d.catalog.table);
  EXPECT_EQ(c->trigger.input_prefix, d.trigger.input_prefix);
  EXPECT_EQ(c->trigger.output_prefix, d.trigger.output_prefix);
  ASSERT_EQ(c->renditions.size(), 1u);
  EXPECT_EQ(c->renditions[0].name, "thumbnail");
  EXPECT_EQ(c->renditions[0].width, 128u);
  EXPECT_EQ(c->renditions[0].quality, 80);
  EXPECT_EQ(c->limits.max_pixels, d.limits.max_pixels);
  EXPECT_EQ(c->limits.max_source_bytes, d.limits.max_source_bytes);
  EXPECT_EQ(c->limits.max_dimension, d.limits.max_dimension);
  EXPECT_EQ(c->limits.max_frames, d.limits.max_frames);
  EXPECT_EQ(c->workers.min, d.workers.min);
  EXPECT_EQ(c->workers.max, d.workers.max);
  EXPECT_EQ(c->workers.max_attempts, d.workers.max_attempts);
  EXPECT_EQ(c->workers.lease_ms, d.workers.lease_ms);
  EXPECT_EQ(c->cache_control, d.cache_control);
}

TEST(Config, reads_every_section) {
  auto c = parse(R"(
[server]
data = "/srv/thumbs"
[storage]
kind = "s3"
endpoint = "http://127.0.0.1:7480"
path_style = false
[catalog]
kind = "dynamodb"
table = "Images"
[trigger]
suffixes = [".jpg", ".png"]
[[renditions]]
name = "small"
width = 64
height = 64
[[renditions]]
name = "medium"
width = 512
height = 512
format = "webp"
quality = 70
background = "#000000"
[limits]
max_pixels = 5000000
[workers]
min = 2
max = 6
)");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->server.data, "/srv/thumbs");
  EXPECT_EQ(c->storage.kind, "s3");
  EXPECT_FALSE(c->storage.path_style);
  EXPECT_EQ(c->catalog.table, "Images");
  EXPECT_EQ(c->trigger.suffixes, (std::vector<std::string>{".jpg", ".png"}));
  ASSERT_EQ(c->renditions.size(), 2u);
  EXPECT_EQ(c->renditions[1].format, OutputFormat::webp);
  EXPECT_EQ(c->renditions[1].background, (Rgb{0, 0, 0}));
  EXPECT_EQ(c->limits.max_pixels, 5000000u);
  EXPECT_EQ(c->workers.max, 6u);
}

TEST(Config, environment_overrides_the_file) {
  Environment env = {{"THUMBFLOW_WORKERS_MAX", "3"},
                     {"THUMBFLOW_TABLE", "FromAlias"},
                     {"THUMBFLOW_TRIGGER_SUFFIXES", ".jpg,.jpeg"},
                     {"THUMBFLOW_S3_ENDPOINT", "http://127.0.0.1:1"},
                     {"THUMBFLOW_RENDITIONS", "thumbnail:100x50:png,big:800x800:avif:60"}};
  auto c = parse("[workers]\nmax = 8\n", env);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->workers.max, 3u);
  EXPECT_EQ(c->catalog.table, "FromAlias");
  EXPECT_EQ(c->trigger.suffixes, (std::vector<std::string>{".jpg", ".jpeg"}));
  EXPECT_EQ(c->storage.endpoint, "http://127.0.0.1:1");
  ASSERT_EQ(c->renditions.size(), 2u);
  EXPECT_EQ(c->renditions[0].width, 100u);
  EXPECT_EQ(c->renditions[0].format, OutputFormat::png);
  EXPECT_EQ(c->renditions[1].quality, 60);
}

TEST(Config, bad_configuration_is_refused_naming_the_field_and_reason) {
  expect_refused("[workers]\nmaxx = 3\n", "workers.maxx");
  expect_refused("[wrokers]\nmax = 3\n", "wrokers");
  expect_refused("[workers]\nmax = \"three\"\n", "workers.max");
  expect_refused("[workers]\nmax = -1\n", "workers.max");
  expect_refused("[workers]\nmin = 5\nmax = 2\n", "workers.min");
  expect_refused("[storage]\nkind = \"ftp\"\n", "storage.kind");
  expect_refused("[trigger]\ninput_prefix = \"\"\n", "trigger.output_prefix");
  expect_refused("[trigger]\noutput_prefix = \"uploads/thumbs/\"\n", "trigger processing again");
  expect_refused("[[renditions]]\nformat = \"bmp\"\n", "renditions[0].format");
  expect_refused("[[renditions]]\nquality = 101\n", "renditions[0].quality");
  expect_refused("[[renditions]]\nname = \"a\"\n[[renditions]]\nname = \"a\"\n", "used twice");
  expect_refused("[[renditions]]\nname = \"a\"\n[[renditions]]\nwidth = 10\n", "renditions[1].name");
  expect_refused("[limits]\nmax_pixels = 0\n", "limits.max_pixels");
  expect_refused("this is = not = toml", "not valid TOML");
  expect_refused("", "workers.max", {{"THUMBFLOW_WORKERS_MAX", "lots"}});
  expect_refused("", "THUMBFLOW_RENDITIONS", {{"THUMBFLOW_RENDITIONS", "thumb:0x0:jpeg"}});
}

TEST(Config, a_missing_file_is_a_clear_error) {
  auto c = load(std::filesystem::path("/nonexistent/thumbflow.toml"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("/nonexistent/thumbflow.toml"), std::string::npos);
}

}  // namespace thumbflow::config
