#include "sync/declare.hpp"

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"
#include "incremental/incremental_view.hpp"
#include "incremental/query_shape.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"
#include "registry/history.hpp"
#include "registry/registry.hpp"
#include "sync/definition.hpp"
#include "sync/managed_views.hpp"
#include "sync/registration.hpp"
#include "sync/saved_relation.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

namespace {

constexpr const char* kKeys =
    "view_name, definition, materialized, depends_on, indexes, with_data, comment, "
    "view_options, incremental";

// One declared view as the JSON gave it, and where it stood in the array.
struct Declared {
  int position = 0;  // 1-based
  Registration registration;
  bool has_view_name = false;
  bool has_definition = false;
};

std::string where(int position) { return "views[" + std::to_string(position) + "]"; }

[[noreturn]] void bad_type(int position, const std::string& key, const char* wanted,
                           const std::string& got) {
  throw Error(sqlstate::kInvalidParameterValue,
              where(position) + "." + key + " must be " + wanted + ", not " + got);
}

// Every element and key of the array, checked in order: the elements as they stand, each
// one's keys as ORDER BY sorts them (jsonb_to_value), so that of several faults the same
// one is reported every time.
std::vector<Declared> read_declarations(const JsonValue& views) {
  using Type = JsonValue::Type;
  if (views.type != Type::kArray) {
    throw Error(sqlstate::kInvalidParameterValue,
                std::string("views must be a JSON array, not ") + json_type_name(views.type), {},
                "Give an array of objects, one per view, with register()'s argument names as keys.");
  }
  std::vector<Declared> out;
  out.reserve(views.items.size());
  for (const JsonValue& element : views.items) {
    int position = static_cast<int>(out.size()) + 1;
    if (element.type != Type::kObject) {
      throw Error(sqlstate::kInvalidParameterValue,
                  where(position) + " must be a JSON object, not " + json_type_name(element.type), {},
                  std::string("Keys: ") + kKeys + ".");
    }
    out.push_back({});
    Declared& d = out.back();
    d.position = position;
    Registration& r = d.registration;
    for (const auto& [key, value] : element.members) {
      auto not_null = [&] {
        if (value.type == Type::kNull) {
          throw Error(sqlstate::kNullValueNotAllowed, where(position) + "." + key + " must not be null");
        }
      };
      auto text = [&]() -> std::string {
        not_null();
        if (value.type != Type::kString) bad_type(position, key, "a string", json_type_name(value.type));
        return value.text;
      };
      auto boolean = [&]() -> bool {
        not_null();
        if (value.type != Type::kBoolean) bad_type(position, key, "true or false", json_type_name(value.type));
        return value.text == "true";
      };
      auto strings = [&]() -> std::vector<std::string> {
        not_null();
        if (value.type != Type::kArray) {
          bad_type(position, key, "an array of strings", json_type_name(value.type));
        }
        std::vector<std::string> items;
        items.reserve(value.items.size());
        for (const JsonValue& item : value.items) {
          if (item.type != Type::kString) {
            bad_type(position, key, "an array of strings", "an array of other values");
          }
          items.push_back(item.text);
        }
        return items;
      };
      if (key == "view_name") {
        r.view_name = text();
        d.has_view_name = true;
      } else if (key == "definition") {
        r.definition = text();
        d.has_definition = true;
      } else if (key == "materialized") {
        r.materialized = boolean();
      } else if (key == "depends_on") {
        r.depends_on = strings();
      } else if (key == "indexes") {
        r.indexes = strings();
      } else if (key == "with_data") {
        r.with_data = boolean();
      } else if (key == "comment") {
        if (value.type == Type::kNull) {
          r.comment.reset();
        } else {
          r.comment = text();
        }
      } else if (key == "view_options") {
        r.view_options = strings();
      } else if (key == "incremental") {
        r.incremental = boolean();
      } else {
        throw Error(sqlstate::kInvalidParameterValue, where(position) + ": unknown key \"" + key + "\"",
                    {}, std::string("Keys: ") + kKeys + ".");
      }
    }
  }
  for (const Declared& d : out) {
    if (!d.has_view_name) {
      throw Error(sqlstate::kNullValueNotAllowed, where(d.position) + " has no view_name");
    }
    if (!d.has_definition) {
      throw Error(sqlstate::kNullValueNotAllowed,
                  where(d.position) + " (" + d.registration.view_name + ") has no definition");
    }
  }
  return out;
}

// What a declared view becomes, before it is put into the registry.
struct Planned {
  const Declared* declared;
  ManagedView view;
  std::optional<ManagedView> before;  // the registration it replaces
  std::vector<RelationRef> parsed_reads;
  bool resolve_reads = true;
};

}  // namespace

std::vector<SyncRow> declare_views(const JsonValue& views, bool prune, bool dry_run,
                                   const std::string& search_path) {
  if (!dry_run) {
    require_writable("viewmgr.declare");
    lock_registry();
  }
  std::vector<Declared> declared = read_declarations(views);
  std::vector<std::string> path = expand_search_path(search_path);

  // The registry once, whole: a declaration names the whole set.
  ManagedViews managed(load_registry(), /*resolve_unbuilt=*/true);
  std::vector<bool> was_managed(managed.views().size(), true);

  // Each declaration checked as register() checks it; nothing is written until all are.
  std::vector<Planned> planned;
  planned.reserve(declared.size());
  std::unordered_map<std::string, int> position_of;  // display name -> position
  KnownSchemaRights schema_rights;  // each schema checked once for the whole set
  for (const Declared& d : declared) {
    const Registration& r = d.registration;
    check_registration_arguments(r);
    QualifiedName name = resolve_for_create(r.view_name, path);
    auto [seen, inserted] = position_of.try_emplace(name.display(), d.position);
    if (!inserted) {
      throw Error(sqlstate::kInvalidParameterValue,
                  "view " + name.display() + " is declared twice (" + where(seen->second) +
                      " and " + where(d.position) + ")");
    }
    Planned p{&d, {}, std::nullopt, {}, true};
    auto node = managed.find(name);
    if (node.has_value()) {
      p.before = managed.views()[*node];
      require_registry_owner(*p.before, "re-register");
      p.view = *p.before;
      if (!role_exists(p.view.owner)) p.view.owner = current_user_id();  // as register() does
    } else {
      p.view.name = name;
      p.view.display_name = name.display();
      p.view.owner = current_user_id();
    }
    // The text as registered needs no parsing again, and the same index specs no checking.
    bool same_text = p.before.has_value() && trim_space(r.definition) == p.before->definition;
    if (!same_text) {
      ParsedDefinition parsed = parse_definition(r.definition);
      p.view.definition = parsed.query_text;
      p.parsed_reads = std::move(parsed.reads);
    }
    if (!p.before.has_value() || r.indexes != p.before->indexes) {
      check_index_specs(name, r.indexes);
    }
    p.view.view_options = normalize_view_options(r.view_options);
    require_create_rights(name, &schema_rights);
    p.view.materialized = r.materialized;
    p.view.search_path = path;
    p.view.indexes = r.indexes;
    p.view.with_data = r.with_data;
    p.view.comment = r.comment;
    p.view.incremental = r.incremental;
    // Refused now when it does not qualify; analysed again when built (its sources may be
    // views of this very set, not built yet).
    if (p.view.incremental) check_incremental_declaration(p.view, /*sources_must_exist=*/false);
    p.view.analyzed_canonical.reset();
    // Built from this same text and path: it reads what its build bound it to.
    p.resolve_reads = !(same_text && p.before->search_path == path && p.before->is_built());
    if (p.resolve_reads && same_text) p.parsed_reads = parse_definition(p.view.definition).reads;
    planned.push_back(std::move(p));
  }

  // All names first, then what each reads: unqualified names resolve to views of the set
  // whatever their order in the array.
  std::vector<NodeId> nodes;
  for (auto& p : planned) nodes.push_back(managed.put(p.view));
  for (std::size_t i = 0; i < planned.size(); i++) {
    Planned& p = planned[i];
    p.view.depends_on = managed.resolve_declared(p.declared->registration.depends_on, path);
    if (p.resolve_reads) p.view.reads = managed.resolve(p.parsed_reads, path);
    managed.put(p.view);
  }
  managed.check_cycles();
  managed.check_declared_dependencies(nodes);

  // Pruning: managed views of the set's schemas that the set does not name.
  std::vector<NodeId> pruned;
  std::vector<bool> is_pruned(managed.views().size(), false);
  if (prune) {
    std::set<std::string> schemas;
    for (const auto& p : planned) schemas.insert(p.view.name.schema);
    for (NodeId node = 0; node < was_managed.size(); node++) {
      const ManagedView& view = managed.views()[node];
      if (schemas.count(view.name.schema) == 0 || position_of.count(view.display_name) > 0) continue;
      require_registry_owner(view, "unregister");
      pruned.push_back(node);
      is_pruned[node] = true;
    }
    for (NodeId node : pruned) {
      for (NodeId dependent : managed.graph().dependents(node)) {
        if (is_pruned[dependent]) continue;
        const std::string& name = managed.graph().name(dependent);
        throw Error(sqlstate::kDependentObjectsStillExist,
                    "cannot prune " + managed.graph().name(node) + ": " + name + " depends on it",
                    position_of.count(name) > 0 ? name + " is declared in this set."
                                                : name + " is a managed view outside the set's schemas.",
                    "Declare " + managed.graph().name(node) + " again, or change " + name + " first.");
      }
    }
  }

  // Only what changed is written, with one statement; an unchanged set writes nothing.
  if (!dry_run) {
    std::vector<const ManagedView*> changed;
    for (const auto& p : planned) {
      if (!p.before.has_value() || !same_registration(p.view, *p.before)) changed.push_back(&p.view);
    }
    save_registrations(changed);
  }

  std::vector<NodeId> scope;
  for (NodeId node = 0; node < managed.views().size(); node++) {
    if (!is_pruned[node]) scope.push_back(node);
  }
  std::vector<SyncRow> synced = sync_views(managed, dry_run, scope);
  std::vector<SyncRow> rows;
  for (auto& row : synced) {
    if (position_of.count(row.view_name) > 0) rows.push_back(std::move(row));
  }
  if (pruned.empty()) return rows;

  // Dependents first. Nothing pg_viewmgr does not unregister here may depend on them: it
  // never drops what it does not manage.
  std::vector<NodeId> drop_order;
  std::vector<DependencyGraph::Step> order = managed.graph().build_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (is_pruned[it->node]) drop_order.push_back(it->node);
  }
  std::vector<std::pair<NodeId, Oid>> dropping;
  std::vector<Oid> oids;
  for (NodeId node : drop_order) {
    Oid relid = relation_oid(managed.views()[node].name);
    if (OidIsValid(relid)) {
      dropping.emplace_back(node, relid);
      oids.push_back(relid);
    }
  }
  DependentViews dependents = dependent_view_closure(oids);
  std::unordered_set<Oid> dropped(oids.begin(), oids.end());
  for (const auto& [dependent, dependency] : dependents.edges) {
    if (dropped.count(dependent) > 0) continue;
    std::string name = relation_name(dependent).display();
    throw Error(sqlstate::kDependentObjectsStillExist,
                "cannot prune " + relation_name(dependency).display() + ": " + name + " depends on it",
                name + " is not managed by pg_viewmgr, which never drops such objects.",
                "Drop or change " + name + " first, or declare " + relation_name(dependency).display() +
                    " again.");
  }
  for (NodeId node : drop_order) {
    rows.push_back({managed.views()[node].display_name, "dropped", "no longer declared: unregistered"});
  }
  if (dry_run) return rows;
  HistoryWriter history;
  for (const auto& [node, relid] : dropping) {
    const std::string& name = managed.views()[node].display_name;
    std::string started = clock_now();
    drop_managed_relation(relid, name);
    history.add(name, "drop", started, "succeeded", std::string("pruned by declare"));
  }
  std::vector<QualifiedName> names;
  for (NodeId node : drop_order) names.push_back(managed.views()[node].name);
  delete_registrations(names);
  return rows;
}

}  // namespace viewmgr::pg
