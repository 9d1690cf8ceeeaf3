// sync(), run_with_dependents() and adopt(): making the database match the registry, in
// dependency order, through the pure plan of src/core/rebuild_plan.hpp.
#pragma once
#include "pg/postgres.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sync/assess.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

struct SyncRow {
  std::string view_name;
  std::string action;
  std::string reason;
};

// sync(): `scope` (NodeIds) limits the work, e.g. to what register() touches.
std::vector<SyncRow> sync_views(ManagedViews& managed, bool dry_run,
                                const std::optional<std::vector<NodeId>>& scope = std::nullopt);

// run_with_dependents(): saves and drops every view depending on `roots` (managed or not,
// at any depth), runs `between`, then recreates them in dependency order with everything
// they had. Returns the recreated views in build order.
std::vector<SyncRow> rebuild_dependents(ManagedViews& managed, const std::vector<Oid>& roots,
                                        const std::function<void()>& between);

// adopt(): registers existing views as they are, without any DDL; returns how many were
// taken under management (views already managed are skipped). Checks that each is a view
// the caller owns.
int adopt_views(ManagedViews& managed, const std::vector<Oid>& relids);

}  // namespace viewmgr::pg

namespace viewmgr::pg {

// sync(dry_run): the whole registry.
std::vector<SyncRow> sync_registry(bool dry_run);

// dependency_order(): every managed view in build order.
struct OrderRow {
  int step;
  int level;
  std::string view_name;
  std::vector<std::string> depends_on;
};
std::vector<OrderRow> dependency_order_rows();

// run_with_dependents(ddl): the relations `ddl` changes, resolved with the caller's
// search_path, have their dependent views saved, dropped and recreated around it.
std::vector<SyncRow> run_ddl_with_dependents(const std::string& ddl, const std::string& search_path);

// adopt(view_name) or adopt(schema_name => ...): exactly one of them is given.
int adopt(const std::optional<std::string>& view_name, const std::optional<std::string>& schema_name,
          const std::string& search_path);

}  // namespace viewmgr::pg
