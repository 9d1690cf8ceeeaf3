#include "core/acl_text.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "core/cpp_only.hpp"

namespace viewmgr {

namespace {

// Relation privileges in the order PostgreSQL prints them (ACL_ALL_RIGHTS_RELATION).
// MAINTAIN (m) exists since PostgreSQL 17; earlier servers never print it, so reading it
// is the same code on every version.
struct PrivilegeLetter {
  char letter;
  const char* name;
};
constexpr PrivilegeLetter kRelationPrivileges[] = {
    {'a', "INSERT"}, {'r', "SELECT"},     {'w', "UPDATE"},  {'d', "DELETE"},
    {'D', "TRUNCATE"}, {'x', "REFERENCES"}, {'t', "TRIGGER"}, {'m', "MAINTAIN"},
};

[[noreturn]] void bad(const std::string& text) {
  throw Error(sqlstate::kInternalError, "cannot read access privileges: " + text);
}

// A role name as aclitem prints it: plain, or double-quoted with "" for a quote.
std::string read_name(const std::string& item, std::size_t& i, char stop) {
  std::string name;
  if (i < item.size() && item[i] == '"') {
    i++;
    for (;;) {
      if (i >= item.size()) bad(item);
      if (item[i] == '"') {
        if (i + 1 < item.size() && item[i + 1] == '"') {
          name += '"';
          i += 2;
          continue;
        }
        i++;
        break;
      }
      name += item[i++];
    }
  } else {
    while (i < item.size() && item[i] != stop) name += item[i++];
  }
  return name;
}

}  // namespace

std::vector<AclGrant> parse_acl(const std::string& text) {
  std::vector<AclGrant> out;
  for (const auto& item : parse_text_array(text)) {
    std::size_t i = 0;
    std::string grantee = read_name(item, i, '=');
    if (i >= item.size() || item[i] != '=') bad(item);
    i++;
    std::size_t slash = item.find('/', i);
    if (slash == std::string::npos) bad(item);
    std::string letters = item.substr(i, slash - i);
    i = slash + 1;
    std::string grantor = read_name(item, i, '\0');
    if (i != item.size() || grantor.empty()) bad(item);
    for (std::size_t k = 0; k < letters.size(); k++) {
      auto it = std::find_if(std::begin(kRelationPrivileges), std::end(kRelationPrivileges),
                             [&](const PrivilegeLetter& p) { return p.letter == letters[k]; });
      if (it == std::end(kRelationPrivileges)) bad(item);
      bool grantable = k + 1 < letters.size() && letters[k + 1] == '*';
      if (grantable) k++;
      out.push_back({grantee, grantor, it->name, grantable});
    }
  }
  return out;
}

std::vector<AclGrant> default_relation_acl(const std::string& owner) {
  std::vector<AclGrant> out;
  for (const auto& p : kRelationPrivileges) {
    if (p.letter != 'm') out.push_back({owner, owner, p.name, false});
  }
  return out;
}

std::vector<AclGrant> acl_difference(const std::vector<AclGrant>& a, const std::vector<AclGrant>& b) {
  std::vector<AclGrant> out;
  for (const auto& grant : a) {
    if (std::find(b.begin(), b.end(), grant) == b.end()) out.push_back(grant);
  }
  return out;
}

}  // namespace viewmgr
