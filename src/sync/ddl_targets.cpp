#include "sync/ddl_targets.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "pg/boundary.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
}

namespace viewmgr::pg {

namespace {

bool is_relation_object(ObjectType type) {
  return type == OBJECT_TABLE || type == OBJECT_VIEW || type == OBJECT_MATVIEW ||
         type == OBJECT_FOREIGN_TABLE;
}

// Appends the RangeVars a statement changes (inside pg_call: plain C data only).
List* changed_relations(Node* stmt, List* out) {
  switch (nodeTag(stmt)) {
    case T_AlterTableStmt:
      return lappend(out, reinterpret_cast<AlterTableStmt*>(stmt)->relation);
    case T_RenameStmt: {
      auto* rename = reinterpret_cast<RenameStmt*>(stmt);
      return rename->relation != nullptr ? lappend(out, rename->relation) : out;
    }
    case T_AlterObjectSchemaStmt: {
      auto* move = reinterpret_cast<AlterObjectSchemaStmt*>(stmt);
      return move->relation != nullptr ? lappend(out, move->relation) : out;
    }
    case T_ViewStmt:
      return lappend(out, reinterpret_cast<ViewStmt*>(stmt)->view);
    case T_DropStmt: {
      auto* drop = reinterpret_cast<DropStmt*>(stmt);
      if (!is_relation_object(drop->removeType)) return out;
      ListCell* lc;
      foreach (lc, drop->objects) {
        out = lappend(out, makeRangeVarFromNameList(static_cast<List*>(lfirst(lc))));
      }
      return out;
    }
    default:
      return out;
  }
}

}  // namespace

std::vector<RelationRef> relations_changed_by(const std::string& ddl) {
  const char* text = ddl.c_str();
  List* range_vars = nullptr;
  try {
    range_vars = pg_call([&] {
      List* out = NIL;
      ListCell* lc;
      foreach (lc, raw_parser(text, RAW_PARSE_DEFAULT)) {
        out = changed_relations(lfirst_node(RawStmt, lc)->stmt, out);
      }
      return out;
    });
  } catch (PgError& error) {
    // Positioned in the DDL, not in the call of run_with_dependents around it.
    prefix_message(error, kUserDdlFailed);
    rethrow_against_text(error, ddl);
  }
  std::vector<RelationRef> refs;
  ListCell* lc;
  foreach (lc, range_vars) {
    auto* rv = static_cast<RangeVar*>(lfirst(lc));
    RelationRef ref{rv->schemaname != nullptr ? rv->schemaname : "", rv->relname};
    bool seen = std::any_of(refs.begin(), refs.end(), [&](const RelationRef& r) {
      return r.schema == ref.schema && r.name == ref.name;
    });
    if (!seen) refs.push_back(std::move(ref));
  }
  return refs;
}

bool renames_only(const std::string& ddl) {
  const char* text = ddl.c_str();
  struct Counts {
    int renames;
    int others;
  };
  Counts counts{0, 0};
  try {
    counts = pg_call([&] {
      Counts c{0, 0};
      ListCell* lc;
      foreach (lc, raw_parser(text, RAW_PARSE_DEFAULT)) {
        Node* stmt = lfirst_node(RawStmt, lc)->stmt;
        if (IsA(stmt, RenameStmt) || IsA(stmt, AlterObjectSchemaStmt)) {
          c.renames++;
        } else {
          c.others++;
        }
      }
      return c;
    });
  } catch (PgError& error) {
    // Positioned in the DDL, not in the call of run_with_dependents around it.
    prefix_message(error, kUserDdlFailed);
    rethrow_against_text(error, ddl);
  }
  if (counts.renames > 0 && counts.others > 0) {
    throw Error(sqlstate::kFeatureNotSupported,
                "run_with_dependents cannot mix RENAME or SET SCHEMA with other statements",
                "Renames run in place, without dropping any view; the other statements need "
                "the dependent views dropped and recreated.",
                "Run the renames in their own run_with_dependents call.");
  }
  return counts.renames > 0;
}

}  // namespace viewmgr::pg
