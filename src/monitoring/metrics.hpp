// The metrics registry: counters, gauges and histograms with labels, rendered in the Prometheus
// text format, and (for the families an alarm rule watches) a bounded record of every update
// with its time, which is what the alarm evaluator computes its statistics from.
//
// Cost on the hot path: a child (one set of label values) is looked up once under a shared
// lock and its reference can be kept; inc/set/observe are then lock-free atomics. Only a watched
// family also appends a datapoint to its Series, under that series' own mutex.
//
// Policy: label cardinality is bounded. Past RegistryOptions::max_children_per_family (config
// metrics.max_label_sets) distinct
// label sets in one family, further sets share one child whose every label is "_overflow", so a
// flood of odd values (for example HTTP status codes from a fuzzer) cannot grow memory.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace thumbflow::monitoring {

using LabelValues = std::vector<std::string>;

// One recorded update of a watched family: a counter increment, a gauge value or an observation.
struct Datapoint {
  std::int64_t at_ms = 0;               // Unix time, milliseconds
  double value = 0;
  const LabelValues* labels = nullptr;  // the child's label values (owned by the family, stable)
};

// The datapoints of one watched family, oldest first; at most `capacity` (the oldest go first).
class Series {
 public:
  explicit Series(std::size_t capacity) : capacity_(capacity) {}
  void add(std::int64_t at_ms, double value, const LabelValues* labels);
  // Datapoints with from_ms <= at_ms < to_ms.
  std::vector<Datapoint> range(std::int64_t from_ms, std::int64_t to_ms) const;
  void drop_before(std::int64_t ms);
  std::size_t size() const;
  std::uint64_t dropped() const;  // datapoints pushed out by the capacity

 private:
  mutable std::mutex mu_;
  std::deque<Datapoint> points_;
  std::size_t capacity_;
  std::uint64_t dropped_ = 0;
};

enum class MetricType { counter, gauge, histogram };
std::string_view to_string(MetricType t);

class Registry;

class FamilyBase {
 public:
  FamilyBase(Registry& registry, std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Starts recording every update into `series` (owned by the caller, outliving the family).
  void watch(Series* series) { series_.store(series, std::memory_order_release); }
  // Appends the family's samples in the Prometheus text format (without HELP/TYPE).
  virtual void render(std::string& out) const = 0;
  // Appends a datapoint to the watching series, if any (called by the children).
  void record(double value, const LabelValues* labels) const;

 protected:
  Registry& registry_;
  std::string name_, help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::atomic<Series*> series_{nullptr};
};

class Counter {
 public:
  Counter(const FamilyBase* family, const LabelValues* labels) : family_(family), labels_(labels) {}
  void inc(double v = 1.0);  // v < 0 is ignored: a counter only goes up
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend class CounterFamily;
  const FamilyBase* family_;
  const LabelValues* labels_;
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  Gauge(const FamilyBase* family, const LabelValues* labels) : family_(family), labels_(labels) {}
  void set(double v);
  void add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  const FamilyBase* family_;
  const LabelValues* labels_;
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  Histogram(const FamilyBase* family, const LabelValues* labels, const std::vector<double>* bounds);
  void observe(double v);
  std::uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Non-cumulative count of bucket i (i == bounds.size() is the +Inf bucket).
  std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const FamilyBase* family_;
  const LabelValues* labels_;
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// A family of children of type T, one per distinct list of label values.
template <typename T>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  // The child for these label values (as many as label_names()); created on first use.
  T& with(const LabelValues& values);
  T& with(std::initializer_list<std::string_view> values) { return with(LabelValues(values.begin(), values.end())); }
  void render(std::string& out) const override;
  // Children in label order, for tests and the CLI.
  std::vector<std::pair<LabelValues, const T*>> children() const;

 protected:
  virtual std::unique_ptr<T> make_child(const LabelValues* labels) const = 0;

 private:
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<T>> children_;
};

class CounterFamily final : public Family<Counter> {
 public:
  CounterFamily(Registry& r, std::string name, std::string help, std::vector<std::string> labels)
      : Family(r, std::move(name), std::move(help), MetricType::counter, std::move(labels)) {}

 protected:
  std::unique_ptr<Counter> make_child(const LabelValues* labels) const override {
    return std::make_unique<Counter>(this, labels);
  }
};

class GaugeFamily final : public Family<Gauge> {
 public:
  GaugeFamily(Registry& r, std::string name, std::string help, std::vector<std::string> labels)
      : Family(r, std::move(name), std::move(help), MetricType::gauge, std::move(labels)) {}

 protected:
  std::unique_ptr<Gauge> make_child(const LabelValues* labels) const override {
    return std::make_unique<Gauge>(this, labels);
  }
};

class HistogramFamily final : public Family<Histogram> {
 public:
  HistogramFamily(Registry& r, std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds);
  const std::vector<double>& bounds() const { return bounds_; }

 protected:
  std::unique_ptr<Histogram> make_child(const LabelValues* labels) const override {
    return std::make_unique<Histogram>(this, labels, &bounds_);
  }

 private:
  std::vector<double> bounds_;
};

struct RegistryOptions {
  std::size_t max_children_per_family = 1000;
  // The clock datapoints are stamped with (Unix milliseconds); tests pass their own.
  std::function<std::int64_t()> now_ms;
};

std::int64_t unix_now_ms();

// Exponential histogram bounds: start, start*factor, ... (count of them).
std::vector<double> exponential_buckets(double start, double factor, int count);

class Registry {
 public:
  explicit Registry(RegistryOptions options = {});
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice returns the first family when type and labels agree; anything
  // else is a programming error (std::logic_error). Names must match [a-zA-Z_:][a-zA-Z0-9_:]*.
  CounterFamily& counter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                             std::vector<std::string> labels = {});

  FamilyBase* find(const std::string& name) const;
  std::vector<const FamilyBase*> families() const;

  // Collectors refresh gauges from their sources (queue statistics, worker counts) just before
  // an exposition or an alarm evaluation reads them.
  void add_collector(std::function<void()> collector);
  void collect();

  // Runs the collectors and renders every family in the Prometheus text format 0.0.4.
  std::string prometheus_text();

  const RegistryOptions& options() const { return options_; }
  std::int64_t now_ms() const { return options_.now_ms ? options_.now_ms() : unix_now_ms(); }

 private:
  template <typename F, typename... A>
  F& add(const std::string& name, MetricType type, const std::vector<std::string>& labels, A&&... args);

  RegistryOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::mutex collect_mu_;
  std::vector<std::function<void()>> collectors_;
};

// Pieces of the text format, exposed for tests.
std::string escape_label_value(std::string_view v);  // \\ \" \n
std::string escape_help(std::string_view v);         // \\ \n
std::string format_value(double v);                  // integers without exponent, +Inf, -Inf, NaN
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace thumbflow::monitoring
