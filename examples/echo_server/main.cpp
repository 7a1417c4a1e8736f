// echo_server: a TCP echo server on 127.0.0.1 made of prio tasks, one per
// connection, on a single executor (--threads 0, the default) or on a pool
// of N executor threads fed by an acceptor thread. Bounded in time
// (--duration).
//   echo_server [--port N] [--switcher asm|sjlj|ucontext|coroutine]
//               [--threads N] [--duration SECONDS] [--max-connections N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <string>
#include <thread>

#include "examples/common/cli.hpp"
#include "examples/echo_server/echo_service.hpp"

namespace {

int usage() {
  std::fprintf(stderr, "usage: echo_server [--port N] [--switcher asm|sjlj|ucontext|coroutine] "
                       "[--threads N] [--duration SECONDS] [--max-connections N]\n"
                       "  --threads 0 (default): one executor; N: a pool of N executor threads\n"
                       "  (stackful switchers only)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  prio::examples::echo_options o;
  o.port = 7777;
  double duration = 10;
  using namespace prio::examples;
  const char* const prog = "echo_server";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    unsigned long n = 0;
    if (a == "--port") {
      if (!parse_uint(prog, "--port", v, 0, 65535, n)) return 2;  // 0: any free port
      o.port = static_cast<std::uint16_t>(n);
    } else if (a == "--switcher") {
      if (!parse_switcher(prog, v, o.switcher)) return 2;
    } else if (a == "--duration") {
      if (!parse_seconds(prog, "--duration", v, 24 * 3600, duration)) return 2;
    } else if (a == "--threads") {
      if (!parse_uint(prog, "--threads", v, 0, 1024, n)) return 2;
      o.threads = static_cast<unsigned>(n);
    } else if (a == "--max-connections") {
      if (!parse_uint(prog, "--max-connections", v, 1, 1000000, n)) return 2;
      o.max_connections = static_cast<unsigned>(n);
    } else {
      return usage();
    }
  }
  if (o.threads != 0 && o.switcher == prio::switcher_kind::coroutine) {
    std::fprintf(stderr, "echo_server: --threads %u: pool threads run stackful switchers only "
                         "(asm, sjlj, ucontext), not coroutine\n", o.threads);
    return 2;
  }
  prio::examples::echo_service svc(o);
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(duration));  // the run's time bound
    svc.stop();
  });
  auto r = svc.run([&](std::uint16_t port) {
    const std::string_view k = prio::to_string(o.switcher);
    std::printf("echo_server: listening on 127.0.0.1:%u (switcher %.*s, %s) for %.1f s\n", port,
                static_cast<int>(k.size()), k.data(),
                o.threads ? (std::to_string(o.threads) + " pool threads").c_str() : "one executor", duration);
    std::fflush(stdout);
  });
  timer.join();
  if (!r) {
    std::fprintf(stderr, "echo_server: %s\n", r.error().message().c_str());
    return 1;
  }
  std::printf("echo_server: served %llu connection(s)\n", static_cast<unsigned long long>(svc.connections()));
  return 0;
}
