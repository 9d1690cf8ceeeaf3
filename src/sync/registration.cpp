#include "sync/registration.hpp"

#include <algorithm>
#include <unordered_set>

#include "core/error.hpp"
#include "incremental/incremental_view.hpp"
#include "incremental/query_shape.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "pg/scopes.hpp"
#include "registry/history.hpp"
#include "registry/registry.hpp"
#include "sync/definition.hpp"
#include "sync/managed_views.hpp"
#include "sync/name_bindings.hpp"
#include "sync/saved_relation.hpp"
#include "sync/sync.hpp"

extern "C" {
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

void check_registration_arguments(const Registration& r) {
  if (r.definition.find_first_not_of(" \t\r\n\f") == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "definition must not be empty", {},
                "A definition is one SELECT, VALUES or WITH ... SELECT query.");
  }
  if (!r.materialized && !r.indexes.empty()) {
    throw Error(sqlstate::kInvalidParameterValue, "indexes can only be declared on materialized views");
  }
  if (r.materialized && !r.view_options.empty()) {
    throw Error(sqlstate::kInvalidParameterValue, "view_options apply to plain views only");
  }
  if (!r.materialized && !r.with_data) {
    throw Error(sqlstate::kInvalidParameterValue, "with_data => false applies to materialized views only");
  }
  if (!r.materialized && r.incremental) {
    throw Error(sqlstate::kInvalidParameterValue, "incremental => true applies to materialized views only",
                {}, "Register it with materialized => true, incremental => true.");
  }
}

void require_registry_owner(const ManagedView& view, const char* verb) {
  if (!current_user_has_privs_of(view.owner)) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied to " + std::string(verb) + " " + view.display_name,
                "It is managed by " + describe_role(view.owner) + ".",
                "Only members of the owning role can change a managed view.");
  }
}

// The privileges plain SQL would ask for: own the view if it exists, else CREATE on the
// schema.
void require_create_rights(const QualifiedName& name, KnownSchemaRights* known) {
  SchemaRights local;
  SchemaRights& schema_rights = known != nullptr ? (*known)[name.schema] : local;
  if (!OidIsValid(schema_rights.namespace_oid)) {
    const char* schema = name.schema.c_str();
    Oid nsp = pg_call([&] { return get_namespace_oid(schema, false); });
    // A view in an extension's schema (viewmgr's own above all) would make DROP EXTENSION
    // fail, and would sit among objects the extension's upgrades own.
    Oid extension = pg_call([&] { return getExtensionOfObject(NamespaceRelationId, nsp); });
    if (OidIsValid(extension)) {
      std::string extname = pg_call([&] { return get_extension_name(extension); });
      throw Error(sqlstate::kReservedName,
                  "cannot manage " + name.display() + ": schema " + quote_ident(name.schema) +
                      " belongs to the extension " + extname,
                  {}, "Put managed views in a schema of your own.");
    }
    schema_rights.namespace_oid = nsp;
  }
  Oid relid = relation_oid(name);
  if (OidIsValid(relid)) {
    char relkind = pg_call([&] { return get_rel_relkind(relid); });
    if (relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW && !is_incremental_table(relid)) {
      throw Error(sqlstate::kWrongObjectType, name.display() + " exists and is not a view",
                  "pg_viewmgr manages views and materialized views only.");
    }
    bool owns = pg_call([&] { return compat::owns_relation(relid, GetUserId()); });
    if (!owns) {
      throw Error(sqlstate::kInsufficientPrivilege,
                  std::string("must be owner of ") +
                      (relkind == RELKIND_MATVIEW ? "materialized view " : "view ") + name.display());
    }
    return;
  }
  if (!schema_rights.may_create.has_value()) {
    Oid nsp = schema_rights.namespace_oid;
    AclResult acl = pg_call([&] { return compat::schema_acl(nsp, GetUserId(), ACL_CREATE); });
    schema_rights.may_create = acl == ACLCHECK_OK;
  }
  if (!*schema_rights.may_create) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied for schema " + quote_ident(name.schema),
                "Registering a view needs the CREATE privilege on its schema.");
  }
}


std::string trim_space(const std::string& text) {
  const char* ws = " \t\r\n\f";
  std::size_t b = text.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return text.substr(b, text.find_last_not_of(ws) - b + 1);
}

namespace {

std::vector<NodeId> merged(std::vector<NodeId> a, const std::vector<NodeId>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

}  // namespace

std::string register_view(Registration r) {
  require_writable("viewmgr.register");
  check_registration_arguments(r);
  lock_registry();
  std::vector<std::string> path = expand_search_path(r.search_path);
  QualifiedName name = resolve_for_create(r.view_name, path);
  std::vector<std::string> view_options = normalize_view_options(r.view_options);
  require_create_rights(name);

  // Only the view and its neighbourhood are read from the registry: a registration costs
  // the same at 100 and at 10,000 managed views. First only its declaration: an unchanged
  // re-registration (every deploy) needs nothing else.
  std::optional<Declaration> declared = load_declaration(name);
  if (declared.has_value()) require_registry_owner(declared->view, "re-register");
  bool same_text = declared.has_value() && trim_space(r.definition) == declared->view.definition;
  if (same_text && !r.apply && declared->built && declared->view.search_path == path &&
      r.materialized == declared->view.materialized && r.indexes == declared->view.indexes &&
      r.with_data == declared->view.with_data && r.comment == declared->view.comment &&
      view_options == declared->view.view_options && r.incremental == declared->view.incremental &&
      (r.depends_on.empty() && declared->view.depends_on.empty())) {
    return "registered";
  }
  std::optional<ManagedView> existing;
  if (declared.has_value()) existing = load_registration(name);

  // The same text as registered needs no parsing (it was checked when it was registered)
  // and the same index specifications no checking.
  std::string definition;
  std::vector<RelationRef> parsed_reads;
  if (same_text) {
    definition = existing->definition;
  } else {
    ParsedDefinition parsed = parse_definition(r.definition);
    definition = parsed.query_text;
    parsed_reads = std::move(parsed.reads);
  }
  if (!existing.has_value() || r.indexes != existing->indexes) {
    check_index_specs(name, r.indexes);
  }

  std::vector<ManagedView> around;
  if (existing.has_value()) around.push_back(*existing);
  ManagedViews managed(ManagedViews::Partial{}, std::move(around), /*resolve_unbuilt=*/false);
  ManagedView view;
  if (existing.has_value()) {
    view = *existing;
    // A registration whose role was dropped before it was built goes to whoever registers
    // it again (only a superuser may: require_registry_owner).
    if (!role_exists(view.owner)) view.owner = current_user_id();
  } else {
    view.name = name;
    view.display_name = name.display();
    view.owner = current_user_id();
  }
  view.materialized = r.materialized;
  view.definition = definition;
  view.search_path = path;
  view.analyzed_canonical.reset();
  view.depends_on = managed.resolve_declared(r.depends_on, path);
  // Unchanged text and path: what it reads was resolved at registration (and again at its
  // last build, which binds it to what it was built on).
  bool reads_stand = same_text && existing->search_path == path && existing->is_built();
  if (!reads_stand) {
    if (same_text) parsed_reads = parse_definition(definition).reads;
    view.reads = managed.resolve(parsed_reads, path);
  }
  view.indexes = r.indexes;
  view.with_data = r.with_data;
  view.comment = r.comment;
  view.view_options = view_options;
  view.incremental = r.incremental;
  // A definition that does not qualify is refused now, with the reason; one whose sources
  // do not exist yet (apply => false) is judged when it is built.
  if (view.incremental) check_incremental_declaration(view, /*sources_must_exist=*/r.apply);

  bool unchanged = existing.has_value() && same_registration(view, *existing);
  if (unchanged && !r.apply) return "registered";

  if (!r.apply) {
    // Only recorded: a cycle needs a path back from what it now reads to the view itself,
    // so only new dependencies need looking at, and only when something reads the view.
    std::vector<std::string> added;
    for (const auto* list : {&view.reads, &view.depends_on}) {
      for (const auto& dep : *list) {
        bool had = existing.has_value() &&
                   (std::find(existing->reads.begin(), existing->reads.end(), dep) != existing->reads.end() ||
                    std::find(existing->depends_on.begin(), existing->depends_on.end(), dep) !=
                        existing->depends_on.end());
        if (!had) added.push_back(dep);
      }
    }
    bool may_cycle = false;
    if (!added.empty()) {
      std::vector<std::string> readers = downstream_names(view.display_name);
      std::sort(readers.begin(), readers.end());
      for (const auto& dep : added) {
        if (dep == view.display_name || std::binary_search(readers.begin(), readers.end(), dep)) {
          may_cycle = true;
        }
      }
    }
    if (may_cycle) {
      // Load what the cycle runs through, for the error naming it.
      ManagedViews neighbourhood(ManagedViews::Partial{},
                                 load_registry_around({view.display_name}, added), false);
      neighbourhood.put(view);
      neighbourhood.check_cycles();
    }
    // What the definition binds to now, so that its first build binds to the same objects
    // (name_bindings.hpp); kept while the text and path stay the same.
    bool bindings_changed = refresh_registered_bindings(view, /*probe=*/true);
    save_registration(view);
    if (bindings_changed) save_bindings(view);
    return "registered";
  }

  // What the view reads, what reads it, and what those read: enough for the cycle check
  // and for building it with its dependents.
  std::vector<std::string> reads = view.reads;
  reads.insert(reads.end(), view.depends_on.begin(), view.depends_on.end());
  ManagedViews neighbourhood(ManagedViews::Partial{}, load_registry_around({view.display_name}, reads),
                             /*resolve_unbuilt=*/true);
  NodeId node = neighbourhood.put(view);
  if (!unchanged) neighbourhood.check_cycles();
  neighbourhood.check_declared_dependencies({node});
  if (!unchanged) {
    save_registration(view);
    // Back to the text a standing view was built from: what it binds to applies again. A
    // new text is bound by its build.
    if (refresh_registered_bindings(view, /*probe=*/false)) save_bindings(view);
  }

  const DependencyGraph& graph = neighbourhood.graph();
  std::vector<NodeId> scope = merged(graph.upstream_closure({node}), graph.downstream_closure({node}));
  std::string action = "registered";
  for (const auto& row : sync_views(neighbourhood, false, scope)) {
    if (row.view_name == view.display_name) action = row.action;
  }
  return action;
}

void unregister_view(const std::string& view_name, bool drop_view, bool cascade,
                     const std::string& search_path) {
  require_writable("viewmgr.unregister");
  lock_registry();
  ManagedViews managed(load_registry());
  NodeId node = managed.find_by_user_name(view_name, expand_search_path(search_path));
  const DependencyGraph& graph = managed.graph();
  const ManagedView& target = managed.views()[node];
  require_registry_owner(target, "unregister");

  std::vector<NodeId> removing = {node};
  std::vector<NodeId> downstream = graph.downstream_closure({node});
  if (downstream.size() > 1) {
    if (!cascade) {
      std::string names;
      for (NodeId d : downstream) {
        if (d == node) continue;
        names += (names.empty() ? "" : ", ") + graph.name(d);
      }
      throw Error(sqlstate::kDependentObjectsStillExist,
                  "cannot unregister " + target.display_name + ": managed views depend on it",
                  "Dependent managed views: " + names + ".",
                  drop_view ? "Use cascade => true to unregister and drop them too."
                            : "Use cascade => true to unregister them too.");
    }
    removing = downstream;
  }
  for (NodeId n : removing) require_registry_owner(managed.views()[n], "unregister");

  if (drop_view) {
    // Dependents first; and no view outside what is unregistered may depend on any of them
    // (pg_viewmgr never drops a view it does not manage).
    std::vector<Oid> dropping;
    std::vector<std::pair<NodeId, Oid>> order;
    std::vector<DependencyGraph::Step> steps = graph.build_order();
    std::vector<bool> is_removed(graph.size(), false);
    for (NodeId n : removing) is_removed[n] = true;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      if (!is_removed[it->node]) continue;
      Oid relid = relation_oid(managed.views()[it->node].name);
      if (!OidIsValid(relid)) continue;
      dropping.push_back(relid);
      order.emplace_back(it->node, relid);
    }
    DependentViews dependents = dependent_view_closure(dropping);
    std::unordered_set<Oid> dropped(dropping.begin(), dropping.end());
    for (const auto& [dependent, dependency] : dependents.edges) {
      if (dropped.count(dependent) > 0) continue;
      std::string name = relation_name(dependent).display();
      throw Error(sqlstate::kDependentObjectsStillExist,
                  "cannot drop " + relation_name(dependency).display() + ": " + name +
                      " depends on it",
                  name + " is not managed by pg_viewmgr, which never drops such objects.",
                  "Drop or change " + name + " first, or unregister with drop_view => false.");
    }
    HistoryWriter history;
    for (const auto& [n, relid] : order) {
      std::string started = clock_now();
      // Written first, while the view and so its owner are there (a failed drop rolls it back).
      history.add(graph.name(n), "drop", started, "succeeded", std::string("unregistered"));
      drop_managed_relation(relid, graph.name(n));
    }
  }
  for (NodeId n : removing) delete_registration(managed.views()[n].name);
}

}  // namespace viewmgr::pg
