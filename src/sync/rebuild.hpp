// Running a rebuild plan without losing anything: every view that depends on what is
// dropped, managed or not and at any depth, is saved, dropped and recreated in dependency
// order with its grants, comments, options and indexes.
#pragma once
#include "pg/postgres.hpp"

#include <functional>
#include <map>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include "core/rebuild_plan.hpp"
#include "core/rebuild_steps.hpp"
#include "sync/managed_views.hpp"
#include "sync/saved_relation.hpp"

namespace viewmgr::pg {

class Rebuild {
 public:
  struct Step {
    RebuildStep step;
    std::optional<NodeId> managed;  // nullopt: a view pg_viewmgr does not manage
  };

  // Reads what the rebuild needs from the catalogs: the relations `plan` drops, every view
  // depending on them or on `extra_roots` (relations that are not dropped but whose
  // dependents must be: the tables run_with_dependents changes), and what each of those has.
  static Rebuild prepare(ManagedViews& managed, const RebuildPlan& plan,
                         const std::vector<Oid>& extra_roots);

  const std::vector<Step>& steps() const { return steps_; }

  // Builds side by side what can be, drops what is rebuilt (dependents first), runs
  // `between`, then builds everything in dependency order.
  void run(const std::function<void()>& between);

 private:
  Rebuild(ManagedViews& managed, bool side_by_side) : managed_(managed), side_by_side_(side_by_side) {}

  // Adds a saved dependent to the steps (or turns its step into a rebuild).
  void add_dependent(const SavedRelation& saved);
  // Puts the steps in dependency order over managed and unmanaged views together.
  void order_steps(const DependentViews& dependents);
  void drop_all();
  const SavedRelation* saved_of(const std::string& display_name) const;

  ManagedViews& managed_;
  bool side_by_side_;
  std::vector<Step> steps_;
  std::unordered_map<std::string, std::size_t> step_of_;  // by display name, until ordered
  std::map<std::string, SavedRelation> saved_;  // by display name
  // With a lock_timeout set: who held a lock on the views to drop or build when the rebuild
  // began, by display name, for the error should a lock wait time out.
  std::map<std::string, std::string> lock_holders_;
  void note_lock_holders();
  void explain_lock_timeout(PgError& error, const std::string& view) const;
  DependencyGraph graph_;                        // of the ordered steps
};

}  // namespace viewmgr::pg
