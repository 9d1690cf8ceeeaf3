// What a materialized view reads at any depth, walked over what the catalog says of each
// relation: the relations its rules reference, through plain views, down to the
// partitions and inheritance children of the tables read. Pure C++: the server layer
// (src/refresh/matview_set.cpp) loads the facts of relations in batches, a level of the
// walk at a time, only those a walk reaches and the catalog does not know yet, so each
// relation's rules are read once however many views read it. It fills a new catalog on
// every call (nothing is kept across statements; forget() is for a caller that would).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace viewmgr {

using RelationId = std::uint32_t;  // a pg_class oid
using FunctionId = std::uint32_t;  // a pg_proc oid

// What the walk needs of one relation.
struct RelationFacts {
  char kind = '\0';  // pg_class.relkind; '\0': no such relation (dropped meanwhile)
  std::string display_name;
  char trigger_mode = '\0';              // tgenabled of its tracking trigger; '\0': none
  std::vector<RelationId> rule_reads;    // relations its rules reference, other than itself
  std::vector<RelationId> children;      // partitions and inheritance children
  std::vector<FunctionId> functions;     // user-defined functions its rules call
};

class SourceCatalog {
 public:
  void learn(RelationId relation, RelationFacts facts);
  void forget(RelationId relation);
  void forget_all();
  bool knows(RelationId relation) const { return facts_.count(relation) > 0; }
  // nullptr when unknown.
  const RelationFacts* facts(RelationId relation) const;
  std::size_t size() const { return facts_.size(); }

  // The relations a walk from `roots` reaches (roots included) whose facts are not known:
  // what to load before closure() can answer. Empty when the walk is complete. Called
  // again after loading them, it reaches further, until nothing is missing.
  std::vector<RelationId> unknown_reachable(const std::vector<RelationId>& roots) const;

  struct Closure {
    // Every relation read at any depth that holds or shows rows (tables, partitioned and
    // foreign tables, materialized and plain views), sorted, without duplicates. The root
    // itself only when a cycle through plain views leads back to it.
    std::vector<RelationId> relations;
    // User-defined functions called by the root or by the plain views it reads through,
    // sorted, without duplicates.
    std::vector<FunctionId> functions;
  };
  // The root's rules are followed whatever it is; past the root, a plain view's rules and
  // a table's children are followed, and a materialized view is a leaf (its contents only
  // change when it is refreshed). Relations not known are skipped: call
  // unknown_reachable() first.
  Closure closure(RelationId root) const;

 private:
  // Calls visit(relation, facts or nullptr, is_root) for the root, then once for every
  // relation reached from it; visit returns false to stop descending below a relation.
  template <typename Visit>
  void walk(RelationId root, Visit&& visit) const;

  std::unordered_map<RelationId, RelationFacts> facts_;
};

// Kinds that hold or show rows: r, p, f, m, v.
bool readable_kind(char kind);

}  // namespace viewmgr
