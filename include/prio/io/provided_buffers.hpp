// provided_buffers.hpp: kernel-provided receive buffers (a buffer ring).
//
// A provided_buffers object is a pool of equal buffers registered with one
// executor's ring as buffer group `group`. A receive with
// recv_select() lets the kernel pick a free buffer when data arrives
// (IOSQE_BUFFER_SELECT), so idle connections hold no memory. The task gets
// the buffer as a buffer_lease and gives it back by releasing it (or letting
// the lease go out of scope).
//
// Exhaustion: when every buffer is leased the kernel fails the receive with
// ENOBUFS and leaves the data in the socket. recv_select() never surfaces
// that: it queues the task (FIFO) until a buffer is released and receives
// again; only its timeout (ETIME) or a cancel (ECANCELED) end the wait.
//
// liburing 2.3 lacks io_uring_setup_buf_ring (the .so does not export it),
// so the ring is mmap'ed here and registered with io_uring_register_buf_ring.
//
// Threading: everything on the executor's bound thread (the ring is
// SINGLE_ISSUER): create it inside a task or after the executor's first
// run(); release leases and destroy the pool there too, leases first.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "prio/context/coro.hpp"
#include "prio/executors/executor.hpp"
#include "prio/io/socket.hpp"
#include "prio/runtime/intrusive.hpp"

struct io_uring_buf_ring;

namespace prio::net {

struct provided_buffers_options {
  unsigned count = 256;         // buffers; a power of two, 1..32768
  unsigned buffer_size = 4096;  // bytes each
  std::uint16_t group = 0;      // buffer group id, unique per executor
};

class provided_buffers {
 public:
  // create() maps, fills and registers the ring on ex. Bound thread of ex.
  // Errors: EINVAL for a bad count/size, errc::not_on_executor off the
  // bound thread, EOPNOTSUPP without a ring, EEXIST if the group is taken.
  static result<std::unique_ptr<provided_buffers>> create(executor& ex,
                                                          const provided_buffers_options& o = {}) noexcept;
  // ~provided_buffers() unregisters the group. Bound thread; no lease and
  // no receive using the group may be outstanding.
  ~provided_buffers();
  provided_buffers(const provided_buffers&) = delete;
  provided_buffers& operator=(const provided_buffers&) = delete;

  std::uint16_t group() const noexcept { return group_; }
  // owner() is the executor whose ring holds the group: receives from a
  // task on any other executor are refused (EINVAL).
  const executor& owner() const noexcept { return *ex_; }
  unsigned count() const noexcept { return count_; }
  unsigned buffer_size() const noexcept { return size_; }
  // leased() is how many buffers tasks hold (handed out, not released).
  unsigned leased() const noexcept { return leased_; }
  // releases() counts releases; recv_select uses it to spot a release that
  // raced with a receive failing with ENOBUFS.
  std::uint64_t releases() const noexcept { return releases_; }
  std::span<std::byte> buffer(std::uint16_t id) const noexcept {
    return {base_ + static_cast<std::size_t>(id) * size_, size_};
  }

  // took() records that the kernel handed buffer id to a task (from a CQE).
  void took(std::uint16_t id) noexcept;
  // release() gives buffer id back to the kernel and wakes the first task
  // waiting for a buffer. An id not leased (released twice, or not ours)
  // is ignored, with a line on stderr. Bound thread.
  void release(std::uint16_t id) noexcept;

  // wait_for_release() suspends the stackful task t until a buffer is
  // released or `deadline` (ticks; 0: none) passes (ETIME). Bound thread.
  result<void> wait_for_release(task& t, tsc::ticks deadline) noexcept;
  class release_awaiter;
  release_awaiter async_wait_for_release(task& t, tsc::ticks deadline) noexcept;

 private:
  struct waiter {
    task* t = nullptr;
    list_node node;
  };
  provided_buffers() = default;

  executor* ex_ = nullptr;
  io_uring_buf_ring* ring_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::byte* base_ = nullptr;
  std::size_t base_bytes_ = 0;
  unsigned count_ = 0, size_ = 0, leased_ = 0;
  std::vector<bool> held_;  // by id: leased to a task, not released
  std::uint16_t group_ = 0;
  std::uint64_t releases_ = 0;
  intrusive_list<waiter, &waiter::node> waiters_;
};

// provided_buffers::release_awaiter: co_await pool.async_wait_for_release().
class provided_buffers::release_awaiter {
 public:
  release_awaiter(provided_buffers& p, task& t, tsc::ticks deadline) noexcept : p_(p), deadline_(deadline) {
    w_.t = &t;
  }
  bool await_ready() const noexcept { return w_.t->cancel_requested(); }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    p_.waiters_.push_back(w_);
    w_.t->begin_wait(task_state::suspended_other, deadline_, h);
  }
  result<void> await_resume() noexcept {
    if (w_.node.linked()) p_.waiters_.remove(w_);  // not resumed by release()
    if (w_.t->cancel_requested()) {
      (void)w_.t->end_wait();
      return failure(errno_error(ECANCELED));
    }
    return w_.t->end_wait();
  }

 private:
  provided_buffers& p_;
  waiter w_;
  tsc::ticks deadline_;
};

// buffer_lease: one received buffer, owned by the task until released.
// Move-only; the destructor releases it. Bound thread.
class buffer_lease {
 public:
  buffer_lease() noexcept = default;
  buffer_lease(provided_buffers* p, std::uint16_t id, std::size_t len) noexcept : p_(p), id_(id), len_(len) {}
  buffer_lease(buffer_lease&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), id_(o.id_), len_(std::exchange(o.len_, 0)) {}
  buffer_lease& operator=(buffer_lease&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      id_ = o.id_;
      len_ = std::exchange(o.len_, 0);
    }
    return *this;
  }
  ~buffer_lease() { release(); }

  // data() is the bytes received (empty at end of stream).
  std::span<std::byte> data() const noexcept {
    return p_ ? p_->buffer(id_).first(len_) : std::span<std::byte>{};
  }
  std::size_t size() const noexcept { return len_; }
  std::uint16_t id() const noexcept { return id_; }
  bool holds_buffer() const noexcept { return p_ != nullptr; }
  // release() gives the buffer back now (idempotent).
  void release() noexcept {
    if (p_) std::exchange(p_, nullptr)->release(id_);
    len_ = 0;
  }

 private:
  provided_buffers* p_ = nullptr;
  std::uint16_t id_ = 0;
  std::size_t len_ = 0;
};

// recv_select() receives into a buffer the kernel picks from `pool`. The
// lease is empty (size 0) at end of stream. ENOBUFS is waited out (see
// above); `timeout` bounds the whole call. Stackful task t, bound thread;
// EINVAL if pool belongs to another executor.
result<buffer_lease> recv_select(task& t, const socket& s, provided_buffers& pool, int flags = 0,
                                 std::chrono::nanoseconds timeout = forever) noexcept;
co<result<buffer_lease>> async_recv_select(task& t, const socket& s, provided_buffers& pool, int flags = 0,
                                           std::chrono::nanoseconds timeout = forever);

}  // namespace prio::net
