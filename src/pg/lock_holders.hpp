// Who holds a lock another session waits for, said in errors and history details: "the
// session of pid 4711 (role app, application psql, idle in transaction): UPDATE ...".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pg/postgres.hpp"

namespace viewmgr::pg {

// The session holding the transaction-level advisory lock KEY of this database (empty when
// none does any more).
std::string advisory_lock_holder(int64 key);

// The sessions other than this one holding a granted lock on relation RELID (empty when none
// does any more).
std::string relation_lock_holders(Oid relid);

// The same for many relations in one look at the lock table: only those somebody else holds
// a lock on are in the map.
std::map<Oid, std::string> relations_lock_holders(const std::vector<Oid>& relids);

}  // namespace viewmgr::pg
