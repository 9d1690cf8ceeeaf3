#include "pg/boundary.hpp"

#include <cstring>
#include <new>

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/memutils.h"
}

namespace viewmgr::pg {

const char* PgError::what() const noexcept {
  return (data_ != nullptr && data_->message != nullptr) ? data_->message : "PostgreSQL error";
}

ErrorData* capture_current_error(MemoryContext caller_context) {
  // CopyErrorData must not run in ErrorContext; the copy goes to the transaction context
  // because the caller's context may be an SPI context that unwinding will delete.
  MemoryContextSwitchTo(TopTransactionContext);
  ErrorData* data = CopyErrorData();
  FlushErrorState();
  MemoryContextSwitchTo(caller_context);
  return data;
}

void prefix_message(PgError& error, const std::string& prefix) {
  ErrorData* data = error.data();
  const char* p = prefix.c_str();
  data->message = pg_call([&] {
    return MemoryContextStrdup(TopTransactionContext,
                               psprintf("%s: %s", p, data->message ? data->message : ""));
  });
}

void set_detail_if_missing(PgError& error, const std::string& detail) {
  ErrorData* data = error.data();
  if (data->detail != nullptr) return;
  const char* d = detail.c_str();
  data->detail = pg_call([&] { return MemoryContextStrdup(TopTransactionContext, d); });
}

void set_hint_if_missing(PgError& error, const std::string& hint) {
  ErrorData* data = error.data();
  if (data->hint != nullptr) return;
  const char* h = hint.c_str();
  data->hint = pg_call([&] { return MemoryContextStrdup(TopTransactionContext, h); });
}

namespace {

int to_sqlstate(const std::string& code) {
  if (code.size() != 5) return ERRCODE_INTERNAL_ERROR;
  return MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
}

}  // namespace

void raise_as_pg_error(const viewmgr::Error& error) {
  int sqlstate = to_sqlstate(error.sqlstate());
  const char* message = error.what();
  const char* detail = error.detail().empty() ? nullptr : error.detail().c_str();
  const char* hint = error.hint().empty() ? nullptr : error.hint().c_str();
  pg_call([&] {
    ereport(ERROR, (errcode(sqlstate), errmsg_internal("%s", message),
                    detail != nullptr ? errdetail_internal("%s", detail) : 0,
                    hint != nullptr ? errhint("%s", hint) : 0));
  });
  pg_unreachable();
}

[[noreturn]] void rethrow_against_text(PgError& error, const std::string& text) {
  ErrorData* data = error.data();
  if (data->cursorpos > 0) {
    const char* copy = text.c_str();
    data->internalpos = data->cursorpos;
    data->internalquery = pg_call([&] {
      MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
      char* q = pstrdup(copy);
      MemoryContextSwitchTo(old);
      return q;
    });
    data->cursorpos = 0;
  }
  throw error;
}

void position_in_part(PgError& error, const std::string& statement, std::size_t offset,
                      const std::string& part) {
  ErrorData* data = error.data();
  if (data->internalpos <= 0 || data->internalquery == nullptr || statement != data->internalquery) return;
  // Positions count characters, not bytes.
  const char* text = statement.c_str();
  const char* piece = part.c_str();
  int before = pg_call([&] { return pg_mbstrlen_with_len(text, static_cast<int>(offset)); });
  int length = pg_call([&] { return pg_mbstrlen_with_len(piece, static_cast<int>(part.size())); });
  if (data->internalpos <= before || data->internalpos > before + length) return;
  data->internalpos -= before;
  data->internalquery = pg_call([&] { return MemoryContextStrdup(TopTransactionContext, piece); });
}

Datum run_sql_function(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo)) {
  ErrorData* pg_error = nullptr;
  int sqlstate = ERRCODE_INTERNAL_ERROR;
  char* message = nullptr;
  char* detail = nullptr;
  char* hint = nullptr;
  // Copies below use palloc, which could itself raise ERROR (out of memory); that would
  // leave the catch block by longjmp and only leak the exception object.
  try {
    return body(fcinfo);
  } catch (const PgError& error) {
    pg_error = error.data();
  } catch (const viewmgr::Error& error) {
    sqlstate = to_sqlstate(error.sqlstate());
    message = pstrdup(error.what());
    if (!error.detail().empty()) detail = pstrdup(error.detail().c_str());
    if (!error.hint().empty()) hint = pstrdup(error.hint().c_str());
  } catch (const std::bad_alloc&) {
    sqlstate = ERRCODE_OUT_OF_MEMORY;
    message = pstrdup("out of memory in pg_viewmgr");
  } catch (const std::exception& error) {
    message = psprintf("pg_viewmgr internal error: %s", error.what());
  } catch (...) {
    message = pstrdup("pg_viewmgr internal error: unknown exception");
  }
  // Outside every catch block now: safe to longjmp.
  if (pg_error != nullptr) ReThrowError(pg_error);
  ereport(ERROR, (errcode(sqlstate), errmsg_internal("%s", message),
                  detail != nullptr ? errdetail_internal("%s", detail) : 0,
                  hint != nullptr ? errhint("%s", hint) : 0));
  pg_unreachable();
}

}  // namespace viewmgr::pg
