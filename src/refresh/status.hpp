// What viewmgr.status and viewmgr.graph() show: every managed view's state, from the
// registry and the catalogs (the sync engine's view of it) plus the refresh engine's
// (stale, refreshing).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sync/assess.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

// The state of every managed view (indexed by NodeId): fresh, stale, missing, drifted,
// unpopulated, failed or refreshing.
std::vector<std::string> current_states(ManagedViews& managed);

struct StatusRow {
  const ManagedView* view;
  std::string state;
  std::vector<std::string> depends_on;  // managed views it depends on
  std::optional<std::string> last_error;  // for the owner's members only
};
// One row per managed view; the rows point into `managed`.
std::vector<StatusRow> status_rows(ManagedViews& managed);

// drift(): what differs between the registry and the database, and (on a primary) the
// materialized views whose sources changed since their last refresh ('stale', with why).
std::vector<DriftRow> drift_rows();

// The dependency graph as Graphviz DOT (22023 for a format other than "dot").
std::string graph_text(const std::string& format);

}  // namespace viewmgr::pg
