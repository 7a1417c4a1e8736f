// load_gen.cpp: connection tasks of the echo load generator and the
// percentile report.
#include "examples/echo_load/load_gen.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "prio/io/socket.hpp"
#include "prio/runtime/clock.hpp"

namespace prio::examples {

using namespace std::chrono_literals;

namespace {

struct client {
  std::unique_ptr<task> t;
  std::vector<std::byte> out, in;
  std::vector<std::uint32_t> lat_ns;  // preallocated samples; extra ones are dropped
  std::uint64_t requests = 0;
  bool failed = false;
};

constexpr std::size_t max_samples_per_client = 1 << 18;

result<std::int64_t> drive_client(task& t, client& c, const net::address& a, const load_options& o,
                                  tsc::ticks end) {
  auto s = net::connect_to(t, a, 5s);
  if (!s) {
    c.failed = true;
    return failure(s.error());
  }
  net::socket sock = *s;
  const std::size_t batch = static_cast<std::size_t>(o.message_size) * o.depth;
  while (tsc::now() < end) {
    const tsc::ticks t0 = tsc::now();
    if (!net::send_all(t, sock, c.out, 5s)) {
      c.failed = true;
      break;
    }
    std::size_t got = 0, next_boundary = o.message_size;
    while (got < batch) {
      auto n = net::recv(t, sock, std::span<std::byte>(c.in.data(), batch - got), 0, 5s);
      if (!n || *n == 0) {
        c.failed = true;
        break;
      }
      got += *n;
      const tsc::ticks now = tsc::now();
      while (next_boundary <= got) {  // every message completed by these bytes
        if (c.lat_ns.size() < c.lat_ns.capacity())
          c.lat_ns.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(tsc::to_ns(now - t0), UINT32_MAX)));
        ++c.requests;
        next_boundary += o.message_size;
      }
    }
    if (c.failed) break;
  }
  (void)net::close(t, sock);
  return std::int64_t{0};
}

double percentile_us(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i] / 1000.0;
}

}  // namespace

result<load_report> run_load(const load_options& o) {
  if (o.connections == 0 || o.message_size == 0 || o.depth == 0) return failure(errno_error(EINVAL));
  tsc::calibrate();
  auto addr = net::address::ipv4("127.0.0.1", o.port);
  if (!addr) return failure(addr.error());
  executor_options eo;
  eo.ring_entries = 1024;
  eo.fixed_files = o.connections + 64;
  auto exr = executor::create(eo);
  if (!exr) return failure(exr.error());
  executor& ex = **exr;
  std::vector<client> clients(o.connections);
  const std::size_t batch = static_cast<std::size_t>(o.message_size) * o.depth;
  const tsc::ticks start = tsc::now();
  const tsc::ticks end = start + tsc::from_duration(o.duration);
  for (auto& c : clients) {
    auto t = task::create({.switcher = o.switcher, .stack_size = 32 * 1024});
    if (!t) return failure(t.error());
    c.t = std::move(*t);
    c.out.assign(batch, std::byte{'x'});
    c.in.resize(batch);
    c.lat_ns.reserve(max_samples_per_client);
    const net::address* ap = &*addr;
    client* cp = &c;
    const load_options* op = &o;
    c.t->set_body([cp, ap, op, end](task& t) { return drive_client(t, *cp, *ap, *op, end); });
    if (auto r = ex.attach(*c.t); !r) return failure(r.error());
  }
  // Bounded: the tasks stop at `end`; every wait has a 5 s timeout.
  for (int i = 0; i < 100000000; ++i) {
    bool busy = false;
    for (auto& c : clients) busy |= c.t->state() != task_state::completed;
    if (!busy) break;
    (void)ex.run(SIZE_MAX, 1s);
  }
  load_report rep;
  rep.seconds = static_cast<double>(tsc::to_ns(tsc::now() - start)) / 1e9;
  std::vector<std::uint32_t> all;
  for (auto& c : clients) {
    rep.requests += c.requests;
    rep.failed_connections += c.failed;
    all.insert(all.end(), c.lat_ns.begin(), c.lat_ns.end());
  }
  std::sort(all.begin(), all.end());
  const double measured = static_cast<double>(o.duration.count()) / 1000.0;
  rep.requests_per_second = static_cast<double>(rep.requests) / measured;
  rep.p50_us = percentile_us(all, 0.50);
  rep.p99_us = percentile_us(all, 0.99);
  rep.p999_us = percentile_us(all, 0.999);
  return rep;
}

}  // namespace prio::examples
