#include "core/fingerprint.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace viewmgr {

namespace {

// SHA-256 as specified in FIPS 180-4, section 6.2.

constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

constexpr std::uint32_t rotr(std::uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

class Sha256 {
 public:
  void update(std::string_view data) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t len = data.size();
    total_bytes_ += len;
    if (buffered_ > 0) {
      const std::size_t take = std::min(len, block_.size() - buffered_);
      std::memcpy(block_.data() + buffered_, p, take);
      buffered_ += take;
      p += take;
      len -= take;
      if (buffered_ < block_.size()) return;
      compress(block_.data());
      buffered_ = 0;
    }
    while (len >= block_.size()) {
      compress(p);
      p += block_.size();
      len -= block_.size();
    }
    if (len > 0) {
      std::memcpy(block_.data(), p, len);
      buffered_ = len;
    }
  }

  std::string hex_digest() {
    const std::uint64_t bit_length = total_bytes_ * 8;
    // Padding: a single 1 bit, zeros up to 56 bytes mod 64, then the length (big-endian).
    static const unsigned char kPadding[64] = {0x80};
    const std::size_t pad = buffered_ < 56 ? 56 - buffered_ : 120 - buffered_;
    update(std::string_view(reinterpret_cast<const char*>(kPadding), pad));
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(bit_length >> (56 - 8 * i));
    update(std::string_view(reinterpret_cast<const char*>(length), sizeof length));

    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (std::uint32_t word : state_) {
      for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(word >> shift) & 0xf]);
    }
    return out;
  }

 private:
  void compress(const unsigned char* block) {
    std::uint32_t w[64];
    for (int t = 0; t < 16; ++t) {
      w[t] = (std::uint32_t{block[4 * t]} << 24) | (std::uint32_t{block[4 * t + 1]} << 16) |
             (std::uint32_t{block[4 * t + 2]} << 8) | std::uint32_t{block[4 * t + 3]};
    }
    for (int t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (std::size_t t = 0; t < 64; ++t) {
      const std::uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const std::uint32_t ch = (e & f) ^ (~e & g);
      const std::uint32_t t1 = h + big_s1 + ch + kRoundConstants[t] + w[t];
      const std::uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = big_s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
    state_[5] += f;
    state_[6] += g;
    state_[7] += h;
  }

  std::array<std::uint32_t, 8> state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<unsigned char, 64> block_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// The serialisation is a sequence of tagged, length-prefixed items, so that no two
// different specs can produce the same bytes:
//   string   -> "s" <decimal byte length> ":" <bytes>
//   bool     -> "b1" or "b0"
//   optional -> "n" when absent, else "o" followed by the value
//   list     -> "l" <decimal element count> ":" followed by each element
// Each field is preceded by its name (written as a string), and the whole thing by a
// format tag, so a change of format or of which fields are covered changes every hash.
class Serializer {
 public:
  explicit Serializer(std::string_view format) { string(format); }

  Serializer& field(std::string_view name) { return string(name); }

  Serializer& string(std::string_view s) {
    out_ += 's';
    out_ += std::to_string(s.size());
    out_ += ':';
    out_.append(s.data(), s.size());
    return *this;
  }

  Serializer& boolean(bool b) {
    out_ += b ? "b1" : "b0";
    return *this;
  }

  Serializer& optional_string(const std::optional<std::string>& s) {
    if (!s) {
      out_ += 'n';
      return *this;
    }
    out_ += 'o';
    return string(*s);
  }

  Serializer& strings(const std::vector<std::string>& list) {
    out_ += 'l';
    out_ += std::to_string(list.size());
    out_ += ':';
    for (const std::string& s : list) string(s);
    return *this;
  }

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

}  // namespace

std::string sha256_hex(std::string_view data) {
  Sha256 sha;
  sha.update(data);
  return sha.hex_digest();
}

std::string fingerprint(const BuildSpec& spec) {
  Serializer s("pg_viewmgr build spec v1");
  s.field("materialized").boolean(spec.materialized);
  s.field("canonical_definition").string(spec.canonical_definition);
  s.field("indexes").strings(spec.indexes);
  s.field("with_data").boolean(spec.with_data);
  s.field("comment").optional_string(spec.comment);
  s.field("view_options").strings(spec.view_options);
  return sha256_hex(s.bytes());
}

std::string definition_fingerprint(const BuildSpec& spec) {
  Serializer s("pg_viewmgr definition v1");
  s.field("materialized").boolean(spec.materialized);
  s.field("canonical_definition").string(spec.canonical_definition);
  s.field("view_options").strings(spec.view_options);
  return sha256_hex(s.bytes());
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
