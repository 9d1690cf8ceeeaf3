// Module entry: the magic block and load-time initialisation.
#include "pg/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

extern "C" void _PG_init(void) {
  // Nothing to set up yet: no GUCs, hooks or shared memory. Settings such as
  // viewmgr.lock_timeout are defined here when they arrive.
}
