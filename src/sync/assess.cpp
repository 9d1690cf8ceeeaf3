#include "sync/assess.hpp"

#include <algorithm>

#include "core/build_spec.hpp"
#include "core/error.hpp"
#include "pg/boundary.hpp"
#include "pg/scopes.hpp"
#include "sync/definition.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/acl.h"
}

namespace viewmgr::pg {

std::optional<std::string> desired_canonical(ManagedView& view) {
  if (view.analyzed_canonical.has_value()) return view.analyzed_canonical;
  auto analyzed = try_analyze_definition(view.definition, view.search_path);
  if (!analyzed.has_value()) return std::nullopt;
  view.analyzed_canonical = analyzed->canonical;
  return view.analyzed_canonical;
}

std::optional<bool> definition_changed(ManagedView& view) {
  if (view.built_definition == view.definition && view.built_search_path == view.search_path) {
    return false;
  }
  auto canonical = desired_canonical(view);
  if (!canonical.has_value()) return std::nullopt;
  return *canonical != view.built_viewdef.value_or("");
}

std::string definition_drift(const ManagedView& view, const LiveRelation& live) {
  if (!view.built_viewdef.has_value()) return {};
  // Fast path: the very relation that was built, its rule row untouched since.
  if (live.oid == view.built_relid && TransactionIdIsValid(view.built_rule_xmin) &&
      rule_xmin(live.oid) == view.built_rule_xmin) {
    return {};
  }
  if (live_canonical_definition(live.oid) != *view.built_viewdef) {
    return "definition changed outside pg_viewmgr";
  }
  return {};
}

std::string options_drift(const ManagedView& view, const LiveRelation& live) {
  // Only views that declare options pay for the catalog read.
  if (view.materialized || view.view_options.empty() || !view.is_built()) return {};
  // Those the last build applied: a registration that changed them is a pending change,
  // not drift.
  std::vector<std::string> live_options = live_view_options(live.oid);
  std::string gone;
  for (const auto& option : view.built_view_options) {
    if (std::find(live_options.begin(), live_options.end(), option) == live_options.end()) {
      gone += (gone.empty() ? "" : ", ") + option;
    }
  }
  if (gone.empty()) return {};
  return "view options changed outside pg_viewmgr: " + gone + " not set";
}

bool needs_view_ddl(ManagedView& view, const std::optional<LiveRelation>& live) {
  if (!live.has_value() || !view.is_built()) return true;
  if (!definition_drift(view, *live).empty()) return true;
  if (!options_drift(view, *live).empty()) return true;
  SpecChanges changes = compare_specs(view.spec(), view.built_spec());
  if (changes.view_options_changed()) return true;
  if (!changes.definition_text) return false;
  auto changed = definition_changed(view);
  return !changed.has_value() || *changed;
}

namespace {

void require_may_take_over(const ManagedView& view, const LiveRelation& live) {
  Oid registrant = view.owner;
  Oid live_owner = live.owner;
  bool allowed = role_exists(registrant) && pg_call([&] { return has_privs_of_role(registrant, live_owner); });
  if (allowed) return;
  std::string owner = describe_role(live_owner);
  std::string registering = describe_role(registrant);
  throw Error(sqlstate::kInsufficientPrivilege,
              "cannot take " + view.display_name + " under management: it is owned by " + owner +
                  ", but " + registering + " registered it",
              "The " + view.kind() + " was created by " + owner +
                  " after the registration; building it would run the definition of " + registering +
                  " with the rights of " + owner + ".",
              "Drop or rename the " + view.kind() + " of " + owner + ", or unregister " +
                  view.display_name + ".");
}

// Replace or rebuild, for a change that needs CREATE [OR REPLACE] of a live view.
ViewNeed replace_or_rebuild(ManagedView& view, const LiveRelation& live, std::string reason) {
  if (view.materialized) return {Action::kRebuilt, reason, true};
  auto analyzed = try_analyze_definition(view.definition, view.search_path);
  if (!analyzed.has_value()) {
    return {Action::kRebuilt, reason + "; the new definition needs its sources rebuilt first", true};
  }
  std::string why;
  if (!can_replace_columns(live_columns(live.oid), analyzed->columns, &why)) {
    return {Action::kRebuilt, reason + "; " + why, true};
  }
  return {Action::kReplaced, reason, true};
}

std::string joined(std::string first, const std::string& second) {
  if (second.empty()) return first;
  return first.empty() ? second : first + "; " + second;
}

}  // namespace

ViewNeed assess(ManagedView& view) {
  auto live = live_relation(view.name);
  if (!live.has_value()) {
    if (auto renamed = renamed_to(view)) {
      return {Action::kReplaced, "renamed by hand to " + renamed->display() + "; renamed back", true};
    }
    return {Action::kCreated, view.is_built() ? "missing" : "not built yet", false};
  }
  if (live->relkind != RELKIND_VIEW && live->relkind != RELKIND_MATVIEW) {
    throw Error(sqlstate::kWrongObjectType,
                view.display_name + " is a " + relkind_name(live->relkind) + ", not a view",
                "pg_viewmgr never drops objects it did not create.",
                "Rename or drop the " + std::string(relkind_name(live->relkind)) +
                    ", or unregister the view.");
  }
  bool live_materialized = live->relkind == RELKIND_MATVIEW;
  if (live_materialized != view.materialized) {
    return {Action::kRebuilt,
            std::string("kind changes from ") + relkind_name(live->relkind) + " to " + view.kind(),
            true};
  }
  std::string drift = definition_drift(view, *live);
  if (!drift.empty()) return replace_or_rebuild(view, *live, drift);
  std::string lost_options = options_drift(view, *live);
  if (!lost_options.empty()) return replace_or_rebuild(view, *live, lost_options);

  if (!view.is_built()) {
    // A view of that name appeared after the registration. It is built as its owner (who
    // keeps it), which is only right when the registering role could act as that owner:
    // otherwise the registered query would run with another role's rights.
    require_may_take_over(view, *live);
    // Registered over an existing view: adopt it in place when it already matches.
    auto canonical = desired_canonical(view);
    if (!canonical.has_value()) return {Action::kRebuilt, "its sources are being rebuilt", true};
    if (live_canonical_definition(live->oid) == *canonical && !view.materialized) {
      return {Action::kReplaced, "taken under management", true};
    }
    return replace_or_rebuild(view, *live, "taken under management with a new definition");
  }

  SpecChanges changes = compare_specs(view.spec(), view.built_spec());
  std::string other_changes = describe_changes(changes);
  if (changes.definition_text) {
    auto changed = definition_changed(view);
    if (!changed.has_value()) return {Action::kRebuilt, "its sources are being rebuilt", true};
    if (*changed) return replace_or_rebuild(view, *live, joined("definition changed", other_changes));
  }
  if (changes.view_options_changed()) return replace_or_rebuild(view, *live, other_changes);
  std::string repairs = other_changes;
  std::vector<std::string> missing = missing_built_indexes(view, live->oid);
  if (!missing.empty()) repairs = joined(repairs, "index missing: " + missing.front());
  // Registered WITH DATA but emptied by hand (REFRESH ... WITH NO DATA): filled again.
  if (view.materialized && view.with_data && !live->populated) {
    repairs = joined(repairs, "unpopulated; refilled");
  }
  if (!repairs.empty()) return {Action::kReplaced, repairs, true};
  return {Action::kUnchanged, "", true};
}

std::vector<DriftRow> find_drift(ManagedViews& managed) {
  std::vector<DriftRow> rows;
  for (NodeId node = 0; node < managed.views().size(); node++) {
    ManagedView& view = managed.view(node);
    auto live = live_relation(view.name);
    if (!live.has_value()) {
      std::string detail = view.is_built()
                               ? "the " + view.kind() + " does not exist (dropped by hand?)"
                               : "registered but not built yet; run viewmgr.sync()";
      if (auto renamed = renamed_to(view)) {
        detail = "renamed by hand to " + renamed->display() + "; viewmgr.sync() renames it back";
      }
      rows.push_back({view.display_name, "missing", detail});
      continue;
    }
    bool live_materialized = live->relkind == RELKIND_MATVIEW;
    if ((live->relkind != RELKIND_VIEW && !live_materialized) ||
        live_materialized != view.materialized) {
      rows.push_back({view.display_name, "kind",
                      std::string("registered as ") + view.kind() + ", but it is a " +
                          relkind_name(live->relkind)});
      continue;
    }
    SpecChanges changes = compare_specs(view.spec(), view.built_spec());
    std::string drift = definition_drift(view, *live);
    if (drift.empty()) drift = options_drift(view, *live);
    if (!drift.empty()) {
      rows.push_back({view.display_name, "definition", drift});
    } else if (!view.is_built()) {
      rows.push_back({view.display_name, "definition",
                      "registered over an existing view, not applied yet; run viewmgr.sync()"});
    } else {
      bool pending = changes.view_options_changed();
      if (changes.definition_text) {
        auto changed = definition_changed(view);
        pending = pending || !changed.has_value() || *changed;
      }
      if (pending) {
        rows.push_back({view.display_name, "definition",
                        "the registered definition is not applied yet; run viewmgr.sync()"});
      }
    }
    if (view.materialized) {
      std::vector<std::string> missing = missing_built_indexes(view, live->oid);
      if (!missing.empty()) {
        rows.push_back({view.display_name, "indexes", "missing or changed: " + missing.front()});
      } else if (view.is_built() &&
                 (!changes.indexes_added.empty() || !changes.indexes_removed.empty())) {
        rows.push_back({view.display_name, "indexes",
                        "the registered indexes are not applied yet; run viewmgr.sync()"});
      }
      if (view.with_data && !live->populated) {
        rows.push_back({view.display_name, "unpopulated",
                        "registered WITH DATA but holds no data; refresh it"});
      }
    }
  }
  return rows;
}

std::vector<std::string> view_states(ManagedViews& managed) {
  std::vector<std::string> states(managed.views().size(), "fresh");
  // Most telling first: missing, then drifted, then failed, then unpopulated.
  auto rank = [](const std::string& state) {
    if (state == "missing") return 4;
    if (state == "drifted") return 3;
    if (state == "failed") return 2;
    if (state == "unpopulated") return 1;
    return 0;
  };
  for (NodeId node = 0; node < managed.views().size(); node++) {
    if (managed.views()[node].last_error.has_value()) states[node] = "failed";
  }
  for (const auto& row : find_drift(managed)) {
    auto node = managed.graph().find(row.view_name);
    if (!node.has_value()) continue;
    std::string state = row.drift == "missing"       ? "missing"
                        : row.drift == "unpopulated" ? "unpopulated"
                                                     : "drifted";
    if (rank(state) > rank(states[*node])) states[*node] = state;
  }
  return states;
}

}  // namespace viewmgr::pg
