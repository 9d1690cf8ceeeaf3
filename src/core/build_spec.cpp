#include "core/build_spec.hpp"

#include <algorithm>

namespace viewmgr {

namespace {

// Items of `a` that `b` lacks, in `a`'s order, each once.
std::vector<std::string> missing_from(const std::vector<std::string>& a,
                                      const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& item : a) {
    bool in_b = std::find(b.begin(), b.end(), item) != b.end();
    bool listed = std::find(out.begin(), out.end(), item) != out.end();
    if (!in_b && !listed) out.push_back(item);
  }
  return out;
}

// Index specs of `a` that `b` lacks (by key), as written in `a`, each once.
std::vector<std::string> missing_from(const std::vector<IndexSpec>& a, const std::vector<IndexSpec>& b) {
  std::vector<std::string> out;
  std::vector<std::string> seen;
  for (const auto& index : a) {
    bool in_b = std::any_of(b.begin(), b.end(), [&](const IndexSpec& o) { return o.key == index.key; });
    if (in_b || std::find(seen.begin(), seen.end(), index.key) != seen.end()) continue;
    seen.push_back(index.key);
    out.push_back(index.text);
  }
  return out;
}

void append(std::string& out, const std::string& part) {
  if (!out.empty()) out += "; ";
  out += part;
}

}  // namespace

SpecChanges compare_specs(const BuildSpec& declared, const BuildSpec& built) {
  SpecChanges changes;
  changes.definition_text =
      declared.definition != built.definition || declared.search_path != built.search_path;
  changes.indexes_added = missing_from(declared.indexes, built.indexes);
  changes.indexes_removed = missing_from(built.indexes, declared.indexes);
  changes.options_added = missing_from(declared.view_options, built.view_options);
  changes.options_removed = missing_from(built.view_options, declared.view_options);
  changes.with_data = declared.with_data != built.with_data;
  changes.comment = declared.comment != built.comment;
  return changes;
}

std::string describe_changes(const SpecChanges& changes) {
  std::string out;
  for (const auto& option : changes.options_added) append(out, "view option " + option + " added");
  for (const auto& option : changes.options_removed) append(out, "view option " + option + " removed");
  for (const auto& index : changes.indexes_added) append(out, "index " + index + " added");
  for (const auto& index : changes.indexes_removed) append(out, "index " + index + " removed");
  if (changes.with_data) append(out, "with_data changed");
  if (changes.comment) append(out, "comment changed");
  return out;
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
