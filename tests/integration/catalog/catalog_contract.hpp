// The catalog contract: one suite of behaviours every Catalog implementation must show, run
// against each implementation through a factory (value-parameterized). An implementation's
// test executable instantiates it:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, CatalogContract, testing::Values(Factory{...}), factory_name);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace thumbflow::catalog::contract {

// One fresh, empty catalog; whatever it needs (a file, a table) goes away with it.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual Catalog& catalog() = 0;
};

struct Factory {
  std::string name;
  std::function<std::unique_ptr<Subject>()> make;
};
inline void PrintTo(const Factory& f, std::ostream* os) { *os << f.name; }
inline std::string factory_name(const testing::TestParamInfo<Factory>& info) { return info.param.name; }

class CatalogContract : public testing::TestWithParam<Factory> {
 protected:
  void SetUp() override {
    subject_ = GetParam().make();
    ASSERT_TRUE(subject_) << "could not make a " << GetParam().name << " catalog";
  }
  Catalog& catalog() { return subject_->catalog(); }

 private:
  std::unique_ptr<Subject> subject_;
};

// The record with every field set, and one with only what is required.
ImageRecord full_record(const std::string& image_id);
ImageRecord minimal_record(const std::string& image_id, const std::string& upload_date);
// The query data set: 60 records over four days (2026-11-20..23), groups of three sharing an
// upload date, every fourth one failed. Ids are make_image_id values, so they spread over shards.
std::vector<ImageRecord> dated_records();

}  // namespace thumbflow::catalog::contract
