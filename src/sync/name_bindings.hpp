// Rebuilding a view from its registered text resolves its names again with the registered
// search_path. A role that can create in a schema earlier in that path could make the
// rebuild read its own relation instead. Before anything is dropped, a rebuild checks that
// each unqualified relation name still resolves to a relation the standing view reads.
#pragma once
#include "pg/postgres.hpp"

#include "registry/registry.hpp"

namespace viewmgr::pg {

// Fails (42501) naming both relations when an unqualified name in `view`'s registered text
// would now resolve, under its registered search_path, to another relation than the one the
// standing view reads. Nothing to compare (and no failure) when the view does not stand, or
// when its text or search_path changed since it was built (a new registration binds anew).
void check_name_bindings(const ManagedView& view);

}  // namespace viewmgr::pg
