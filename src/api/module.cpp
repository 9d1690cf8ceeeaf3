// Module entry: the magic block and load-time initialisation.
#include "pg/postgres.hpp"

#include "refresh/change_tracking.hpp"
#include "refresh/refresh.hpp"
#include "pg/settings.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

// Called by PostgreSQL (C code, no C++ exceptions can arise here).
extern "C" void _PG_init(void) {
  viewmgr::pg::define_settings();
  viewmgr::pg::init_change_tracking();
  viewmgr::pg::init_refresh();
}
