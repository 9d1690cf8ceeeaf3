// The registry table viewmgr.managed_view: reading it into C++ and writing it back (through
// own_tables.hpp, as the extension owner); the column list mirrors the install script.
#pragma once
#include "pg/postgres.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/build_spec.hpp"
#include "pg/names.hpp"
#include "pg/spi.hpp"
#include "registry/own_tables.hpp"

extern "C" {
#include "access/transam.h"
}

namespace viewmgr::pg {

struct ManagedView {
  QualifiedName name;
  std::string display_name;  // name.display(), computed once
  bool materialized = false;
  std::string definition;
  std::vector<std::string> search_path;
  std::vector<std::string> depends_on;  // qualified display names
  std::vector<std::string> reads;       // qualified display names
  std::vector<std::string> indexes;
  bool with_data = true;
  std::optional<std::string> comment;
  std::vector<std::string> view_options;
  // A materialized view kept incrementally: its rows live in a table that only pg_viewmgr
  // writes (src/incremental/), and a refresh recomputes only the groups writes touched.
  bool incremental = false;
  // What was last built: the declaration as it stood (compared field by field with the
  // current one), the canonical form of the live definition right after the build, and the
  // definitions of the indexes it created. All unset while the view was never built.
  std::optional<std::string> built_definition;
  std::vector<std::string> built_search_path;
  std::vector<std::string> built_index_specs;  // as declared
  bool built_with_data = true;
  std::optional<std::string> built_comment;
  std::vector<std::string> built_view_options;
  std::optional<std::string> built_viewdef;
  std::vector<std::string> built_indexes;
  Oid built_relid = InvalidOid;
  TransactionId built_rule_xmin = InvalidTransactionId;
  // The role the view belongs to (InvalidOid: a registration whose role was dropped before
  // it was built). For a built view, the owner pg_class records.
  Oid owner = InvalidOid;
  // The role the registry row records: not `owner` when the built view was handed to
  // another role since it was last recorded (follow_owner_changes writes it then).
  Oid registered_owner = InvalidOid;
  std::optional<std::string> last_refreshed_at;
  std::optional<std::string> last_refresh_duration;
  std::optional<std::string> last_error;
  // What the definition binds to (sync/name_bindings.hpp): jsonb text recorded at every
  // build and when a registration is recorded without one; it names the definition and
  // search_path it is for, and applies only while they are the registered ones.
  std::optional<std::string> bindings;

  // Not stored: the canonical form of the registered definition, once analysed in this
  // call (derivable at any time from definition and search_path).
  std::optional<std::string> analyzed_canonical;
  // Not stored: the relation `bindings` were last read from in this call, so that a build
  // reads them once (sync/name_bindings.hpp).
  Oid bindings_relid = InvalidOid;

  std::string kind() const { return materialized ? "materialized view" : "view"; }
  std::string refresh_mode() const { return incremental ? "incremental" : "full"; }
  bool is_built() const { return built_viewdef.has_value(); }
  // The declaration, and the declaration as last built, for compare_specs().
  BuildSpec spec() const;
  BuildSpec built_spec() const;
};

// All managed views, ordered by schema and name.
std::vector<ManagedView> load_registry();

// One managed view by name (one index lookup, planned once per backend), or nullopt.
std::optional<ManagedView> load_registration(const QualifiedName& name);

// The declaration of a managed view (the fields save_registration writes, and owner), and
// whether it was built: what an unchanged re-registration is recognised by.
struct Declaration {
  ManagedView view;  // declaration fields only; no build state
  bool built = false;
};
std::optional<Declaration> load_declaration(const QualifiedName& name);

// Whether `name` is a managed view (one index lookup, planned once per backend).
bool registration_exists(const QualifiedName& name);

// The part of the registry a change to `views` (display names) can touch, with one
// recursive query over the registry's indexes: those views, everything they and `reads`
// (what they are declared to read now) read, transitively, everything that reads the views,
// transitively, and what those readers read directly. Ordered by schema and name. Its cost
// follows the size of that neighbourhood, not of the registry.
std::vector<ManagedView> load_registry_around(const std::vector<std::string>& views,
                                             const std::vector<std::string>& reads);

// The display names of `display_name` and of every managed view that reads or depends on
// it, transitively (index probes only).
std::vector<std::string> downstream_names(const std::string& display_name);

// Whether the declaration (not the build state) of `a` and `b` is the same: what
// save_registration would write.
bool same_registration(const ManagedView& a, const ManagedView& b);

// Inserts or updates the declaration (not the build state).
void save_registration(const ManagedView& view);
// The same for many views with one statement.
void save_registrations(const std::vector<const ManagedView*>& views);

// Records what was just built (the declaration as built, the live definition, the reads).
// Planned once per call: sync() records hundreds of builds.
class BuildRecorder {
 public:
  BuildRecorder();
  ~BuildRecorder();
  void record(const ManagedView& view);

 private:
  std::unique_ptr<OwnTablesStatement> statement_;
};

// Writes into the registry the owners PostgreSQL gave built views since (ALTER ... OWNER TO,
// REASSIGN OWNED), which loading already follows: one statement, rows that differ only.
// With `only`, just those views (by index probes: what a register() touched, whatever the
// registry's size); without, every registered view.
void follow_owner_changes(const std::optional<std::vector<QualifiedName>>& only = std::nullopt);

// Writes what the registered definition of `view` binds to (ManagedView::bindings).
void save_bindings(const ManagedView& view);

void delete_registration(const QualifiedName& name);
// The same for many views with one statement per table.
void delete_registrations(const std::vector<QualifiedName>& names);

// Serialises changes to the registry and the managed views between sessions, for the rest
// of the transaction.
void lock_registry();

// Changing functions refuse on a hot standby.
void require_writable(const char* function);

}  // namespace viewmgr::pg
