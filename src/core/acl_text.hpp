// PostgreSQL access control lists in their text form (aclitem[] output, e.g.
// {alice=arwdDxt/alice,=r/alice,"b c"=r*/alice}), taken apart into single grants so a rebuild
// can put back exactly the privileges a relation had.
#pragma once

#include <string>
#include <vector>

namespace viewmgr {

struct AclGrant {
  std::string grantee;  // role name; empty for PUBLIC
  std::string grantor;
  std::string privilege;  // SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER,
                          // MAINTAIN (17)
  bool grantable = false;
  bool operator==(const AclGrant& o) const {
    return grantee == o.grantee && grantor == o.grantor && privilege == o.privilege &&
           grantable == o.grantable;
  }
};

// One entry per privilege of each item. Throws viewmgr::Error on text it cannot read.
std::vector<AclGrant> parse_acl(const std::string& acl_array_text);

// What a table-like relation's NULL ACL means on PostgreSQL 15/16: every privilege for its
// owner (17 adds MAINTAIN; the server itself says which with acldefault()).
std::vector<AclGrant> default_relation_acl(const std::string& owner);

// Entries of `a` not in `b`.
std::vector<AclGrant> acl_difference(const std::vector<AclGrant>& a, const std::vector<AclGrant>& b);

}  // namespace viewmgr
