// Everything that a DROP of a view or materialized view would lose, read from the system
// catalogs before the drop (relacl, attacl, pg_description, reloptions, pg_index,
// pg_trigger, pg_rewrite, pg_attrdef) so a rebuild can put all of it back.
//
// The catalogs are read directly rather than through information_schema, which hides what
// the caller's roles cannot see.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"
#include "pg/names.hpp"

extern "C" {
#include "catalog/pg_class.h"
}

namespace viewmgr::pg {

struct SavedIndex {
  std::string name;
  std::string definition;  // pg_get_indexdef
  std::optional<std::string> tablespace;
  std::optional<std::string> comment;
};

struct SavedColumn {
  std::string name;
  std::optional<std::string> acl;  // attacl as text
  std::optional<std::string> comment;
  std::optional<std::string> default_expression;  // pg_get_expr of the column default
};

struct SavedRelation {
  Oid oid = InvalidOid;
  QualifiedName name;
  std::string display_name;
  char relkind = 0;
  std::string owner;   // its name, as grantors are named in ACLs
  Oid owner_id = InvalidOid;
  // The stored query deparsed under pg_viewmgr's pinned search_path: every name qualified,
  // so it means the same thing whatever the session's search_path.
  std::string definition;
  std::optional<std::string> acl;  // relacl as text
  std::optional<std::string> comment;
  std::vector<std::string> reloptions;
  std::optional<std::string> tablespace;
  bool populated = true;
  std::vector<SavedIndex> indexes;
  std::vector<std::string> triggers;  // pg_get_triggerdef of user triggers
  std::vector<std::string> rules;     // pg_get_ruledef of rules other than _RETURN
  std::vector<SavedColumn> columns;

  bool materialized() const { return relkind == RELKIND_MATVIEW; }
};

SavedRelation save_relation(Oid relid);
// The same for many relations, in the order given, with a handful of catalog queries.
std::vector<SavedRelation> save_relations(const std::vector<Oid>& relids);

// Views and materialized views that depend on `roots` (directly or through each other), not
// including the roots, with the edges among roots and dependents: (dependent, dependency).
struct DependentViews {
  std::vector<Oid> views;
  std::vector<std::pair<Oid, Oid>> edges;
};
DependentViews dependent_view_closure(const std::vector<Oid>& roots);

// CREATE statement that recreates an unmanaged view from what was saved.
std::string recreate_sql(const SavedRelation& saved);

// What to put back on a recreated relation.
struct RestoreOptions {
  bool comment = true;         // false when the registry declares the comment
  bool indexes = true;         // hand-made indexes; `skip_index_definitions` are built anew
  std::vector<std::string> skip_index_definitions;
};

// An index made by hand that cannot be made again on the rebuilt view (the new definition
// lacks a column it needs): the error says which index and what to do.
void explain_hand_made_index_failure(PgError& error, const SavedRelation& saved, const SavedIndex& index);

// Run as the relation's owner (ScopedOwner). Puts back privileges (table and column level), comments (relation, columns and
// indexes), view options, column defaults, triggers, rules and indexes.
void restore_properties(const SavedRelation& saved, const RestoreOptions& options);

}  // namespace viewmgr::pg
