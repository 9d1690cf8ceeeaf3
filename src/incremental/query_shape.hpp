// Whether a definition qualifies for incremental maintenance: the facts src/core's
// plan_incremental() decides on, read off the analysed query.
#pragma once
#include "pg/postgres.hpp"

#include <string>
#include <utility>
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

// What each key column of a key log logs (its comment): a column of the source, or an
// expression over a row of it.
std::string logged_value(const IncrementalKey& key);

// Whether the capture of an incremental view still logs what its definition groups by: the
// definition view `definition_view` is planned again (the plain views it reads may have been
// replaced since the capture was made, CREATE OR REPLACE VIEW, and with them the keys'
// expressions or the table read). Returns why not ("" when it does): the refresh then
// recomputes everything. `logged` holds (output column, logged value) per key column,
// `source` the table the capture triggers are on.
std::string capture_out_of_date(Oid definition_view, const std::vector<std::pair<std::string, std::string>>& logged,
                                Oid source);

// register()'s and declare()'s check of an incremental declaration: 0A000 with the reason
// when the definition does not qualify. When its analysis fails (a source not created yet)
// the analysis error is raised only if `sources_must_exist`.
void check_incremental_declaration(const ManagedView& view, bool sources_must_exist);

}  // namespace viewmgr::pg
