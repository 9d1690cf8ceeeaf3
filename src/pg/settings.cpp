#include "pg/settings.hpp"

#include <climits>

#include "pg/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace viewmgr::pg {

int setting_lock_timeout_ms = 0;
int setting_history_retention_s = 30 * 24 * 3600;
bool setting_progress_notices = false;

void define_settings() {
  DefineCustomIntVariable(
      "viewmgr.lock_timeout",
      "How long a refresh waits for the lock on one materialized view (0: no limit).",
      "A view whose lock cannot be had in time is skipped; the others go on.",
      &setting_lock_timeout_ms, 0, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr,
      nullptr);
  DefineCustomIntVariable("viewmgr.history_retention",
                          "How long rows of viewmgr.history are kept.",
                          "refresh_all() deletes older rows as it ends; purge_history() deletes by hand.",
                          &setting_history_retention_s, 30 * 24 * 3600, 0, INT_MAX, PGC_SUSET,
                          GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("viewmgr.progress_notices",
                           "Report each view as a NOTICE while refreshing.",
                           "Another session sees the same progress in pg_stat_activity.",
                           &setting_progress_notices, false, PGC_USERSET, 0, nullptr, nullptr,
                           nullptr);
  MarkGUCPrefixReserved("viewmgr");
}

}  // namespace viewmgr::pg
