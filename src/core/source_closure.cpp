#include "core/source_closure.hpp"

#include <algorithm>
#include <unordered_set>

#include "core/cpp_only.hpp"

namespace viewmgr {

namespace {

bool is_table_kind(char kind) { return kind == 'r' || kind == 'p' || kind == 'f'; }

template <typename T>
void sort_unique(std::vector<T>& items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
}

}  // namespace

bool readable_kind(char kind) { return is_table_kind(kind) || kind == 'm' || kind == 'v'; }

void SourceCatalog::learn(RelationId relation, RelationFacts facts) {
  facts_[relation] = std::move(facts);
}

void SourceCatalog::forget(RelationId relation) { facts_.erase(relation); }

void SourceCatalog::forget_all() { facts_.clear(); }

const RelationFacts* SourceCatalog::facts(RelationId relation) const {
  auto it = facts_.find(relation);
  return it == facts_.end() ? nullptr : &it->second;
}

template <typename Visit>
void SourceCatalog::walk(RelationId root, Visit&& visit) const {
  // The root is expanded through its rules; it is visited only if reached again.
  std::unordered_set<RelationId> seen;
  std::vector<RelationId> stack;
  const RelationFacts* root_facts = facts(root);
  if (!visit(root, root_facts, /*is_root=*/true) || root_facts == nullptr) return;
  stack.insert(stack.end(), root_facts->rule_reads.begin(), root_facts->rule_reads.end());
  while (!stack.empty()) {
    RelationId relation = stack.back();
    stack.pop_back();
    if (!seen.insert(relation).second) continue;
    const RelationFacts* f = facts(relation);
    if (!visit(relation, f, /*is_root=*/false) || f == nullptr) continue;
    if (f->kind == 'v') {
      stack.insert(stack.end(), f->rule_reads.begin(), f->rule_reads.end());
    } else if (is_table_kind(f->kind)) {
      stack.insert(stack.end(), f->children.begin(), f->children.end());
    }
  }
}

std::vector<RelationId> SourceCatalog::unknown_reachable(const std::vector<RelationId>& roots) const {
  std::vector<RelationId> unknown;
  for (RelationId root : roots) {
    walk(root, [&](RelationId relation, const RelationFacts* f, bool) {
      if (f == nullptr) unknown.push_back(relation);
      return f != nullptr;
    });
  }
  sort_unique(unknown);
  return unknown;
}

SourceCatalog::Closure SourceCatalog::closure(RelationId root) const {
  Closure out;
  walk(root, [&](RelationId relation, const RelationFacts* f, bool is_root) {
    if (f == nullptr) return false;
    if (is_root || f->kind == 'v') {
      out.functions.insert(out.functions.end(), f->functions.begin(), f->functions.end());
    }
    if (!is_root && readable_kind(f->kind)) out.relations.push_back(relation);
    return true;
  });
  sort_unique(out.relations);
  sort_unique(out.functions);
  return out;
}

}  // namespace viewmgr
