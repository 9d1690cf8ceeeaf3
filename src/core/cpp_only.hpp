// Included by every .cpp file in src/core, after its other includes: those files must stay
// free of PostgreSQL server headers so they can be unit-tested (and sanitized) outside the
// server. (Headers in src/core are also used by src/pg, so the check lives in .cpp files.)
#pragma once

#if defined(PG_VERSION_NUM) || defined(POSTGRES_H)
#error "src/core must not include PostgreSQL server headers; put server code in src/pg"
#endif
