#include "console/console.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "catalog/image_id.hpp"
#include "console/image_actions.hpp"
#include "console/web_assets.hpp"
#include "core/json.hpp"
#include "core/rendition.hpp"
#include "core/sequencer.hpp"
#include "monitoring/monitor.hpp"

namespace thumbflow::console {
namespace {
using json = nlohmann::json;
using Clock = std::chrono::system_clock;

// Keys are hostile: invalid UTF-8 becomes U+FFFD instead of throwing.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}});
}

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found: return 404;
    case ErrorKind::invalid_argument:
    case ErrorKind::unsupported_format:
    case ErrorKind::corrupt: return 400;
    case ErrorKind::too_large: return 413;
    case ErrorKind::already_exists:
    case ErrorKind::precondition_failed: return 409;
    case ErrorKind::access_denied: return 403;
    case ErrorKind::io:
    case ErrorKind::unavailable: return 503;
    case ErrorKind::internal: return 500;
  }
  return 500;
}

void send_failure(httplib::Response& res, const Error& e) { send_error(res, http_status(e.kind), e.message); }

// The page may load only its own scripts, styles and images, and talk only to this origin.
constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// Objects served back are never a document that could run anything on this origin.
constexpr const char* kObjectCsp = "default-src 'none'; sandbox";

const std::string kImageIdPattern = "([0-9a-f]{32})";

std::string image_links_base(const std::string& id) { return "/api/images/" + id; }

json record_json(const ImageRecord& r) {
  json j = r;
  json renditions = json::object();
  for (const auto& rr : r.renditions) renditions[rr.name] = image_links_base(r.image_id) + "/renditions/" + rr.name;
  j["links"] = {{"self", image_links_base(r.image_id)},
                {"original", image_links_base(r.image_id) + "/original"},
                {"renditions", renditions}};
  return j;
}

std::string ms_to_iso(std::int64_t ms) {
  return ms <= 0 ? std::string() : iso8601_ms(Clock::time_point(std::chrono::milliseconds(ms)));
}

std::string reason_phrase(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "no such route or resource";
    case 405: return "method not allowed";
    case 413: return "payload too large";
    case 416: return "range not satisfiable";
    case 503: return "service unavailable";
    default: return "HTTP " + std::to_string(status);
  }
}

bool is_public_path(const std::string& path) {
  return path == "/login" || path == "/logout" || path == "/static/app.css";
}

bool is_console_path(const std::string& path) {
  return path == "/" || path == "/login" || path == "/logout" || path == "/api" || path.rfind("/api/", 0) == 0 ||
         path.rfind("/static/", 0) == 0;
}

}  // namespace

struct Console::Impl {
  Impl(ConsoleDeps d, ConsoleOptions o)
      : deps(std::move(d)),
        options(o),
        hub(static_cast<std::size_t>(o.event_backlog)),
        session(session_value(deps.token)) {}

  bool authorized(const httplib::Request& req) const {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && same_token(deps.token, std::string_view(auth).substr(7))) return true;
    if (auto c = cookie_value(req.get_header_value("Cookie"), kSessionCookie)) return same_token(session, *c);
    return false;
  }

  void page(httplib::Response& res, std::string_view name, int status = 200) {
    auto asset = find_web_asset(name);
    if (!asset) return send_error(res, 500, "web asset missing: " + std::string(name));
    res.status = status;
    res.set_header("Content-Security-Policy", kPageCsp);
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string(asset->body), std::string(asset->content_type));
  }

  void upload(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void stream_object(const httplib::Request& req, httplib::Response& res, const ImageRecord& record,
                     const std::string& key, const std::string& content_type, bool check_etag);
  void events(const httplib::Request& req, httplib::Response& res);
  json status_json();
  json alarms_json();
  Result<json> activity_json(int minutes);

  ConsoleDeps deps;
  ConsoleOptions options;
  EventHub hub;
  std::string session;
  std::atomic<int> streams{0};
  SequencerClock sequencers;  // S3 sequencers for the events a re-run announces
};

void Console::Impl::upload(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  if (!req.is_multipart_form_data())
    return send_error(res, 400, "expected a multipart/form-data body with one or more \"file\" parts");
  struct Part {
    std::string filename, content_type, body;
    bool is_file = false;
  };
  std::vector<Part> parts;
  std::uint64_t total = 0;
  int files = 0;
  std::string refusal;  // set once: the first limit crossed, then the rest is read and dropped
  bool over_request = false;
  bool read_ok = reader(
      [&](const httplib::MultipartFormData& f) {
        Part p;
        p.is_file = !f.filename.empty();
        p.filename = f.filename;
        p.content_type = f.content_type;
        if (p.is_file && ++files > options.max_files_per_request && refusal.empty())
          refusal = "more than max_files_per_request (" + std::to_string(options.max_files_per_request) +
                    ") files in one request";
        parts.push_back(std::move(p));
        return true;
      },
      [&](const char* data, std::size_t n) {
        total += n;
        if (total > options.max_request_bytes) {
          over_request = true;
          return false;  // no Content-Length (chunked): stop reading
        }
        if (parts.empty() || !parts.back().is_file || !refusal.empty()) return true;
        auto& p = parts.back();
        if (p.body.size() + n > options.max_file_bytes) {
          refusal = "\"" + p.filename + "\" is over max_file_bytes (" + std::to_string(options.max_file_bytes) +
                    " bytes)";
          std::string().swap(p.body);
          return true;
        }
        p.body.append(data, n);
        return true;
      });
  // httplib refuses a Content-Length over the payload cap (max_request_bytes) with 413.
  if (over_request || (!read_ok && res.status == 413))
    return send_error(res, 413, "the request is over max_request_bytes (" + std::to_string(options.max_request_bytes) +
                                    " bytes)");
  if (!read_ok) return send_error(res, 400, "the multipart body could not be read");
  if (!refusal.empty()) return send_error(res, 413, refusal + "; nothing was stored");
  if (files == 0) return send_error(res, 400, "no file in the request (send parts named \"file\" with a filename)");

  // Every name is checked before anything is stored: a bad one refuses the whole request.
  std::vector<std::string> keys;
  for (const auto& p : parts) {
    if (!p.is_file) continue;
    auto key = upload_key(deps.input_prefix, p.filename);
    if (!key) return send_failure(res, key.error());
    keys.push_back(*key);
  }
  json uploads = json::array();
  std::size_t k = 0;
  for (const auto& p : parts) {
    if (!p.is_file) continue;
    const std::string& key = keys[k++];
    storage::PutOptions po;
    po.content_type = p.content_type.empty() ? "application/octet-stream" : p.content_type;
    ObjectRef ref{deps.bucket, key};
    auto put = deps.store.put(ref, p.body, po);
    if (!put)
      return send_json(res, http_status(put.error().kind) == 500 ? 503 : http_status(put.error().kind),
                       {{"error", "cannot store " + key + ": " + put.error().message}, {"uploads", uploads}});
    ObjectCreated ev;
    ev.bucket = deps.bucket;
    ev.key = key;
    ev.size = p.body.size();
    ev.etag = put->etag;
    ev.version_id = put->version_id;
    ev.sequencer = sequencers.next();
    ev.event_time = iso8601_ms(Clock::now());
    ev.event_name = "ObjectCreated:Post";
    ev.source = "thumbflow";
    if (deps.on_uploaded) {
      if (auto st = deps.on_uploaded(ev); !st)
        return send_json(res, 503,
                         {{"error", key + " was stored but its processing could not be queued: " + st.error().message},
                          {"uploads", uploads}});
    }
    json u = {{"name", p.filename},
              {"key", key},
              {"bytes", p.body.size()},
              {"etag", put->etag},
              {"imageId", catalog::make_image_id(ev.bucket, ev.key, ev.version_or_etag())}};
    hub.publish("uploaded", dump(u));
    uploads.push_back(std::move(u));
  }
  send_json(res, 202, {{"uploads", uploads}});
}

void Console::Impl::stream_object(const httplib::Request& req, httplib::Response& res, const ImageRecord& record,
                                  const std::string& key, const std::string& content_type, bool check_etag) {
  ObjectRef ref{record.bucket, key};
  auto meta = deps.store.head(ref);
  if (!meta) return send_failure(res, meta.error());
  if (check_etag && !record.etag.empty() && meta->etag != record.etag)
    return send_error(res, 404, "the key " + key + " now holds a newer upload than image " + record.image_id);
  res.set_header("Content-Security-Policy", kObjectCsp);
  res.set_header("Content-Disposition", content_disposition(key, req.has_param("download")));
  res.set_header("ETag", "\"" + meta->etag + "\"");
  res.set_header("Cache-Control", "private, no-cache");
  res.set_header("Accept-Ranges", "bytes");
  if (req.get_header_value("If-None-Match") == "\"" + meta->etag + "\"") {
    res.status = 304;
    return;
  }
  if (meta->size == 0) return res.set_content("", content_type);
  storage::ObjectStore& store = deps.store;
  const std::string etag = meta->etag;
  // httplib asks for each range (or the whole body) in turn; each call reads a slice of at most
  // 1 MiB so a large original is never held in memory.
  res.set_content_provider(
      static_cast<std::size_t>(meta->size), content_type,
      [&store, ref, etag](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        constexpr std::size_t kSlice = 1 << 20;
        const std::size_t n = std::min(length, kSlice);
        storage::GetOptions go;
        go.range = storage::ByteRange{offset, offset + n - 1, false};
        go.if_match = etag;
        auto got = store.get(
            ref,
            [&sink](std::string_view chunk) -> Status {
              if (!sink.write(chunk.data(), chunk.size())) return make_error(ErrorKind::io, "the reader went away");
              return ok_status();
            },
            go);
        return got.ok();
      });
}

void Console::Impl::events(const httplib::Request& req, httplib::Response& res) {
  if (streams.fetch_add(1) >= options.max_event_streams) {
    streams.fetch_sub(1);
    return send_error(res, 503, "too many event streams open (max_event_streams " +
                                    std::to_string(options.max_event_streams) + "); close one and retry");
  }
  std::uint64_t after = hub.last_id();
  if (auto last = req.get_header_value("Last-Event-ID"); !last.empty()) {
    try {
      std::size_t used = 0;
      std::uint64_t v = std::stoull(last, &used);
      if (used == last.size() && v <= after) after = v;
    } catch (const std::exception&) {
      // An unreadable Last-Event-ID starts from now.
    }
  }
  struct StreamState {
    std::uint64_t after;
    std::chrono::steady_clock::time_point last_write;
    bool greeted = false;
  };
  auto state = std::make_shared<StreamState>(StreamState{after, std::chrono::steady_clock::now()});
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state](std::size_t, httplib::DataSink& sink) {
        if (!state->greeted) {
          state->greeted = true;
          std::string hello = "retry: 2000\n\n" + sse_frame(HubEvent{state->after, "hello", "{}"});
          return sink.write(hello.data(), hello.size());
        }
        const auto keepalive = std::chrono::milliseconds(options.event_keepalive_ms);
        auto read = hub.read_after(state->after, std::min(keepalive, std::chrono::milliseconds(1000)));
        if (read.closed) {
          sink.done();
          return true;
        }
        std::string out;
        if (read.missed) out += sse_frame(HubEvent{read.events.front().id, "resync", "{}"});
        for (const auto& e : read.events) {
          out += sse_frame(e);
          state->after = e.id;
        }
        const auto now = std::chrono::steady_clock::now();
        if (out.empty() && now - state->last_write >= keepalive) out = ": keepalive\n\n";
        if (out.empty()) return true;
        state->last_write = now;
        return sink.write(out.data(), out.size());
      },
      [this](bool) { streams.fetch_sub(1); });
}

json Console::Impl::status_json() {
  json out;
  if (auto st = deps.queue.stats(); st) {
    out["queue"] = {{"queued", st->queued},
                    {"leased", st->leased},
                    {"failed", st->failed},
                    {"done", st->done},
                    {"oldestQueuedAgeMs", st->oldest_queued_age_ms}};
  } else {
    out["queue"] = {{"error", st.error().message}};
  }
  if (deps.gauges) {
    auto g = deps.gauges();
    out["workers"] = {{"running", g.workers},     {"busy", g.busy},     {"queueDepth", g.queue_depth},
                      {"oldestJobAgeMs", g.oldest_job_age_ms}, {"processed", g.processed}, {"failed", g.failed},
                      {"retried", g.retried}};
  }
  out["bucket"] = deps.bucket;
  out["inputPrefix"] = deps.input_prefix;
  out["limits"] = {{"maxFileBytes", options.max_file_bytes},
                   {"maxRequestBytes", options.max_request_bytes},
                   {"maxFilesPerRequest", options.max_files_per_request},
                   {"defaultPageSize", options.default_page_size},
                   {"maxPageSize", options.max_page_size}};
  return out;
}

json Console::Impl::alarms_json() {
  json list = json::array();
  auto* service = deps.monitor ? deps.monitor->alarms() : nullptr;
  if (!service) return {{"enabled", false}, {"alarms", list}};
  for (const auto& v : service->rules()) {
    json a = {{"name", v.rule.name},
              {"description", v.rule.description},
              {"rule", v.rule.summary()},
              {"state", monitoring::to_string(v.status.state)},
              {"since", ms_to_iso(v.status.since_ms)},
              {"reason", v.status.reason}};
    a["value"] = v.status.value ? json(*v.status.value) : json(nullptr);
    list.push_back(std::move(a));
  }
  return {{"enabled", true}, {"alarms", list}};
}

Result<json> Console::Impl::activity_json(int minutes) {
  const auto now = Clock::now();
  catalog::DateQuery q;
  q.from = iso8601_ms(now - std::chrono::minutes(minutes));
  q.limit = 1000;
  std::vector<ImageRecord> records;
  bool truncated = false;
  for (;;) {
    auto page = deps.catalog.query_by_upload_date(q);
    if (!page) return page.error();
    for (auto& r : page->records) records.push_back(std::move(r));
    if (page->next_page_token.empty()) break;
    if (records.size() >= static_cast<std::size_t>(options.activity_max_records)) {
      truncated = true;
      break;
    }
    q.page_token = page->next_page_token;
  }
  json buckets = json::array();
  for (const auto& b : activity(records, now, minutes))
    buckets.push_back({{"start", ms_to_iso(b.start_ms)}, {"processed", b.processed}, {"failed", b.failed}});
  return json{{"minutes", minutes}, {"buckets", buckets}, {"truncated", truncated}};
}

Console::Console(ConsoleDeps deps, ConsoleOptions options)
    : impl_(std::make_unique<Impl>(std::move(deps), options)) {}

Console::~Console() { shutdown(); }

EventHub& Console::hub() { return impl_->hub; }

void Console::shutdown() { impl_->hub.close(); }

void Console::mount(httplib::Server& srv) {
  Impl* impl = impl_.get();
  const std::size_t threads = static_cast<std::size_t>(impl->options.http_threads);
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.set_payload_max_length(static_cast<std::size_t>(impl->options.max_request_bytes));

  // Authentication before routing, so unknown /api paths answer 401 too and nothing is read
  // for an unauthenticated upload.
  srv.set_pre_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    if (!is_console_path(req.path) || is_public_path(req.path) || impl->authorized(req))
      return httplib::Server::HandlerResponse::Unhandled;
    if (req.path == "/" && req.method == "GET") {
      res.status = 303;
      res.set_header("Location", "/login");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("WWW-Authenticate", "Bearer realm=\"thumbflow console\"");
    send_error(res, 401, "missing or wrong console token (Authorization: Bearer <token>, or log in at /login)");
    return httplib::Server::HandlerResponse::Handled;
  });
  srv.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!is_console_path(req.path)) return;
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
  });
  // Errors without a body (no route, a refused range, httplib's own refusals) get one in JSON.
  srv.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_ || res.content_length_ > 0)
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, res.status, reason_phrase(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));

  // The page, the login form and their assets.
  srv.Get("/", [impl](const httplib::Request&, httplib::Response& res) { impl->page(res, "index.html"); });
  srv.Get("/login", [impl](const httplib::Request& req, httplib::Response& res) {
    if (impl->authorized(req)) {
      res.status = 303;
      res.set_header("Location", "/");
      return;
    }
    impl->page(res, "login.html");
  });
  srv.Post("/login", [impl](const httplib::Request& req, httplib::Response& res) {
    const std::string given = req.has_param("token") ? req.get_param_value("token") : std::string();
    if (!same_token(impl->deps.token, given)) {
      impl->page(res, "login.html", 401);
      // The form shows its error line (hidden otherwise); the text is ours, not the request's.
      const std::string hidden = "id=\"login-error\" hidden";
      if (auto at = res.body.find(hidden); at != std::string::npos)
        res.body.replace(at, hidden.size(), "id=\"login-error\"");
      return;
    }
    res.status = 303;
    res.set_header("Location", "/");
    res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + impl->session +
                                     "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                     std::to_string(impl->options.session_max_age_s));
  });
  srv.Post("/logout", [](const httplib::Request&, httplib::Response& res) {
    res.status = 303;
    res.set_header("Location", "/login");
    res.set_header("Set-Cookie", std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  });
  srv.Get(R"(/static/([a-z0-9_-]+\.(?:js|css|svg)))", [impl](const httplib::Request& req, httplib::Response& res) {
    auto asset = find_web_asset(req.matches[1].str());
    if (!asset) return send_error(res, 404, "no such asset");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(asset->body), std::string(asset->content_type));
  });

  // The API.
  srv.Get("/api/images", [impl](const httplib::Request& req, httplib::Response& res) {
    auto q = list_query(req.params, impl->options);
    if (!q) return send_failure(res, q.error());
    auto page = impl->deps.catalog.query_by_upload_date(*q);
    if (!page) return send_failure(res, page.error());
    json images = json::array();
    for (const auto& r : page->records) images.push_back(record_json(r));
    send_json(res, 200, {{"images", images}, {"nextPageToken", page->next_page_token}});
  });
  srv.Get("/api/images/" + kImageIdPattern, [impl](const httplib::Request& req, httplib::Response& res) {
    auto rec = impl->deps.catalog.get(req.matches[1].str());
    if (!rec) return send_failure(res, rec.error());
    send_json(res, 200, record_json(*rec));
  });
  srv.Get("/api/images/" + kImageIdPattern + "/original", [impl](const httplib::Request& req, httplib::Response& res) {
    auto rec = impl->deps.catalog.get(req.matches[1].str());
    if (!rec) return send_failure(res, rec.error());
    impl->stream_object(req, res, *rec, rec->original_key, std::string(source_content_type(rec->info)), true);
  });
  srv.Get("/api/images/" + kImageIdPattern + "/renditions/([A-Za-z0-9_.-]{1,64})",
          [impl](const httplib::Request& req, httplib::Response& res) {
            auto rec = impl->deps.catalog.get(req.matches[1].str());
            if (!rec) return send_failure(res, rec.error());
            const std::string name = req.matches[2].str();
            auto it = std::find_if(rec->renditions.begin(), rec->renditions.end(),
                                   [&](const RenditionRecord& r) { return r.name == name; });
            if (it == rec->renditions.end())
              return send_error(res, 404, "image " + rec->image_id + " has no rendition named " + name);
            auto format = parse_output_format(it->format);
            std::string type = format ? std::string(content_type(*format)) : "application/octet-stream";
            impl->stream_object(req, res, *rec, it->key, type, false);
          });
  srv.Post("/api/uploads", [impl](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) { impl->upload(req, res, reader); });
  srv.Post("/api/images/" + kImageIdPattern + "/retry", [impl](const httplib::Request& req, httplib::Response& res) {
    auto rec = impl->deps.catalog.get(req.matches[1].str());
    if (!rec) return send_failure(res, rec.error());
    if (auto st = retry_image(impl->deps.queue, *rec); !st) return send_failure(res, st.error());
    json body = {{"imageId", rec->image_id}, {"key", rec->original_key}, {"queued", true}};
    impl->hub.publish("retry-queued", dump(body));
    send_json(res, 202, body);
  });
  srv.Delete("/api/images/" + kImageIdPattern, [impl](const httplib::Request& req, httplib::Response& res) {
    auto rec = impl->deps.catalog.get(req.matches[1].str());
    if (!rec) return send_failure(res, rec.error());
    // A worker holding this object would write the record again after the delete.
    if (auto leased = impl->deps.queue.list(events::JobState::leased, 1000); leased) {
      for (const auto& job : *leased)
        if (job.event.bucket == rec->bucket && job.event.key == rec->original_key)
          return send_error(res, 409, "image " + rec->image_id + " is being processed; delete it when it finishes");
    }
    auto report = delete_image(impl->deps.store, impl->deps.catalog, *rec);
    if (!report) return send_failure(res, report.error());
    json body = {{"imageId", rec->image_id}, {"deleted", true}, {"removedKeys", report->removed_keys}};
    impl->hub.publish("deleted", dump(body));
    send_json(res, 200, body);
  });
  srv.Get("/api/status", [impl](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, impl->status_json());
  });
  srv.Get("/api/alarms", [impl](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, impl->alarms_json());
  });
  srv.Get("/api/activity", [impl](const httplib::Request& req, httplib::Response& res) {
    int minutes = 60;
    if (req.has_param("minutes")) {
      const std::string m = req.get_param_value("minutes");
      if (m.empty() || m.size() > 4 || !std::all_of(m.begin(), m.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          std::stoi(m) < 1 || std::stoi(m) > 1440)
        return send_error(res, 400, "minutes: expected a number from 1 to 1440");
      minutes = std::stoi(m);
    }
    auto body = impl->activity_json(minutes);
    if (!body) return send_failure(res, body.error());
    send_json(res, 200, *body);
  });
  srv.Get("/api/events", [impl](const httplib::Request& req, httplib::Response& res) { impl->events(req, res); });
}

}  // namespace thumbflow::console
