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

#include "examples/echo_server/echo_service.hpp"

namespace {

bool parse_switcher(const char* s, prio::switcher_kind& out) {
  for (auto k : {prio::switcher_kind::asm_switch, prio::switcher_kind::sjlj, prio::switcher_kind::ucontext,
                 prio::switcher_kind::coroutine}) {
    if (prio::to_string(k) == s) {
      out = k;
      return true;
    }
  }
  return false;
}

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
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    if (a == "--port") o.port = static_cast<std::uint16_t>(std::atoi(v));
    else if (a == "--switcher") { if (!parse_switcher(v, o.switcher)) return usage(); }
    else if (a == "--duration") duration = std::atof(v);
    else if (a == "--threads") o.threads = static_cast<unsigned>(std::atoi(v));
    else if (a == "--max-connections") o.max_connections = static_cast<unsigned>(std::atoi(v));
    else return usage();
  }
  if (duration <= 0 || duration > 24 * 3600 || o.max_connections == 0 || o.threads > 1024) return usage();
  if (o.threads != 0 && o.switcher == prio::switcher_kind::coroutine) return usage();
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
