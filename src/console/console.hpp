// The console on `thumbflow serve`'s console port: a JSON REST API under /api, the web page
// (web/, compiled into the binary) and a login form. It is mounted onto the runtime's HTTP
// server and sees the store, the catalog, the queue and the runtime's upload hook only.
//
// Authentication: the console token as "Authorization: Bearer <token>", or the HttpOnly,
// SameSite=Strict session cookie that POST /login sets after checking the token. Every route
// answers 401 (JSON) without one, except the login page and the stylesheet it needs; the page
// itself redirects to /login. See docs/api.md.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "catalog/catalog.hpp"
#include "console/console_rules.hpp"
#include "console/event_hub.hpp"
#include "core/error.hpp"
#include "core/object_created.hpp"
#include "events/job_queue.hpp"
#include "pipeline/worker_pool.hpp"
#include "storage/object_store.hpp"

namespace httplib {
class Server;
}
namespace thumbflow::monitoring {
class Monitor;
}

namespace thumbflow::console {

struct ConsoleDeps {
  storage::ObjectStore& store;
  catalog::Catalog& catalog;
  events::JobQueue& queue;
  std::string bucket;        // where uploads go (server.bucket)
  std::string input_prefix;  // and under which prefix (trigger.input_prefix)
  std::string token;
  // What an S3 upload triggers: a durable job, then a worker is woken. An error gives 503.
  std::function<Status(const ObjectCreated&)> on_uploaded;
  std::function<pipeline::PoolGauges()> gauges;
  monitoring::Monitor* monitor = nullptr;  // alarm states; null when there is no monitor
};

class Console {
 public:
  Console(ConsoleDeps deps, ConsoleOptions options = {});
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Adds the routes, a JSON error handler and the thread pool size to `server`. Call before
  // the server listens. The payload cap becomes options.max_request_bytes for every route.
  void mount(httplib::Server& server);
  // Ends the event streams; call before stopping the server (its threads wait for them).
  void shutdown();
  // Feed the pipeline's outcomes here for the live updates.
  EventHub& hub();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbflow::console
