// priority.hpp: the three CPU and three I/O priority levels.
#pragma once

#include <cstdint>
#include <string_view>

namespace prio {

// Lower value = more important. The executor always resumes the highest
// (numerically lowest) non-empty level first.
enum class priority : std::uint8_t { high = 0, normal = 1, low = 2 };
inline constexpr int priority_count = 3;

constexpr std::string_view to_string(priority p) noexcept {
  switch (p) {
    case priority::high: return "high";
    case priority::normal: return "normal";
    case priority::low: return "low";
  }
  return "?";
}

constexpr int index(priority p) noexcept { return static_cast<int>(p); }

}  // namespace prio
