#include "refresh/status.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/graph_dot.hpp"
#include "pg/boundary.hpp"
#include "pg/scopes.hpp"
#include "refresh/matview_set.hpp"
#include "refresh/refresh.hpp"
#include "sync/assess.hpp"

extern "C" {
#include "access/xlog.h"
}

namespace viewmgr::pg {

std::vector<std::string> current_states(ManagedViews& managed) {
  std::vector<std::string> states = view_states(managed);
  bool in_recovery = pg_call([] { return RecoveryInProgress(); });
  MatviewSet set(managed);
  std::vector<Oid> refreshing = views_being_refreshed();
  // The change log is unlogged: a standby cannot read it, so it cannot tell stale views.
  std::vector<MatviewSet::Staleness> stale;
  if (!in_recovery) stale = set.staleness();
  for (NodeId n = 0; n < managed.views().size(); n++) {
    auto m = set.find(managed.views()[n].display_name);
    if (!m.has_value()) continue;
    if (std::find(refreshing.begin(), refreshing.end(), set.target(*m).relid) != refreshing.end()) {
      states[n] = "refreshing";
    } else if (states[n] == "fresh" && !stale.empty() && stale[*m].stale) {
      // Without data (with_data => false, or emptied by hand) it is not merely behind.
      states[n] = stale[*m].reason == "not populated" ? "unpopulated" : "stale";
    }
  }
  return states;
}

std::vector<StatusRow> status_rows(ManagedViews& managed) {
  std::vector<std::string> states = current_states(managed);
  std::vector<StatusRow> rows;
  for (NodeId n = 0; n < managed.views().size(); n++) {
    const ManagedView& view = managed.views()[n];
    // Error texts can hold row values: only the owner's members see them.
    std::optional<std::string> error;
    if (view.last_error.has_value() && current_user_has_privs_of(view.owner)) error = view.last_error;
    rows.push_back({&view, states[n], managed.managed_dependencies(n), error});
  }
  return rows;
}

std::vector<DriftRow> drift_rows() {
  ManagedViews managed(load_registry());
  std::vector<DriftRow> structural = find_drift(managed);
  bool in_recovery = pg_call([] { return RecoveryInProgress(); });
  if (in_recovery) return structural;  // the change log is not replicated
  MatviewSet set(managed);
  std::vector<MatviewSet::Staleness> stale = set.staleness();
  // Each view's rows together, in the registry's order: its structural drift, then stale.
  std::vector<DriftRow> rows;
  std::size_t next = 0;
  for (const ManagedView& view : managed.views()) {
    while (next < structural.size() && structural[next].view_name == view.display_name) {
      rows.push_back(structural[next++]);
    }
    auto node = set.find(view.display_name);
    // Drift is what is known to differ: sources changed (or cannot be tracked) since the
    // last refresh. A view never refreshed by pg_viewmgr (adopted) or unpopulated is stale in
    // viewmgr.status, but unpopulated has a drift of its own where data was declared.
    if (node.has_value() && stale[*node].stale && stale[*node].reason != "not populated" &&
        stale[*node].reason != "no refresh recorded yet") {
      rows.push_back({view.display_name, "stale", stale[*node].reason});
    }
  }
  while (next < structural.size()) rows.push_back(structural[next++]);
  return rows;
}

std::string graph_text(const std::string& format) {
  if (format != "dot") {
    throw Error(sqlstate::kInvalidParameterValue, "unsupported graph format \"" + format + "\"",
                {}, "Supported: dot.");
  }
  ManagedViews managed(load_registry());
  std::vector<std::string> states = current_states(managed);
  std::vector<DotNodeStyle> styles;
  for (NodeId n = 0; n < managed.views().size(); n++) {
    styles.push_back({managed.views()[n].materialized, states[n]});
  }
  return render_dot(managed.graph(), styles);
}

}  // namespace viewmgr::pg
