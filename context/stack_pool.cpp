// stack_pool.cpp: guarded stacks from mmap, cached for reuse.
#include "prio/context/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <new>

#include "prio_build_config.h"

#if PRIO_SANITIZE_ADDRESS
#include <sanitizer/asan_interface.h>
#endif

namespace prio {

std::size_t stack_pool::page_size() noexcept {
  static const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return ps;
}

static std::size_t round_to_pages(std::size_t bytes) noexcept {
  const std::size_t ps = stack_pool::page_size();
  if (bytes == 0) bytes = ps;
  bytes = std::min(bytes, stack_pool::max_stack_size);  // no wrap near SIZE_MAX
  return (bytes + ps - 1) / ps * ps;
}

stack_pool::stack_pool(std::size_t stack_size, std::size_t max_cached)
    : size_(round_to_pages(stack_size)), max_cached_(max_cached) {
  free_.reserve(max_cached_);
}

stack_pool::~stack_pool() {
  for (const stack_region& s : free_) unmap(s);
}

result<stack_region> stack_pool::acquire() noexcept {
  {
    std::lock_guard lk(mu_);
    if (!free_.empty()) {
      stack_region s = free_.back();
      free_.pop_back();
      return s;
    }
  }
  const std::size_t guard = page_size();
  // MAP_NORESERVE: a stack only costs the pages it touches. MAP_STACK is a
  // hint kept for tools that look for it.
  void* p = ::mmap(nullptr, size_ + guard, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return failure(errno_error(errno));
  if (::mprotect(p, guard, PROT_NONE) != 0) {
    const int e = errno;
    ::munmap(p, size_ + guard);
    return failure(errno_error(e));
  }
  return stack_region{static_cast<char*>(p) + guard, size_};
}

void stack_pool::release(stack_region s) noexcept {
  if (s.base == nullptr) return;
#if PRIO_SANITIZE_ADDRESS
  // A context destroyed while suspended leaves its frames' redzones poisoned;
  // the next owner of this stack must start from clean shadow memory.
  ASAN_UNPOISON_MEMORY_REGION(s.base, s.size);
#endif
  {
    std::lock_guard lk(mu_);
    if (free_.size() < max_cached_) {
      free_.push_back(s);
      return;
    }
  }
  unmap(s);
}

std::size_t stack_pool::cached() const noexcept {
  std::lock_guard lk(mu_);
  return free_.size();
}

void stack_pool::unmap(stack_region s) noexcept {
  const std::size_t guard = page_size();
  ::munmap(static_cast<char*>(s.base) - guard, s.size + guard);
}

// The default pool's size may be set until the pool is first used.
static std::atomic<std::size_t> g_default_size{stack_pool::default_stack_size_bytes};
static std::atomic<bool> g_default_used{false};

stack_pool& stack_pool::default_pool() noexcept {
  // Immortal: contexts destroyed by static destructors may still release
  // stacks into it.
  static stack_pool* pool = [] {
    g_default_used.store(true);
    return new stack_pool(g_default_size.load());
  }();
  return *pool;
}

result<void> stack_pool::set_default_stack_size(std::size_t bytes) noexcept {
  if (!valid_stack_size(bytes)) return failure(errno_error(EINVAL));
  if (g_default_used.load()) return failure(errno_error(EBUSY));
  g_default_size.store(bytes);
  return success();
}

stack_pool& stack_pool::shared(std::size_t bytes) noexcept {
  const std::size_t size = round_to_pages(bytes);
  stack_pool& def = default_pool();
  if (size == def.stack_size()) return def;
  static std::mutex mu;
  // Immortal like the default pool; few distinct sizes are expected.
  static auto* pools = new std::vector<stack_pool*>();
  std::lock_guard lk(mu);
  for (stack_pool* p : *pools)
    if (p->stack_size() == size) return *p;
  pools->push_back(new stack_pool(size));
  return *pools->back();
}

}  // namespace prio
