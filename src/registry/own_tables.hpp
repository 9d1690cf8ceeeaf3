// The one way pg_viewmgr writes its own tables (viewmgr.managed_view, history,
// refresh_state, the change log), and reads those ordinary roles may not read: as the
// extension owner, who owns them. Ordinary roles hold no write privilege on them, so the
// registry changes only through pg_viewmgr's functions. Only pg_viewmgr's own statements
// run this way, never user SQL: definitions always run with their owner's rights.
#pragma once
#include "pg/postgres.hpp"

#include <string>
#include <vector>

#include "pg/scopes.hpp"
#include "pg/spi.hpp"

namespace viewmgr::pg {

QueryResult own_tables_query(const std::string& sql, const std::vector<Param>& params = {});

// For statements that look rows up by key (register() runs them thousands of times in a
// deploy): index probes whatever the estimates say. A plan chosen while the registry was
// small or just analysed would scan it whole, and keep scanning it as a deploy grows it in
// one transaction: a cost per call that grows with the number of managed views. Generic,
// so a kept plan is not planned again on every call; no JIT, never worth it for a probe.
struct IndexProbeScope {
  ScopedSetting no_jit{"jit", "off"};
  ScopedSetting no_seqscan{"enable_seqscan", "off"};
  ScopedSetting generic{"plan_cache_mode", "force_generic_plan"};
};

// own_tables_query under IndexProbeScope.
QueryResult own_tables_probe(const std::string& sql, const std::vector<Param>& params = {});

// A statement on the extension's tables planned once and run many times.
class OwnTablesStatement {
 public:
  enum class Plan { kAsEstimated, kIndexProbes };  // kIndexProbes: run under IndexProbeScope
  OwnTablesStatement(const std::string& sql, const std::vector<Oid>& types,
                     PreparedStatement::Lifetime lifetime = PreparedStatement::Lifetime::kCall,
                     Plan plan = Plan::kAsEstimated);
  QueryResult execute(const std::vector<Value>& values, bool read_only = false);

 private:
  PreparedStatement statement_;
  Plan plan_;
};

}  // namespace viewmgr::pg
