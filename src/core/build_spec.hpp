// What a managed view is built from, and how a declaration differs from what was last built.
// sync() compares the two field by field: the result says what changed ("index (a) added",
// "comment changed") and which DDL that takes, with no hashing and no stored digests.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace viewmgr {

// An index specification: compared by `key` (as PostgreSQL's scanner reads it, so "UNIQUE
// (a)" and "unique(a)" are the same; the caller normalises it), named by `text` (as the
// user wrote it).
struct IndexSpec {
  std::string key;
  std::string text;
};

// One side of the comparison: a registration, or the registration as it was last built.
// View options are normalised "name=value" pairs. The order of indexes and of options
// does not matter.
struct BuildSpec {
  std::string definition;                 // the query text as registered
  std::vector<std::string> search_path;   // the schemas it is resolved with
  std::vector<IndexSpec> indexes;
  bool with_data = true;
  std::optional<std::string> comment;     // nullopt: no comment declared
  std::vector<std::string> view_options;  // "name=value"
};

struct SpecChanges {
  // The text or the search_path differs. Whether the query itself changed is for the caller
  // to decide (by analysis): another spelling of the same query is no change.
  bool definition_text = false;
  std::vector<std::string> indexes_added;    // as written
  std::vector<std::string> indexes_removed;  // as written when built
  std::vector<std::string> options_added;
  std::vector<std::string> options_removed;
  bool with_data = false;
  bool comment = false;

  // View options are part of CREATE [OR REPLACE] VIEW: changing them rebuilds or replaces
  // the view. Index, comment and with_data changes are made on the view as it stands.
  bool view_options_changed() const { return !options_added.empty() || !options_removed.empty(); }
  bool in_place_changes() const {
    return !indexes_added.empty() || !indexes_removed.empty() || with_data || comment;
  }
  bool any() const { return definition_text || view_options_changed() || in_place_changes(); }
};

SpecChanges compare_specs(const BuildSpec& declared, const BuildSpec& built);

// What changed besides the definition, for sync()'s reason:
// "index (created_at) added; view option security_barrier=true removed; comment changed".
// Empty when nothing did.
std::string describe_changes(const SpecChanges& changes);

}  // namespace viewmgr
