// probe.cpp: the cached opcode probe behind supports_send_zc() and the
// FIXED_FD_INSTALL fallback of bind/listen.
#include "io/net/probe.hpp"

#include <liburing.h>

#include <atomic>

#include "prio/executors/executor.hpp"

namespace prio::net::detail {

namespace {
// 0: not probed yet; 1: probed, bit (op + 1) set per supported opcode.
std::atomic<std::uint64_t> g_probed[5];  // 256 opcodes + the "probed" bit
}  // namespace

bool opcode_supported(executor& ex, std::uint8_t op) noexcept {
  if (g_probed[0].load(std::memory_order_acquire) & 1u) {
    const unsigned bit = op + 1u;
    return (g_probed[bit / 64].load(std::memory_order_relaxed) >> (bit % 64)) & 1u;
  }
  if (!ex.has_ring()) return false;
  io_uring_probe* p = io_uring_get_probe_ring(ex.ring());
  if (!p) return false;
  std::uint64_t words[5] = {1u, 0, 0, 0, 0};
  for (unsigned o = 0; o <= p->last_op && o < 256; ++o)
    if (io_uring_opcode_supported(p, static_cast<int>(o))) words[(o + 1) / 64] |= 1ull << ((o + 1) % 64);
  io_uring_free_probe(p);
  for (int i = 4; i >= 0; --i) g_probed[i].store(words[i], std::memory_order_release);
  const unsigned bit = op + 1u;
  return (words[bit / 64] >> (bit % 64)) & 1u;
}

}  // namespace prio::net::detail
