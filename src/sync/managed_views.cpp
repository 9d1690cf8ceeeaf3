#include "sync/managed_views.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "pg/spi.hpp"
#include "sync/live_catalog.hpp"

namespace viewmgr::pg {

ManagedViews::ManagedViews(std::vector<ManagedView> views, bool resolve_unbuilt)
    : views_(std::move(views)) {
  index_names();
  // Views never built resolve their reads again: what they name may have been registered
  // since. Built views keep what their build resolved.
  for (auto& view : views_) {
    if (resolve_unbuilt && !view.is_built()) {
      view.reads = resolve(parse_definition(view.definition).reads, view.search_path);
    }
  }
  build_graph();
}

ManagedViews::ManagedViews(Partial, std::vector<ManagedView> views, bool resolve_unbuilt)
    : views_(std::move(views)), partial_(true) {
  index_names();
  for (auto& view : views_) {
    if (resolve_unbuilt && !view.is_built()) {
      view.reads = resolve(parse_definition(view.definition).reads, view.search_path);
    }
  }
  build_graph();
}

NodeId ManagedViews::put(ManagedView view) {
  auto existing = find(view.name);
  NodeId node;
  if (existing.has_value()) {
    node = *existing;
    views_[node] = std::move(view);
  } else {
    node = views_.size();
    by_display_[view.display_name] = node;
    looked_up_.erase(view.display_name);
    graph_.add_node(view.display_name);
    views_.push_back(std::move(view));
    // Views that named it before it was here now have an edge to it.
    auto waiting = referrers_.find(views_[node].display_name);
    if (waiting != referrers_.end()) {
      std::vector<NodeId> others = std::move(waiting->second);
      referrers_.erase(waiting);
      for (NodeId other : others) {
        if (other != node) link(other);
      }
    }
  }
  link(node);
  return node;
}

std::optional<NodeId> ManagedViews::find_or_load(const QualifiedName& name) {
  if (auto node = find(name)) return node;
  if (!partial_) return std::nullopt;
  auto loaded = load_registration(name);
  if (!loaded.has_value()) return std::nullopt;
  return put(std::move(*loaded));
}

void ManagedViews::link(NodeId node) {
  std::vector<NodeId> deps;
  for (const auto* list : {&views_[node].reads, &views_[node].depends_on}) {
    for (const auto& dep : *list) {
      auto it = by_display_.find(dep);
      if (it != by_display_.end()) {
        deps.push_back(it->second);
      } else {
        referrers_[dep].push_back(node);  // a table, or a view not managed (yet)
      }
    }
  }
  graph_.set_dependencies(node, std::move(deps));
}

void ManagedViews::index_names() {
  by_display_.clear();
  for (NodeId i = 0; i < views_.size(); i++) by_display_[views_[i].display_name] = i;
}

void ManagedViews::build_graph() {
  graph_ = DependencyGraph();
  referrers_.clear();
  for (const auto& view : views_) graph_.add_node(view.display_name);
  for (NodeId i = 0; i < views_.size(); i++) link(i);
}

std::optional<NodeId> ManagedViews::find(const QualifiedName& name) const {
  auto it = by_display_.find(name.display());
  if (it == by_display_.end()) return std::nullopt;
  return it->second;
}

bool ManagedViews::is_managed(const std::string& display_name) const {
  return by_display_.count(display_name) > 0;
}

bool ManagedViews::is_managed(const QualifiedName& name) const {
  std::string display = name.display();
  if (by_display_.count(display) > 0) return true;
  if (!partial_) return false;
  auto [it, inserted] = looked_up_.try_emplace(display, false);
  if (inserted) it->second = registration_exists(name);
  return it->second;
}

NodeId ManagedViews::find_by_user_name(const std::string& text,
                                       const std::vector<std::string>& path) const {
  auto name = resolve_name(parse_user_name(text, "view_name"), path, PathRule::kRead,
                           [&](const QualifiedName& candidate) { return find(candidate).has_value(); });
  if (!name.has_value() || !find(*name).has_value()) {
    throw Error(sqlstate::kUndefinedObject, "\"" + text + "\" is not a managed view", {},
                "viewmgr.status lists the managed views.");
  }
  return *find(*name);
}

std::vector<std::string> ManagedViews::resolve(const std::vector<RelationRef>& refs,
                                               const std::vector<std::string>& path) const {
  std::vector<std::string> out;
  for (const auto& ref : refs) {
    std::vector<std::string> parts;
    if (!ref.schema.empty()) parts.push_back(ref.schema);
    parts.push_back(ref.name);
    auto found = resolve_name(parts, path, PathRule::kRead, [&](const QualifiedName& candidate) {
      return is_managed(candidate) || OidIsValid(relation_oid(candidate));
    });
    // Not there yet: the first schema it could be created in is the best guess.
    std::string resolved = found.has_value() ? found->display()
                           : path.empty()    ? quote_ident(ref.name)
                                             : QualifiedName{path[0], ref.name}.display();
    if (std::find(out.begin(), out.end(), resolved) == out.end()) out.push_back(resolved);
  }
  return out;
}

std::vector<std::string> ManagedViews::resolve_declared(const std::vector<std::string>& depends_on,
                                                        const std::vector<std::string>& path) const {
  std::vector<std::string> out;
  for (const auto& dep : depends_on) {
    std::vector<std::string> parts = parse_user_name(dep, "depends_on");
    auto managed = resolve_name(parts, path, PathRule::kRead, [&](const QualifiedName& candidate) {
      return is_managed(candidate);
    });
    std::string resolved = managed.has_value() && parts.size() == 1
                               ? managed->display()
                               : resolve({{parts.size() == 2 ? parts[0] : "", parts.back()}}, path).front();
    if (std::find(out.begin(), out.end(), resolved) == out.end()) out.push_back(resolved);
  }
  return out;
}

std::vector<std::string> ManagedViews::managed_dependencies(NodeId node) const {
  std::vector<std::string> names;
  for (NodeId dep : graph_.dependencies(node)) names.push_back(graph_.name(dep));
  std::sort(names.begin(), names.end());
  return names;
}

void ManagedViews::check_declared_dependencies(const std::vector<NodeId>& nodes) const {
  for (NodeId node : nodes) {
    const ManagedView& view = views_.at(node);
    for (const auto& dep : view.depends_on) {
      if (!is_managed(dep)) {
        // Only in this error: a table or an unmanaged view of that name is a different
        // mistake from a name that is not registered yet.
        QueryResult kind = spi_query(
            "SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)", {{dep}});
        if (!kind.rows.empty() && kind.rows[0][0].has_value()) {
          std::string noun = relkind_name((*kind.rows[0][0])[0]);
          throw Error(sqlstate::kWrongObjectType,
                      view.display_name + " depends on " + dep + ", which is a " + noun + ", not a managed view",
                      "depends_on lists managed views that the definition reads in ways the parser cannot "
                      "see; what the definition reads itself needs no declaring.",
                      "Remove " + dep + " from depends_on" +
                          (noun == "view" || noun == "materialized view"
                               ? ", or bring it under management first with viewmgr.adopt('" + dep + "')."
                               : "."));
        }
        throw Error(sqlstate::kUndefinedObject,
                    view.display_name + " depends on " + dep + ", which is not a managed view",
                    {}, "Register " + dep + " with viewmgr.register first, or remove it from depends_on.");
      }
    }
  }
}

void ManagedViews::check_cycles() const {
  std::vector<NodeId> cycle = graph_.find_cycle();
  if (!cycle.empty()) {
    throw Error(sqlstate::kInvalidObjectDefinition,
                "dependency cycle among managed views: " + graph_.describe_cycle(cycle), {},
                "Views cannot depend on themselves, directly or through others.");
  }
}

}  // namespace viewmgr::pg
