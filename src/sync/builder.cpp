// Building one view: the DDL pg_viewmgr runs for a managed view, and as whom it runs.
//
// Map, top to bottom:
//   who may act for an owner       owner_of, role_may_create_in, require_acting_for
//   Builder::build                 one step of a plan: create, replace, re-index or rename back
//   execute_view_ddl               CREATE [OR REPLACE] VIEW, errors positioned in the definition
//   mark_built                     what the registry records of a build (incl. its name bindings)
//   Builder::build                 (above) calls, in order:
//   create_view / run_create       the CREATE itself; where the owner lacks CREATE on the schema,
//                                  created as the caller without running the query, handed over
//                                  with ALTER ... OWNER TO, then filled by refresh_as_owner;
//                                  bindings checked first (name_bindings.hpp)
//   track_sources                  change tracking of what a materialized view reads; what it
//                                  cannot track is said (WARNING, history detail via record)
//   sync_indexes, apply_comment,   what is declared besides the query
//   restore_saved, record
//   prebuild / swap_in             a materialized view built side by side, swapped in by renames
//   recreate_unmanaged             a hand-made dependent put back as it was saved
//   check_may_build                every refusal of a rebuild, made before anything is dropped
#include "sync/builder.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/rebuild_steps.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"
#include "core/sql_text.hpp"
#include "incremental/incremental_view.hpp"
#include "refresh/change_tracking.hpp"
#include "refresh/matview_set.hpp"
#include "refresh/refresh.hpp"
#include "sync/assess.hpp"
#include "sync/definition.hpp"
#include "sync/name_bindings.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "miscadmin.h"
}

namespace viewmgr::pg {

namespace {

const char* operation_of(Action action) {
  switch (action) {
    case Action::kCreated: return "create";
    case Action::kRebuilt: return "rebuild";
    default: return "replace";
  }
}

std::string object_kind(bool materialized) {
  return materialized ? "MATERIALIZED VIEW " : "VIEW ";
}

// An incremental materialized view is a table (src/incremental/).
std::string object_kind(const ManagedView& view) {
  return view.incremental ? "TABLE " : object_kind(view.materialized);
}

// Who the view is built as (and so who owns it): the owner it had before a rebuild, else
// the owner of what stands there, else the role that registered it.
Oid owner_of(const ManagedView& view, const SavedRelation* saved, const std::optional<LiveRelation>& live) {
  if (saved != nullptr) return saved->owner_id;
  if (live.has_value()) return live->owner;
  return view.owner;
}

// Whether `role` has CREATE on `schema` (what building a relation there as it takes).
bool role_may_create_in(Oid role, const std::string& schema) {
  const char* s = schema.c_str();
  return pg_call([&] {
    Oid nsp = get_namespace_oid(s, true);
    return OidIsValid(nsp) && compat::schema_acl(nsp, role, ACL_CREATE) == ACLCHECK_OK;
  });
}

bool current_user_is_superuser() {
  return pg_call([] { return superuser(); });
}

const char* verb_of(Action action) {
  switch (action) {
    case Action::kCreated: return "create";
    case Action::kReplaced: return "replace";
    default: return "rebuild";
  }
}

// The caller may act as `owner`, the role `what` belongs to, else 42501 (42704 when the role
// is gone), as ScopedOwner would refuse, in the words of issue 10's rules.
void require_acting_for(Oid owner, const char* verb, const std::string& what) {
  if (!role_exists(owner)) {
    throw Error(sqlstate::kUndefinedObject,
                "cannot build " + what + ": its owner role no longer exists",
                "It was registered by " + describe_role(owner) + ".",
                "Register it again as an existing role (a superuser may), or unregister it.");
  }
  if (current_user_has_privs_of(owner)) return;
  throw Error(sqlstate::kInsufficientPrivilege,
              "permission denied to " + std::string(verb) + " " + what + ": " +
                  describe_role(current_user_id()) + " does not have the privileges of its owner, " +
                  describe_role(owner),
              "pg_viewmgr builds a view as its owner; only that role, its members and superusers may.");
}

// A new relation for `owner` in `schema`, where the owner may not create: only a superuser
// can make it (created by the caller, then handed over, as only a superuser may ALTER ...
// OWNER TO a role without CREATE on the schema).
void require_may_hand_over(Oid owner, const std::string& schema, const char* verb,
                           const std::string& what) {
  if (current_user_is_superuser()) return;
  throw Error(sqlstate::kInsufficientPrivilege,
              "permission denied to " + std::string(verb) + " " + what + ": its owner, " +
                  describe_role(owner) + ", has no CREATE privilege on schema " + quote_ident(schema),
              "Only a superuser may create a relation for a role that cannot create in its schema, "
              "as only a superuser may hand one over with ALTER ... OWNER TO.",
              "Grant CREATE on schema " + quote_ident(schema) + " to " + describe_role(owner) +
                  ", or run this as a superuser.");
}

std::string owner_name(Oid owner) {
  return std::string(pg_call([&] { return GetUserNameFromId(owner, false); }));
}

// The relations a view's definition reads (as its build resolved them), as oids.
// CREATE [OR REPLACE] [MATERIALIZED] VIEW, with an error in the definition positioned in
// the definition as registered.
void execute_view_ddl(const ViewDdl& ddl) {
  std::string sql = create_view_sql(ddl);
  try {
    spi_execute(sql);
  } catch (PgError& error) {
    std::size_t at = sql.find(" AS\n" + ddl.query_text);
    if (at != std::string::npos) position_in_part(error, sql, at + 4, ddl.query_text);
    throw;
  }
}

std::vector<Oid> relations_read(const ManagedView& view) {
  QueryResult rows = spi_query(
      "SELECT r FROM (SELECT pg_catalog.to_regclass(x)::pg_catalog.oid AS r "
      "FROM pg_catalog.unnest($1::text[]) AS x) s WHERE r IS NOT NULL",
      {{to_array_literal(view.reads)}});
  std::vector<Oid> out;
  for (const Row& row : rows.rows) out.push_back(to_oid(row[0]));
  return out;
}

}  // namespace

void mark_built(ManagedView& view, Oid relid) {
  // An incremental view's table has no query of its own: its definition view has.
  Oid defined_by = view.incremental ? incremental_definition_view(relid) : relid;
  view.built_viewdef = live_canonical_definition(defined_by);
  view.built_definition = view.definition;
  view.built_search_path = view.search_path;
  view.built_index_specs = view.indexes;
  view.built_with_data = view.with_data;
  view.built_comment = view.comment;
  view.built_view_options = view.view_options;
  view.built_relid = relid;
  view.built_rule_xmin = rule_xmin(defined_by);
  if (view.bindings_relid != defined_by) view.bindings = bindings_of(view, defined_by);
}

void Builder::build(NodeId node, Action action, const SavedRelation* saved) {
  ManagedView& view = managed_.view(node);
  std::string started = clock_now();
  const char* operation = operation_of(action);
  auto live = live_relation(view.name);
  // A relation of that name that no build of this registration made: a hand-made view the
  // registration now takes over. Said, not done silently.
  std::optional<std::string> took_over;
  if (live.has_value() && !view.is_built()) {
    took_over = view.display_name + " existed and was not managed; it is managed from now on";
    std::string text = *took_over;
    pg_call([&] { ereport(NOTICE, (errmsg_internal("%s", text.c_str()))); });
  }
  Oid owner = owner_of(view, saved, live);
  // As the owner when it may create in the schema: exactly what it could run by hand.
  // Otherwise the DDL runs as the caller, who acts for the owner, and a new relation is
  // handed over to it; the query still runs only as the owner (run_create, refill).
  std::optional<ScopedOwner> as_owner;
  Oid hand_over_to = InvalidOid;
  if (role_may_create_in(owner, view.name.schema)) {
    as_owner.emplace(owner, view.display_name);
  } else {
    require_acting_for(owner, verb_of(action), view.display_name);
    hand_over_to = owner;
  }
  if (!live.has_value()) {
    if (auto renamed = renamed_to(view)) {
      rename_back(view, *renamed);
      live = live_relation(view.name);
      // It is back as it was built; only what the registry changed since remains to do.
      if (action == Action::kCreated) action = Action::kReplaced;
    }
  }
  std::vector<std::string> previously_built_indexes = view.built_indexes;
  bool new_relation = action == Action::kCreated || action == Action::kRebuilt ||
                      (action == Action::kReplaced && needs_view_ddl(view, live));
  if (new_relation) create_view(view, live, saved, hand_over_to);
  if (view.materialized) sync_indexes(view, live->oid, new_relation);
  if (!new_relation && view.materialized && view.with_data && !live->populated) {
    refill(view, live->oid, owner);
  }
  apply_comment(view);
  if (saved != nullptr) {
    restore_saved(view, *saved, previously_built_indexes,
                  view.materialized && saved->materialized());
  }
  record(view, live->oid, operation, started, took_over);
}

void Builder::rename_back(const ManagedView& view, const QualifiedName& current) {
  std::string kind = object_kind(view);
  std::string name = current.display();
  if (current.name != view.name.name) {
    spi_execute("ALTER " + kind + name + " RENAME TO " + quote_ident(view.name.name));
    name = QualifiedName{current.schema, view.name.name}.display();
  }
  if (current.schema != view.name.schema) {
    spi_execute("ALTER " + kind + name + " SET SCHEMA " + quote_ident(view.name.schema));
  }
}

void Builder::create_view(ManagedView& view, std::optional<LiveRelation>& live,
                          const SavedRelation* saved, Oid hand_over_to) {
  // Reads are resolved again for every build: the view binds to what exists now.
  view.reads = managed_.resolve(parse_definition(view.definition).reads, view.search_path);
  bool or_replace = live.has_value();
  if (view.incremental && !or_replace) {
    if (OidIsValid(hand_over_to)) {
      throw Error(sqlstate::kFeatureNotSupported,
                  "cannot build " + view.display_name + " incrementally: its owner, " + describe_role(hand_over_to) +
                      ", has no CREATE privilege on schema " + quote_ident(view.name.schema),
                  "Incremental views are built by their owner; handing one over is not supported yet.");
    }
    create_incremental_table(view);
    live = live_relation(view.name);
    return;
  }
  if (or_replace && view.materialized) {
    // Materialized views cannot be replaced in place; the plan drops them first.
    throw Error(sqlstate::kInternalError,
                "pg_viewmgr: " + view.display_name + " must be dropped before it is rebuilt");
  }
  std::optional<SavedRelation> live_state;
  if (or_replace) live_state = save_relation(live->oid);
  ViewDdl ddl = view_ddl(view, view.name, or_replace ? &*live_state : saved);
  ddl.or_replace = or_replace;
  run_create(view, ddl, hand_over_to);
  live = live_relation(view.name);
  if (!live.has_value()) {
    throw Error(sqlstate::kInternalError, view.display_name + " vanished while being built");
  }
  // A view replaced in place now returns something else: what reads it is stale.
  if (or_replace) {
    Oid relid = live->oid;
    pg_call([&] { record_change(relid); });
  }
}

void Builder::run_create(ManagedView& view, const ViewDdl& ddl, Oid hand_over_to) {
  if (OidIsValid(hand_over_to)) {
    // Created by the caller without running the query (CREATE VIEW runs none; a
    // materialized view is made WITH NO DATA), handed over, then filled by a REFRESH that
    // runs the query as the owner, as PostgreSQL's REFRESH does. A view replaced in place
    // keeps its owner.
    // (A safety net: Rebuild::run refused this before anything was dropped.)
    if (!ddl.or_replace) require_may_hand_over(hand_over_to, ddl.name.schema, "create", view.display_name);
    ViewDdl empty = ddl;
    empty.with_data = false;
    {
      ScopedSearchPath scope(search_path_setting(view.search_path));
      execute_view_ddl(empty);
    }
    // Before the REFRESH below runs the query (name_bindings.hpp).
    check_bindings_kept(view, relation_oid(ddl.name));
    if (!ddl.or_replace) {
      spi_execute("ALTER " + object_kind(ddl.materialized) + ddl.name.display() + " OWNER TO " +
                  quote_ident(owner_name(hand_over_to)));
    }
    if (ddl.materialized && ddl.with_data) refresh_as_owner(view, ddl.name, hand_over_to);
    return;
  }
  // Names bind to what they bound to before (name_bindings.hpp): checked on what PostgreSQL
  // records for the new view, and for a materialized view filled by its CREATE, on a
  // scratch view first, as the query must not run bound to anything else.
  if (ddl.materialized && ddl.with_data) check_bindings_before_create(view);
  std::optional<PinnedSnapshot> snapshot;
  std::string started;
  if (ddl.materialized && ddl.with_data) {
    // Tracking first: creating a trigger waits for the table's writers, so every write is
    // either seen by the snapshot below or logged.
    track_sources(view);
    started = clock_now();
    snapshot = pin_snapshot();
  }
  {
    ScopedSearchPath scope(search_path_setting(view.search_path));
    execute_view_ddl(ddl);
  }
  check_bindings_kept(view, relation_oid(ddl.name));
  // Recorded under the view's real name: a side-by-side build is swapped in within this
  // same transaction.
  if (snapshot.has_value()) record_refresh_state(view.name, *snapshot, started);
}

ViewDdl Builder::view_ddl(const ManagedView& view, const QualifiedName& target,
                          const SavedRelation* before) const {
  ViewDdl ddl{target, view.materialized, view.definition, view.view_options,
              std::nullopt, view.with_data, false};
  if (before == nullptr) return ddl;
  if (!view.materialized && !before->materialized()) {
    ddl.options = view_options_to_build(view.view_options, view.built_view_options,
                                        normalize_view_options(before->reloptions));
  }
  // A materialized view keeps its storage parameters, which are never declared.
  if (view.materialized && before->materialized()) {
    ddl.options = before->reloptions;
    ddl.tablespace = before->tablespace;
    ddl.with_data = before->populated;
  }
  return ddl;
}

void Builder::sync_indexes(ManagedView& view, Oid relid, bool new_relation) {
  // On the relation as it stood, the indexes the last build made go first: they are made
  // again from the current declaration.
  if (!new_relation && !view.built_indexes.empty()) {
    for (const auto& index : live_indexes(relid)) {
      if (std::find(view.built_indexes.begin(), view.built_indexes.end(), index.definition) !=
          view.built_indexes.end()) {
        spi_execute("DROP INDEX " + QualifiedName{view.name.schema, index.name}.display());
      }
    }
  }
  view.built_indexes.clear();
  if (view.indexes.empty()) return;
  std::vector<LiveIndex> before = live_indexes(relid);
  {
    ScopedSearchPath scope(search_path_setting(view.search_path));
    for (const auto& spec : view.indexes) spi_execute(create_index_sql(view.name, spec));
  }
  for (const auto& index : live_indexes(relid)) {
    bool existed = std::any_of(before.begin(), before.end(),
                               [&](const LiveIndex& b) { return b.name == index.name; });
    if (!existed) view.built_indexes.push_back(index.definition);
  }
}

void Builder::refill(const ManagedView& view, Oid relid, Oid owner) {
  refresh_as_owner(view, view.name, owner);
  pg_call([&] { record_change(relid); });
}

void Builder::track_sources(const ManagedView& view) {
  std::vector<std::string> untracked = MatviewSet::track_sources_of(relations_read(view));
  if (untracked.empty()) {
    untracked_note_.erase(view.display_name);
    return;
  }
  std::string names;
  for (const auto& name : untracked) names += (names.empty() ? "" : ", ") + name;
  std::string role = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
  std::string note = "changes to " + names + " cannot be tracked: role " + quote_ident(role) +
                     " may not create triggers on them, so " + view.display_name +
                     " counts as stale until refreshed, and refresh_all() refreshes it every time. "
                     "GRANT TRIGGER ON " + names + " TO " + quote_ident(role) + " lets the next refresh track them.";
  untracked_note_[view.display_name] = note;
  std::string text = note;
  pg_call([&] { ereport(WARNING, (errmsg_internal("%s", text.c_str()))); });
}

void Builder::refresh_as_owner(const ManagedView& view, const QualifiedName& target, Oid owner) {
  // Tracking first, as for CREATE ... WITH DATA (run_create).
  track_sources(view);
  std::string started = clock_now();
  PinnedSnapshot snapshot = pin_snapshot();
  {
    // A no-op where the build already runs as the owner.
    ScopedOwner as_owner(owner, view.display_name);
    spi_execute("REFRESH MATERIALIZED VIEW " + target.display());
  }
  // Recorded under the view's real name, as run_create does.
  record_refresh_state(view.name, snapshot, started);
}

void Builder::apply_comment(const ManagedView& view) {
  // Without a declared comment, one set by hand is left alone (or restored after a rebuild).
  if (!view.comment.has_value()) return;
  spi_execute("COMMENT ON " + object_kind(view) + view.display_name + " IS " +
              quote_literal(*view.comment));
}

void Builder::restore_saved(const ManagedView& view, const SavedRelation& saved,
                            const std::vector<std::string>& previously_built_indexes,
                            bool indexes) {
  RestoreOptions restore;
  restore.comment = !view.comment.has_value();
  restore.indexes = indexes;
  restore.skip_index_definitions = previously_built_indexes;
  restore_properties(saved, restore);
}

void Builder::record(ManagedView& view, Oid relid, const char* operation,
                     const std::string& started, const std::optional<std::string>& detail) {
  mark_built(view, relid);
  recorder_.record(view);
  std::optional<std::string> said = detail;
  auto untracked = untracked_note_.find(view.display_name);
  if (untracked != untracked_note_.end()) {
    said = said.has_value() ? *said + "; " + untracked->second : untracked->second;
  }
  history_.add(view.display_name, operation, started, "succeeded", said);
}

std::string Builder::create_index_named(const QualifiedName& on, Oid relid, const std::string& spec) {
  std::vector<LiveIndex> before = live_indexes(relid);
  spi_execute(create_index_sql(on, spec));
  auto name = new_index_name(before, live_indexes(relid));
  if (!name.has_value()) {
    throw Error(sqlstate::kInternalError, "index on " + on.display() + " not found after CREATE INDEX");
  }
  return *name;
}

Builder::Prebuilt Builder::prebuild(NodeId node, const SavedRelation* saved) {
  ManagedView& view = managed_.view(node);
  Oid owner = owner_of(view, saved, std::nullopt);
  // As in build(): as the owner where it may create, else handed over to it.
  std::optional<ScopedOwner> as_owner;
  Oid hand_over_to = InvalidOid;
  if (role_may_create_in(owner, view.name.schema)) {
    as_owner.emplace(owner, view.display_name);
  } else {
    require_acting_for(owner, "rebuild", view.display_name);
    require_may_hand_over(owner, view.name.schema, "rebuild", view.display_name);
    hand_over_to = owner;
  }
  view.reads = managed_.resolve(parse_definition(view.definition).reads, view.search_path);
  Prebuilt pre;
  pre.started = clock_now();
  std::uint32_t old_oid = saved != nullptr ? saved->oid : 0;
  pre.temporary = {view.name.schema, side_by_side_name(old_oid, 0)};
  for (int attempt = 1; OidIsValid(relation_oid(pre.temporary)); attempt++) {
    pre.temporary.name = side_by_side_name(old_oid, attempt);
  }
  run_create(view, view_ddl(view, pre.temporary, saved), hand_over_to);
  Oid relid = relation_oid(pre.temporary);
  ScopedSearchPath scope(search_path_setting(view.search_path));
  for (const auto& spec : view.indexes) {
    std::string built = create_index_named(pre.temporary, relid, spec);
    pre.index_renames.emplace_back(
        built, final_index_name(built, pre.temporary.name, view.name.name, NAMEDATALEN - 1));
  }
  pre.declared_indexes = pre.index_renames.size();
  if (saved != nullptr && saved->materialized()) {
    for (const auto& index : saved->indexes) {
      bool declared = std::find(view.built_indexes.begin(), view.built_indexes.end(),
                                index.definition) != view.built_indexes.end();
      if (declared) continue;
      std::string spec = index_spec_from_definition(index.definition, saved->display_name);
      try {
        pre.index_renames.emplace_back(create_index_named(pre.temporary, relid, spec), index.name);
      } catch (PgError& error) {
        explain_hand_made_index_failure(error, *saved, index);
        throw;
      }
      if (index.comment.has_value()) pre.hand_made_comments.emplace_back(index.name, *index.comment);
    }
  }
  return pre;
}

void Builder::swap_in(NodeId node, const Prebuilt& pre, const SavedRelation* saved) {
  ManagedView& view = managed_.view(node);
  Oid owner = owner_of(view, saved, std::nullopt);
  // Renames need CREATE on the schema: as the caller (who built it) where the owner lacks it.
  std::optional<ScopedOwner> as_owner;
  if (role_may_create_in(owner, view.name.schema)) {
    as_owner.emplace(owner, view.display_name);
  } else {
    require_acting_for(owner, "rebuild", view.display_name);
  }
  spi_execute("ALTER MATERIALIZED VIEW " + pre.temporary.display() + " RENAME TO " +
              quote_ident(view.name.name));
  for (const auto& [built, final_name] : pre.index_renames) {
    if (built == final_name) continue;
    spi_execute("ALTER INDEX " + QualifiedName{view.name.schema, built}.display() +
                " RENAME TO " + quote_ident(final_name));
  }
  for (const auto& [index, comment] : pre.hand_made_comments) {
    spi_execute("COMMENT ON INDEX " + QualifiedName{view.name.schema, index}.display() + " IS " +
                quote_literal(comment));
  }
  Oid relid = relation_oid(view.name);
  view.built_indexes.clear();
  for (const auto& index : live_indexes(relid)) {
    for (std::size_t i = 0; i < pre.declared_indexes; i++) {
      if (index.name == pre.index_renames[i].second) view.built_indexes.push_back(index.definition);
    }
  }
  apply_comment(view);
  if (saved != nullptr) restore_saved(view, *saved, {}, /*indexes=*/false);
  record(view, relid, "rebuild", pre.started);
}

void Builder::recreate_unmanaged(const SavedRelation& saved) {
  std::string started = clock_now();
  if (role_may_create_in(saved.owner_id, saved.name.schema)) {
    ScopedOwner as_owner(saved.owner_id, saved.display_name);
    spi_execute(recreate_sql(saved));
    restore_properties(saved, RestoreOptions{});
  } else {
    // Its owner may not create in the schema (ownership was handed over, or CREATE revoked
    // since): created by the caller (a superuser, checked before anything was dropped)
    // without data, handed over as ALTER ... OWNER TO does by hand, and filled by a REFRESH,
    // which runs the query as the owner. What it had is put back by the caller too: its
    // indexes need CREATE on the schema, which the owner lacks.
    require_acting_for(saved.owner_id, "rebuild", saved.display_name);
    require_may_hand_over(saved.owner_id, saved.name.schema, "rebuild", saved.display_name);
    SavedRelation empty = saved;
    empty.populated = false;
    spi_execute(recreate_sql(empty));
    spi_execute(std::string("ALTER ") + (saved.materialized() ? "MATERIALIZED VIEW " : "VIEW ") +
                saved.display_name + " OWNER TO " + quote_ident(saved.owner));
    if (saved.materialized() && saved.populated) {
      ScopedOwner as_owner(saved.owner_id, saved.display_name);
      spi_execute("REFRESH MATERIALIZED VIEW " + saved.display_name);
    }
    restore_properties(saved, RestoreOptions{});
  }
  history_.add(saved.display_name, "rebuild", started, "succeeded", std::string("unmanaged dependent"));
}

void Builder::check_may_build(std::optional<NodeId> node, Action action,
                              const SavedRelation* saved) {
  if (action == Action::kUnchanged) return;
  if (!node.has_value()) {
    // An unmanaged dependent is always dropped and made again.
    require_acting_for(saved->owner_id, "rebuild", saved->display_name);
    if (!role_may_create_in(saved->owner_id, saved->name.schema)) {
      require_may_hand_over(saved->owner_id, saved->name.schema, "rebuild", saved->display_name);
    }
    return;
  }
  const ManagedView& view = managed_.view(*node);
  Oid owner = saved != nullptr ? saved->owner_id : owner_of(view, nullptr, live_relation(view.name));
  // A registration whose role is gone is reported by the build itself (ScopedOwner).
  if (!role_exists(owner)) return;
  require_acting_for(owner, verb_of(action), view.display_name);
  bool new_relation = action == Action::kCreated || action == Action::kRebuilt;
  if (new_relation && !role_may_create_in(owner, view.name.schema)) {
    require_may_hand_over(owner, view.name.schema, verb_of(action), view.display_name);
  }
}

}  // namespace viewmgr::pg
