#include "core/source_closure.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace viewmgr {
namespace {

RelationFacts relation(char kind, std::vector<RelationId> rule_reads = {},
                       std::vector<RelationId> children = {}, std::vector<FunctionId> functions = {}) {
  RelationFacts f;
  f.kind = kind;
  f.display_name = std::string(1, kind);
  f.rule_reads = std::move(rule_reads);
  f.children = std::move(children);
  f.functions = std::move(functions);
  return f;
}

using Ids = std::vector<RelationId>;

TEST(SourceCatalog, ReadsThroughPlainViewsDownToTables) {
  SourceCatalog c;
  c.learn(1, relation('m', {2, 3}));
  c.learn(2, relation('v', {4}));
  c.learn(3, relation('r'));
  c.learn(4, relation('r'));
  EXPECT_TRUE(c.unknown_reachable({1}).empty());
  EXPECT_EQ(c.closure(1).relations, (Ids{2, 3, 4}));
}

TEST(SourceCatalog, MaterializedViewsReadAreLeaves) {
  SourceCatalog c;
  c.learn(1, relation('m', {2}));
  c.learn(2, relation('m', {3}));  // its own sources are not the root's
  EXPECT_TRUE(c.unknown_reachable({1}).empty()) << "3 is below a leaf: never needed";
  EXPECT_EQ(c.closure(1).relations, (Ids{2}));
}

TEST(SourceCatalog, TablesBringTheirPartitionsAtAnyDepth) {
  SourceCatalog c;
  c.learn(1, relation('m', {10}));
  c.learn(10, relation('p', {}, {11, 12}));
  c.learn(11, relation('p', {}, {13}));
  c.learn(12, relation('f'));
  c.learn(13, relation('r'));
  EXPECT_EQ(c.closure(1).relations, (Ids{10, 11, 12, 13}));
}

TEST(SourceCatalog, TheRootsRulesAreFollowedWhateverItIs) {
  // A plain view or a table named as a root: its rules, not its children (a table's
  // partitions are reached only through a view that reads the table).
  SourceCatalog c;
  c.learn(1, relation('r', {}, {2}));
  c.learn(2, relation('r'));
  c.learn(3, relation('v', {1}));
  EXPECT_TRUE(c.closure(1).relations.empty());
  EXPECT_EQ(c.closure(3).relations, (Ids{1, 2}));
}

TEST(SourceCatalog, OnlyKindsThatHoldRowsAreReported) {
  SourceCatalog c;
  c.learn(1, relation('m', {2, 3, 4}));
  c.learn(2, relation('S'));  // a sequence named in a default or nextval
  c.learn(3, relation('c'));  // a composite type's relation
  c.learn(4, relation('v'));
  EXPECT_EQ(c.closure(1).relations, (Ids{4}));
}

TEST(SourceCatalog, SharedSourcesAndDiamondsAreReportedOnce) {
  SourceCatalog c;
  c.learn(1, relation('m', {2, 3}));
  c.learn(2, relation('v', {4}));
  c.learn(3, relation('v', {4}));
  c.learn(4, relation('r'));
  EXPECT_EQ(c.closure(1).relations, (Ids{2, 3, 4}));
}

TEST(SourceCatalog, ACycleThroughPlainViewsEndsAndNamesTheRoot) {
  // CREATE OR REPLACE VIEW can make a view read the materialized view built on it.
  SourceCatalog c;
  c.learn(1, relation('m', {2}));
  c.learn(2, relation('v', {1, 3}));
  c.learn(3, relation('v', {2}));
  EXPECT_EQ(c.closure(1).relations, (Ids{1, 2, 3}));
}

TEST(SourceCatalog, UnknownRelationsAreAskedForLevelByLevel) {
  SourceCatalog c;
  EXPECT_EQ(c.unknown_reachable({1, 5}), (Ids{1, 5}));
  c.learn(1, relation('m', {2, 3}));
  c.learn(5, relation('m', {3}));
  EXPECT_EQ(c.unknown_reachable({1, 5}), (Ids{2, 3}));
  c.learn(2, relation('v', {4}));
  c.learn(3, relation('r', {}, {6}));
  EXPECT_EQ(c.unknown_reachable({1, 5}), (Ids{4, 6}));
  c.learn(4, relation('r'));
  c.learn(6, relation('r'));
  EXPECT_TRUE(c.unknown_reachable({1, 5}).empty());
  EXPECT_EQ(c.closure(5).relations, (Ids{3, 6}));
}

TEST(SourceCatalog, ADroppedRelationIsSkipped) {
  SourceCatalog c;
  c.learn(1, relation('m', {2, 3}));
  c.learn(2, relation('\0'));  // gone between the rule's read and ours
  c.learn(3, relation('r'));
  EXPECT_TRUE(c.unknown_reachable({1}).empty());
  EXPECT_EQ(c.closure(1).relations, (Ids{3}));
}

TEST(SourceCatalog, ForgettingARelationMakesItUnknownAgain) {
  SourceCatalog c;
  c.learn(1, relation('m', {2}));
  c.learn(2, relation('v', {3}));
  c.learn(3, relation('r'));
  c.forget(2);  // replaced: CREATE OR REPLACE VIEW now reads 4
  EXPECT_EQ(c.unknown_reachable({1}), (Ids{2}));
  EXPECT_EQ(c.closure(1).relations, (Ids{})) << "an unknown relation is not reported";
  c.learn(2, relation('v', {4}));
  c.learn(4, relation('r'));
  EXPECT_EQ(c.closure(1).relations, (Ids{2, 4}));
  c.forget_all();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.unknown_reachable({1}), (Ids{1}));
}

TEST(SourceCatalog, FunctionsOfTheRootAndOfPlainViewsBetween) {
  SourceCatalog c;
  c.learn(1, relation('m', {2, 3}, {}, {900}));
  c.learn(2, relation('v', {4}, {}, {901, 900}));
  c.learn(3, relation('m', {}, {}, {902}));  // a leaf: what it calls is its own business
  c.learn(4, relation('r'));
  EXPECT_EQ(c.closure(1).functions, (std::vector<FunctionId>{900, 901}));
}

TEST(SourceCatalog, ADeepChainIsWalkedWithoutRecursion) {
  // 20,000 plain views in a chain: an explicit stack, not the call stack.
  SourceCatalog c;
  const RelationId n = 20000;
  c.learn(0, relation('m', {1}));
  for (RelationId i = 1; i < n; i++) c.learn(i, relation('v', {i + 1}));
  c.learn(n, relation('r'));
  EXPECT_TRUE(c.unknown_reachable({0}).empty());
  EXPECT_EQ(c.closure(0).relations.size(), n);
}

}  // namespace
}  // namespace viewmgr
