// Rebuilding a view from its registered text resolves its names again with the registered
// search_path. A role that can create in a schema of that path could make the rebuild bind
// to its own object: a relation, a type or an operator earlier in the path, or a function
// overload that matches the arguments better (from any schema of the path). Two checks keep
// a rebuilt view bound to what it was built on:
//   - check_name_bindings, before anything is dropped: each unqualified relation name still
//     resolves to a relation the standing view reads (the cheap, early refusal);
//   - check_bindings_kept, right after each CREATE of a managed view and before the
//     transaction can commit: what PostgreSQL recorded the new view to depend on (pg_depend
//     of its _RETURN rule: relations, functions, operators, types, collations, text search
//     configurations...) against what the definition bound to before (ManagedView::bindings).
// The comparison is by catalog, schema and name rather than by oid: oids change across dump
// and restore and a rebuilt managed view gets a new one, names are what resolution follows.
// A new dependency outside pg_catalog (which only superusers can create in) must name an
// object of the same catalog, schema and name as one bound before. A change of overload
// within the same schema (int4 = int4 becoming int8 = int8 after a column's type changed)
// is not a change of binding. Built-in objects are pinned and never appear in pg_depend,
// which is why the rule is about what is new rather than about what went missing.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>

#include "registry/registry.hpp"

namespace viewmgr::pg {

// Fails (42501) naming both relations when an unqualified name in `view`'s registered text
// would now resolve, under its registered search_path, to another relation than the one the
// standing view reads. Nothing to compare (and no failure) when the view does not stand, or
// when its text or search_path changed since it was built (a new registration binds anew).
void check_name_bindings(const ManagedView& view);

// What the view `relid`, built from `view`'s registered definition and search_path, binds
// to: the jsonb text ManagedView::bindings holds.
std::string bindings_of(const ManagedView& view, Oid relid);

// Before a rebuild drops anything, when `view.bindings` do not apply to its registered
// definition and search_path (registrations made before 0.3.0, or not analysable when
// registered): what the view binds to becomes the reference, if it stands as pg_viewmgr
// built it from them (same relation, rule not replaced by hand since).
void take_standing_bindings(ManagedView& view);

// What `view`'s registered definition binds to without building it (registrations with
// apply => false): a plain view under a scratch name in the view's schema, made and rolled
// back in a subtransaction, so that PostgreSQL itself records the dependencies (creating a
// plain view runs no query). nullopt when it cannot be made now (a relation it reads does
// not exist yet): its first build then binds anew.
std::optional<std::string> probe_bindings(const ManagedView& view);

// For a registration being saved: brings `view.bindings` up to date with its registered
// definition and search_path. Kept when they apply; else those of the view standing as built
// from them (take_standing_bindings); else, with `probe`, probe_bindings. True when they
// changed (and must be saved).
bool refresh_registered_bindings(ManagedView& view, bool probe);

// Fails (42501) when the view `relid`, just built from `view`'s registered definition,
// depends on an object outside pg_catalog that the definition did not bind to before: its
// name, the object it would now bind to and, where known, the one it bound to. Nothing to
// compare when `view.bindings` is unset or recorded for another definition or search_path.
// Otherwise `view.bindings` becomes what `relid` binds to (mark_built records it).
void check_bindings_kept(ManagedView& view, Oid relid);

// The same before anything is created, on a scratch plain view (see probe_bindings): for
// a materialized view whose CREATE runs its query, which must not run bound to another
// object even once. When the scratch view cannot be made, the CREATE itself will fail.
void check_bindings_before_create(const ManagedView& view);

}  // namespace viewmgr::pg
