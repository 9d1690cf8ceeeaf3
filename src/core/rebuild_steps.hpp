// The pure decisions of a lossless rebuild: the order of its steps over managed and
// unmanaged views together, which materialized views can be built side by side, how drops
// are batched, the names used for a side-by-side build, and the options a rebuilt view
// gets. The server side (src/sync/rebuild.cpp) only reads catalogs and runs statements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/dependency_graph.hpp"
#include "core/rebuild_plan.hpp"

namespace viewmgr {

struct RebuildStep {
  std::string name;  // display name
  bool managed = false;
  bool materialized = false;
  Action action = Action::kRebuilt;
  std::string reason;
};

// Puts `steps` in dependency order. `edges` are (dependent, dependency) indexes into
// `steps`; the graph of the ordered steps (node ids = positions in the result) is left in
// `graph`. Throws (42P17) on a cycle.
std::vector<RebuildStep> order_rebuild_steps(const std::vector<RebuildStep>& steps,
                                             const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                                             DependencyGraph* graph);

// For each ordered step: can it be built side by side (a new version under another name
// before anything is dropped)? Only rebuilt managed materialized views whose dependencies
// all stay as they are, and only when `allowed` (not while base tables change underneath).
std::vector<bool> side_by_side_steps(const std::vector<RebuildStep>& ordered,
                                     const DependencyGraph& graph, bool allowed);

// Relations to drop, in drop order (dependents first), as few DROP statements as possible:
// one per run of the same kind (a DROP naming several relations handles the dependencies
// among them; later statements only hold what earlier ones depended on).
struct DropBatch {
  bool materialized = false;
  std::vector<std::string> names;
};
std::vector<DropBatch> batch_drops(const std::vector<std::pair<std::string, bool>>& in_drop_order);

// The temporary name of a side-by-side build of the relation `oid` (attempt 0, 1, ... until
// one is free): pg_viewmgr_new_<oid>[_<attempt>].
std::string side_by_side_name(std::uint32_t oid, int attempt);

// The name an index built on the temporary relation takes after the swap: PostgreSQL named
// it after the temporary relation, so that prefix becomes the view's name (cut to
// `max_bytes`); names that do not start with it are kept.
std::string final_index_name(const std::string& built, const std::string& temporary,
                             const std::string& view_name, std::size_t max_bytes);

// "UNIQUE USING btree (a)" from "CREATE UNIQUE INDEX name ON schema.rel USING btree (a)",
// where `on` is the relation as the definition names it: the specification register()
// takes. Throws (XX000) if the definition does not have that shape.
std::string index_spec_from_definition(const std::string& definition, const std::string& on);

// The options a rebuilt plain view is created with: the declared ones, plus any the live
// view has that were set by hand (neither declared at the last build nor declared now, by
// option name). Options the last build declared but the registry no longer does go away.
std::vector<std::string> view_options_to_build(const std::vector<std::string>& declared,
                                               const std::vector<std::string>& last_built,
                                               const std::vector<std::string>& live);

}  // namespace viewmgr
