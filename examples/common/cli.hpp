// cli.hpp: the examples' command-line values, read strictly. A value that
// is not a number, has trailing characters or lies outside its range is an
// error naming the option (atoi() read "abc" as 0, a port as the listen-on-
// any-port 0, and wrapped 99999 to 34463).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "prio/context/context.hpp"

namespace prio::examples {

// parse_uint(): text as a decimal integer in [lo, hi]; false (and a line on
// stderr, prefixed with prog) otherwise.
inline bool parse_uint(const char* prog, const char* opt, const char* text, unsigned long lo,
                       unsigned long hi, unsigned long& out) {
  errno = 0;
  char* end = nullptr;
  const bool digits = text[0] >= '0' && text[0] <= '9';  // no sign, no spaces
  const unsigned long v = digits ? std::strtoul(text, &end, 10) : 0;
  if (!digits || errno != 0 || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "%s: %s: '%s' is not a whole number in %lu..%lu\n", prog, opt, text, lo, hi);
    return false;
  }
  out = v;
  return true;
}

// parse_seconds(): text as a finite number of seconds in (0, hi].
inline bool parse_seconds(const char* prog, const char* opt, const char* text, double hi, double& out) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0 || v > hi) {
    std::fprintf(stderr, "%s: %s: '%s' is not a number of seconds in (0, %g]\n", prog, opt, text, hi);
    return false;
  }
  out = v;
  return true;
}

// parse_switcher(): one of the four switchers that can suspend.
inline bool parse_switcher(const char* prog, const char* text, switcher_kind& out) {
  for (auto k : {switcher_kind::asm_switch, switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::coroutine})
    if (to_string(k) == std::string_view(text)) {
      out = k;
      return true;
    }
  std::fprintf(stderr, "%s: --switcher: '%s' is not one of asm, sjlj, ucontext, coroutine\n", prog, text);
  return false;
}

}  // namespace prio::examples
