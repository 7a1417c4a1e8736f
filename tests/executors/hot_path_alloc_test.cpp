// Description: the hot path allocates nothing. The global operator new/delete
// (and, outside sanitizer builds, malloc) are replaced in this binary with
// counting versions; 100,000 attach -> run -> suspend -> resume -> complete
// cycles after warm-up, with a yield and a NOP round trip each, must count 0.
#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"
#include "prio_build_config.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_allocs{0};

inline void note_alloc() noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

// The replacements pair malloc with free by design; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  note_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  note_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  note_alloc();
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a) {
  note_alloc();
  if (void* p = std::aligned_alloc(static_cast<std::size_t>(a), (n + static_cast<std::size_t>(a) - 1) & ~(static_cast<std::size_t>(a) - 1))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  note_alloc();
  const auto al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) & ~(al - 1));
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

#if !PRIO_SANITIZE_ADDRESS && !PRIO_SANITIZE_THREAD
// Count C allocations too (outside sanitizer builds, whose runtimes own malloc).
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* malloc(std::size_t n) {
  note_alloc();
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
  note_alloc();
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, std::size_t n) {
  note_alloc();
  return __libc_realloc(p, n);
}
#endif

namespace prio::test {
namespace {

constexpr int kWarmup = 1000;
constexpr int kCycles = 100000;

std::uint64_t count_cycles(executor& ex, task& t) {
  auto cycle = [&] {
    if (!ex.attach(t)) return false;
    while (t.state() != task_state::completed)
      if (!ex.run(SIZE_MAX, 1s)) return false;
    return static_cast<bool>(t.outcome());
  };
  for (int i = 0; i < kWarmup; ++i)
    if (!cycle()) return UINT64_MAX;
  g_allocs.store(0);
  g_counting.store(true);
  for (int i = 0; i < kCycles; ++i)
    if (!cycle()) {
      g_counting.store(false);
      return UINT64_MAX;
    }
  g_counting.store(false);
  return g_allocs.load();
}

class HotPathAlloc : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(HotPathAlloc, StackfulCyclesAllocateNothing) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.yield());
    PRIO_TRY(nop(self));
    return std::int64_t{0};
  });
  EXPECT_EQ(count_cycles(*ex, *t), 0u);
}

INSTANTIATE_TEST_SUITE_P(Switchers, HotPathAlloc, ::testing::ValuesIn(stackful), kind_name);

TEST(HotPathAlloc, NoneCyclesAllocateNothing) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::none);
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  EXPECT_EQ(count_cycles(*ex, *t), 0u);
}

TEST(HotPathAlloc, CoroutineCyclesAllocateNothing) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::coroutine);
  t->set_body([](task& self) -> co<result<std::int64_t>> {
    auto y = co_await self.async_yield();
    if (!y) co_return failure(y.error());
    auto n = co_await async_nop(self);
    if (!n) co_return failure(n.error());
    co_return std::int64_t{0};
  });
  EXPECT_EQ(count_cycles(*ex, *t), 0u);
}

TEST(HotPathAlloc, CounterSeesAllocations) {
  // The counter itself works: a real allocation is seen.
  g_allocs.store(0);
  g_counting.store(true);
  auto* p = new int(3);
  g_counting.store(false);
  delete p;
  EXPECT_GE(g_allocs.load(), 1u);
}

}  // namespace
}  // namespace prio::test
