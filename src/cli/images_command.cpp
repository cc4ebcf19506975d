// thumbflow images list|get, thumbflow retry, thumbflow reprocess: the catalog and the queue
// from the command line. They open the same data folder as a running `thumbflow serve` (SQLite
// in WAL mode is safe across processes); the server's workers pick requeued jobs up on their
// next poll.
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "catalog/image_id.hpp"
#include "cli/commands.hpp"
#include "cli/home.hpp"
#include "console/image_actions.hpp"
#include "core/json.hpp"

namespace thumbflow::cli {
namespace {

struct Common {
  std::string data;
  std::string config;
};

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("--data", c.data, "Data folder (default: server.data from the configuration, thumbflow-data)");
  cmd->add_option("--config", c.config, "Configuration file (thumbflow.toml)");
}

Result<Home> open(const Common& c) {
  auto cfg = load_config(c.config, c.data);
  if (!cfg) return cfg.error();
  return open_home(std::move(*cfg));
}

int fail(const std::string& cmd, const Error& e) {
  std::cerr << "thumbflow " << cmd << ": " << e.describe() << "\n";
  return e.kind == ErrorKind::not_found ? 1 : 2;
}

void print_row(const ImageRecord& r) {
  std::string what = r.status == RecordStatus::processed ? r.thumbnail_key : r.error_kind + ": " + r.error_message;
  if (what.size() > 100) what = what.substr(0, 97) + "...";
  std::printf("%-24s  %-9s  %-32s  %s -> %s\n", r.upload_date.c_str(), std::string(to_string(r.status)).c_str(),
              r.image_id.c_str(), r.original_key.c_str(), what.c_str());
}

}  // namespace

Command add_images_command(CLI::App& app) {
  struct Opts {
    Common common;
    std::string since, until, status, id;
    int limit = 50;
    bool json = false;
    bool all = false;
  };
  auto o = std::make_shared<Opts>();
  auto* images = app.add_subcommand("images", "List and show records of the ImageMetadata catalog");
  images->require_subcommand(1);
  auto* list = images->add_subcommand("list", "List images, newest upload first");
  add_common(list, o->common);
  list->add_option("--since", o->since, "Uploaded at or after this ISO-8601 time (2026-11-25 or 2026-11-25T10:00:00Z)");
  list->add_option("--until", o->until, "Uploaded at or before this ISO-8601 time");
  list->add_option("--status", o->status, "Only processed or failed images")->check(CLI::IsMember({"processed", "failed"}));
  list->add_option("--limit", o->limit, "How many (1-1000)")->check(CLI::Range(1, 1000))->capture_default_str();
  list->add_flag("--all", o->all, "Every page, not just the first --limit records");
  list->add_flag("--json", o->json, "One JSON record per line");
  auto* get = images->add_subcommand("get", "Show one image's record: every field and rendition");
  add_common(get, o->common);
  get->add_option("ID", o->id, "imageId")->required();
  get->add_flag("--json", o->json, "As JSON");

  return {images, [o, list, get]() -> int {
            auto home = open(o->common);
            if (!home) return fail("images", home.error());
            if (list->parsed()) {
              catalog::DateQuery q;
              q.from = o->since;
              // A bare date as --until means the whole day.
              q.to = o->until.size() == 10 ? o->until + "T23:59:59.999Z" : o->until;
              q.limit = o->limit;
              if (!o->status.empty()) q.status = *parse_record_status(o->status);
              int shown = 0;
              for (;;) {
                auto page = home->catalog->query_by_upload_date(q);
                if (!page) return fail("images list", page.error());
                for (const auto& r : page->records) {
                  if (o->json) std::cout << nlohmann::json(r).dump() << "\n";
                  else print_row(r);
                  ++shown;
                }
                if (!o->all || page->next_page_token.empty()) break;
                q.page_token = page->next_page_token;
              }
              if (!o->json) std::fprintf(stderr, "%d image%s\n", shown, shown == 1 ? "" : "s");
              return 0;
            }
            auto rec = home->catalog->get(o->id);
            if (!rec) return fail("images get", rec.error());
            if (o->json) {
              std::cout << nlohmann::json(*rec).dump(2) << "\n";
            } else {
              nlohmann::json j = *rec;
              for (auto& [k, v] : j.items()) std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
            }
            return 0;
          }};
}

Command add_retry_command(CLI::App& app) {
  struct Opts {
    Common common;
    std::vector<std::string> ids;
    bool failed = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("retry", "Queue failed images again (by imageId, or every failed one)");
  add_common(cmd, o->common);
  cmd->add_option("ID", o->ids, "imageIds to retry");
  cmd->add_flag("--failed", o->failed, "Retry every failed image");
  cmd->footer("A running `thumbflow serve` on the same data folder picks the jobs up within a second.");
  return {cmd, [o]() -> int {
            if (o->ids.empty() == !o->failed) {
              std::cerr << "thumbflow retry: give imageIds or --failed (not both)\n";
              return 2;
            }
            auto home = open(o->common);
            if (!home) return fail("retry", home.error());
            std::vector<ImageRecord> records;
            if (o->failed) {
              std::string token;
              do {
                auto page = home->catalog->query_by_status(RecordStatus::failed, 1000, token);
                if (!page) return fail("retry", page.error());
                records.insert(records.end(), page->records.begin(), page->records.end());
                token = page->next_page_token;
              } while (!token.empty());
            } else {
              for (const auto& id : o->ids) {
                auto r = home->catalog->get(id);
                if (!r) return fail("retry", r.error());
                records.push_back(*r);
              }
            }
            int queued = 0;
            for (const auto& r : records) {
              if (r.status != RecordStatus::failed) {
                std::cerr << r.image_id << ": not failed (" << to_string(r.status) << "), left alone\n";
                continue;
              }
              if (auto st = console::retry_image(*home->queue, r); !st) return fail("retry", st.error());
              ++queued;
            }
            std::cout << "queued " << queued << " image" << (queued == 1 ? "" : "s") << " again\n";
            return 0;
          }};
}

Command add_reprocess_command(CLI::App& app) {
  struct Opts {
    Common common;
    std::string prefix;
    std::string bucket;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("reprocess", "Render existing uploads again (after the renditions changed)");
  add_common(cmd, o->common);
  cmd->add_option("--prefix", o->prefix, "Key prefix to reprocess, e.g. uploads/2026/")->required();
  cmd->add_option("--bucket", o->bucket, "Bucket (default: server.bucket)");
  return {cmd, [o]() -> int {
            auto home = open(o->common);
            if (!home) return fail("reprocess", home.error());
            std::string bucket = o->bucket.empty() ? home->config.server.bucket : o->bucket;
            storage::ListOptions lo;
            lo.prefix = o->prefix;
            int queued = 0;
            for (;;) {
              auto page = home->store->list(bucket, lo);
              if (!page) return fail("reprocess", page.error());
              for (const auto& obj : page->objects) {
                ObjectCreated ev;
                ev.bucket = bucket;
                ev.key = obj.key;
                ev.etag = obj.etag;
                ev.version_id = obj.version_id;
                ev.size = obj.size;
                ev.event_name = "ObjectCreated:Reprocess";
                ev.source = "thumbflow";
                if (auto st = home->queue->requeue(ev, /*force=*/true); !st) return fail("reprocess", st.error());
                ++queued;
              }
              if (!page->truncated) break;
              lo.continuation_token = page->next_continuation_token;
            }
            std::cout << "queued " << queued << " object" << (queued == 1 ? "" : "s") << " under s3://" << bucket << "/"
                      << o->prefix << " for reprocessing\n";
            return 0;
          }};
}

}  // namespace thumbflow::cli
