// echo_service.cpp: acceptor, connection tasks and the serve loop of the
// prio echo server.
#include "examples/echo_server/echo_service.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "prio/executors/pool.hpp"
#include "prio/io/accept_stream.hpp"
#include "prio/io/socket.hpp"

namespace prio::examples {

using namespace std::chrono_literals;

namespace {

// One connection: a reusable task, its socket and its buffer.
struct connection {
  std::unique_ptr<task> t;
  net::socket s;
  std::vector<std::byte> buf;
  connection* next_free = nullptr;
};

// echo() sends back what s receives, through buf, until the peer closes,
// an error, or a cancel (stackful tasks).
void echo(task& t, net::socket s, std::span<std::byte> buf) {
  for (;;) {
    auto n = net::recv(t, s, buf);
    if (!n || *n == 0) break;
    if (!net::send_all(t, s, std::span<const std::byte>(buf.data(), *n))) break;
  }
}

// serve_one() echoes on one connection, then closes it.
result<std::int64_t> serve_one(task& t, connection& c) {
  echo(t, c.s, c.buf);
  (void)net::close(t, c.s);
  return std::int64_t{0};
}

co<result<std::int64_t>> serve_one_co(task& t, connection& c) {
  for (;;) {
    auto n = co_await net::async_recv(t, c.s, c.buf);
    if (!n || *n == 0) break;
    if (!co_await net::async_send_all(t, c.s, std::span<const std::byte>(c.buf.data(), *n))) break;
  }
  (void)co_await net::async_close(t, c.s);
  co_return std::int64_t{0};
}

// accept_loop() listens on 127.0.0.1:port from an acceptor task on ex,
// calls on_ready(port), and gives every accepted socket to hand_over (which
// closes what it refuses) until stop is set; it runs ex until the acceptor
// has finished and returns the acceptor's error, if any.
result<void> accept_loop(executor& ex, std::uint16_t port, const std::atomic<bool>& stop,
                         std::atomic<std::uint64_t>& accepted,
                         const std::function<void(std::uint16_t)>& on_ready,
                         const std::function<void(task&, net::socket)>& hand_over) {
  result<void> outcome = success();
  auto acceptor = task::create({.switcher = switcher_kind::asm_switch, .stack_size = 64 * 1024});
  if (!acceptor) return failure(acceptor.error());
  (*acceptor)->set_body([&](task& t) -> result<std::int64_t> {
    auto a = net::address::ipv4("127.0.0.1", port);
    auto l = net::listen_on(t, *a, 4096);
    if (!l) {
      outcome = failure(l.error());
      return failure(l.error());
    }
    net::socket ls = *l;
    on_ready(net::local_address(t, ls)->port());
    net::accept_stream stream(ls, 256);
    while (!stop.load(std::memory_order_acquire)) {
      auto s = stream.next(t, 100ms);  // wakes now and then to look at stop
      if (!s) {
        if (s.error() == std::errc::stream_timeout) continue;
        outcome = failure(s.error());
        break;
      }
      accepted.fetch_add(1, std::memory_order_relaxed);
      hand_over(t, *s);
    }
    (void)stream.stop(t);
    (void)net::close(t, ls);
    return std::int64_t{0};
  });
  if (auto r = ex.attach(**acceptor); !r) return r;
  // Serve until stop; the acceptor notices within 100 ms.
  for (int i = 0; (*acceptor)->state() != task_state::completed && i < 100000000; ++i) (void)ex.run(SIZE_MAX, 100ms);
  return outcome;
}

}  // namespace

result<void> echo_service::run(const std::function<void(std::uint16_t)>& on_ready) {
  return opts_.threads == 0 ? run_single(on_ready) : run_pool(on_ready);
}

result<void> echo_service::run_single(const std::function<void(std::uint16_t)>& on_ready) {
  executor_options eo;
  eo.ring_entries = 1024;
  eo.fixed_files = opts_.max_connections + 64;
  auto exr = executor::create(eo);
  if (!exr) return failure(exr.error());
  executor& ex = **exr;

  // Connection tasks, made up front (the expensive step) and reused.
  std::vector<connection> conns(opts_.max_connections);
  connection* free_list = nullptr;
  for (auto& c : conns) {
    auto t = task::create({.switcher = opts_.switcher, .stack_size = 32 * 1024});
    if (!t) return failure(t.error());
    c.t = std::move(*t);
    c.buf.resize(opts_.buffer_size);
    if (opts_.switcher == switcher_kind::coroutine)
      c.t->set_body([&c](task& t) { return serve_one_co(t, c); });
    else
      c.t->set_body([&c](task& t) { return serve_one(t, c); });
    c.t->set_on_complete(
        [](task& t, void* arg) {
          auto** head = static_cast<connection**>(arg);
          auto* c = static_cast<connection*>(t.user_ptr());
          c->next_free = *head;
          *head = c;
        },
        &free_list);
    c.t->set_user_ptr(&c);
    c.next_free = free_list;
    free_list = &c;
  }

  auto outcome = accept_loop(ex, opts_.port, stop_, accepted_, on_ready, [&](task& t, net::socket s) {
    connection* c = free_list;
    if (!c) {  // at capacity: refuse
      (void)net::close(t, s);
      return;
    }
    free_list = c->next_free;
    c->s = s;
    (void)t.current_executor()->attach(*c->t);
  });
  // Connections still open are cancelled and end through their own code
  // (each closes its socket).
  if (auto r = ex.cancel_and_drain(std::chrono::seconds(10)); !r && outcome) outcome = r;
  return outcome;
}

// Pool mode: an accepted connection on its way to a pool task. It owns the
// fd until the task adopts it, so a job that cancel_all() withdraws before
// it ran closes its connection, and it holds one of max_connections until
// the connection ends.
class echo_service::pending_connection {
 public:
  pending_connection(int fd, std::atomic<unsigned>& open) noexcept : fd_(fd), open_(&open) {}
  pending_connection(pending_connection&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), open_(std::exchange(o.open_, nullptr)) {}
  pending_connection(const pending_connection&) = delete;
  pending_connection& operator=(const pending_connection&) = delete;
  pending_connection& operator=(pending_connection&&) = delete;
  // (The pool destroys a callable as soon as its job ends, or unrun.)
  ~pending_connection() {
    if (fd_ >= 0) ::close(fd_);
    if (open_) open_->fetch_sub(1, std::memory_order_relaxed);
  }
  int fd() const noexcept { return fd_; }
  void adopted() noexcept { fd_ = -1; }  // the ring owns it now

 private:
  int fd_;
  std::atomic<unsigned>* open_;
};

// The pooled task's side of a connection: adopt the fd into this
// executor's table, echo, close (also after a cancel_all()).
void echo_service::serve_adopted(task& t, pending_connection& c) noexcept {
  auto s = net::adopt(t, c.fd(), net::adopt_mode::transfer);
  if (!s) return;  // the fd stays c's, which closes it
  c.adopted();
  std::vector<std::byte> buf(opts_.buffer_size);
  echo(t, *s, buf);
  (void)net::close(t, *s);
}

result<void> echo_service::run_pool(const std::function<void(std::uint16_t)>& on_ready) {
  if (opts_.switcher == switcher_kind::coroutine) return failure(errno_error(EINVAL));
  // Connections open in the pool; before the pool, which destroys the last
  // pending_connection (that counts in it) when it goes.
  std::atomic<unsigned> open{0};
  pool_options po;
  po.threads = opts_.threads;
  po.exec.ring_entries = 256;
  po.exec.fixed_files = opts_.max_connections + 64;
  po.switcher = opts_.switcher;
  po.stack_size = 64 * 1024;
  // Each open connection holds its pooled task until it closes: as many
  // tasks as connections, or those beyond the bound would wait unserved.
  po.max_pooled_tasks = opts_.max_connections;
  po.registered_buffers_small = 0;  // the echo copies through each task's own buffer
  po.registered_buffers_large = 0;
  auto pr = pool::create(po);
  if (!pr) return failure(pr.error());
  pool& workers = **pr;
  // No fixed-file table: accepted sockets arrive as regular fds, which any
  // pool executor can adopt.
  executor_options eo;
  eo.ring_entries = 256;
  eo.fixed_files = 0;
  auto exr = executor::create(eo);
  if (!exr) return failure(exr.error());
  executor& ex = **exr;

  auto outcome = accept_loop(ex, opts_.port, stop_, accepted_, on_ready, [&](task& t, net::socket s) {
    if (s.fd < 0) {  // (the acceptor's executor has no table: never)
      (void)net::close(t, s);
      return;
    }
    if (open.fetch_add(1, std::memory_order_relaxed) >= opts_.max_connections) {
      open.fetch_sub(1, std::memory_order_relaxed);
      (void)net::close(t, s);  // at capacity: refuse
      return;
    }
    // From here the fd is c's: submit() destroys the callable if it fails.
    (void)workers.submit([this, c = pending_connection(s.fd, open)](task& pt) mutable { serve_adopted(pt, c); });
  });
  // Stopped: every connection still open is cancelled (its receive or send
  // returns ECANCELED and its task closes the socket), then the pool stops.
  if (auto r = workers.cancel_all(); !r && outcome) outcome = failure(r.error());
  if (auto r = workers.wait(std::chrono::seconds(30)); !r && outcome) outcome = r;
  if (auto r = workers.shutdown(std::chrono::seconds(30)); !r && outcome) outcome = r;
  return outcome;
}

void echo_service::stop() noexcept { stop_.store(true, std::memory_order_release); }

}  // namespace prio::examples
