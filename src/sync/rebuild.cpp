#include "sync/rebuild.hpp"

#include <unordered_map>

#include "incremental/incremental_view.hpp"
#include "pg/boundary.hpp"
#include "pg/lock_holders.hpp"
#include "pg/spi.hpp"
#include "refresh/change_tracking.hpp"
#include "sync/builder.hpp"
#include "sync/follow_renames.hpp"
#include "sync/name_bindings.hpp"

extern "C" {
#include "storage/proc.h"
}

namespace viewmgr::pg {

Rebuild Rebuild::prepare(ManagedViews& managed, const RebuildPlan& plan,
                         const std::vector<Oid>& extra_roots) {
  // Side by side only when no base table changes underneath (run_with_dependents).
  Rebuild rebuild(managed, extra_roots.empty());
  for (const auto& planned : plan.builds) {
    const ManagedView& view = managed.views()[planned.node];
    rebuild.step_of_[view.display_name] = rebuild.steps_.size();
    // An incremental view's table is never built side by side (its capture objects are
    // named after the table that stands).
    rebuild.steps_.push_back({{view.display_name, true, view.materialized && !view.incremental, planned.action,
                               planned.reason},
                              planned.node});
  }
  std::vector<Oid> roots = extra_roots;
  std::vector<Oid> dropped;
  for (NodeId node : plan.drops) {
    Oid oid = relation_oid(managed.views()[node].name);
    if (!OidIsValid(oid)) continue;
    roots.push_back(oid);
    dropped.push_back(oid);
  }
  DependentViews dependents = dependent_view_closure(roots);
  std::vector<Oid> to_save = dropped;
  to_save.insert(to_save.end(), dependents.views.begin(), dependents.views.end());
  std::vector<SavedRelation> saved_all = save_relations(to_save);
  for (std::size_t i = 0; i < saved_all.size(); i++) {
    if (i >= dropped.size()) rebuild.add_dependent(saved_all[i]);
    std::string key = saved_all[i].display_name;
    rebuild.saved_.emplace(key, std::move(saved_all[i]));
  }
  rebuild.order_steps(dependents);
  return rebuild;
}

void Rebuild::add_dependent(const SavedRelation& saved) {
  auto planned = step_of_.find(saved.display_name);
  if (planned != step_of_.end()) {
    Step& step = steps_[planned->second];
    if (step.step.action != Action::kRebuilt) {
      step.step.action = Action::kRebuilt;
      step.step.reason = "it depends on a view that is rebuilt";
    }
    return;
  }
  // A managed view outside what was loaded (register() loads a neighbourhood) that reads
  // a rebuilt one through something the registry does not record is loaded now.
  auto node = managed_.find_or_load(saved.name);
  step_of_[saved.display_name] = steps_.size();
  bool materialized = node.has_value()
                          ? managed_.views()[*node].materialized && !managed_.views()[*node].incremental
                          : saved.materialized();
  steps_.push_back({{saved.display_name, node.has_value(), materialized, Action::kRebuilt,
                     node.has_value() ? "it depends on a view that is rebuilt"
                                      : "unmanaged dependent of a rebuilt view"},
                    node});
}

void Rebuild::order_steps(const DependentViews& dependents) {
  std::unordered_map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < steps_.size(); i++) position[steps_[i].step.name] = i;
  std::unordered_map<Oid, std::size_t> position_of_oid;
  for (const auto& [display, saved] : saved_) {
    auto it = position.find(display);
    if (it != position.end()) position_of_oid[saved.oid] = it->second;
  }
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (std::size_t i = 0; i < steps_.size(); i++) {
    if (!steps_[i].managed.has_value()) continue;
    for (NodeId dep : managed_.graph().dependencies(*steps_[i].managed)) {
      auto to = position.find(managed_.graph().name(dep));
      if (to != position.end()) edges.emplace_back(i, to->second);
    }
  }
  for (const auto& [dependent, dependency] : dependents.edges) {
    auto from = position_of_oid.find(dependent);
    auto to = position_of_oid.find(dependency);
    if (from != position_of_oid.end() && to != position_of_oid.end()) {
      edges.emplace_back(from->second, to->second);
    }
  }
  std::vector<RebuildStep> plain;
  for (const auto& step : steps_) plain.push_back(step.step);
  std::vector<RebuildStep> ordered = order_rebuild_steps(plain, edges, &graph_);
  std::unordered_map<std::string, std::optional<NodeId>> managed_node;
  for (const auto& step : steps_) managed_node[step.step.name] = step.managed;
  steps_.clear();
  for (auto& step : ordered) {
    std::optional<NodeId> node = managed_node[step.name];
    steps_.push_back({std::move(step), node});
  }
}

const SavedRelation* Rebuild::saved_of(const std::string& display_name) const {
  auto it = saved_.find(display_name);
  return it == saved_.end() ? nullptr : &it->second;
}

void Rebuild::run(const std::function<void()>& between) {
  // Before anything is built or dropped: a rebuild must not bind to other relations, and
  // what a standing view binds to is what its new version is checked against once built
  // (name_bindings.hpp).
  for (const auto& step : steps_) {
    if (step.managed.has_value() && step.step.action != Action::kUnchanged) {
      check_name_bindings(managed_.views()[*step.managed]);
      take_standing_bindings(managed_.view(*step.managed));
    }
  }
  Builder builder(managed_);
  // pg_viewmgr's own renames (a materialized view swapped in, a view renamed back) are
  // recorded by the builder; the registry does not follow them.
  RenameFollowPause no_following;
  // pg_viewmgr's own DDL logs the changes it makes (Builder); the user's DDL in between is
  // seen by the event trigger as usual.
  std::optional<DdlTrackingPause> paused;
  paused.emplace();
  std::vector<RebuildStep> plain;
  for (const auto& step : steps_) plain.push_back(step.step);
  std::vector<bool> side_by_side = side_by_side_steps(plain, graph_, side_by_side_);
  // Every refusal of who may build what comes before anything is built, dropped or run.
  // All of them at once: a caller told of one view at a time would need as many attempts.
  std::vector<Error> refusals;
  for (const auto& step : steps_) {
    try {
      builder.check_may_build(step.managed, step.step.action, saved_of(step.step.name));
    } catch (Error& refusal) {
      refusals.push_back(refusal);
    }
  }
  if (!refusals.empty()) {
    const Error& first = refusals.front();
    std::string detail = first.detail();
    if (refusals.size() > 1) {
      detail += (detail.empty() ? "" : " ") + std::to_string(refusals.size() - 1) +
                " more would be refused too: ";
      for (std::size_t i = 1; i < refusals.size(); i++) {
        detail += (i > 1 ? "; " : "") + std::string(refusals[i].what());
      }
      detail += ".";
    }
    throw Error(first.sqlstate(), first.what(), detail, first.hint());
  }
  note_lock_holders();
  // Materialized views whose sources stay as they are get their new version built before
  // anything is dropped; the old one stays readable until the swap.
  std::map<std::string, Builder::Prebuilt> prebuilt;
  for (std::size_t i = 0; i < steps_.size(); i++) {
    if (side_by_side[i]) {
      try {
        prebuilt.emplace(steps_[i].step.name,
                         builder.prebuild(*steps_[i].managed, saved_of(steps_[i].step.name)));
      } catch (PgError& error) {
        prefix_message(error, "cannot build " + steps_[i].step.name);
        throw;
      }
    }
  }
  try {
    drop_all();
  } catch (PgError& error) {
    if (error.sqlerrcode() == ERRCODE_LOCK_NOT_AVAILABLE) {
      std::string locked;
      for (const auto& [name, holders] : lock_holders_) locked += (locked.empty() ? "" : ", ") + name;
      prefix_message(error, "cannot rebuild " + (locked.empty() ? std::string("the dependent views") : locked));
      explain_lock_timeout(error, lock_holders_.empty() ? std::string() : lock_holders_.begin()->first);
    }
    throw;
  }
  paused.reset();
  between();
  paused.emplace();
  for (const auto& step : steps_) {
    if (step.step.action == Action::kUnchanged) continue;
    const SavedRelation* before = saved_of(step.step.name);
    try {
      auto pre = prebuilt.find(step.step.name);
      if (pre != prebuilt.end()) {
        builder.swap_in(*step.managed, pre->second, before);
      } else if (step.managed.has_value()) {
        builder.build(*step.managed, step.step.action, before);
      } else {
        builder.recreate_unmanaged(*before);
      }
    } catch (PgError& error) {
      explain_lock_timeout(error, step.step.name);
      if (step.managed.has_value()) {
        prefix_message(error, "cannot build " + step.step.name);
      } else {
        prefix_message(error, "cannot rebuild " + step.step.name +
                                  ", a view pg_viewmgr does not manage that depends on what it rebuilds");
        set_hint_if_missing(error, "pg_viewmgr recreates such views as they were. Change or drop " +
                                       step.step.name + " first, or bring it under management with "
                                       "viewmgr.adopt() and declare its new definition with this change.");
      }
      throw;
    }
  }
  builder.flush_history();
}

void Rebuild::note_lock_holders() {
  // Only where a lock wait can time out; one look at the lock table for the whole rebuild.
  if (pg_call([] { return LockTimeout; }) <= 0) return;
  std::vector<Oid> relids;
  std::map<Oid, std::string> name_of;
  for (const auto& step : steps_) {
    const SavedRelation* saved = saved_of(step.step.name);
    Oid relid = saved != nullptr ? saved->oid
                : step.managed.has_value() ? relation_oid(managed_.views()[*step.managed].name)
                                           : InvalidOid;
    if (!OidIsValid(relid)) continue;
    relids.push_back(relid);
    name_of[relid] = step.step.name;
  }
  for (const auto& [relid, holders] : relations_lock_holders(relids)) lock_holders_[name_of[relid]] = holders;
}

void Rebuild::explain_lock_timeout(PgError& error, const std::string& view) const {
  if (error.sqlerrcode() != ERRCODE_LOCK_NOT_AVAILABLE) return;
  auto it = lock_holders_.find(view);
  if (it != lock_holders_.end()) set_detail_if_missing(error, view + " was locked by " + it->second + ".");
  set_hint_if_missing(error, "Wait for that transaction to end, or raise lock_timeout; nothing was changed.");
}

// Real DROP statements, so event triggers and permission checks see them as usual. The
// table of an incremental view goes on its own, in its place in the order (its capture
// objects go with it).
void Rebuild::drop_all() {
  std::vector<std::pair<std::string, bool>> drops;
  auto drop_batched = [&] {
    for (const auto& batch : batch_drops(drops)) {
      std::string names;
      for (const auto& name : batch.names) names += (names.empty() ? "" : ", ") + name;
      spi_execute(std::string(batch.materialized ? "DROP MATERIALIZED VIEW " : "DROP VIEW ") + names);
    }
    drops.clear();
  };
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    const SavedRelation* saved = saved_of(it->step.name);
    if (saved == nullptr) continue;
    if (saved->relkind == RELKIND_RELATION) {
      drop_batched();
      drop_managed_relation(saved->oid, it->step.name);
    } else {
      drops.emplace_back(it->step.name, saved->materialized());
    }
  }
  drop_batched();
}

}  // namespace viewmgr::pg
