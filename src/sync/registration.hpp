// register() and unregister(): checking a declaration, recording it in the registry and
// (unless apply => false) building what it touches; and taking a view out of management.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace viewmgr::pg {

// register()'s arguments as the user gave them.
struct Registration {
  std::string view_name;
  std::string definition;
  bool materialized = false;
  std::vector<std::string> depends_on;
  std::vector<std::string> indexes;
  bool with_data = true;
  std::optional<std::string> comment;
  bool apply = true;
  std::vector<std::string> view_options;
  std::string search_path;  // the caller's setting
};

// Returns what it did: created, replaced, rebuilt, unchanged or registered.
std::string register_view(Registration registration);

void unregister_view(const std::string& view_name, bool drop_view, bool cascade,
                     const std::string& search_path);

}  // namespace viewmgr::pg
