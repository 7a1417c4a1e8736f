// workload.cpp: prio-demo's tasks. Everything (echo clients and handlers,
// writers, scanners) is submitted to the pool as callables with their
// priorities. Every class stops at a shared TSC deadline.
#include "workload.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <random>

#include "prio/io/file.hpp"
#include "prio/io/file_meta.hpp"
#include "prio/io/file_rw.hpp"
#include "prio/io/socket.hpp"

namespace demo {

using prio::result;
using prio::task;
using prio::tsc::ticks;

namespace {

constexpr std::size_t echo_size = 64, record_size = 4096, chunk_size = 128 * 1024;

struct shared_state {
  const workload_config* cfg;
  ticks deadline;
  std::vector<int> server_fds, client_fds;
  std::vector<samples> echo_lat, writer_lat, scan_lat;
  std::atomic<std::uint64_t> echo_ops{0}, writer_ops{0}, scan_ops{0}, scan_bytes{0}, errors{0};
  std::atomic<std::uint64_t> checksum_sink{0};
  std::vector<std::unique_ptr<std::byte[]>> scan_bufs;
};

void fail(shared_state& s, const char* what, const std::error_code& e) {
  if (s.errors.fetch_add(1) < 5) std::fprintf(stderr, "prio-demo: %s: %s\n", what, e.message().c_str());
}

// --- the echo service (high) -----------------------------------------------------

void echo_handler(task& t, shared_state& s, unsigned i) {
  auto sock = prio::net::adopt(t, s.server_fds[i]);
  if (!sock) return fail(s, "adopt", sock.error());
  std::byte buf[echo_size * 4];
  for (;;) {
    auto n = prio::net::recv(t, *sock, buf);
    if (!n || *n == 0) break;  // the client closed: the run is over
    auto w = prio::net::send_all(t, *sock, std::span<const std::byte>(buf, *n));
    if (!w) {
      fail(s, "send", w.error());
      break;
    }
  }
  (void)prio::net::close(t, *sock);
}

void echo_client(task& t, shared_state& s, unsigned i) {
  auto sock = prio::net::adopt(t, s.client_fds[i]);
  if (!sock) {
    ::close(s.client_fds[i]);  // still ours: closing it ends the server side
    return fail(s, "adopt", sock.error());
  }
  std::byte msg[echo_size], back[echo_size];
  std::memset(msg, 'p', sizeof msg);
  std::uint64_t ops = 0;
  // Paced, like real traffic: one request per interval (skipped when late).
  const ticks interval = prio::tsc::from_duration(std::chrono::microseconds(s.cfg->echo_interval_us));
  ticks next = prio::tsc::now() + interval * i / s.cfg->connections;
  while (prio::tsc::now() < s.deadline) {
    if (prio::tsc::now() < next && !t.suspend_until(next)) break;
    next = std::max(next + interval, prio::tsc::now());
    const ticks t0 = prio::tsc::now();
    if (auto w = prio::net::send_all(t, *sock, msg); !w) {
      fail(s, "client send", w.error());
      break;
    }
    std::size_t got = 0;
    while (got < echo_size) {
      auto n = prio::net::recv(t, *sock, std::span<std::byte>(back + got, echo_size - got));
      if (!n || *n == 0) break;
      got += *n;
    }
    if (got != echo_size) break;
    s.echo_lat[i].add(prio::tsc::now() - t0);
    ++ops;
  }
  s.echo_ops += ops;
  (void)prio::net::close(t, *sock);
}

// --- the durable writer (normal) ---------------------------------------------------

void writer(task& t, shared_state& s, unsigned i) {
  const std::string path = s.cfg->dir + "/records." + std::to_string(i);
  auto f = prio::open_file(t, AT_FDCWD, path.c_str(), prio::open_how_of(O_WRONLY | O_CREAT | O_TRUNC, 0600));
  if (!f) return fail(s, "open records", f.error());
  std::byte rec[record_size];
  std::memset(rec, 'r', sizeof rec);
  std::uint64_t off = 0, ops = 0;
  while (prio::tsc::now() < s.deadline) {
    const ticks t0 = prio::tsc::now();
    std::memcpy(rec, &ops, sizeof ops);
    if (auto w = prio::write_all(t, *f, rec, sizeof rec, off); !w) {
      fail(s, "write", w.error());
      break;
    }
    if (auto d = prio::fdatasync(t, *f); !d) {
      fail(s, "fdatasync", d.error());
      break;
    }
    s.writer_lat[i].add(prio::tsc::now() - t0);
    off += record_size;
    ++ops;
  }
  s.writer_ops += ops;
  (void)prio::close_file(t, *f);
  ::unlink(path.c_str());
}

// --- the background scan (low) ------------------------------------------------------

std::uint64_t checksum(const std::byte* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
  }
  return h;
}

void scanner(task& t, shared_state& s, unsigned i) {
  auto f = prio::open_file(t, AT_FDCWD, s.cfg->scan_file.c_str(), prio::open_how_of(O_RDONLY));
  if (!f) return fail(s, "open scan file", f.error());
  std::byte* buf = s.scan_bufs[i].get();
  std::uint64_t off = (std::uint64_t(i) * 7 * chunk_size), ops = 0, bytes = 0, sum = 0;
  while (prio::tsc::now() < s.deadline) {
    const ticks t0 = prio::tsc::now();
    auto n = prio::read(t, *f, buf, chunk_size, off);
    if (!n) {
      fail(s, "read", n.error());
      break;
    }
    if (*n == 0) {  // end of file: start over
      off = 0;
      continue;
    }
    sum += checksum(buf, *n);
    s.scan_lat[i].add(prio::tsc::now() - t0);
    off += *n;
    bytes += *n;
    ++ops;
  }
  s.scan_ops += ops;
  s.scan_bytes += bytes;
  s.checksum_sink ^= sum;  // keeps the checksum from being optimised away
  (void)prio::close_file(t, *f);
}

// connect_pairs() makes n loopback TCP connections: client and server fds.
bool connect_pairs(shared_state& s, unsigned n, unsigned port) {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) return false;
  const int one = 1;
  ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bool ok = ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(l, 128) == 0 &&
            ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  for (unsigned i = 0; ok && i < n; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ok = c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const int sv = ok ? ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    ok = ok && sv >= 0;
    if (c >= 0) s.client_fds.push_back(c);
    if (sv >= 0) s.server_fds.push_back(sv);
    for (int fd : {c, sv})
      if (fd >= 0) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ::close(l);
  return ok;
}

void merge(class_result& out, std::vector<samples>& in) {
  for (auto& s : in) out.lat.insert(out.lat.end(), s.v.begin(), s.v.end());
}

}  // namespace

bool make_scan_file(const std::string& path, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::vector<std::uint64_t> block(1 << 17);
  std::mt19937_64 rng(1);
  bool ok = true;
  for (std::size_t done = 0; ok && done < size; done += block.size() * 8) {
    for (auto& w : block) w = rng();
    ok = ::write(fd, block.data(), block.size() * 8) == static_cast<ssize_t>(block.size() * 8);
  }
  ::close(fd);
  return ok;
}

run_result run_workload(prio::pool& p, const workload_config& cfg) {
  run_result rr;
  auto s = std::make_unique<shared_state>();
  s->cfg = &cfg;
  const unsigned scanners = cfg.scanners_per_thread * p.threads();
  s->echo_lat.resize(cfg.connections);
  s->writer_lat.resize(cfg.writers);
  s->scan_lat.resize(scanners);
  for (unsigned i = 0; i < scanners; ++i) s->scan_bufs.emplace_back(new std::byte[chunk_size]);
  if (!connect_pairs(*s, cfg.connections, cfg.port)) {
    std::perror("prio-demo: loopback connections");
    rr.echo.errors = 1;
    for (int fd : s->client_fds) ::close(fd);
    for (int fd : s->server_fds) ::close(fd);
    return rr;
  }
  using prio::priority;
  auto level = [&](priority want) { return cfg.priorities ? want : priority::normal; };
  const prio::call_options high{level(priority::high), level(priority::high), {}};
  const prio::call_options normal{priority::normal, priority::normal, {}};
  const prio::call_options low{level(priority::low), level(priority::low), {}};

  const ticks start = prio::tsc::now();
  s->deadline = start + prio::tsc::from_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::duration<double>(cfg.seconds)));
  shared_state* sp = s.get();
  for (unsigned i = 0; i < cfg.connections; ++i)
    if (!p.submit([sp, i](task& t) { echo_handler(t, *sp, i); }, high)) ++rr.echo.errors;
  for (unsigned i = 0; i < cfg.writers; ++i)
    if (!p.submit([sp, i](task& t) { writer(t, *sp, i); }, normal)) ++rr.writer.errors;
  for (unsigned i = 0; i < scanners; ++i)
    if (!p.submit([sp, i](task& t) { scanner(t, *sp, i); }, low)) ++rr.scan.errors;

  // The load: clients in the same pool at the echo service's priority, so
  // both ends of every round trip are scheduled by prio, not by the OS.
  for (unsigned i = 0; i < cfg.connections; ++i)
    if (!p.submit([sp, i](task& t) { echo_client(t, *sp, i); }, high)) ++rr.echo.errors;
  (void)p.wait();
  rr.wall = prio::tsc::now() - start;
  (void)p.shutdown();
  rr.seconds = static_cast<double>(prio::tsc::to_ns(rr.wall)) / 1e9;
  rr.executors = p.final_stats();
  rr.echo.ops = s->echo_ops;
  rr.echo.bytes = rr.echo.ops * echo_size;
  rr.writer.ops = s->writer_ops;
  rr.writer.bytes = rr.writer.ops * record_size;
  rr.scan.ops = s->scan_ops;
  rr.scan.bytes = s->scan_bytes;
  rr.echo.errors += s->errors;
  merge(rr.echo, s->echo_lat);
  merge(rr.writer, s->writer_lat);
  merge(rr.scan, s->scan_lat);
  return rr;
}

}  // namespace demo
