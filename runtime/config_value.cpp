// config_value.cpp: the value grammar of each option_type.
#include "runtime/config_value.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

namespace prio::detail {
namespace {

// parse_u64() accepts decimal or 0x/0X hex digits filling all of s.
bool parse_u64(std::string_view s, std::uint64_t& v, bool& overflow) noexcept {
  overflow = false;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return false;
  }
  return ec == std::errc{} && p == s.data() + s.size();
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool parse_integer(std::string_view t, option_value& out, std::string& why) {
  const bool negative = !t.empty() && t[0] == '-';
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
  std::uint64_t mag = 0;
  bool overflow = false;
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
  if (!parse_u64(t, mag, overflow) || mag > limit) {
    why = overflow || mag > limit ? "out of range for a 64-bit integer" : "expected an integer";
    return false;
  }
  out.i = negative ? static_cast<std::int64_t>(0 - mag) : static_cast<std::int64_t>(mag);
  out.u = static_cast<std::uint64_t>(out.i);
  return true;
}

bool parse_unsigned(std::string_view t, option_value& out, std::string& why) {
  bool overflow = false;
  if (!parse_u64(t, out.u, overflow)) {
    why = overflow ? "out of range for a 64-bit unsigned integer" : "expected an unsigned integer";
    return false;
  }
  out.i = static_cast<std::int64_t>(out.u);
  return true;
}

// parse_size() is an unsigned count with an optional K, M, G or T suffix
// (any case) multiplying by 1024, 1024^2, 1024^3 or 1024^4.
bool parse_size(std::string_view t, option_value& out, std::string& why) {
  unsigned shift = 0;
  if (!t.empty()) {
    switch (t.back()) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: break;
    }
  }
  if (shift != 0) t.remove_suffix(1);
  std::uint64_t n = 0;
  bool overflow = false;
  if (!parse_u64(t, n, overflow)) {
    why = overflow ? "out of range for a 64-bit size"
                   : "expected a size (an unsigned integer, optionally followed by K, M, G or T)";
    return false;
  }
  if (shift != 0 && n > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    why = "out of range for a 64-bit size";
    return false;
  }
  out.u = n << shift;
  out.i = static_cast<std::int64_t>(out.u);
  return true;
}

bool parse_boolean(std::string_view t, option_value& out, std::string& why) {
  static constexpr std::string_view yes[] = {"true", "1", "yes", "on"};
  static constexpr std::string_view no[] = {"false", "0", "no", "off"};
  for (std::string_view w : yes)
    if (iequals(t, w)) {
      out.u = 1;
      out.i = 1;
      return true;
    }
  for (std::string_view w : no)
    if (iequals(t, w)) {
      out.u = 0;
      out.i = 0;
      return true;
    }
  why = "expected a boolean (true/false, yes/no, on/off, 1/0)";
  return false;
}

bool parse_choice(const option_spec& spec, std::string_view t, std::string& why) {
  for (const std::string& c : spec.choices)
    if (t == c) return true;
  why = "expected one of ";
  for (std::size_t i = 0; i < spec.choices.size(); ++i) {
    if (i) why += '|';
    why += spec.choices[i];
  }
  return false;
}

}  // namespace

std::string_view trim(std::string_view s) noexcept {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

bool parse_option_value(const option_spec& spec, std::string_view text, option_value& out,
                        std::string& why) {
  option_value v;
  bool ok = false;
  switch (spec.type) {
    case option_type::integer: ok = parse_integer(text, v, why); break;
    case option_type::unsigned_integer: ok = parse_unsigned(text, v, why); break;
    case option_type::size: ok = parse_size(text, v, why); break;
    case option_type::boolean: ok = parse_boolean(text, v, why); break;
    case option_type::string: ok = true; break;
    case option_type::choice: ok = parse_choice(spec, text, why); break;
  }
  if (!ok) return false;
  if ((spec.type == option_type::unsigned_integer || spec.type == option_type::size) &&
      (v.u < spec.min || v.u > spec.max)) {
    why = "out of range [" + std::to_string(spec.min) + ", " + std::to_string(spec.max) + "]";
    return false;
  }
  out.text.assign(text);
  out.i = v.i;
  out.u = v.u;
  return true;
}

}  // namespace prio::detail
