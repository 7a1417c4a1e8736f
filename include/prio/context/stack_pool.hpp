// stack_pool.hpp: stacks for stackful contexts, each with a guard page.
//
// A stack is one anonymous mapping: a PROT_NONE guard page at the low end
// (stacks grow down, so an overflow faults there instead of corrupting the
// neighbouring memory) and `stack_size()` usable bytes above it. Released
// stacks are kept for reuse up to a bound and unmapped when the pool dies.
// Creating stacks is the slow path, so a mutex guards the cache.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "prio/context/context.hpp"
#include "prio/runtime/result.hpp"

namespace prio {

class stack_pool {
 public:
  static constexpr std::size_t default_stack_size_bytes = 256 * 1024;
  static constexpr std::size_t default_max_cached = 64;
  // The stack sizes a task or context may ask for (make_context(),
  // set_default_stack_size(), the stack_size config key): below 16 KiB a
  // body overflows at its first library call; above 1 GiB is a unit slip.
  static constexpr std::size_t min_stack_size = 16 * 1024;
  static constexpr std::size_t max_stack_size = std::size_t{1} << 30;
  static constexpr bool valid_stack_size(std::size_t bytes) noexcept {
    return bytes >= min_stack_size && bytes <= max_stack_size;
  }

  // stack_pool() makes a pool of stacks of `stack_size` bytes (rounded up to
  // whole pages, at least one) that keeps up to `max_cached` released stacks.
  explicit stack_pool(std::size_t stack_size, std::size_t max_cached = default_max_cached);
  // ~stack_pool() unmaps the cached stacks. Stacks still handed out must have
  // been released before (contexts release theirs when destroyed).
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  // acquire() returns a cached stack or maps a new one (ENOMEM etc. on
  // failure). Any thread.
  result<stack_region> acquire() noexcept;
  // release() gives a stack from acquire() back: cached, or unmapped when the
  // cache is full. Any thread.
  void release(stack_region s) noexcept;

  std::size_t stack_size() const noexcept { return size_; }
  // cached() is how many released stacks wait for reuse. Any thread.
  std::size_t cached() const noexcept;

  // default_pool() is the process-wide pool (256 KiB stacks unless
  // set_default_stack_size() ran first). It lives until the process exits.
  static stack_pool& default_pool() noexcept;
  // set_default_stack_size() sets the default pool's stack size; EBUSY once
  // default_pool() has been used, EINVAL outside [min_stack_size,
  // max_stack_size]. Any thread.
  static result<void> set_default_stack_size(std::size_t bytes) noexcept;
  // shared() is a process-lifetime pool for stacks of `bytes` (rounded to
  // pages): make_context uses it for a stack_size other than the default.
  static stack_pool& shared(std::size_t bytes) noexcept;

  // page_size() is the system page size (also the guard's size).
  static std::size_t page_size() noexcept;

 private:
  static void unmap(stack_region s) noexcept;

  std::size_t size_;
  std::size_t max_cached_;
  mutable std::mutex mu_;
  std::vector<stack_region> free_;
};

}  // namespace prio
