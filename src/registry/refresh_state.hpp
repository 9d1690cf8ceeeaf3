// The refresh engine's bookkeeping in the extension's tables: what each materialized view's
// last refresh could see (viewmgr.refresh_state), its last error, and the change log's
// reset marker and pruning (viewmgr.source_change, viewmgr.change_log_reset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/names.hpp"

namespace viewmgr::pg {

// What a refresh (or a build WITH DATA) saw: its snapshot as pg_snapshot text, with its own
// transaction counted as in progress, and that transaction and the command from which on
// its own writes were not seen.
struct PinnedSnapshot {
  std::string snapshot;
  std::optional<std::string> own_xid;  // xid8 text; nullopt when it had none yet
  std::uint32_t own_cid = 0;
};

// Records that `name` holds the data of `seen` (refresh_state, registry bookkeeping);
// returns the refresh duration since `started_at`.
std::optional<std::string> record_refresh_state(const QualifiedName& name, const PinnedSnapshot& seen,
                                                const std::string& started_at);

// Records a failed refresh's error on the registry row.
void record_refresh_error(const QualifiedName& name, const std::string& message);

// Whether the change log still has its marker row (crash recovery empties unlogged tables).
bool change_log_intact();

// After crash recovery emptied the change log: puts its marker row back and records when
// and the next transaction id then, so refreshes whose snapshot may not have seen every
// transaction before it count as stale. For the changing functions only.
void recover_change_log();

// Deletes change-log rows older than `horizon` (a full transaction id) that every refresh
// of a view reading their table could see: `relids[i]` was last refreshed with
// `snapshots[i]`. A bounded batch per call.
void delete_seen_changes(const std::vector<std::string>& relids,
                         const std::vector<std::string>& snapshots, std::uint64_t horizon);

}  // namespace viewmgr::pg
