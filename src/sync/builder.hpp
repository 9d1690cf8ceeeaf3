// Building one managed view: CREATE or CREATE OR REPLACE as its owner, its declared indexes
// and comment, what a rebuild saved put back, and the registry and history updated. Side
// by side for a rebuilt materialized view: built under a temporary name, then swapped in.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/rebuild_plan.hpp"
#include "registry/history.hpp"
#include "registry/registry.hpp"
#include "sync/live_catalog.hpp"
#include "sync/managed_views.hpp"
#include "sync/saved_relation.hpp"

namespace viewmgr::pg {

class Builder {
 public:
  explicit Builder(ManagedViews& managed) : managed_(managed) {}

  // Creates, replaces or (after the plan dropped it) recreates the view. `saved` is what
  // the view had before it was dropped for a rebuild: grants, comments, hand-made indexes
  // and the like are put back from it.
  void build(NodeId node, Action action, const SavedRelation* saved);

  // A materialized view built side by side: under a temporary name, with its data and
  // indexes, while the old one is still there for readers.
  struct Prebuilt {
    std::string started;  // when its build began, for the history
    QualifiedName temporary;
    std::vector<std::pair<std::string, std::string>> index_renames;  // built name -> final
    std::vector<std::pair<std::string, std::string>> hand_made_comments;  // index -> comment
    std::size_t declared_indexes = 0;  // the first index_renames are the declared ones
  };
  Prebuilt prebuild(NodeId node, const SavedRelation* saved);

  // Puts a prebuilt materialized view in place of the old one (already dropped): only
  // renames, so the exclusive lock of the swap is short.
  void swap_in(NodeId node, const Prebuilt& pre, const SavedRelation* saved);

  // Recreates a view pg_viewmgr does not manage, as its owner, with everything it had.
  void recreate_unmanaged(const SavedRelation& saved);

  // Refuses (42501), before anything is dropped, a step of a rebuild the caller may not do
  // by hand: acting for a view's owner needs its privileges, and a new relation for an owner
  // without CREATE on the schema needs a superuser (who creates it and hands it over).
  // `node` is the managed view, or nullopt for the unmanaged dependent `saved`.
  void check_may_build(std::optional<NodeId> node, Action action, const SavedRelation* saved);

  // Writes the history rows of everything built (call before returning).
  void flush_history() { history_.flush(); }

 private:
  // The steps of build(), in order.
  void rename_back(const ManagedView& view, const QualifiedName& current);
  // `hand_over_to`: the owner, when the caller creates the relation for it (run_create).
  void create_view(ManagedView& view, std::optional<LiveRelation>& live, const SavedRelation* saved,
                   Oid hand_over_to);
  void sync_indexes(ManagedView& view, Oid relid, bool new_relation);
  // Fills a materialized view registered WITH DATA that was emptied by hand.
  void refill(const ManagedView& view, Oid relid, Oid owner);
  // REFRESH of `target` (the view, or its side-by-side build) as `owner`, recording the
  // refresh state under the view's name.
  void refresh_as_owner(const ManagedView& view, const QualifiedName& target, Oid owner);
  void apply_comment(const ManagedView& view);
  void restore_saved(const ManagedView& view, const SavedRelation& saved,
                     const std::vector<std::string>& previously_built_indexes, bool indexes);
  void record(ManagedView& view, Oid relid, const char* operation, const std::string& started,
              const std::optional<std::string>& detail = std::nullopt);

  // CREATE [MATERIALIZED] VIEW of `view` under `target` (WITH DATA runs a refresh that
  // records what it saw), run with the view's search_path. With `hand_over_to` (an owner
  // that may not create in the schema) it is created by the caller without running the
  // query, handed over with ALTER ... OWNER TO, and filled by a REFRESH as the owner.
  void run_create(const ManagedView& view, const ViewDdl& ddl, Oid hand_over_to);
  // The CREATE for `view` under `target`, keeping from `before` (what stood there) hand-set
  // view options, or the storage parameters, tablespace and populated state of a
  // materialized view.
  ViewDdl view_ddl(const ManagedView& view, const QualifiedName& target,
                   const SavedRelation* before) const;
  // Creates an index from a specification and returns the name PostgreSQL gave it.
  std::string create_index_named(const QualifiedName& on, Oid relid, const std::string& spec);

  ManagedViews& managed_;
  BuildRecorder recorder_;
  HistoryWriter history_{/*buffered=*/true};
};

// Records on `view` that `relid` is now what it was built as: the declaration as built,
// the live definition's canonical form and what the fast drift check needs.
void mark_built(ManagedView& view, Oid relid);

}  // namespace viewmgr::pg
