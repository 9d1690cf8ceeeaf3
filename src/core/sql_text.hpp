// Small pieces of SQL text handling that need no server: splitting qualified names the way
// PostgreSQL's parser reads identifiers, and PostgreSQL array literals.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace viewmgr {

// Splits `a.b`, `"My Schema"."x.y"`, `Foo` into parts: unquoted parts are folded to lower
// case (ASCII only, as PostgreSQL does for multibyte encodings), quoted parts keep their
// text with "" unescaped. No truncation: callers check the length. Throws viewmgr::Error
// (42602 invalid_name) on malformed input (empty part, unterminated quote, stray text).
std::vector<std::string> split_qualified_name(const std::string& text);

// `text` without leading and trailing white space (space, tab, CR, LF, FF).
std::string trim_space(const std::string& text);

// '{a,"b c",NULL}' style literal for text[] parameters.
std::string to_array_literal(const std::vector<std::optional<std::string>>& items);
std::string to_array_literal(const std::vector<std::string>& items);

// Parses a one-dimensional text[] output literal; NULL elements become nullopt.
std::vector<std::optional<std::string>> parse_array_literal(const std::string& literal);
// Same, with NULL elements an error.
std::vector<std::string> parse_text_array(const std::string& literal);

}  // namespace viewmgr
