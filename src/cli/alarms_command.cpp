// thumbflow alarms list | history | test: the alarm rules of the configuration with the state
// `thumbflow serve` recorded for them (DATA/.thumbflow/alarms.db), what changed when and who
// was told, and a test message through the configured notifiers. Works beside a running server.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/home.hpp"
#include "monitoring/monitor.hpp"
#include "monitoring/notification.hpp"

namespace thumbflow::cli {
namespace {
using json = nlohmann::json;

struct AlarmsOptions {
  std::string data, config, name;
  int limit = 50;
  bool json_out = false;
};

std::string value_text(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", *v);
  return buf;
}

std::string deliveries_text(const std::vector<monitoring::Delivery>& ds) {
  std::string out;
  for (const auto& d : ds) {
    out += (out.empty() ? "" : "; ") + d.notifier + " " + d.status + " (" + std::to_string(d.attempts) + " attempt" +
           (d.attempts == 1 ? "" : "s") + ")";
    if (!d.error.empty() && d.status != "sent") out += ": " + d.error;
  }
  return out;
}

json deliveries_json(const std::vector<monitoring::Delivery>& ds) {
  json a = json::array();
  for (const auto& d : ds)
    a.push_back({{"notifier", d.notifier}, {"status", d.status}, {"attempts", d.attempts}, {"error", d.error},
                 {"updated", monitoring::iso_time(d.updated_ms)}});
  return a;
}

struct Opened {
  config::Config config;
  std::vector<monitoring::AlarmRule> rules;
  std::unique_ptr<monitoring::AlarmStore> store;
};

Result<Opened> open_alarms(const AlarmsOptions& o) {
  auto cfg = load_config(o.config, o.data);
  if (!cfg) return cfg.error();
  auto rules = monitoring::rules_from_config(*cfg);
  if (!rules) return rules.error();
  auto store = monitoring::AlarmStore::open(monitoring::alarms_db_path(cfg->server.data),
                                            static_cast<int>(cfg->alarms.history_limit));
  if (!store) return store.error();
  return Opened{std::move(*cfg), std::move(*rules), std::move(*store)};
}

int list(const AlarmsOptions& o) {
  auto opened = open_alarms(o);
  if (!opened) {
    std::cerr << "thumbflow alarms list: " << opened.error().message << "\n";
    return 2;
  }
  auto states = opened->store->states();
  if (!states) {
    std::cerr << "thumbflow alarms list: " << states.error().describe() << "\n";
    return 1;
  }
  if (!opened->config.alarms.enabled && !o.json_out) std::cout << "(alarms.enabled = false: serve evaluates no rule)\n";
  for (const auto& rule : opened->rules) {
    auto it = states->find(rule.name);
    const monitoring::RuleStatus st = it != states->end() ? it->second : monitoring::RuleStatus{};
    const std::string state(monitoring::to_string(st.state));
    const std::string since = st.since_ms ? monitoring::iso_time(st.since_ms) : std::string("-");
    if (o.json_out) {
      json j = {{"name", rule.name},       {"state", state},          {"since", since},
                {"rule", rule.summary()},  {"reason", st.reason},     {"description", rule.description}};
      j["value"] = st.value ? json(*st.value) : json(nullptr);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << rule.name << "  " << state << "  since " << since << "  value " << value_text(st.value) << "\n"
                << "    " << rule.summary() << "\n";
      if (!st.reason.empty()) std::cout << "    " << st.reason << "\n";
    }
  }
  return 0;
}

int history(const AlarmsOptions& o) {
  auto opened = open_alarms(o);
  if (!opened) {
    std::cerr << "thumbflow alarms history: " << opened.error().message << "\n";
    return 2;
  }
  auto h = opened->store->history(o.name, o.limit);
  if (!h) {
    std::cerr << "thumbflow alarms history: " << h.error().describe() << "\n";
    return 1;
  }
  for (const auto& e : *h) {
    const std::string change = std::string(monitoring::to_string(e.old_state)) + " -> " +
                               std::string(monitoring::to_string(e.new_state));
    if (o.json_out) {
      json j = {{"id", e.id},
                {"time", monitoring::iso_time(e.at_ms)},
                {"alarm", e.alarm},
                {"kind", monitoring::to_string(e.kind)},
                {"oldState", monitoring::to_string(e.old_state)},
                {"newState", monitoring::to_string(e.new_state)},
                {"reason", e.reason},
                {"notified", e.notified},
                {"deliveries", deliveries_json(e.deliveries)}};
      j["value"] = e.value ? json(*e.value) : json(nullptr);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << monitoring::iso_time(e.at_ms) << "  " << e.alarm << "  " << change;
      if (e.kind != monitoring::NotificationKind::transition) std::cout << " (" << monitoring::to_string(e.kind) << ")";
      std::cout << "  value " << value_text(e.value) << "\n    " << e.reason << "\n";
      if (e.notified)
        std::cout << "    notified: " << (e.deliveries.empty() ? std::string("no notifier configured") : deliveries_text(e.deliveries))
                  << "\n";
    }
  }
  return 0;
}

int test(const AlarmsOptions& o) {
  auto opened = open_alarms(o);
  if (!opened) {
    std::cerr << "thumbflow alarms test: " << opened.error().message << "\n";
    return 2;
  }
  const monitoring::AlarmRule* rule = nullptr;
  for (const auto& r : opened->rules)
    if (r.name == o.name) rule = &r;
  if (!rule) {
    std::cerr << "thumbflow alarms test: no rule named '" << o.name << "' (thumbflow alarms list shows them)\n";
    return 2;
  }
  auto notifiers = monitoring::notifiers_from_config(opened->config.notify);
  if (notifiers.empty()) {
    std::cerr << "thumbflow alarms test: no notifier is configured; set [notify.email] url and to, [notify.webhook] "
                 "url, [notify.sns] topic_arn or [notify.command] argv\n";
    return 1;
  }
  auto states = opened->store->states();
  monitoring::RuleStatus status;
  if (states && states->count(rule->name)) status = states->at(rule->name);
  const std::int64_t now = monitoring::unix_now_ms();
  monitoring::HistoryEntry h;
  h.alarm = rule->name;
  h.at_ms = now;
  h.kind = monitoring::NotificationKind::test;
  h.notified = true;
  h.old_state = status.state;
  h.new_state = status.state;
  h.value = status.value;
  h.reason = "test notification from thumbflow alarms test";
  auto id = opened->store->append(h);
  if (!id) {
    std::cerr << "thumbflow alarms test: " << id.error().describe() << "\n";
    return 1;
  }
  monitoring::Notification n = monitoring::make_notification(*rule, monitoring::NotificationKind::test, status.state, status, now);
  n.reason = h.reason;
  n.history_id = *id;
  monitoring::AlarmStore* store = opened->store.get();
  const auto options = monitoring::dispatch_options(opened->config.notify);
  monitoring::Dispatcher dispatcher(std::move(notifiers), options,
                                    [store](std::int64_t hid, const monitoring::Delivery& d) { (void)store->record_delivery(hid, d); });
  dispatcher.submit(n, rule->notifiers);
  // Every attempt with its timeout and the longest backoff before it.
  const auto limit = (std::chrono::milliseconds(opened->config.notify.timeout_ms) + options.backoff_max) * options.max_attempts;
  dispatcher.wait_idle(limit);
  dispatcher.stop();
  auto after = store->history(rule->name, 20);
  int failed = 0;
  if (after) {
    for (const auto& e : *after) {
      if (e.id != *id) continue;
      for (const auto& d : e.deliveries) {
        std::cout << d.notifier << ": " << d.status << " (" << d.attempts << " attempt" << (d.attempts == 1 ? "" : "s") << ")"
                  << (d.error.empty() || d.status == "sent" ? "" : ": " + d.error) << "\n";
        if (d.status != "sent") ++failed;
      }
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

Command add_alarms_command(CLI::App& app) {
  auto o = std::make_shared<AlarmsOptions>();
  auto* cmd = app.add_subcommand("alarms", "Alarm rules, their state and history; send a test notification");
  cmd->require_subcommand(1);
  auto common = [o](CLI::App* sub) {
    sub->add_option("--data", o->data, "Data folder (default: server.data, thumbflow-data)");
    sub->add_option("--config", o->config, "Configuration file (see thumbflow.example.toml)");
    sub->add_flag("--json", o->json_out, "One JSON object per line");
  };
  auto* ls = cmd->add_subcommand("list", "Every rule with its state, since when, its last value and why");
  common(ls);
  auto* hist = cmd->add_subcommand("history", "State changes, newest first, with who was notified and how it went");
  common(hist);
  hist->add_option("NAME", o->name, "Only this alarm");
  hist->add_option("--limit", o->limit, "At most this many entries (default 50)")->check(CLI::Range(1, 100000));
  auto* t = cmd->add_subcommand("test", "Send a test notification for rule NAME through its notifiers");
  common(t);
  t->add_option("NAME", o->name, "The rule")->required();
  cmd->footer(
      "Rules come from [[alarms.rules]] of thumbflow.toml (default: image-processing-errors, any failed image within "
      "a minute); state and history from DATA/.thumbflow/alarms.db, written by thumbflow serve. Exit status of test: "
      "0 when every notifier sent the message, 1 otherwise. See docs/monitoring.md.");
  return {cmd, [o, ls, hist, t] {
            if (ls->parsed()) return list(*o);
            if (hist->parsed()) return history(*o);
            if (t->parsed()) return test(*o);
            return 2;
          }};
}

}  // namespace thumbflow::cli
