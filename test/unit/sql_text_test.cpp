#include "core/sql_text.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace viewmgr {
namespace {

using Parts = std::vector<std::string>;

TEST(SplitQualifiedName, FoldsUnquotedToLowerCase) {
  EXPECT_EQ(split_qualified_name("Sales.Report"), (Parts{"sales", "report"}));
  EXPECT_EQ(split_qualified_name("  v  "), (Parts{"v"}));
}

TEST(SplitQualifiedName, KeepsQuotedTextAndUnescapesQuotes) {
  EXPECT_EQ(split_qualified_name("\"My Schema\".\"x.y\""), (Parts{"My Schema", "x.y"}));
  EXPECT_EQ(split_qualified_name("\"a\"\"b\""), (Parts{"a\"b"}));
  EXPECT_EQ(split_qualified_name("s . \"V\""), (Parts{"s", "V"}));
}

TEST(SplitQualifiedName, LeavesNonAsciiBytesAlone) {
  EXPECT_EQ(split_qualified_name("Ünïcode"), (Parts{"Ünïcode"}));
}

TEST(SplitQualifiedName, RejectsMalformedNames) {
  for (const char* bad : {"", ".", "a.", ".a", "\"unterminated", "\"\"", "a b", "a\"b", "a..b"}) {
    try {
      split_qualified_name(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& error) {
      EXPECT_EQ(error.sqlstate(), "42602") << bad;
    }
  }
}

TEST(ArrayLiteral, QuotesEveryElement) {
  EXPECT_EQ(to_array_literal(std::vector<std::string>{}), "{}");
  EXPECT_EQ(to_array_literal(std::vector<std::string>{"a", "b c", "q\"x", "back\\slash"}),
            "{\"a\",\"b c\",\"q\\\"x\",\"back\\\\slash\"}");
  EXPECT_EQ(to_array_literal(std::vector<std::optional<std::string>>{std::nullopt, "NULL"}),
            "{NULL,\"NULL\"}");
}

TEST(ArrayLiteral, RoundTripsThroughTheParser) {
  std::vector<std::string> items = {"public.v", "\"Odd\".\"na,me\"", "{braces}", "", "NULL"};
  EXPECT_EQ(parse_text_array(to_array_literal(items)), items);
}

TEST(ArrayLiteral, ParsesPostgresOutput) {
  auto items = parse_array_literal("{public.a,\"s.\\\"q\\\"\",NULL}");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], std::optional<std::string>("public.a"));
  EXPECT_EQ(items[1], std::optional<std::string>("s.\"q\""));
  EXPECT_FALSE(items[2].has_value());
  EXPECT_THROW(parse_text_array("{NULL}"), Error);
  EXPECT_THROW(parse_array_literal("not an array"), Error);
}

}  // namespace
}  // namespace viewmgr
