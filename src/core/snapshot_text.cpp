#include "core/snapshot_text.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "core/cpp_only.hpp"

namespace viewmgr {

namespace {

std::uint64_t parse_xid(const std::string& text, const std::string& whole) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "malformed snapshot: " + whole);
  }
  return std::stoull(text);
}

}  // namespace

std::string snapshot_with_in_progress(const std::string& snapshot, std::uint64_t xid) {
  std::size_t first = snapshot.find(':');
  std::size_t second = first == std::string::npos ? first : snapshot.find(':', first + 1);
  if (second == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "malformed snapshot: " + snapshot);
  }
  std::uint64_t xmin = parse_xid(snapshot.substr(0, first), snapshot);
  std::uint64_t xmax = parse_xid(snapshot.substr(first + 1, second - first - 1), snapshot);
  std::vector<std::uint64_t> xip;
  std::string list = snapshot.substr(second + 1);
  for (std::size_t pos = 0; pos < list.size();) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    xip.push_back(parse_xid(list.substr(pos, comma - pos), snapshot));
    pos = comma + 1;
  }
  if (xid < xmin || xid >= xmax || std::find(xip.begin(), xip.end(), xid) != xip.end()) {
    return snapshot;
  }
  xip.push_back(xid);
  std::sort(xip.begin(), xip.end());
  std::string out = std::to_string(xmin) + ":" + std::to_string(xmax) + ":";
  for (std::size_t i = 0; i < xip.size(); i++) {
    if (i > 0) out += ",";
    out += std::to_string(xip[i]);
  }
  return out;
}

}  // namespace viewmgr
