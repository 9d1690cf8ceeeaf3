#include "core/build_spec.hpp"

#include <gtest/gtest.h>

namespace viewmgr {
namespace {

BuildSpec base_spec() {
  BuildSpec spec;
  spec.definition = "SELECT a FROM s.t";
  spec.search_path = {"s", "public"};
  spec.indexes = {{"unique ( a )", "UNIQUE (a)"}};
  spec.with_data = true;
  spec.comment = "totals";
  spec.view_options = {};
  return spec;
}

TEST(BuildSpec, IdenticalSpecsHaveNoChanges) {
  SpecChanges changes = compare_specs(base_spec(), base_spec());
  EXPECT_FALSE(changes.any());
  EXPECT_EQ(describe_changes(changes), "");
}

TEST(BuildSpec, DefinitionTextOrSearchPathIsATextChange) {
  BuildSpec declared = base_spec();
  declared.definition = "select a from s.t";
  SpecChanges changes = compare_specs(declared, base_spec());
  EXPECT_TRUE(changes.definition_text);
  EXPECT_FALSE(changes.in_place_changes());
  EXPECT_FALSE(changes.view_options_changed());
  // The definition's own reason is the caller's to give, after analysis.
  EXPECT_EQ(describe_changes(changes), "");

  declared = base_spec();
  declared.search_path = {"public"};
  EXPECT_TRUE(compare_specs(declared, base_spec()).definition_text);
}

TEST(BuildSpec, IndexesAreComparedByKeyAndNamedAsWritten) {
  BuildSpec declared = base_spec();
  declared.indexes = {{"unique ( a )", "unique(a)"}, {"( created_at )", "(created_at)"}};
  SpecChanges added = compare_specs(declared, base_spec());
  EXPECT_EQ(added.indexes_added, std::vector<std::string>{"(created_at)"});
  EXPECT_TRUE(added.indexes_removed.empty());
  EXPECT_TRUE(added.in_place_changes());
  EXPECT_EQ(describe_changes(added), "index (created_at) added");

  SpecChanges removed = compare_specs(base_spec(), declared);
  EXPECT_EQ(describe_changes(removed), "index (created_at) removed");
}

TEST(BuildSpec, IndexOrderIsNotAChange) {
  BuildSpec a = base_spec();
  a.indexes = {{"( x )", "(x)"}, {"( y )", "(y)"}};
  BuildSpec b = base_spec();
  b.indexes = {{"( y )", "(Y)"}, {"( x )", "(X)"}};
  EXPECT_FALSE(compare_specs(a, b).any());
}

TEST(BuildSpec, ViewOptionsNeedTheViewItself) {
  BuildSpec declared = base_spec();
  declared.view_options = {"security_barrier=true"};
  BuildSpec built = base_spec();
  built.view_options = {"check_option=local"};
  SpecChanges changes = compare_specs(declared, built);
  EXPECT_TRUE(changes.view_options_changed());
  EXPECT_FALSE(changes.in_place_changes());
  EXPECT_EQ(describe_changes(changes),
            "view option security_barrier=true added; view option check_option=local removed");
}

TEST(BuildSpec, CommentAndWithDataAreInPlace) {
  BuildSpec declared = base_spec();
  declared.comment = std::nullopt;
  declared.with_data = false;
  SpecChanges changes = compare_specs(declared, base_spec());
  EXPECT_TRUE(changes.comment);
  EXPECT_TRUE(changes.with_data);
  EXPECT_TRUE(changes.in_place_changes());
  EXPECT_EQ(describe_changes(changes), "with_data changed; comment changed");
}

TEST(BuildSpec, EveryKindOfChangeIsListedInOneReason) {
  BuildSpec declared = base_spec();
  declared.indexes = {{"( b )", "(b)"}};
  declared.comment = "new";
  declared.view_options = {"security_invoker=true"};
  EXPECT_EQ(describe_changes(compare_specs(declared, base_spec())),
            "view option security_invoker=true added; index (b) added; index UNIQUE (a) removed; "
            "comment changed");
}

TEST(BuildSpec, DuplicatesAreNamedOnce) {
  BuildSpec declared = base_spec();
  declared.indexes = {{"( b )", "(b)"}, {"( b )", "( b )"}};
  BuildSpec built = base_spec();
  built.indexes = {};
  SpecChanges changes = compare_specs(declared, built);
  EXPECT_EQ(changes.indexes_added, std::vector<std::string>{"(b)"});
}

}  // namespace
}  // namespace viewmgr
