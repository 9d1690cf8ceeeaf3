// Following renames PostgreSQL made. A view's stored query points at objects by oid, so a
// base table, column, function or schema renamed (by hand or through run_with_dependents)
// leaves the view reading the same objects under new names, while the registered text names
// the old ones; and a managed view renamed or moved (RENAME TO, SET SCHEMA, ALTER SCHEMA ...
// RENAME) is still the relation pg_viewmgr built, under another name. The registry follows
// both, with no DDL, at the DDL itself (the event trigger viewmgr_follow_renames), so that
// register(), declare(), drift(), status and sync() see the new names at once and sync() has
// nothing to deparse on its unchanged path.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/dependency_graph.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

// Registrations whose relation last built (same oid, its rule row untouched since the build)
// stands under another name while the registered name is free: the registration moves to
// that name (with its refresh state, and every reads / depends_on naming it), with a history
// row. A move onto a name registered for another view is refused (42710, naming both): the
// registry cannot hold two declarations of one name. Cheap (one catalog join, no deparse).
// Returns the new display names. With `renamed`, only the registrations of those relations
// or of relations in those schemas (what one statement renamed); without, every one.
struct RenamedObjects {
  std::vector<Oid> relations;
  std::vector<Oid> schemas;
};
std::vector<std::string> follow_moved_registrations(const std::optional<RenamedObjects>& renamed = std::nullopt);

// For each built view in `nodes` (all when nullopt) that still is the relation last built,
// with its rule row untouched since (so nobody replaced its query), but whose query now
// deparses differently: the objects it names were renamed. Its definition (registered and
// as built), canonical form and reads become those of the live query, in memory and in the
// registry, with a history row. A materialized view's built indexes follow their renamed
// column or relation (matched by index name), and its index specifications too when a
// column they name was renamed. A view reading a managed view that is missing under its name
// is left alone. Returns the views followed.
std::vector<std::string> follow_renames(ManagedViews& managed,
                                        const std::optional<std::vector<NodeId>>& nodes = std::nullopt);

// The event trigger (ddl_command_end of ALTER ... RENAME / SET SCHEMA): moves registrations
// and follows the views whose query depends on what was renamed (every view for a schema).
void follow_renames_after_ddl(FunctionCallInfo fcinfo);

// While alive, the event trigger does nothing: pg_viewmgr's own renames (a rebuilt
// materialized view swapped in under its name, a view renamed back) and run_with_dependents'
// rename scripts, which follow explicitly afterwards.
class RenameFollowPause {
 public:
  RenameFollowPause();
  ~RenameFollowPause();
  RenameFollowPause(const RenameFollowPause&) = delete;
  RenameFollowPause& operator=(const RenameFollowPause&) = delete;

 private:
  bool was_paused_;
};

}  // namespace viewmgr::pg
