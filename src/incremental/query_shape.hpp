// Whether a definition qualifies for incremental maintenance: the facts src/core's
// plan_incremental() decides on, read off the analysed query.
#pragma once
#include "pg/postgres.hpp"

#include <string>
#include <vector>

#include "core/incremental_query.hpp"

namespace viewmgr::pg {

// Analyses `definition` under `search_path` (errors as analysis gives them) and plans it.
IncrementalPlan plan_incremental_definition(const std::string& definition,
                                            const std::vector<std::string>& search_path);

// The plan, or 0A000 naming the view and what does not qualify.
IncrementalPlan require_incremental_plan(const std::string& display_name, const std::string& definition,
                                         const std::vector<std::string>& search_path);

struct ManagedView;

// register()'s and declare()'s check of an incremental declaration: 0A000 with the reason
// when the definition does not qualify. When its analysis fails (a source not created yet)
// the analysis error is raised only if `sources_must_exist`.
void check_incremental_declaration(const ManagedView& view, bool sources_must_exist);

}  // namespace viewmgr::pg
