// What the catalogs say about a managed view right now: whether its relation exists and as
// what, whether it was renamed by hand, and its indexes.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "registry/registry.hpp"

namespace viewmgr::pg {

struct LiveRelation {
  Oid oid = InvalidOid;
  char relkind = 0;
  bool populated = false;
  Oid owner = InvalidOid;
};

std::optional<LiveRelation> live_relation(const QualifiedName& name);

// A managed view renamed (or moved to another schema) by hand: the relation pg_viewmgr last
// built, still there under another name with the definition it was built with.
std::optional<QualifiedName> renamed_to(const ManagedView& view);

// The view options the relation carries, normalised as declarations are
// (normalize_view_options): "security_barrier=true", ...
std::vector<std::string> live_view_options(Oid relid);

// "view", "materialized view", "table", ... for messages.
const char* relkind_name(char relkind);

struct LiveIndex {
  std::string name;
  std::string definition;  // pg_get_indexdef
};

// Indexes on a relation with their definitions, by name.
std::vector<LiveIndex> live_indexes(Oid relid);

// The name of the one index in `after` that `before` lacks (what a CREATE INDEX made).
std::optional<std::string> new_index_name(const std::vector<LiveIndex>& before,
                                          const std::vector<LiveIndex>& after);

// Definitions of the indexes the last build created that are gone or changed.
std::vector<std::string> missing_built_indexes(const ManagedView& view, Oid relid);

}  // namespace viewmgr::pg
