// The C++ / PostgreSQL boundary, in both directions.
//
// * PostgreSQL -> C++: PostgreSQL reports errors with longjmp, which would skip C++
//   destructors. Every call into PostgreSQL made from a C++ frame that owns objects goes
//   through pg_call(), which catches the error, copies it whole (SQLSTATE, detail, hint,
//   position) and throws it as PgError, so the stack unwinds normally.
// * C++ -> PostgreSQL: no exception may leave an extern "C" function. VIEWMGR_SQL_FUNCTION
//   defines the entry point as a shim that catches everything and raises the PostgreSQL
//   error only after the catch block has ended.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
}

#include <exception>
#include <optional>
#include <string>
#include <type_traits>

#include "core/error.hpp"

namespace viewmgr::pg {

// A PostgreSQL error caught in C++ code. The ErrorData is palloc'd in the transaction's
// context so it outlives any SPI or per-call context that unwinding releases.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) : data_(data) {}
  ErrorData* data() const { return data_; }
  const char* what() const noexcept override;
  int sqlerrcode() const { return data_->sqlerrcode; }

 private:
  ErrorData* data_;
};

// Puts `prefix` before the error's message ("cannot rebuild x: <message>").
void prefix_message(PgError& error, const std::string& prefix);

// Gives the error a detail or a hint where PostgreSQL gave it none.
void set_detail_if_missing(PgError& error, const std::string& detail);
void set_hint_if_missing(PgError& error, const std::string& hint);

// Copies the current error (we are in a PG_CATCH block) and clears PostgreSQL's error state.
ErrorData* capture_current_error(MemoryContext caller_context);

// Runs `fn` (which calls PostgreSQL and must not itself own C++ objects with destructors,
// nor throw) and converts a PostgreSQL ERROR into PgError. Never throws inside PG_TRY: the
// exception is thrown after PG_END_TRY has restored PostgreSQL's exception stack.
// `result` is only read when no longjmp happened, so -Wclobbered does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wclobbered"
template <typename Fn>
auto pg_call(Fn&& fn) -> decltype(fn()) {
  using Result = decltype(fn());
  static_assert(std::is_void_v<Result> || std::is_trivially_copyable_v<Result>,
                "pg_call results must be trivially copyable (pointers, Datums, ints)");
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile error = nullptr;
  if constexpr (std::is_void_v<Result>) {
    PG_TRY();
    { fn(); }
    PG_CATCH();
    { error = capture_current_error(caller_context); }
    PG_END_TRY();
    if (error != nullptr) throw PgError(error);
  } else {
    Result result{};
    PG_TRY();
    { result = fn(); }
    PG_CATCH();
    { error = capture_current_error(caller_context); }
    PG_END_TRY();
    if (error != nullptr) throw PgError(error);
    return result;
  }
}
#pragma GCC diagnostic pop

// Runs `fn` in a subtransaction. On a PostgreSQL error the subtransaction is rolled back,
// with everything it did, and the error is returned; otherwise its work joins the caller's
// transaction. The one way pg_viewmgr carries on after an ERROR (PostgreSQL's state is only
// sound again once the subtransaction is rolled back). Other exceptions propagate.
template <typename Fn>
std::optional<PgError> in_subtransaction(Fn&& fn) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  pg_call([] { BeginInternalSubTransaction(nullptr); });
  std::optional<PgError> failure;
  try {
    fn();
    pg_call([] { ReleaseCurrentSubTransaction(); });
  } catch (PgError& error) {
    pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    failure = error;
  } catch (...) {
    // Not a PostgreSQL error, but the subtransaction must still end before it propagates.
    pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    throw;
  }
  MemoryContextSwitchTo(context);
  CurrentResourceOwner = owner;
  return failure;
}

// Rethrows an error raised while parsing `text` (a definition, an index spec) with its
// position moved onto that text, so psql points into what the user wrote rather than into
// the statement pg_viewmgr built around it.
[[noreturn]] void rethrow_against_text(PgError& error, const std::string& text);

// An error positioned in STATEMENT (internalquery/internalpos, as SPI reports them) that
// falls within PART, found at byte OFFSET of the statement: positioned in PART instead, so
// that "LINE 1" is the first line of what the user wrote, not of the statement around it.
void position_in_part(PgError& error, const std::string& statement, std::size_t offset,
                      const std::string& part);

// Raises a pg_viewmgr error as a real PostgreSQL ERROR (caught at once as PgError), for code
// whose callers handle PostgreSQL errors only.
[[noreturn]] void raise_as_pg_error(const viewmgr::Error& error);

// Runs an entry point's body and turns any exception into a PostgreSQL ERROR.
Datum run_sql_function(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo));

}  // namespace viewmgr::pg

// Defines the C entry point `sql_name` for a SQL function, running `body`
// (Datum body(FunctionCallInfo)) behind the boundary.
#define VIEWMGR_SQL_FUNCTION(sql_name, body)                              \
  extern "C" {                                                            \
  PG_FUNCTION_INFO_V1(sql_name);                                          \
  }                                                                       \
  extern "C" Datum sql_name(PG_FUNCTION_ARGS) {                           \
    return viewmgr::pg::run_sql_function(fcinfo, body);                   \
  }
