// pg_viewmgr's settings (GUCs), defined when the library loads.
#pragma once

namespace viewmgr::pg {

// viewmgr.lock_timeout (ms; 0 = wait as long as it takes): how long a refresh waits for the
// lock on one materialized view before that view is skipped and the others go on.
extern int setting_lock_timeout_ms;
// viewmgr.history_retention (seconds): history rows older than this are purged by
// refresh_all() and by purge_history() without an argument.
extern int setting_history_retention_s;
// viewmgr.progress_notices: refresh() with cascade and refresh_all() report each view as
// a NOTICE.
extern bool setting_progress_notices;

void define_settings();

}  // namespace viewmgr::pg
