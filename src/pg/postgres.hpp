// The first server header of every server-side file: postgres.h and fmgr.h (Datum, Oid,
// elog, FunctionCallInfo), wrapped in extern "C", with the macros that break the C++
// standard library undone. Each file includes the other server headers it needs itself,
// in an extern "C" block after this one; version differences live in compat.hpp.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

// PostgreSQL's c.h defines these as macros; they break the C++ standard library.
#undef vsnprintf
#undef snprintf
#undef vsprintf
#undef sprintf
#undef vfprintf
#undef fprintf
#undef vprintf
#undef printf
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext
