// Judging a managed view against the catalogs: what sync() must do for it, what drift()
// reports and the state viewmgr.status shows. Reads only; nothing here runs DDL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/rebuild_plan.hpp"
#include "sync/live_catalog.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

struct DriftRow {
  std::string view_name;
  std::string drift;  // missing, definition, kind, indexes, unpopulated
  std::string detail;
};

// The canonical form of the registered definition, analysed once per call; nullopt while
// what it reads is missing.
std::optional<std::string> desired_canonical(ManagedView& view);

// Whether the registered definition means something else than the one last built: the
// same text and search_path is no change (no analysis); another text is compared as
// PostgreSQL analyses it. nullopt when it cannot be analysed yet.
std::optional<bool> definition_changed(ManagedView& view);

// Why the live object differs from what was last built ("definition changed outside
// pg_viewmgr"), or empty.
std::string definition_drift(const ManagedView& view, const LiveRelation& live);

// Declared view options the live view no longer carries (reset or changed by hand); empty
// when none.
std::string options_drift(const ManagedView& view, const LiveRelation& live);

// Whether building `view` over `live` takes CREATE [OR REPLACE] of the view itself (rather
// than only index or comment changes).
bool needs_view_ddl(ManagedView& view, const std::optional<LiveRelation>& live);

// What `view` needs on its own, judged against the catalogs.
ViewNeed assess(ManagedView& view);

std::vector<DriftRow> find_drift(ManagedViews& managed);

// viewmgr.status's state for each view from the registry and the catalogs (indexed by
// NodeId): fresh, missing, drifted, unpopulated, failed. The refresh engine adds stale and
// refreshing.
std::vector<std::string> view_states(ManagedViews& managed);

}  // namespace viewmgr::pg
