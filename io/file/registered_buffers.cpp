// registered_buffers.cpp: the two pools, their registration with the ring,
// and claims with a FIFO hand-over to waiting tasks.
#include "prio/io/registered_buffers.hpp"

#include <liburing.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <cstdio>

#include "prio/runtime/config.hpp"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)
#endif

namespace prio {

registered_buffer_options registered_buffer_options::from_config(const config& c) {
  registered_buffer_options o;
  o.small_count = static_cast<unsigned>(c.get_uint("registered_buffers_small"));
  o.large_count = static_cast<unsigned>(c.get_uint("registered_buffers_large"));
  return o;
}

namespace {
constexpr unsigned max_buffers = 16384;  // the kernel's limit on one table

void* map(std::size_t bytes, bool huge, bool& got_huge) noexcept {
  got_huge = false;
  if (bytes == 0) return nullptr;
  if (huge) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
    if (p != MAP_FAILED) {
      got_huge = true;
      return p;
    }
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  if (huge) ::madvise(p, bytes, MADV_HUGEPAGE);  // transparent huge pages, if enabled
  return p;
}
}  // namespace

result<std::unique_ptr<registered_buffers>> registered_buffers::create(executor& ex,
                                                                        const registered_buffer_options& o) noexcept {
  if (!ex.has_ring()) return failure(errno_error(EOPNOTSUPP));
  if (!ex.on_bound_thread()) return failure(errc::not_on_executor);
  if (ex.buffers_) return failure(errno_error(EBUSY));  // one table per ring
  const unsigned total = o.small_count + o.large_count;
  if (total == 0 || total > max_buffers || o.small_count > max_buffers) return failure(errno_error(EINVAL));
  std::unique_ptr<registered_buffers> p(new (std::nothrow) registered_buffers(ex));
  if (!p) return failure(errno_error(ENOMEM));
  bool unused = false;
  p->small_bytes_ = std::size_t{o.small_count} * small_buffer_bytes;
  p->large_bytes_ = std::size_t{o.large_count} * large_buffer_bytes;
  p->small_mem_ = map(p->small_bytes_, false, unused);
  p->large_mem_ = map(p->large_bytes_, o.huge_pages, p->huge_);
  if ((p->small_bytes_ && !p->small_mem_) || (p->large_bytes_ && !p->large_mem_))
    return failure(errno_error(ENOMEM));
  p->count_[0] = o.small_count;
  p->count_[1] = o.large_count;
  std::vector<iovec> iov;
  try {
    iov.reserve(total);
    p->free_[0].reserve(o.small_count);
    p->free_[1].reserve(o.large_count);
    p->claimed_.assign(total, false);
  } catch (...) {
    return failure(errno_error(ENOMEM));
  }
  for (unsigned i = 0; i < o.small_count; ++i)
    iov.push_back({static_cast<std::byte*>(p->small_mem_) + std::size_t{i} * small_buffer_bytes, small_buffer_bytes});
  for (unsigned i = 0; i < o.large_count; ++i)
    iov.push_back({static_cast<std::byte*>(p->large_mem_) + std::size_t{i} * large_buffer_bytes, large_buffer_bytes});
  const int r = io_uring_register_buffers(ex.ring(), iov.data(), total);
  if (r < 0) return failure(errno_error(-r));
  p->registered_ = true;
  ex.buffers_ = p.get();
  // Free lists pop from the back: lowest index first.
  for (unsigned i = o.small_count; i-- > 0;) p->free_[0].push_back(static_cast<std::uint16_t>(i));
  for (unsigned i = total; i-- > o.small_count;) p->free_[1].push_back(static_cast<std::uint16_t>(i));
  return p;
}

registered_buffers::~registered_buffers() {
  if (ex_.buffers_ == this) ex_.buffers_ = nullptr;
  if (registered_ && ex_.ring()) io_uring_unregister_buffers(ex_.ring());
  if (small_mem_) ::munmap(small_mem_, small_bytes_);
  if (large_mem_) ::munmap(large_mem_, large_bytes_);
}

registered_buffer registered_buffers::make(std::uint16_t index) const noexcept {
  registered_buffer b;
  b.index = index;
  b.pool = this;
  if (index < count_[0]) {
    b.kind = buffer_size::small;
    b.size = small_buffer_bytes;
    b.data = static_cast<std::byte*>(small_mem_) + std::size_t{index} * small_buffer_bytes;
  } else {
    b.kind = buffer_size::large;
    b.size = large_buffer_bytes;
    b.data = static_cast<std::byte*>(large_mem_) + std::size_t{index - count_[0]} * large_buffer_bytes;
  }
  return b;
}

result<registered_buffer> registered_buffers::try_claim(buffer_size k) noexcept {
  auto& fl = free_[idx(k)];
  // FIFO fairness: nobody overtakes a task already waiting.
  if (fl.empty() || !waiters_[idx(k)].empty()) return failure(errno_error(ENOBUFS));
  const std::uint16_t i = fl.back();
  fl.pop_back();
  claimed_[i] = true;
  return make(i);
}

void registered_buffers::release(registered_buffer b) noexcept {
  if (b.pool != this) return;
  // A buffer released twice would be free twice: two claimers would then
  // share it. Refused (and said) instead.
  if (b.index >= claimed_.size() || !claimed_[b.index]) {
    std::fprintf(stderr, "prio: registered buffer %u released while not claimed: ignored\n",
                 static_cast<unsigned>(b.index));
    return;
  }
  const int k = idx(b.kind);
  if (waiter* w = waiters_[k].pop_front()) {
    w->got = b;  // handed over directly (still claimed): a later claimer cannot take it
    ex_.resume_waiter(*w->t);
    return;
  }
  claimed_[b.index] = false;
  free_[k].push_back(b.index);  // capacity reserved: never allocates
}

result<registered_buffer> registered_buffers::settle(waiter& w, buffer_size k, result<void> woke) noexcept {
  if (woke && w.got) return w.got;
  if (w.node.linked()) waiters_[idx(k)].remove(w);
  if (w.got) release(w.got);  // handed over just as the wait was cancelled
  if (woke) return failure(errno_error(ECANCELED));
  return failure(woke.error());
}

namespace {
tsc::ticks deadline_of(std::chrono::nanoseconds timeout) noexcept {
  if (timeout == forever) return 0;
  if (timeout < std::chrono::nanoseconds(0)) timeout = std::chrono::nanoseconds(0);
  return tsc::now() + tsc::from_duration(timeout) + 1;
}
}  // namespace

result<registered_buffer> registered_buffers::claim(task& t, buffer_size k, claim_mode m,
                                                    std::chrono::nanoseconds timeout) noexcept {
  if (t.current_executor() != &ex_) return failure(errc::not_on_executor);
  auto b = try_claim(k);
  if (b || m == claim_mode::fail_fast || count_[idx(k)] == 0) return b;
  if (timeout <= std::chrono::nanoseconds(0)) return failure(errno_error(ETIME));
  waiter w;
  w.t = &t;
  waiters_[idx(k)].push_back(w);
  auto woke = t.wait_stackful(task_state::suspended_other, deadline_of(timeout));
  return settle(w, k, woke);
}

co<result<registered_buffer>> registered_buffers::async_claim(task& t, buffer_size k, claim_mode m,
                                                              std::chrono::nanoseconds timeout) noexcept {
  if (t.current_executor() != &ex_) co_return failure(errc::not_on_executor);
  auto b = try_claim(k);
  if (b || m == claim_mode::fail_fast || count_[idx(k)] == 0) co_return b;
  if (timeout <= std::chrono::nanoseconds(0)) co_return failure(errno_error(ETIME));
  waiter w;
  w.t = &t;
  waiters_[idx(k)].push_back(w);
  auto woke = co_await task::awaiter(t, task_state::suspended_other, deadline_of(timeout));
  co_return settle(w, k, woke);
}

}  // namespace prio
