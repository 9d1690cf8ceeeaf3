// Fingerprints of what a managed view is built from. Two registrations with the same
// fingerprint build the same object, so the second one needs no DDL.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace viewmgr {

// Lower-case hex SHA-256 (FIPS 180-4).
std::string sha256_hex(std::string_view data);

// Everything that decides the DDL that builds a view. `canonical_definition` is the
// definition as PostgreSQL deparses it after analysis, so whitespace, case, comments and
// redundant qualification are already gone.
struct BuildSpec {
  bool materialized = false;
  std::string canonical_definition;
  std::vector<std::string> indexes;       // order matters only for naming; compared as given
  bool with_data = true;
  std::optional<std::string> comment;
  std::vector<std::string> view_options;  // "name=value", as given to WITH (...)
};

// Unambiguous (length-prefixed) serialisation hashed with SHA-256.
std::string fingerprint(const BuildSpec& spec);

// Fingerprint of the part that needs the view itself rebuilt or replaced (not the indexes
// or the comment, which can be changed in place).
std::string definition_fingerprint(const BuildSpec& spec);

}  // namespace viewmgr
