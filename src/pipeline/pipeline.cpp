#include "pipeline/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "catalog/image_id.hpp"
#include "core/fault_point.hpp"

namespace thumbflow::pipeline {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (suffix.size() > s.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

std::string hex_colour(const Rgb& c) { return to_hex(c); }

}  // namespace

bool TriggerConfig::matches(const std::string& key) const {
  if (!starts_with(key, input_prefix) || starts_with(key, output_prefix)) return false;
  if (suffixes.empty()) return true;
  return std::any_of(suffixes.begin(), suffixes.end(), [&](const std::string& s) { return ends_with_ci(key, s); });
}

Status TriggerConfig::validate() const {
  auto bad = [](const std::string& why) { return make_error(ErrorKind::invalid_argument, "trigger: " + why); };
  if (output_prefix.empty())
    return bad("output_prefix must not be empty: every key would be an output");
  if (starts_with(output_prefix, input_prefix))
    return bad("output_prefix '" + output_prefix + "' is inside input_prefix '" + input_prefix +
               "': every thumbnail written would trigger processing again");
  if (starts_with(input_prefix, output_prefix))
    return bad("input_prefix '" + input_prefix + "' is inside output_prefix '" + output_prefix + "': nothing would trigger");
  for (const auto& s : suffixes)
    if (s.empty()) return bad("suffixes must not contain an empty string");
  return ok_status();
}

std::string rendition_key(const TriggerConfig& trigger, const RenditionSpec& spec, bool first,
                          const std::string& source_key) {
  std::string rel = starts_with(source_key, trigger.input_prefix) ? source_key.substr(trigger.input_prefix.size())
                                                                    : source_key;
  // Strip the last segment's extension; a leading dot (".hidden") is a name, not an extension.
  auto slash = rel.rfind('/');
  std::size_t name_start = slash == std::string::npos ? 0 : slash + 1;
  auto dot = rel.rfind('.');
  if (dot != std::string::npos && dot > name_start) rel.resize(dot);
  std::string out = trigger.output_prefix;
  if (!first) out += spec.name + "/";
  out += rel;
  out += ".";
  out += file_extension(spec.format);
  return out;
}

std::string now_iso8601() { return iso8601(std::chrono::system_clock::now()); }

std::string iso8601(std::chrono::system_clock::time_point at) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string normalize_event_time(const std::string& text) {
  // Accepts "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+00:00]"; keeps milliseconds, always 'Z'. Event
  // times from S3, RGW (microseconds) and EventBridge (no fraction) all take this shape.
  int y, mo, d, h, mi, s;
  char t;
  if (text.size() < 19 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &h, &mi, &s) != 7 ||
      (t != 'T' && t != ' '))
    return {};
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return {};
  int millis = 0;
  if (text.size() > 20 && text[19] == '.') {
    int digits = 0;
    for (std::size_t i = 20; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 3; ++i, ++digits)
      millis = millis * 10 + (text[i] - '0');
    for (; digits < 3; ++digits) millis *= 10;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, millis);
  return buf;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::processed: return "processed";
    case Outcome::already_done: return "already_done";
    case Outcome::failed: return "failed";
    case Outcome::retry: return "retry";
    case Outcome::skipped: return "skipped";
    case Outcome::superseded: return "superseded";
  }
  return "processed";
}

Pipeline::Pipeline(PipelineConfig config, storage::ObjectStore& store, catalog::Catalog& catalog, Renderer& renderer,
                   PipelineObserver* observer)
    : config_(std::move(config)), store_(store), catalog_(catalog), renderer_(renderer), observer_(observer) {}

ImageRecord Pipeline::base_record(const ObjectCreated& ev, const std::string& image_id, int attempt) const {
  ImageRecord r;
  r.image_id = image_id;
  r.bucket = ev.bucket;
  r.original_key = ev.key;
  r.upload_date = normalize_event_time(ev.event_time);
  if (r.upload_date.empty()) r.upload_date = now_iso8601();
  r.attempts = attempt;
  r.source_bytes = ev.size;
  r.etag = ev.etag;
  r.version_id = ev.version_id;
  return r;
}

ProcessResult Pipeline::record_failure(ImageRecord record, const Error& error) {
  record.status = RecordStatus::failed;
  record.error_kind = std::string(to_string(error.kind));
  record.error_message = error.message;
  record.thumbnail_key.clear();
  record.renditions.clear();
  record.updated_at = now_iso8601();
  if (auto st = catalog_.upsert(record); !st) {
    // Without its failure record the upload would be lost: ask for a retry instead.
    return {Outcome::retry, record.image_id,
            make_error(st.error().kind == ErrorKind::internal ? ErrorKind::internal : ErrorKind::unavailable,
                       "cannot write the failure record of " + ObjectRef{record.bucket, record.original_key}.uri() +
                           ": " + st.error().message)};
  }
  if (observer_) observer_->on_failed(record);
  return {Outcome::failed, record.image_id, error};
}

ProcessResult Pipeline::process(const ObjectCreated& event, int attempt, bool last_attempt, bool force) {
  // The newest version wins: when the object changed since this event, process the version
  // that is there now. Its own event may have been dropped as stale (events arrive out of
  // order), so going through this one is what guarantees the last write is processed.
  // A crash here is a crash right after the claim: the job is leased and nothing is written.
  if (fault::hit("pipeline.after_claim"))
    return {Outcome::retry, {}, make_error(ErrorKind::unavailable, "fault point pipeline.after_claim")};
  ObjectCreated ev = event;
  for (int hop = 0;; ++hop) {
    ProcessResult r = process_version(ev, attempt, last_attempt, force);
    if (r.outcome != Outcome::superseded || hop == 3) return r;
    auto now = store_.head(ev.ref());
    if (!now) {
      if (now.error().kind == ErrorKind::not_found) return process_version(ev, attempt, last_attempt, force);
      return {Outcome::retry, r.image_id, now.error()};
    }
    ev.etag = now->etag;
    ev.version_id = now->version_id;
    ev.size = now->size;
  }
}

ProcessResult Pipeline::process_version(const ObjectCreated& ev, int attempt, bool last_attempt, bool force) {
  const auto started = std::chrono::steady_clock::now();
  if (!config_.trigger.matches(ev.key)) return {Outcome::skipped, {}, std::nullopt};
  const std::string image_id = catalog::make_image_id(ev.bucket, ev.key, ev.version_or_etag());
  const ObjectRef src = ev.ref();

  // A record already processed means this event is a duplicate: nothing to do.
  auto existing = catalog_.get(image_id);
  if (existing && existing->status == RecordStatus::processed && !force)
    return {Outcome::already_done, image_id, std::nullopt};
  if (!existing && existing.error().kind != ErrorKind::not_found) {
    return {Outcome::retry, image_id,
            make_error(ErrorKind::unavailable, "catalog lookup for " + src.uri() + " failed: " + existing.error().message)};
  }

  ImageRecord record = base_record(ev, image_id, attempt);
  // A record being redone (retry, reprocess) keeps its upload date.
  if (existing && !existing->upload_date.empty()) record.upload_date = existing->upload_date;
  // Retryable errors: retry while attempts remain, else record the failure. Permanent: record.
  auto fail = [&](Error e) -> ProcessResult {
    if (!e.message.empty() && e.message.find(src.uri()) == std::string::npos) e.message = src.uri() + ": " + e.message;
    if (e.retryable() && !last_attempt) {
      if (observer_) observer_->on_retry(ev, e, attempt);
      return {Outcome::retry, image_id, e};
    }
    return record_failure(record, e);
  };

  // Fetch this exact version, refusing it before reading when it is over the byte limit.
  storage::GetOptions get;
  get.max_bytes = config_.limits.max_source_bytes;
  if (!ev.etag.empty()) get.if_match = ev.etag;
  auto bytes = store_.get_bytes(src, get);
  if (!bytes) {
    const Error& e = bytes.error();
    if (e.kind == ErrorKind::precondition_failed)
      return {Outcome::superseded, image_id, e};  // overwritten since: the newer version has its own event
    if (e.kind == ErrorKind::not_found)
      return fail(make_error(ErrorKind::not_found, "the object was deleted before it could be processed", e.code));
    return fail(e);
  }
  record.source_bytes = bytes->size();

  const auto render_started = std::chrono::steady_clock::now();
  auto rendered = renderer_.render(*bytes, config_.renditions, config_.limits);
  record.render_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - render_started).count();
  if (!rendered) return fail(rendered.error());
  record.info = rendered->source;
  record.dominant_colour = hex_colour(rendered->dominant_colour);
  record.blurhash = rendered->blurhash;

  for (std::size_t i = 0; i < rendered->renditions.size(); ++i) {
    const Rendition& out = rendered->renditions[i];
    const RenditionSpec& spec = config_.renditions[i];
    std::string key = rendition_key(config_.trigger, spec, i == 0, ev.key);
    storage::PutOptions put;
    put.content_type = std::string(content_type(out.format));
    put.cache_control = config_.cache_control;
    put.user_metadata = {{"source-key", ev.key.size() <= 512 ? ev.key : ev.key.substr(0, 512)},
                         {"image-id", image_id}};
    auto written = store_.put(ObjectRef{ev.bucket, key}, out.bytes, put);
    if (!written) return fail(written.error());
    RenditionRecord rr;
    rr.name = out.name;
    rr.key = key;
    rr.format = std::string(to_string(out.format));
    rr.width = out.width;
    rr.height = out.height;
    rr.bytes = out.bytes.size();
    record.renditions.push_back(std::move(rr));
  }
  record.thumbnail_key = record.renditions.empty() ? std::string() : record.renditions.front().key;
  // Renditions are stored, the record is not: the retry must finish with one record.
  if (fault::hit("pipeline.after_put"))
    return fail(make_error(ErrorKind::unavailable, "fault point pipeline.after_put"));
  record.status = RecordStatus::processed;
  record.processing_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  record.updated_at = now_iso8601();
  if (auto st = catalog_.upsert(record); !st) return fail(st.error());
  if (observer_) observer_->on_processed(record);
  return {Outcome::processed, image_id, std::nullopt};
}

}  // namespace thumbflow::pipeline
