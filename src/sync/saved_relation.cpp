#include "sync/saved_relation.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "core/acl_text.hpp"
#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "sync/definition.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace viewmgr::pg {

namespace {

// pg_get_viewdef ends the query with a semicolon; CREATE ... AS wants the bare query.
std::string strip_semicolon(std::string text) {
  while (!text.empty() && (text.back() == ';' || text.back() == ' ' || text.back() == '\n')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

std::vector<SavedRelation> save_relations(const std::vector<Oid>& relids) {
  std::vector<SavedRelation> out;
  if (relids.empty()) return out;
  // One query per kind of property for all relations at once: a rebuild saves hundreds.
  std::vector<Param> args = {{oid_array(relids), OIDARRAYOID}};
  QueryResult rel = spi_query(
      "SELECT c.oid, n.nspname, c.relname, c.relkind, pg_catalog.pg_get_userbyid(c.relowner), "
      "c.relacl::text, d.description, c.reloptions::text, t.spcname, c.relispopulated, "
      "pg_catalog.pg_get_viewdef(c.oid), c.relowner "
      "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace "
      "LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid "
      "  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
      "WHERE c.oid = ANY ($1)",
      args);
  std::map<Oid, std::size_t> index_of;
  out.resize(relids.size());
  for (std::size_t i = 0; i < relids.size(); i++) index_of[relids[i]] = i;
  std::vector<bool> found(relids.size(), false);
  for (const Row& r : rel.rows) {
    std::size_t i = index_of.at(to_oid(r[0]));
    SavedRelation& saved = out[i];
    found[i] = true;
    saved.oid = relids[i];
    saved.name = {*r[1], *r[2]};
    saved.display_name = saved.name.display();
    saved.relkind = (*r[3])[0];
    saved.owner = *r[4];
    saved.owner_id = to_oid(r[11]);
    saved.acl = r[5];
    saved.comment = r[6];
    if (r[7].has_value()) saved.reloptions = parse_text_array(*r[7]);
    saved.tablespace = r[8];
    saved.populated = r[9] == Value("t");
    saved.definition = strip_semicolon(r[10].value_or(""));
  }
  for (std::size_t i = 0; i < relids.size(); i++) {
    if (!found[i]) {
      throw Error(sqlstate::kUndefinedTable, "relation " + std::to_string(relids[i]) + " does not exist");
    }
  }

  QueryResult columns = spi_query(
      "SELECT a.attrelid, a.attname, a.attacl::text, d.description, "
      "pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) "
      "FROM pg_catalog.pg_attribute a "
      "LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
      "LEFT JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid "
      "  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum "
      "WHERE a.attrelid = ANY ($1) AND a.attnum > 0 AND NOT a.attisdropped "
      "AND (a.attacl IS NOT NULL OR ad.adbin IS NOT NULL OR d.description IS NOT NULL) "
      "ORDER BY a.attrelid, a.attnum",
      args);
  for (const Row& c : columns.rows) {
    out[index_of.at(to_oid(c[0]))].columns.push_back({*c[1], c[2], c[3], c[4]});
  }

  QueryResult indexes = spi_query(
      "SELECT i.indrelid, c.relname, pg_catalog.pg_get_indexdef(i.indexrelid), t.spcname, "
      "d.description "
      "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace "
      "LEFT JOIN pg_catalog.pg_description d ON d.objoid = i.indexrelid "
      "  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
      "WHERE i.indrelid = ANY ($1) ORDER BY 1, 2",
      args);
  for (const Row& i : indexes.rows) {
    out[index_of.at(to_oid(i[0]))].indexes.push_back({*i[1], *i[2], i[3], i[4]});
  }

  QueryResult triggers = spi_query(
      "SELECT tgrelid, pg_catalog.pg_get_triggerdef(oid) FROM pg_catalog.pg_trigger "
      "WHERE tgrelid = ANY ($1) AND NOT tgisinternal ORDER BY tgrelid, tgname",
      args);
  for (const Row& t : triggers.rows) out[index_of.at(to_oid(t[0]))].triggers.push_back(*t[1]);

  QueryResult rules = spi_query(
      "SELECT ev_class, pg_catalog.pg_get_ruledef(oid) FROM pg_catalog.pg_rewrite "
      "WHERE ev_class = ANY ($1) AND rulename <> '_RETURN' ORDER BY ev_class, rulename",
      args);
  for (const Row& rule : rules.rows) out[index_of.at(to_oid(rule[0]))].rules.push_back(*rule[1]);
  return out;
}

SavedRelation save_relation(Oid relid) { return save_relations({relid}).at(0); }

DependentViews dependent_view_closure(const std::vector<Oid>& roots) {
  DependentViews out;
  if (roots.empty()) return out;
  QueryResult result = spi_query(
      "WITH RECURSIVE dep(dependent, dependency) AS ("
      "  SELECT r.ev_class, d.refobjid FROM pg_catalog.pg_depend d "
      "  JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
      "  WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
      "    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "    AND d.refobjid = ANY ($1) AND r.ev_class <> d.refobjid "
      "  UNION "
      "  SELECT r.ev_class, d.refobjid FROM dep "
      "  JOIN pg_catalog.pg_depend d ON d.refobjid = dep.dependent "
      "   AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
      "   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "  JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
      "  WHERE r.ev_class <> d.refobjid"
      ") SELECT dependent, dependency FROM dep ORDER BY 1, 2",
      {{oid_array(roots), OIDARRAYOID}});
  // Sets, not searches: a rebuild can have thousands of dependents.
  std::unordered_set<Oid> seen(roots.begin(), roots.end());
  for (const Row& row : result.rows) {
    Oid dependent = to_oid(row[0]);
    Oid dependency = to_oid(row[1]);
    out.edges.emplace_back(dependent, dependency);
    if (seen.insert(dependent).second) out.views.push_back(dependent);
  }
  return out;
}

std::string recreate_sql(const SavedRelation& saved) {
  return create_view_sql(ViewDdl{saved.name, saved.materialized(), saved.definition,
                                 saved.reloptions, saved.tablespace, saved.populated, false});
}

namespace {

struct Grant {
  std::string grantor;  // role name
  std::string statement;
};

std::string grantee_sql(const AclGrant& grant) {
  return grant.grantee.empty() ? "PUBLIC" : quote_ident(grant.grantee);
}

// GRANT statements for `grants` on `target` (optionally one column), each with its grantor.
std::vector<Grant> grant_statements(const std::vector<AclGrant>& grants, const std::string& target,
                                    const std::optional<std::string>& column) {
  std::vector<Grant> out;
  for (const auto& g : grants) {
    out.push_back({g.grantor, "GRANT " + g.privilege +
                                  (column.has_value() ? " (" + quote_ident(*column) + ")" : "") +
                                  " ON " + target + " TO " + grantee_sql(g) +
                                  (g.grantable ? " WITH GRANT OPTION" : "")});
  }
  return out;
}

// Runs the grants as the roles that originally made them, so grantors survive too: first
// the owner's, then those made by roles the owner's grants gave the grant option to.
void apply_grants(std::vector<Grant> grants, const std::string& owner) {
  std::stable_partition(grants.begin(), grants.end(),
                        [&](const Grant& g) { return g.grantor == owner; });
  while (!grants.empty()) {
    std::vector<Grant> waiting;
    std::optional<PgError> last_error;
    for (const auto& grant : grants) {
      if (grant.grantor == owner) {
        spi_execute(grant.statement);
        continue;
      }
      // Restoring a grant that existed, as the role that made it: a subtransaction, so a
      // grant whose grantor does not hold the grant option yet can wait for the next pass.
      auto failure = in_subtransaction([&] {
        ScopedRole as_grantor(grant.grantor);
        spi_execute(grant.statement);
      });
      if (failure.has_value()) {
        waiting.push_back(grant);
        last_error = failure;
      }
    }
    if (waiting.size() == grants.size()) throw *last_error;  // no progress
    grants = std::move(waiting);
  }
}

}  // namespace

namespace {

bool has_default_acl(Oid relid) {
  return pg_call([&] {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", relid);
    bool is_null;
    (void)SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &is_null);
    ReleaseSysCache(tuple);
    return is_null;
  });
}

// What a NULL ACL means for a relation of `owner`: every relation privilege of the running
// server for the owner. Asked of the server, since the set grew (MAINTAIN, PostgreSQL 17).
std::vector<AclGrant> default_acl_of(const std::string& owner) {
  return parse_acl(*spi_query("SELECT pg_catalog.acldefault('r', oid)::text "
                              "FROM pg_catalog.pg_roles WHERE rolname = $1",
                              {{owner, TEXTOID}})
                        .rows.at(0).at(0));
}

void restore_acl(const SavedRelation& saved, Oid relid) {
  bool new_is_default = has_default_acl(relid);
  if (!saved.acl.has_value() && new_is_default) return;  // default then and now
  // Only the difference between what the new relation has and what the old one had is
  // granted or revoked (a NULL ACL meaning the owner's implicit privileges).
  std::vector<AclGrant> have;
  if (new_is_default) {
    have = default_acl_of(saved.owner);
  } else {
    have = parse_acl(*spi_query("SELECT relacl::text FROM pg_catalog.pg_class WHERE oid = $1",
                                {{std::to_string(relid), OIDOID}})
                          .rows.at(0).at(0));
  }
  std::vector<AclGrant> want =
      saved.acl.has_value() ? parse_acl(*saved.acl) : default_acl_of(saved.owner);
  for (const auto& g : acl_difference(have, want)) {
    spi_execute("REVOKE " + g.privilege + " ON " + saved.display_name + " FROM " + grantee_sql(g));
  }
  apply_grants(grant_statements(acl_difference(want, have), saved.display_name, std::nullopt),
               saved.owner);
}

}  // namespace

void explain_hand_made_index_failure(PgError& error, const SavedRelation& saved, const SavedIndex& index) {
  std::string qualified_index = QualifiedName{saved.name.schema, index.name}.display();
  prefix_message(error, "cannot restore the index " + quote_ident(index.name) + ", made by hand");
  set_detail_if_missing(error, "It was: " + index.definition + ".");
  set_hint_if_missing(error, "pg_viewmgr keeps the indexes made by hand on a rebuilt materialized view, "
                             "and the new definition no longer fits this one. Drop it first (DROP INDEX " +
                                 qualified_index + "), or declare the indexes the view needs with "
                                 "indexes => ARRAY[...].");
}

void restore_properties(const SavedRelation& saved, const RestoreOptions& options) {
  Oid relid = relation_oid(saved.name);
  if (!OidIsValid(relid)) {
    throw Error(sqlstate::kInternalError, saved.display_name + " is missing after its rebuild");
  }
  // The caller runs this as the relation's owner (ScopedOwner), so it is owned right already.
  // What stands there now may be of the other kind (a view rebuilt as a materialized view).
  const bool now_materialized = pg_call([&] { return get_rel_relkind(relid); }) == RELKIND_MATVIEW;
  const std::string kind = now_materialized ? "MATERIALIZED VIEW" : "VIEW";
  restore_acl(saved, relid);
  if (options.comment && saved.comment.has_value()) {
    spi_execute("COMMENT ON " + kind + " " + saved.display_name + " IS " +
                quote_literal(*saved.comment));
  }

  std::vector<Column> live;
  if (!saved.columns.empty()) live = live_columns(relid);
  for (const auto& column : saved.columns) {
    bool still_there = std::any_of(live.begin(), live.end(),
                                   [&](const Column& c) { return c.name == column.name; });
    if (!still_there) continue;  // the new definition no longer has it
    std::string qualified_column = saved.display_name + "." + quote_ident(column.name);
    if (column.acl.has_value()) {
      apply_grants(grant_statements(parse_acl(*column.acl), saved.display_name, column.name),
                   saved.owner);
    }
    if (column.comment.has_value()) {
      spi_execute("COMMENT ON COLUMN " + qualified_column + " IS " + quote_literal(*column.comment));
    }
    if (column.default_expression.has_value() && !now_materialized) {
      spi_execute("ALTER VIEW " + saved.display_name + " ALTER COLUMN " +
                  quote_ident(column.name) + " SET DEFAULT " + *column.default_expression);
    }
  }

  if (options.indexes) {
    for (const auto& index : saved.indexes) {
      bool skip = std::find(options.skip_index_definitions.begin(),
                            options.skip_index_definitions.end(),
                            index.definition) != options.skip_index_definitions.end();
      if (skip) continue;
      std::string qualified_index = QualifiedName{saved.name.schema, index.name}.display();
      try {
        spi_execute(index.definition);
      } catch (PgError& error) {
        explain_hand_made_index_failure(error, saved, index);
        throw;
      }
      if (index.tablespace.has_value()) {
        spi_execute("ALTER INDEX " + qualified_index + " SET TABLESPACE " +
                    quote_ident(*index.tablespace));
      }
      if (index.comment.has_value()) {
        spi_execute("COMMENT ON INDEX " + qualified_index + " IS " + quote_literal(*index.comment));
      }
    }
  }
  // INSTEAD OF triggers and rules belong to plain views; a view turned into a materialized
  // view cannot keep them.
  if (now_materialized == saved.materialized()) {
    for (const auto& trigger : saved.triggers) spi_execute(trigger);
    for (const auto& rule : saved.rules) spi_execute(rule);
  }
}

}  // namespace viewmgr::pg
