#include "pg/jsonb.hpp"

#include <algorithm>

#include "pg/boundary.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/varlena.h"
}

namespace viewmgr::pg {

namespace {

JsonValue scalar_value(const JsonbValue& v) {
  JsonValue out;
  switch (v.type) {
    case jbvString:
      out.type = JsonValue::Type::kString;
      out.text.assign(v.val.string.val, v.val.string.len);
      break;
    case jbvNumeric: {
      out.type = JsonValue::Type::kNumber;
      Numeric number = v.val.numeric;
      out.text = pg_call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(number))); });
      break;
    }
    case jbvBool:
      out.type = JsonValue::Type::kBoolean;
      out.text = v.val.boolean ? "true" : "false";
      break;
    default:
      out.type = JsonValue::Type::kNull;
      break;
  }
  return out;
}

// Where the next value goes: the root, the end of the open array, or the open object
// under `key`.
JsonValue* next_slot(std::vector<JsonValue*>& open, JsonValue& root, const std::string& key) {
  if (open.empty()) return &root;
  JsonValue* parent = open.back();
  if (parent->type == JsonValue::Type::kArray) {
    parent->items.emplace_back();
    return &parent->items.back();
  }
  parent->members.emplace_back(key, JsonValue{});
  return &parent->members.back().second;
}

void order_members(JsonValue& value) {
  for (auto& item : value.items) order_members(item);
  for (auto& member : value.members) order_members(member.second);
  if (value.members.size() < 2) return;
  std::stable_sort(value.members.begin(), value.members.end(), [](const auto& a, const auto& b) {
    const std::string& x = a.first;
    const std::string& y = b.first;
    int order = pg_call([&] {
      return varstr_cmp(x.data(), static_cast<int>(x.size()), y.data(), static_cast<int>(y.size()),
                        DEFAULT_COLLATION_OID);
    });
    return order < 0;
  });
}

}  // namespace

JsonValue jsonb_to_value(Jsonb* jsonb) {
  JsonValue root;
  std::vector<JsonValue*> open;  // the arrays and objects being filled, innermost last
  std::string key;
  bool raw_scalar = false;  // a scalar document is stored as an array of one element
  JsonbIterator* it = pg_call([&] { return JsonbIteratorInit(&jsonb->root); });
  JsonbValue v;
  for (;;) {
    JsonbIteratorToken token = pg_call([&] { return JsonbIteratorNext(&it, &v, false); });
    if (token == WJB_DONE) break;
    switch (token) {
      case WJB_BEGIN_ARRAY:
      case WJB_BEGIN_OBJECT: {
        JsonValue* slot = next_slot(open, root, key);
        slot->type = token == WJB_BEGIN_ARRAY ? JsonValue::Type::kArray : JsonValue::Type::kObject;
        if (token == WJB_BEGIN_ARRAY && open.empty() && v.val.array.rawScalar) raw_scalar = true;
        open.push_back(slot);
        break;
      }
      case WJB_KEY:
        key.assign(v.val.string.val, v.val.string.len);
        break;
      case WJB_VALUE:
      case WJB_ELEM:
        *next_slot(open, root, key) = scalar_value(v);
        break;
      case WJB_END_ARRAY:
      case WJB_END_OBJECT:
        open.pop_back();
        break;
      default:
        break;
    }
  }
  if (raw_scalar) {
    JsonValue scalar = std::move(root.items.front());
    return scalar;
  }
  order_members(root);
  return root;
}

}  // namespace viewmgr::pg
