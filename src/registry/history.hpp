// viewmgr.history: one row per build or refresh.
#pragma once
#include "pg/postgres.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace viewmgr::pg {

// Appends history rows (the insert is planned once per backend). A buffered writer keeps
// the rows until flush(), for calls that build hundreds of views: one insert for all; the
// caller must flush before it returns (an error rolls the rows back anyway).
class HistoryWriter {
 public:
  explicit HistoryWriter(bool buffered = false) : buffered_(buffered) {}
  void flush();

  // `started_at` is a timestamptz in text form (clock_timestamp() when the step began);
  // finished_at is now. The row belongs to the owner `view_name` has when it is written.
  void add(const std::string& view_name, const char* operation, const std::string& started_at,
           const char* outcome, const std::optional<std::string>& detail);

 private:
  bool buffered_;
  std::vector<std::optional<std::string>> names_, operations_, started_, finished_, outcomes_,
      details_;
};

// The current clock_timestamp() as text, for started_at.
std::string clock_now();

// Deletes rows that finished before now() - older_than (text interval); NULL: the
// viewmgr.history_retention setting. Returns how many. The retention purge of refresh_all():
// every role's rows.
uint64 purge_history(const std::optional<std::string>& older_than);

// viewmgr.purge_history(): the same, only for the rows the caller may see.
uint64 purge_visible_history(const std::optional<std::string>& older_than);

}  // namespace viewmgr::pg
