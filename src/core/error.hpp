// Errors raised by pg_viewmgr's C++ code. They carry a SQLSTATE so that the boundary
// (src/pg/boundary.hpp) can turn them into a proper PostgreSQL ERROR.
#pragma once

#include <stdexcept>
#include <string>

namespace viewmgr {

// SQLSTATEs used by the project, as the five-character codes PostgreSQL documents.
namespace sqlstate {
inline constexpr const char* kNullValueNotAllowed = "22004";
inline constexpr const char* kInvalidParameterValue = "22023";
inline constexpr const char* kNameTooLong = "42622";
inline constexpr const char* kReservedName = "42939";
inline constexpr const char* kDuplicateObject = "42710";
inline constexpr const char* kSyntaxError = "42601";
inline constexpr const char* kWrongObjectType = "42809";
inline constexpr const char* kInvalidObjectDefinition = "42P17";
inline constexpr const char* kUndefinedObject = "42704";
inline constexpr const char* kUndefinedTable = "42P01";
inline constexpr const char* kInsufficientPrivilege = "42501";
inline constexpr const char* kDependentObjectsStillExist = "2BP01";
inline constexpr const char* kObjectNotInPrerequisiteState = "55000";
inline constexpr const char* kReadOnlySqlTransaction = "25006";
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kInternalError = "XX000";
}  // namespace sqlstate

class Error : public std::runtime_error {
 public:
  Error(std::string sqlstate, std::string message, std::string detail = {},
        std::string hint = {})
      : std::runtime_error(message),
        sqlstate_(std::move(sqlstate)),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string sqlstate_;
  std::string detail_;
  std::string hint_;
};

}  // namespace viewmgr
