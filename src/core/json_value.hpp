// A JSON document as plain C++ values: what declare() reads its argument into (the
// PostgreSQL layer converts a jsonb to it, pg/jsonb.hpp), so that the declarations are
// checked with no query and no round trip through text.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace viewmgr {

struct JsonValue {
  enum class Type { kNull, kString, kNumber, kBoolean, kArray, kObject };
  Type type = Type::kNull;
  // A string (unescaped), a number as PostgreSQL prints it, a boolean as "true"/"false".
  std::string text;
  std::vector<JsonValue> items;                            // an array's elements, in order
  std::vector<std::pair<std::string, JsonValue>> members;  // an object's keys, each once
};

// The type's name as jsonb_typeof() gives it, for messages.
inline const char* json_type_name(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kString: return "string";
    case JsonValue::Type::kNumber: return "number";
    case JsonValue::Type::kBoolean: return "boolean";
    case JsonValue::Type::kArray: return "array";
    case JsonValue::Type::kObject: return "object";
  }
  return "null";
}

}  // namespace viewmgr
