#include "core/acl_text.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace viewmgr {
namespace {

TEST(ParseAcl, ExpandsEveryPrivilegeOfEveryItem) {
  auto acl = parse_acl("{alice=arwdDxt/alice,bob=r*w/alice,=r/alice}");
  ASSERT_EQ(acl.size(), 7u + 2u + 1u);
  EXPECT_EQ(acl[0], (AclGrant{"alice", "alice", "INSERT", false}));
  EXPECT_EQ(acl[6], (AclGrant{"alice", "alice", "TRIGGER", false}));
  EXPECT_EQ(acl[7], (AclGrant{"bob", "alice", "SELECT", true}));
  EXPECT_EQ(acl[8], (AclGrant{"bob", "alice", "UPDATE", false}));
  EXPECT_EQ(acl[9], (AclGrant{"", "alice", "SELECT", false}));  // PUBLIC
}

TEST(ParseAcl, ReadsMaintainOfPostgres17) {
  auto acl = parse_acl("{alice=arwdDxtm/alice,bob=m*/alice}");
  ASSERT_EQ(acl.size(), 8u + 1u);
  EXPECT_EQ(acl[7], (AclGrant{"alice", "alice", "MAINTAIN", false}));
  EXPECT_EQ(acl[8], (AclGrant{"bob", "alice", "MAINTAIN", true}));
}

TEST(ParseAcl, ReadsQuotedRoleNames) {
  // As PostgreSQL prints it: the item is array-quoted, the names inside it double-quoted.
  auto acl = parse_acl(R"({"\"odd \"\"name\"\"\"=r/\"x,y\""})");
  ASSERT_EQ(acl.size(), 1u);
  EXPECT_EQ(acl[0].grantee, "odd \"name\"");
  EXPECT_EQ(acl[0].grantor, "x,y");
}

TEST(ParseAcl, EmptyAndBadText) {
  EXPECT_TRUE(parse_acl("{}").empty());
  EXPECT_THROW(parse_acl("{alice}"), Error);
  EXPECT_THROW(parse_acl("{alice=r}"), Error);
  EXPECT_THROW(parse_acl("{alice=q/alice}"), Error);
  EXPECT_THROW(parse_acl("{alice=r/}"), Error);
}

TEST(AclDifference, FindsWhatToGrantAndRevoke) {
  auto have = default_relation_acl("alice");
  auto want = parse_acl("{alice=arwdDxt/alice,bob=r*/alice}");
  auto grant = acl_difference(want, have);
  ASSERT_EQ(grant.size(), 1u);
  EXPECT_EQ(grant[0], (AclGrant{"bob", "alice", "SELECT", true}));
  EXPECT_TRUE(acl_difference(have, want).empty());
  // The owner revoked its own TRUNCATE: that has to be revoked again.
  auto revoke = acl_difference(have, parse_acl("{alice=arwdxt/alice}"));
  ASSERT_EQ(revoke.size(), 1u);
  EXPECT_EQ(revoke[0].privilege, "TRUNCATE");
}

}  // namespace
}  // namespace viewmgr
