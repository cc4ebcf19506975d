#include "monitoring/alarm_service.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace thumbflow::monitoring {

AlarmService::AlarmService(Registry& registry, AlarmStore& store, Dispatcher& dispatcher, AlarmOptions options)
    : registry_(registry),
      store_(store),
      dispatcher_(dispatcher),
      options_(std::move(options)),
      state_gauge_(registry.gauge("thumbflow_alarm_state", "1 for the state each alarm rule is in, 0 for the others",
                                  {"alarm", "state"})) {}

AlarmService::~AlarmService() { stop(); }

Status AlarmService::prepare() {
  for (std::size_t i = 0; i < options_.rules.size(); ++i) {
    const auto& rule = options_.rules[i];
    FamilyBase* family = registry_.find(rule.metric);
    if (!family) {
      std::string known;
      for (const auto* f : registry_.families()) known += (known.empty() ? "" : ", ") + f->name();
      return make_error(ErrorKind::invalid_argument, "configuration field 'alarms.rules[" + std::to_string(i) +
                                                         "].metric': no metric '" + rule.metric + "' (known: " + known + ")");
    }
    for (const auto& [label, value] : rule.labels) {
      const auto& names = family->label_names();
      if (std::find(names.begin(), names.end(), label) == names.end())
        return make_error(ErrorKind::invalid_argument, "configuration field 'alarms.rules[" + std::to_string(i) +
                                                           "].labels': metric " + rule.metric + " has no label '" + label + "'");
    }
    auto& w = watched_[rule.metric];
    if (!w.series) {
      w.family = family;
      w.series = std::make_unique<Series>(options_.max_datapoints);
      family->watch(w.series.get());
    }
  }
  auto saved = store_.states();
  if (!saved) return saved.error();
  std::lock_guard lock(mu_);
  for (const auto& rule : options_.rules) {
    auto it = saved->find(rule.name);
    statuses_[rule.name] = it != saved->end() ? it->second : RuleStatus{};
  }
  for (const auto& rule : options_.rules)
    for (AlarmState s : {AlarmState::ok, AlarmState::alarm, AlarmState::insufficient_data})
      state_gauge_.with({rule.name, std::string(to_string(s))}).set(statuses_[rule.name].state == s ? 1 : 0);
  return ok_status();
}

void AlarmService::start() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(run_mu_);
    while (!stopping_) {
      lock.unlock();
      try {
        evaluate(registry_.now_ms());
      } catch (const std::exception& e) {
        spdlog::error("alarm evaluation failed: {}", e.what());
      }
      lock.lock();
      run_cv_.wait_for(lock, options_.evaluation_interval, [this] { return stopping_; });
    }
  });
}

void AlarmService::stop() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<Sample> AlarmService::samples_for(const AlarmRule& rule, std::int64_t now_ms) const {
  std::vector<Sample> out;
  auto it = watched_.find(rule.metric);
  if (it == watched_.end()) return out;
  const auto& names = it->second.family->label_names();
  std::vector<std::pair<std::size_t, std::string>> match;
  for (const auto& [label, value] : rule.labels) {
    auto pos = std::find(names.begin(), names.end(), label);
    if (pos == names.end()) return out;
    match.emplace_back(static_cast<std::size_t>(pos - names.begin()), value);
  }
  for (const auto& d : it->second.series->range(window_start(rule, now_ms), now_ms + 1)) {
    bool ok = true;
    for (const auto& [i, v] : match)
      if (!d.labels || (*d.labels)[i] != v) ok = false;
    if (ok) out.push_back({d.at_ms, d.value});
  }
  return out;
}

std::vector<FailedObject> AlarmService::failures_since(std::int64_t from_ms) const {
  std::lock_guard lock(failures_mu_);
  std::vector<FailedObject> out;
  for (auto it = failures_.rbegin(); it != failures_.rend() && out.size() < options_.recent_failures; ++it)
    if (it->at_ms >= from_ms) out.push_back(*it);
  return out;
}

void AlarmService::record_failure(FailedObject failure) {
  std::lock_guard lock(failures_mu_);
  failures_.push_back(std::move(failure));
  while (failures_.size() > std::max<std::size_t>(options_.recent_failures, 1) * 4) failures_.pop_front();
}

void AlarmService::evaluate(std::int64_t now_ms) {
  registry_.collect();  // gauges sampled now count as datapoints of this round
  for (const auto& rule : options_.rules) {
    const auto samples = samples_for(rule, now_ms);
    RuleStatus status;
    {
      std::lock_guard lock(mu_);
      status = statuses_[rule.name];
    }
    const Evaluation e = evaluate_rule(rule, samples, now_ms, status.state);
    const Step step = advance(rule, status, e, now_ms);
    {
      std::lock_guard lock(mu_);
      statuses_[rule.name] = status;
    }
    if (auto st = store_.save_state(rule.name, status); !st)
      spdlog::error("alarm {}: cannot save its state: {}", rule.name, st.error().describe());
    if (step.changed) {
      for (AlarmState s : {AlarmState::ok, AlarmState::alarm, AlarmState::insufficient_data})
        state_gauge_.with({rule.name, std::string(to_string(s))}).set(status.state == s ? 1 : 0);
      spdlog::log(status.state == AlarmState::alarm ? spdlog::level::warn : spdlog::level::info, "alarm {}: {} -> {}: {}",
                  rule.name, to_string(step.old_state), to_string(status.state), status.reason);
    }
    if (!step.changed && step.action == Action::none) continue;
    HistoryEntry h;
    h.alarm = rule.name;
    h.at_ms = now_ms;
    h.kind = step.action == Action::notify_repeat ? NotificationKind::repeat : NotificationKind::transition;
    h.notified = step.action != Action::none;
    h.old_state = step.old_state;
    h.new_state = status.state;
    h.value = status.value;
    h.reason = status.reason;
    auto id = store_.append(h);
    if (!id) spdlog::error("alarm {}: cannot record the state change: {}", rule.name, id.error().describe());
    if (step.action == Action::none) continue;
    Notification n = make_notification(rule, h.kind, step.old_state, status, now_ms);
    n.history_id = id ? *id : 0;
    if (status.state == AlarmState::alarm) n.recent_failures = failures_since(window_start(rule, now_ms));
    dispatcher_.submit(n, rule.notifiers);
  }
  // Datapoints older than every window that reads them are no longer needed.
  for (auto& [metric, w] : watched_) {
    std::int64_t oldest = now_ms;
    for (const auto& rule : options_.rules)
      if (rule.metric == metric) oldest = std::min(oldest, window_start(rule, now_ms));
    w.series->drop_before(oldest);
  }
}

std::vector<RuleView> AlarmService::rules() const {
  std::lock_guard lock(mu_);
  std::vector<RuleView> out;
  for (const auto& rule : options_.rules) {
    auto it = statuses_.find(rule.name);
    out.push_back({rule, it != statuses_.end() ? it->second : RuleStatus{}});
  }
  return out;
}

}  // namespace thumbflow::monitoring
