// refresh() and refresh_all() from start to end.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "refresh/refresh.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

// refresh(matview, concurrently, cascade): the named view in this transaction (its failure
// is an error, as with REFRESH), then with `cascade` what reads it. Rows for what it did.
std::vector<RefreshRow> refresh_view(const std::string& name, std::optional<bool> concurrently,
                                     bool cascade, const std::string& search_path);

// refresh_all(only_stale, concurrently, parallel).
std::vector<RefreshRow> refresh_all_views(bool only_stale, std::optional<bool> concurrently,
                                          int parallel);

}  // namespace viewmgr::pg
