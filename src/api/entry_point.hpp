// What every SQL entry point (src/api/*_functions.cpp) uses: the boundary macro, argument
// readers, result rows, and an SPI connection around the one call a shim makes.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <type_traits>

#include "pg/boundary.hpp"
#include "pg/result_set.hpp"
#include "pg/spi.hpp"

namespace viewmgr::pg {

// Runs `fn` inside an SPI connection opened for it (closed on success; after an error the
// transaction abort cleans SPI up) and returns its result.
template <typename Fn>
auto with_spi(Fn&& fn) -> decltype(fn()) {
  SpiConnection spi;
  if constexpr (std::is_void_v<decltype(fn())>) {
    fn();
    spi.finish();
  } else {
    auto result = fn();
    spi.finish();
    return result;
  }
}

// The argument, or nullopt for SQL NULL.
inline std::optional<std::string> optional_text_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (arg_is_null(fcinfo, n)) return std::nullopt;
  return text_arg(fcinfo, n, name);
}
inline std::optional<bool> optional_bool_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (arg_is_null(fcinfo, n)) return std::nullopt;
  return bool_arg(fcinfo, n, name);
}

}  // namespace viewmgr::pg
