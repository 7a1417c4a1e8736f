// load_gen.hpp: the echo load generator used by examples/echo_load and by
// bench/io/net: N connections, each a prio task sending `depth` messages of
// `message_size` bytes at a time and waiting for their echoes, until the
// duration ends. Latency per message from the TSC clock.
#pragma once

#include <chrono>
#include <cstdint>

#include "prio/runtime/result.hpp"
#include "prio/context/context.hpp"

namespace prio::examples {

struct load_options {
  std::uint16_t port = 7777;                 // on 127.0.0.1
  unsigned connections = 64;
  unsigned message_size = 64;
  unsigned depth = 1;                        // messages in flight per connection
  std::chrono::milliseconds duration{2000};
  switcher_kind switcher = switcher_kind::asm_switch;
};

struct load_report {
  std::uint64_t requests = 0;   // echoed messages
  double seconds = 0;
  double requests_per_second = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  unsigned failed_connections = 0;
};

// run_load() runs the load on the calling thread (its own executor) and
// returns what it measured. Any thread.
result<load_report> run_load(const load_options& o);

}  // namespace prio::examples
