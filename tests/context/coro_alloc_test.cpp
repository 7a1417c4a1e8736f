// Description: after warm-up, creating, running and finishing coroutine
// contexts (roots and nested co<T>) makes no call to operator new or malloc:
// frames come from the per-thread recycling free list.
#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "switcher_param.hpp"

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> g_news{0};
thread_local bool t_counting = false;
}  // namespace

// Replaced global allocation functions: count calls on the counting thread.
// They pair malloc with free, as the replaced deletes below do.
void* operator new(std::size_t n) {
  if (t_counting) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (t_counting) g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace prio::test {
namespace {

co<int> leaf(int v) {
  co_await suspend_context();
  co_return v + 1;
}
co<int> mid(int v) {
  int a = co_await leaf(v);
  char big[600];  // a frame of another size class
  big[0] = static_cast<char>(a);
  co_return a + co_await leaf(big[0]);
}
co<void> body(int* out) { *out = co_await mid(1); }
void entry(void* a) { coro_context::current()->set_root(body(static_cast<int*>(a))); }

void run_round(std::vector<std::unique_ptr<context>>& ctxs, std::vector<int>& outs) {
  for (std::size_t i = 0; i < ctxs.size(); ++i) ctxs[i]->start(&entry, &outs[i]);
  bool any = true;
  while (any) {
    any = false;
    for (auto& c : ctxs)
      if (c->state() != context_state::finished) {
        c->resume();
        any = true;
      }
  }
}

TEST(coro_alloc, no_allocation_after_warm_up) {
  std::vector<std::unique_ptr<context>> ctxs;
  for (int i = 0; i < 64; ++i) ctxs.push_back(make(switcher_kind::coroutine));
  std::vector<int> outs(ctxs.size());
  run_round(ctxs, outs);  // warm-up fills the free lists
  for (int v : outs) EXPECT_EQ(v, 2 + 3);

  g_news = 0;
  t_counting = true;
  for (int round = 0; round < 10; ++round) run_round(ctxs, outs);
  t_counting = false;
  EXPECT_EQ(g_news.load(), 0) << "operator new called on the hot path";
  for (int v : outs) EXPECT_EQ(v, 2 + 3);
}

// The counter does see coroutine frames: a cold thread's first ones come
// from operator new.
TEST(coro_alloc, cold_thread_allocates_and_is_counted) {
  long seen = 0;
  std::thread t([&] {
    g_news = 0;
    t_counting = true;
    { auto c = leaf(1); }
    t_counting = false;
    seen = g_news.load();
  });
  t.join();
  EXPECT_GE(seen, 1);
}

}  // namespace
}  // namespace prio::test
