#include "monitoring/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace thumbflow::monitoring {

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view to_string(MetricType t) {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

// ---- Series ------------------------------------------------------------------------------------
void Series::add(std::int64_t at_ms, double value, const LabelValues* labels) {
  std::lock_guard lock(mu_);
  if (capacity_ == 0) {
    ++dropped_;
    return;
  }
  // Datapoints arrive in time order except for small races between threads; keep the deque
  // sorted so range() can rely on it.
  if (points_.empty() || points_.back().at_ms <= at_ms) {
    points_.push_back({at_ms, value, labels});
  } else {
    auto it = std::upper_bound(points_.begin(), points_.end(), at_ms,
                               [](std::int64_t t, const Datapoint& d) { return t < d.at_ms; });
    points_.insert(it, {at_ms, value, labels});
  }
  while (points_.size() > capacity_) {
    points_.pop_front();
    ++dropped_;
  }
}

std::vector<Datapoint> Series::range(std::int64_t from_ms, std::int64_t to_ms) const {
  std::lock_guard lock(mu_);
  auto lo = std::lower_bound(points_.begin(), points_.end(), from_ms,
                             [](const Datapoint& d, std::int64_t t) { return d.at_ms < t; });
  std::vector<Datapoint> out;
  for (auto it = lo; it != points_.end() && it->at_ms < to_ms; ++it) out.push_back(*it);
  return out;
}

void Series::drop_before(std::int64_t ms) {
  std::lock_guard lock(mu_);
  while (!points_.empty() && points_.front().at_ms < ms) points_.pop_front();
}

std::size_t Series::size() const {
  std::lock_guard lock(mu_);
  return points_.size();
}

std::uint64_t Series::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

// ---- Families and children --------------------------------------------------------------------
FamilyBase::FamilyBase(Registry& registry, std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : registry_(registry), name_(std::move(name)), help_(std::move(help)), type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::record(double value, const LabelValues* labels) const {
  Series* s = series_.load(std::memory_order_acquire);
  if (s) s->add(registry_.now_ms(), value, labels);
}

namespace {
void atomic_add(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string label_set(const std::vector<std::string>& names, const LabelValues& values,
                      const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name + "=\"" + escape_label_value(extra_value) + "\"";
  }
  out += '}';
  return out;
}
}  // namespace

void Counter::inc(double v) {
  if (!(v >= 0)) return;
  atomic_add(value_, v);
  family_->record(v, labels_);
}

void Gauge::set(double v) {
  value_.store(v, std::memory_order_relaxed);
  family_->record(v, labels_);
}

void Gauge::add(double v) {
  atomic_add(value_, v);
  family_->record(value_.load(std::memory_order_relaxed), labels_);
}

Histogram::Histogram(const FamilyBase* family, const LabelValues* labels, const std::vector<double>* bounds)
    : family_(family), labels_(labels), bounds_(bounds),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds->size() + 1)) {
  for (std::size_t i = 0; i <= bounds->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  const auto& b = *bounds_;
  const auto i = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
  family_->record(v, labels_);
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) n += counts_[i].load(std::memory_order_relaxed);
  return n;
}

template <typename T>
T& Family<T>::with(const LabelValues& values) {
  if (values.size() != label_names_.size())
    throw std::logic_error("metric " + name_ + " takes " + std::to_string(label_names_.size()) + " label values");
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  LabelValues key = values;
  if (children_.size() >= registry_.options().max_children_per_family) {
    key.assign(values.size(), "_overflow");
    it = children_.find(key);
    if (it != children_.end()) return *it->second;
  }
  auto [pos, inserted] = children_.emplace(std::move(key), nullptr);
  pos->second = make_child(&pos->first);
  return *pos->second;
}

template <typename T>
std::vector<std::pair<LabelValues, const T*>> Family<T>::children() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<LabelValues, const T*>> out;
  for (const auto& [k, v] : children_) out.emplace_back(k, v.get());
  return out;
}

template <>
void Family<Counter>::render(std::string& out) const {
  std::shared_lock lock(mu_);
  for (const auto& [values, c] : children_)
    out += name_ + label_set(label_names_, values) + " " + format_value(c->value()) + "\n";
}

template <>
void Family<Gauge>::render(std::string& out) const {
  std::shared_lock lock(mu_);
  for (const auto& [values, g] : children_)
    out += name_ + label_set(label_names_, values) + " " + format_value(g->value()) + "\n";
}

template <>
void Family<Histogram>::render(std::string& out) const {
  std::shared_lock lock(mu_);
  for (const auto& [values, h] : children_) {
    // Read each bucket once and derive +Inf and _count from the same reads, so the rendered
    // buckets are cumulative and consistent even while observations race with this.
    const auto& b = h->bounds();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      cumulative += h->bucket(i);
      out += name_ + "_bucket" + label_set(label_names_, values, "le", format_value(b[i])) + " " +
             std::to_string(cumulative) + "\n";
    }
    cumulative += h->bucket(b.size());
    out += name_ + "_bucket" + label_set(label_names_, values, "le", "+Inf") + " " + std::to_string(cumulative) + "\n";
    out += name_ + "_sum" + label_set(label_names_, values) + " " + format_value(h->sum()) + "\n";
    out += name_ + "_count" + label_set(label_names_, values) + " " + std::to_string(cumulative) + "\n";
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

HistogramFamily::HistogramFamily(Registry& r, std::string name, std::string help, std::vector<std::string> labels,
                                 std::vector<double> bounds)
    : Family(r, std::move(name), std::move(help), MetricType::histogram, std::move(labels)), bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(), [](double v) { return std::isinf(v) || std::isnan(v); }),
                bounds_.end());
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

// ---- Registry ----------------------------------------------------------------------------------
Registry::Registry(RegistryOptions options) : options_(std::move(options)) {}

template <typename F, typename... A>
F& Registry::add(const std::string& name, MetricType type, const std::vector<std::string>& labels, A&&... args) {
  if (!valid_metric_name(name)) throw std::logic_error("invalid metric name '" + name + "'");
  for (const auto& l : labels)
    if (!valid_label_name(l) || l == "le") throw std::logic_error("invalid label name '" + l + "' of " + name);
  std::lock_guard lock(mu_);
  for (auto& f : families_) {
    if (f->name() != name) continue;
    if (f->type() != type || f->label_names() != labels)
      throw std::logic_error("metric " + name + " registered twice with different types or labels");
    return static_cast<F&>(*f);
  }
  families_.push_back(std::make_unique<F>(*this, name, std::forward<A>(args)..., labels));
  return static_cast<F&>(*families_.back());
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return add<CounterFamily>(name, MetricType::counter, labels, help);
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return add<GaugeFamily>(name, MetricType::gauge, labels, help);
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                     std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  for (auto& f : families_) {
    if (f->name() != name) continue;
    if (f->type() != MetricType::histogram || f->label_names() != labels)
      throw std::logic_error("metric " + name + " registered twice with different types or labels");
    return static_cast<HistogramFamily&>(*f);
  }
  if (!valid_metric_name(name)) throw std::logic_error("invalid metric name '" + name + "'");
  for (const auto& l : labels)
    if (!valid_label_name(l) || l == "le") throw std::logic_error("invalid label name '" + l + "' of " + name);
  families_.push_back(std::make_unique<HistogramFamily>(*this, name, help, std::move(labels), std::move(bounds)));
  return static_cast<HistogramFamily&>(*families_.back());
}

FamilyBase* Registry::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& f : families_)
    if (f->name() == name) return f.get();
  return nullptr;
}

std::vector<const FamilyBase*> Registry::families() const {
  std::lock_guard lock(mu_);
  std::vector<const FamilyBase*> out;
  for (const auto& f : families_) out.push_back(f.get());
  return out;
}

void Registry::add_collector(std::function<void()> collector) {
  std::lock_guard lock(collect_mu_);
  collectors_.push_back(std::move(collector));
}

void Registry::collect() {
  std::lock_guard lock(collect_mu_);
  for (auto& c : collectors_) c();
}

std::string Registry::prometheus_text() {
  collect();
  std::string out;
  for (const FamilyBase* f : families()) {
    out += "# HELP " + f->name() + " " + escape_help(f->help()) + "\n";
    out += "# TYPE " + f->name() + " " + std::string(to_string(f->type())) + "\n";
    f->render(out);
  }
  return out;
}

// ---- Text format pieces ------------------------------------------------------------------------
std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest form that reads back the same.
  for (int p = 1; p < 17; ++p) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", p, v);
    if (std::strtod(shorter, nullptr) == v) return shorter;
  }
  return buf;
}

namespace {
bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}
}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

}  // namespace thumbflow::monitoring
