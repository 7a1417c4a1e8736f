// echo_load: a load generator for echo servers on 127.0.0.1, made of prio
// tasks on one executor. Prints requests/s and p50/p99/p999 latency.
//   echo_load [--port N] [--connections N] [--size BYTES] [--depth N]
//             [--duration SECONDS] [--switcher asm|sjlj|ucontext|coroutine]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "examples/common/cli.hpp"
#include "examples/echo_load/load_gen.hpp"

namespace {
int usage() {
  std::fprintf(stderr, "usage: echo_load [--port N] [--connections N] [--size BYTES] [--depth N] "
                       "[--duration SECONDS] [--switcher asm|sjlj|ucontext|coroutine]\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  prio::examples::load_options o;
  using namespace prio::examples;
  const char* const prog = "echo_load";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    unsigned long n = 0;
    double seconds = 0;
    if (a == "--port") {
      if (!parse_uint(prog, "--port", v, 1, 65535, n)) return 2;
      o.port = static_cast<std::uint16_t>(n);
    } else if (a == "--connections") {
      if (!parse_uint(prog, "--connections", v, 1, 10000, n)) return 2;
      o.connections = static_cast<unsigned>(n);
    } else if (a == "--size") {
      if (!parse_uint(prog, "--size", v, 1, 1u << 20, n)) return 2;
      o.message_size = static_cast<unsigned>(n);
    } else if (a == "--depth") {
      if (!parse_uint(prog, "--depth", v, 1, 1024, n)) return 2;
      o.depth = static_cast<unsigned>(n);
    } else if (a == "--duration") {
      if (!parse_seconds(prog, "--duration", v, 3600, seconds)) return 2;
      o.duration = std::chrono::milliseconds(std::max(1L, std::lround(seconds * 1000)));
    } else if (a == "--switcher") {
      if (!parse_switcher(prog, v, o.switcher)) return 2;
    } else {
      return usage();
    }
  }
  auto r = prio::examples::run_load(o);
  if (!r) {
    std::fprintf(stderr, "echo_load: %s\n", r.error().message().c_str());
    return 1;
  }
  std::printf("echo_load: %u connections, %u B messages, depth %u, %.2f s\n", o.connections, o.message_size,
              o.depth, r->seconds);
  std::printf("  requests/s %.0f  p50 %.1f us  p99 %.1f us  p999 %.1f us  failed connections %u\n",
              r->requests_per_second, r->p50_us, r->p99_us, r->p999_us, r->failed_connections);
  return r->failed_connections == 0 ? 0 : 1;
}
