// provided_buffers.cpp: mapping, registering and refilling a buffer ring,
// and the FIFO of tasks waiting for a released buffer.
#include "prio/io/provided_buffers.hpp"

#include <liburing.h>
#include <sys/mman.h>

#include <cstdio>
#include <new>

namespace prio::net {

namespace {
void* map_anonymous(std::size_t bytes) noexcept {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
}  // namespace

result<std::unique_ptr<provided_buffers>> provided_buffers::create(executor& ex,
                                                                   const provided_buffers_options& o) noexcept {
  if (o.count == 0 || o.count > 32768 || (o.count & (o.count - 1)) != 0) return failure(errno_error(EINVAL));
  if (o.buffer_size == 0 || o.buffer_size > (1u << 30)) return failure(errno_error(EINVAL));
  if (!ex.has_ring()) return failure(errno_error(EOPNOTSUPP));
  if (!ex.on_bound_thread()) return failure(errc::not_on_executor);

  std::unique_ptr<provided_buffers> p(new (std::nothrow) provided_buffers());
  if (!p) return failure(errno_error(ENOMEM));
  try {
    p->held_.assign(o.count, false);
  } catch (...) {
    return failure(errno_error(ENOMEM));
  }
  p->ex_ = &ex;
  p->count_ = o.count;
  p->size_ = o.buffer_size;
  p->group_ = o.group;
  // The ring: count entries of struct io_uring_buf, page aligned (mmap).
  p->ring_bytes_ = static_cast<std::size_t>(o.count) * sizeof(io_uring_buf);
  p->base_bytes_ = static_cast<std::size_t>(o.count) * o.buffer_size;
  void* ring = map_anonymous(p->ring_bytes_);
  if (!ring) return failure(errno_error(ENOMEM));
  p->ring_ = static_cast<io_uring_buf_ring*>(ring);
  void* base = map_anonymous(p->base_bytes_);
  if (!base) return failure(errno_error(ENOMEM));  // the destructor unmaps the ring
  p->base_ = static_cast<std::byte*>(base);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(ring);
  reg.ring_entries = o.count;
  reg.bgid = o.group;
  const int r = io_uring_register_buf_ring(ex.ring(), &reg, 0);
  if (r < 0) {
    p->ex_ = nullptr;  // not registered: nothing to unregister
    return failure(errno_error(-r));
  }
  io_uring_buf_ring_init(p->ring_);
  const int mask = io_uring_buf_ring_mask(o.count);
  for (unsigned i = 0; i < o.count; ++i)
    io_uring_buf_ring_add(p->ring_, p->buffer(static_cast<std::uint16_t>(i)).data(), o.buffer_size,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  io_uring_buf_ring_advance(p->ring_, static_cast<int>(o.count));
  return p;
}

provided_buffers::~provided_buffers() {
  if (leased_ != 0)
    std::fprintf(stderr, "prio: provided_buffers group %u destroyed with %u buffer(s) leased\n", group_, leased_);
  if (ex_ && ex_->has_ring()) (void)io_uring_unregister_buf_ring(ex_->ring(), group_);
  if (base_) ::munmap(base_, base_bytes_);
  if (ring_) ::munmap(ring_, ring_bytes_);
}

void provided_buffers::took(std::uint16_t id) noexcept {
  if (id < count_) held_[id] = true;
  ++leased_;
}

void provided_buffers::release(std::uint16_t id) noexcept {
  // Not one of ours, or not leased (released twice): the ring would hold it
  // twice and the kernel could hand it to two receives. Ignored, and said.
  if (id >= count_ || !held_[id]) {
    std::fprintf(stderr, "prio: provided buffer %u of group %u released while not leased: ignored\n",
                 static_cast<unsigned>(id), static_cast<unsigned>(group_));
    return;
  }
  held_[id] = false;
  io_uring_buf_ring_add(ring_, buffer(id).data(), size_, id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_, 1);
  --leased_;
  ++releases_;
  if (waiter* w = waiters_.pop_front()) ex_->resume_waiter(*w->t);
}

result<void> provided_buffers::wait_for_release(task& t, tsc::ticks deadline) noexcept {
  waiter w;
  w.t = &t;
  waiters_.push_back(w);
  auto r = t.wait_stackful(task_state::suspended_other, deadline);
  if (w.node.linked()) waiters_.remove(w);  // not resumed by release()
  return r;
}

provided_buffers::release_awaiter provided_buffers::async_wait_for_release(task& t, tsc::ticks deadline) noexcept {
  return {*this, t, deadline};
}

}  // namespace prio::net
