// registered_buffers.hpp: an executor's registered (fixed) I/O buffers.
//
// Two pools: small (4 KiB) and large (2 MiB; huge pages where the system has
// them, plain pages otherwise), registered with the executor's ring in one
// table (small ones first). A task claims a buffer, fills it, writes it with
// write_fixed (file_rw.hpp) and releases it; reads may land in one too.
// When none is free a claim either fails at once (ENOBUFS) or suspends the
// task in FIFO order until a release hands it one.
//
// Threading: everything here runs on the executor's bound thread (a
// SINGLE_ISSUER ring may only be registered to from there). Destroy the pool
// there too, once no buffer is claimed or in use by the kernel.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "prio/context/coro.hpp"
#include "prio/executors/executor.hpp"

namespace prio {

class config;
class registered_buffers;

enum class buffer_size : std::uint8_t { small, large };
inline constexpr std::size_t small_buffer_bytes = 4096;
inline constexpr std::size_t large_buffer_bytes = 2u << 20;

// claim_mode: what a claim does when no buffer of the size is free.
enum class claim_mode : std::uint8_t { wait, fail_fast };

// registered_buffer: one claimed buffer. index is its slot in the ring's
// buffer table (the SQE's buf_index).
struct registered_buffer {
  std::byte* data = nullptr;
  std::size_t size = 0;
  std::uint16_t index = 0;
  buffer_size kind = buffer_size::small;
  const registered_buffers* pool = nullptr;
  explicit operator bool() const noexcept { return data != nullptr; }
};

struct registered_buffer_options {
  unsigned small_count = 64;  // config key registered_buffers_small
  unsigned large_count = 4;   // config key registered_buffers_large
  bool huge_pages = true;     // try MAP_HUGETLB for the large pool
  // from_config() reads the counts from a config of the default schema.
  static registered_buffer_options from_config(const config& c);
};

class registered_buffers {
 public:
  // create() maps both pools and registers them with ex's ring; from then
  // on ex.buffers() is this pool. Bound thread of ex (errc::not_on_executor
  // otherwise; before ex's first run() there is no bound thread yet).
  // Errors: EOPNOTSUPP for a compute-only executor, EINVAL for zero buffers
  // or more than 16,384, EBUSY if the ring already has buffers registered,
  // the kernel's (ENOMEM: the memlock limit of an unprivileged process).
  static result<std::unique_ptr<registered_buffers>> create(executor& ex,
                                                            const registered_buffer_options& o = {}) noexcept;
  ~registered_buffers();
  registered_buffers(const registered_buffers&) = delete;
  registered_buffers& operator=(const registered_buffers&) = delete;

  // claim() takes a free buffer of size k for the stackful task t. When none
  // is free: fail_fast gives ENOBUFS; wait suspends t behind earlier
  // waiters until a release hands it one, or timeout passes (ETIME), or t
  // is cancelled (ECANCELED). A size the pool has none of (a count of 0)
  // is ENOBUFS at once in either mode: no release could ever come. A
  // buffer may be released by a task other than its claimer (a pipeline
  // hands it on), so a wait is never refused because t itself holds every
  // buffer of the size: give such a wait a timeout. Bound thread, inside t.
  result<registered_buffer> claim(task& t, buffer_size k, claim_mode m = claim_mode::wait,
                                  std::chrono::nanoseconds timeout = forever) noexcept;
  co<result<registered_buffer>> async_claim(task& t, buffer_size k, claim_mode m = claim_mode::wait,
                                            std::chrono::nanoseconds timeout = forever) noexcept;
  // try_claim() never waits: a buffer, or ENOBUFS (also when others wait).
  result<registered_buffer> try_claim(buffer_size k) noexcept;
  // release() gives b back: to the first waiter of its size if any, else to
  // the free list. b must not be in use by an operation. A buffer that is
  // not claimed (released twice) is ignored, with a line on stderr. Bound
  // thread.
  void release(registered_buffer b) noexcept;

  executor& owner() const noexcept { return ex_; }
  bool owns(const registered_buffer& b) const noexcept { return b.pool == this; }
  std::size_t free_count(buffer_size k) const noexcept { return free_[idx(k)].size(); }
  std::size_t waiting(buffer_size k) const noexcept { return waiters_[idx(k)].size(); }
  std::size_t count(buffer_size k) const noexcept { return count_[idx(k)]; }
  // huge_pages() says whether the large pool got MAP_HUGETLB pages.
  bool huge_pages() const noexcept { return huge_; }

 private:
  struct waiter {
    list_node node;
    task* t = nullptr;
    registered_buffer got{};
  };
  explicit registered_buffers(executor& ex) noexcept : ex_(ex) {}
  static int idx(buffer_size k) noexcept { return k == buffer_size::small ? 0 : 1; }
  registered_buffer make(std::uint16_t index) const noexcept;
  // settle() ends a wait: w's buffer on success, else w leaves the queue (a
  // buffer handed over meanwhile is passed on).
  result<registered_buffer> settle(waiter& w, buffer_size k, result<void> woke) noexcept;

  executor& ex_;
  void* small_mem_ = nullptr;
  void* large_mem_ = nullptr;
  std::size_t small_bytes_ = 0, large_bytes_ = 0;
  bool huge_ = false;
  bool registered_ = false;
  unsigned count_[2] = {0, 0};
  std::vector<std::uint16_t> free_[2];  // LIFO: warm buffers first
  std::vector<bool> claimed_;           // by index: handed out, not released
  intrusive_list<waiter, &waiter::node> waiters_[2];
};

}  // namespace prio
