// The SQLite catalog's schema as an ordered list of steps. PRAGMA user_version holds the number
// of the last step applied; opening a catalog applies the missing ones, in order, inside one
// IMMEDIATE transaction (so two processes opening an old file at once migrate it once). Steps
// are never edited once released: a change is a new step at the end.
#pragma once

#include <span>
#include <string_view>

namespace thumbflow::catalog {

struct SchemaStep {
  int version;                   // user_version after this step; 1, 2, 3, ...
  std::string_view description;  // for logs and errors
  std::string_view sql;          // one or more statements
};

std::span<const SchemaStep> sqlite_schema_steps();
int sqlite_schema_version();  // the version of the last step

}  // namespace thumbflow::catalog
