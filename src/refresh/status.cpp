#include "refresh/status.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/graph_dot.hpp"
#include "pg/boundary.hpp"
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
      states[n] = "stale";
    }
  }
  return states;
}

std::vector<StatusRow> status_rows(ManagedViews& managed) {
  std::vector<std::string> states = current_states(managed);
  std::vector<StatusRow> rows;
  for (NodeId n = 0; n < managed.views().size(); n++) {
    rows.push_back({&managed.views()[n], states[n], managed.managed_dependencies(n)});
  }
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
