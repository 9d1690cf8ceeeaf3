// declare(): a whole set of views declared in one call and one transaction, as a deploy
// does: the effect of register(..., apply => false) for each, then sync(), set-based (the
// registry is read once and written with one statement). prune => true also unregisters and
// drops the managed views of the set's schemas that the set no longer names.
#pragma once

#include <string>
#include <vector>

#include "core/json_value.hpp"
#include "sync/sync.hpp"

namespace viewmgr::pg {

// `views` is the jsonb argument (pg/jsonb.hpp). Returns one row per declared view (in build
// order) and one per pruned view (action "dropped").
std::vector<SyncRow> declare_views(const JsonValue& views, bool prune, bool dry_run,
                                   const std::string& search_path);

}  // namespace viewmgr::pg
