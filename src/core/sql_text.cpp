#include "core/sql_text.hpp"

#include "core/error.hpp"

namespace viewmgr {

namespace {

constexpr const char* kInvalidName = "42602";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

[[noreturn]] void bad_name(const std::string& text, const std::string& why) {
  throw Error(kInvalidName, "invalid name syntax: \"" + text + "\"", why);
}

}  // namespace

std::vector<std::string> split_qualified_name(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n && is_space(text[i])) i++;
  for (;;) {
    std::string part;
    if (i < n && text[i] == '"') {
      i++;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            part += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        part += text[i++];
      }
      if (!closed) bad_name(text, "unterminated quoted identifier");
      if (part.empty()) bad_name(text, "zero-length quoted identifier");
    } else {
      while (i < n && text[i] != '.' && !is_space(text[i])) {
        char c = text[i++];
        if (c == '"') bad_name(text, "quote inside an unquoted identifier");
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        part += c;
      }
      if (part.empty()) bad_name(text, "empty name part");
    }
    parts.push_back(std::move(part));
    while (i < n && is_space(text[i])) i++;
    if (i == n) break;
    if (text[i] != '.') bad_name(text, "unexpected text after a name part");
    i++;
    while (i < n && is_space(text[i])) i++;
  }
  return parts;
}

std::string to_array_literal(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t k = 0; k < items.size(); k++) {
    if (k > 0) out += ',';
    if (!items[k].has_value()) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *items[k]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string to_array_literal(const std::vector<std::string>& items) {
  std::vector<std::optional<std::string>> optional_items(items.begin(), items.end());
  return to_array_literal(optional_items);
}

std::vector<std::optional<std::string>> parse_array_literal(const std::string& literal) {
  std::vector<std::optional<std::string>> items;
  std::size_t i = 0;
  const std::size_t n = literal.size();
  if (n < 2 || literal[0] != '{' || literal[n - 1] != '}') {
    throw Error(sqlstate::kInternalError, "malformed array literal: " + literal);
  }
  i = 1;
  if (literal == "{}") return items;
  while (i < n - 1) {
    std::string item;
    bool quoted = false;
    if (literal[i] == '"') {
      quoted = true;
      i++;
      while (i < n - 1 && literal[i] != '"') {
        if (literal[i] == '\\' && i + 1 < n - 1) i++;
        item += literal[i++];
      }
      i++;  // closing quote
    } else {
      while (i < n - 1 && literal[i] != ',') item += literal[i++];
    }
    if (!quoted && item == "NULL") {
      items.emplace_back(std::nullopt);
    } else {
      items.emplace_back(std::move(item));
    }
    if (i < n - 1 && literal[i] == ',') i++;
  }
  return items;
}

std::vector<std::string> parse_text_array(const std::string& literal) {
  std::vector<std::string> out;
  for (auto& item : parse_array_literal(literal)) {
    if (!item.has_value()) throw Error(sqlstate::kInternalError, "unexpected NULL in " + literal);
    out.push_back(std::move(*item));
  }
  return out;
}

std::string trim_space(const std::string& text) {
  const char* ws = " \t\r\n\f";
  std::size_t b = text.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  std::size_t e = text.find_last_not_of(ws);
  return text.substr(b, e - b + 1);
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
