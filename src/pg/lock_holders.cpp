#include "pg/lock_holders.hpp"

#include <vector>

#include "pg/spi.hpp"

namespace viewmgr::pg {

namespace {

// The sessions of the granted locks PREDICATE selects (over pg_locks l), one per pid.
std::string describe_holders(const std::string& predicate, const std::vector<Param>& params) {
  QueryResult holders = spi_query(
      "SELECT DISTINCT ON (a.pid) a.pid::text, a.usename::text, coalesce(a.application_name, ''), "
      "       a.state, pg_catalog.left(a.query, 200) "
      "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND " + predicate +
          " ORDER BY a.pid LIMIT 5",
      params);
  std::string out;
  for (const Row& r : holders.rows) {
    std::string who = "the session of pid " + r[0].value_or("?") + " (role " + r[1].value_or("?");
    if (r[2].has_value() && !r[2]->empty()) who += ", application " + *r[2];
    who += ", " + r[3].value_or("unknown state") + ")";
    if (r[4].has_value() && !r[4]->empty()) who += ": " + *r[4];
    out += (out.empty() ? "" : "; ") + who;
  }
  return out;
}

}  // namespace

std::string advisory_lock_holder(int64 key) {
  // pg_locks shows an int8 advisory key as its high and low halves (classid, objid), with
  // objsubid 1.
  auto bits = static_cast<uint64>(key);
  return describe_holders(
      "l.locktype = 'advisory' AND l.objsubid = 1 "
      "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
      "AND l.classid = $1::pg_catalog.oid AND l.objid = $2::pg_catalog.oid",
      {{std::to_string(bits >> 32)}, {std::to_string(bits & 0xffffffffu)}});
}

std::string relation_lock_holders(Oid relid) {
  return describe_holders("l.locktype = 'relation' AND l.relation = $1::pg_catalog.oid",
                          {{std::to_string(relid)}});
}

std::map<Oid, std::string> relations_lock_holders(const std::vector<Oid>& relids) {
  std::map<Oid, std::string> out;
  if (relids.empty()) return out;
  std::string list;
  for (Oid relid : relids) list += (list.empty() ? "" : ",") + std::to_string(relid);
  QueryResult locked = spi_query(
      "SELECT DISTINCT l.relation::text FROM pg_catalog.pg_locks l "
      "WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_catalog.pg_backend_pid() "
      "AND l.relation IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[]))",
      {{"{" + list + "}"}});
  for (const Row& row : locked.rows) {
    Oid relid = to_oid(row[0]);
    out[relid] = relation_lock_holders(relid);
  }
  return out;
}

}  // namespace viewmgr::pg
