#include "core/fingerprint.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace viewmgr {
namespace {

// FIPS 180-4 / NIST CSRC example vectors.
TEST(Sha256, EmptyString) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Abc) {
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, TwoBlockMessage448Bits) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Message896Bits) {
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the padding boundaries (55/56 bytes: length fits in the last block or
// not; 64: exactly one block).
TEST(Sha256, PaddingBoundaries) {
  EXPECT_EQ(sha256_hex(std::string(55, 'x')),
            "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  EXPECT_EQ(sha256_hex(std::string(56, 'x')),
            "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  EXPECT_EQ(sha256_hex(std::string(57, 'x')),
            "ae14a2563ccf969d99aca69ce6bb74981f734bbf9f655f73b8f06db68cab5217");
  EXPECT_EQ(sha256_hex(std::string(63, 'x')),
            "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2");
  EXPECT_EQ(sha256_hex(std::string(64, 'x')),
            "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
  EXPECT_EQ(sha256_hex(std::string(65, 'x')),
            "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9");
  EXPECT_EQ(sha256_hex(std::string(119, 'x')),
            "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c");
  EXPECT_EQ(sha256_hex(std::string(120, 'x')),
            "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98");
  EXPECT_EQ(sha256_hex(std::string(128, 'x')),
            "24da1b81d0b16df6428eee73c69fcb2a93c76bc6df706f0c6670fe6bfe800464");
}

TEST(Sha256, AllByteValuesIncludingNulAndHighBit) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(sha256_hex(bytes), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
  EXPECT_EQ(sha256_hex("\xc3\xa4"),
            "33e6d73fee82904c8d7afb78de1154d1e8dc2a0edb08120e63df5b9385c2d9cc");
}

BuildSpec sample_spec() {
  BuildSpec spec;
  spec.materialized = true;
  spec.canonical_definition = " SELECT o.id,\n    o.amount\n   FROM orders o;";
  spec.indexes = {"CREATE UNIQUE INDEX ON %s (id)", "CREATE INDEX ON %s (amount)"};
  spec.with_data = true;
  spec.comment = "daily totals";
  spec.view_options = {"security_barrier=true"};
  return spec;
}

bool is_lower_hex_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(Fingerprint, IsLowerHexSha256AndDeterministic) {
  const BuildSpec spec = sample_spec();
  const std::string fp = fingerprint(spec);
  EXPECT_TRUE(is_lower_hex_sha256(fp)) << fp;
  EXPECT_EQ(fp, fingerprint(sample_spec()));
  EXPECT_TRUE(is_lower_hex_sha256(definition_fingerprint(spec)));
  EXPECT_EQ(definition_fingerprint(spec), definition_fingerprint(sample_spec()));
  // Different domains: the two fingerprints of one spec are not the same value.
  EXPECT_NE(fingerprint(spec), definition_fingerprint(spec));
  // Not just a hash of the definition text.
  EXPECT_NE(fp, sha256_hex(spec.canonical_definition));
}

TEST(Fingerprint, DefaultSpecIsStable) {
  EXPECT_EQ(fingerprint(BuildSpec{}), fingerprint(BuildSpec{}));
  EXPECT_NE(fingerprint(BuildSpec{}), sha256_hex(""));
}

TEST(Fingerprint, EveryFieldChangesIt) {
  const BuildSpec base = sample_spec();
  const std::string fp = fingerprint(base);
  std::set<std::string> seen = {fp};

  auto expect_new = [&](const BuildSpec& changed, const char* what) {
    const std::string changed_fp = fingerprint(changed);
    EXPECT_NE(changed_fp, fp) << what;
    EXPECT_TRUE(seen.insert(changed_fp).second) << what << " collides with another variant";
  };

  BuildSpec s = base;
  s.materialized = false;
  expect_new(s, "materialized");

  s = base;
  s.canonical_definition += " ";
  expect_new(s, "definition");

  s = base;
  s.indexes.pop_back();
  expect_new(s, "indexes removed");

  s = base;
  std::swap(s.indexes[0], s.indexes[1]);
  expect_new(s, "indexes reordered");

  s = base;
  s.indexes.push_back("");
  expect_new(s, "empty index appended");

  s = base;
  s.with_data = false;
  expect_new(s, "with_data");

  s = base;
  s.comment = std::nullopt;
  expect_new(s, "comment absent");

  s = base;
  s.comment = "";
  expect_new(s, "comment empty");

  s = base;
  s.comment = "daily totals!";
  expect_new(s, "comment text");

  s = base;
  s.view_options.clear();
  expect_new(s, "view options cleared");

  s = base;
  s.view_options = {"security_barrier=false"};
  expect_new(s, "view option value");
}

TEST(Fingerprint, NoCommentVersusEmptyComment) {
  BuildSpec a;
  BuildSpec b;
  b.comment = "";
  EXPECT_NE(fingerprint(a), fingerprint(b));
}

TEST(Fingerprint, LengthPrefixingMakesListsUnambiguous) {
  BuildSpec a;
  a.indexes = {"ab", "c"};
  BuildSpec b;
  b.indexes = {"a", "bc"};
  BuildSpec c;
  c.indexes = {"abc"};
  BuildSpec d;
  d.indexes = {"abc", ""};
  EXPECT_NE(fingerprint(a), fingerprint(b));
  EXPECT_NE(fingerprint(a), fingerprint(c));
  EXPECT_NE(fingerprint(c), fingerprint(d));

  // Element text that contains separator-like characters cannot shift a boundary either.
  BuildSpec g;
  g.indexes = {"as", "c"};
  BuildSpec h;
  h.indexes = {"a", "sc"};
  BuildSpec i;
  i.indexes = {"s1:a", "c"};
  BuildSpec j;
  j.indexes = {"s1", ":ac"};
  EXPECT_NE(fingerprint(g), fingerprint(h));
  EXPECT_NE(fingerprint(i), fingerprint(j));

  BuildSpec e;
  e.view_options = {"a=1", "b=2"};
  BuildSpec f;
  f.view_options = {"a=1,b=2"};
  EXPECT_NE(fingerprint(e), fingerprint(f));
  EXPECT_NE(definition_fingerprint(e), definition_fingerprint(f));
}

TEST(Fingerprint, FieldsDoNotBleedIntoEachOther) {
  // The same text in different fields gives different fingerprints.
  BuildSpec in_index;
  in_index.indexes = {"x"};
  BuildSpec in_option;
  in_option.view_options = {"x"};
  BuildSpec in_comment;
  in_comment.comment = "x";
  EXPECT_NE(fingerprint(in_index), fingerprint(in_option));
  EXPECT_NE(fingerprint(in_index), fingerprint(in_comment));
  EXPECT_NE(fingerprint(in_option), fingerprint(in_comment));

  // Text that looks like the serialisation of a following field does not collide.
  BuildSpec moved;
  moved.canonical_definition = "SELECT 1";
  moved.indexes = {"i"};
  BuildSpec faked;
  faked.canonical_definition = "SELECT 1\x01i";
  EXPECT_NE(fingerprint(moved), fingerprint(faked));
}

TEST(DefinitionFingerprint, CoversMaterializedDefinitionAndOptions) {
  const BuildSpec base = sample_spec();
  const std::string fp = definition_fingerprint(base);

  BuildSpec s = base;
  s.materialized = false;
  EXPECT_NE(definition_fingerprint(s), fp);

  s = base;
  s.canonical_definition = " SELECT o.id\n   FROM orders o;";
  EXPECT_NE(definition_fingerprint(s), fp);

  s = base;
  s.view_options.push_back("check_option=local");
  EXPECT_NE(definition_fingerprint(s), fp);
}

TEST(DefinitionFingerprint, IgnoresIndexesWithDataAndComment) {
  const BuildSpec base = sample_spec();
  const std::string fp = definition_fingerprint(base);

  BuildSpec s = base;
  s.indexes.clear();
  s.with_data = false;
  s.comment = std::nullopt;
  EXPECT_EQ(definition_fingerprint(s), fp);
  // ...while the full fingerprint does see the change.
  EXPECT_NE(fingerprint(s), fingerprint(base));

  s = base;
  s.comment = "something else";
  EXPECT_EQ(definition_fingerprint(s), fp);
  s.indexes = {"CREATE INDEX ON %s (other)"};
  EXPECT_EQ(definition_fingerprint(s), fp);
}

}  // namespace
}  // namespace viewmgr
