// Which relations a DDL script changes, from its raw parse tree: the roots whose dependent
// views run_with_dependents must save, drop and recreate around it.
#pragma once
#include "pg/postgres.hpp"

#include <string>
#include <vector>

#include "sync/definition.hpp"

namespace viewmgr::pg {

// What every error of the DDL given to run_with_dependents starts with.
inline constexpr const char* kUserDdlFailed = "in the DDL given to run_with_dependents";

// Relations named as the target of ALTER TABLE / VIEW / MATERIALIZED VIEW / FOREIGN TABLE,
// RENAME, SET SCHEMA, DROP of those, and CREATE OR REPLACE VIEW. Syntax errors keep their
// position. Other statements are allowed and simply name no target.
std::vector<RelationRef> relations_changed_by(const std::string& ddl);

// Whether every statement of `ddl` is a RENAME (of anything, columns and schemas included)
// or SET SCHEMA: DDL that no view has to be dropped for. A script mixing them with other
// statements is refused (0A000): the views recreated after it would be built from text
// naming what the renames changed.
bool renames_only(const std::string& ddl);

}  // namespace viewmgr::pg
