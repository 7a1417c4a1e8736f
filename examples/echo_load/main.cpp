// echo_load: a load generator for echo servers on 127.0.0.1, made of prio
// tasks on one executor. Prints requests/s and p50/p99/p999 latency.
//   echo_load [--port N] [--connections N] [--size BYTES] [--depth N]
//             [--duration SECONDS] [--switcher asm|sjlj|ucontext|coroutine]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

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
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    if (a == "--port") o.port = static_cast<std::uint16_t>(std::atoi(v));
    else if (a == "--connections") o.connections = static_cast<unsigned>(std::atoi(v));
    else if (a == "--size") o.message_size = static_cast<unsigned>(std::atoi(v));
    else if (a == "--depth") o.depth = static_cast<unsigned>(std::atoi(v));
    else if (a == "--duration") o.duration = std::chrono::milliseconds(static_cast<long>(std::atof(v) * 1000));
    else if (a == "--switcher") {
      bool ok = false;
      for (auto k : {prio::switcher_kind::asm_switch, prio::switcher_kind::sjlj, prio::switcher_kind::ucontext,
                     prio::switcher_kind::coroutine})
        if (prio::to_string(k) == std::string_view(v)) o.switcher = k, ok = true;
      if (!ok) return usage();
    } else {
      return usage();
    }
  }
  if (o.connections == 0 || o.connections > 10000 || o.message_size == 0 || o.message_size > (1u << 20) ||
      o.depth == 0 || o.depth > 1024 || o.duration.count() <= 0 || o.duration.count() > 3600 * 1000)
    return usage();
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
