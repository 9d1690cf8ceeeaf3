// pg_snapshot values as text ("xmin:xmax:xip1,xip2"), as refresh states record them.
#pragma once

#include <cstdint>
#include <string>

namespace viewmgr {

// `snapshot` with `xid` added to its in-progress list, so the snapshot counts that
// transaction as not visible. Unchanged when `xid` is not visible to it anyway (below the
// snapshot's range it is finished, at or above xmax it is not visible). Throws
// viewmgr::Error on malformed text.
std::string snapshot_with_in_progress(const std::string& snapshot, std::uint64_t xid);

}  // namespace viewmgr
