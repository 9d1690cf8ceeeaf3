// Following renames PostgreSQL made: a view's stored query points at objects by oid, so a
// base table, column or schema renamed (by hand or through run_with_dependents) leaves the
// view reading the same objects under new names, while the registered text names the old
// ones. The registry adopts the live view's deparsed query as its definition (no DDL), so
// rebuilds, sync() and drift() keep working.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/dependency_graph.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

// For each built view in `nodes` (all when nullopt) that still is the relation last built,
// with its rule row untouched since (so nobody replaced its query), but whose query now
// deparses differently: the objects it names were renamed. Its definition (registered and
// as built), canonical form and reads become those of the live query, in memory and in the
// registry, with a history row. A view reading a managed view renamed by hand is left
// alone: that rename is drift, which sync() undoes. Returns the views followed.
// Before the registry is loaded: registrations whose schema no longer exists by name while
// the relation last built stands, under its name, in another schema (ALTER SCHEMA ... RENAME
// of the schema holding them) move with it: the schema is the same object, and renaming the
// view back is impossible. Their refresh state and every reads / depends_on naming them
// follow too.
void follow_renamed_schemas();

std::vector<std::string> follow_renames(ManagedViews& managed,
                                        const std::optional<std::vector<NodeId>>& nodes = std::nullopt);

}  // namespace viewmgr::pg
