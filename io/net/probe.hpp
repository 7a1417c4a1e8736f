// probe.hpp: which io_uring opcodes the running kernel supports (private).
#pragma once

#include <cstdint>

namespace prio {
class executor;
}

namespace prio::net::detail {

// opcode_supported() asks the kernel once per process (through ex's ring,
// so on ex's bound thread) and answers from a cache afterwards.
bool opcode_supported(executor& ex, std::uint8_t op) noexcept;

}  // namespace prio::net::detail
