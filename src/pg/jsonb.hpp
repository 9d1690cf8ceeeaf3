// A jsonb datum as a JsonValue (core/json_value.hpp).
#pragma once
#include "pg/postgres.hpp"

#include "core/json_value.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace viewmgr::pg {

// Every value of `jsonb`, walked once with jsonb's iterator. An object's members come in
// the order ORDER BY on its keys gives in this database (the default collation), so that
// whatever reads them meets them as a query over jsonb_each would.
JsonValue jsonb_to_value(Jsonb* jsonb);

}  // namespace viewmgr::pg
