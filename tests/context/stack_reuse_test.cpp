// Description: stacks come from a pool: guard page below, sizes rounded to
// pages, released stacks reused (destroy a context, create one, same base),
// the cache bounded, the default pool's size settable only before use, and
// sizes out of range refused.
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>

#include "prio/context/stack_pool.hpp"
#include "switcher_param.hpp"

namespace prio::test {
namespace {

TEST(stack_pool, rounds_to_pages_and_reuses) {
  stack_pool pool(10'000, 2);
  EXPECT_EQ(pool.stack_size() % stack_pool::page_size(), 0u);
  EXPECT_GE(pool.stack_size(), 10'000u);
  auto a = pool.acquire();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size, pool.stack_size());
  // The whole usable range is writable.
  static_cast<char*>(a->base)[0] = 1;
  static_cast<char*>(a->top())[-1] = 1;
  pool.release(*a);
  EXPECT_EQ(pool.cached(), 1u);
  auto b = pool.acquire();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->base, a->base);
  EXPECT_EQ(pool.cached(), 0u);
  pool.release(*b);
}

TEST(stack_pool, guard_page_is_inaccessible) {
  stack_pool pool(16 * 1024);
  auto s = pool.acquire();
  ASSERT_TRUE(s);
  const std::size_t ps = stack_pool::page_size();
  // msync on an inaccessible page still succeeds; mincore does not tell
  // protection either, so read /proc/self/maps for the page's permissions.
  char* guard = static_cast<char*>(s->base) - ps;
  FILE* maps = std::fopen("/proc/self/maps", "r");
  ASSERT_NE(maps, nullptr);
  char line[512];
  bool found = false;
  while (std::fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[5];
    if (std::sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (reinterpret_cast<unsigned long>(guard) >= lo && reinterpret_cast<unsigned long>(guard) < hi) {
      found = true;
      EXPECT_STREQ(perms, "---p") << line;
      EXPECT_EQ(hi, reinterpret_cast<unsigned long>(s->base)) << "guard is exactly one page";
    }
  }
  std::fclose(maps);
  EXPECT_TRUE(found);
  pool.release(*s);
}

TEST(stack_pool, cache_is_bounded) {
  stack_pool pool(16 * 1024, 3);
  std::vector<stack_region> held;
  for (int i = 0; i < 10; ++i) {
    auto s = pool.acquire();
    ASSERT_TRUE(s);
    held.push_back(*s);
  }
  for (auto& s : held) pool.release(s);
  EXPECT_EQ(pool.cached(), 3u);
}

// Sizes outside [16 KiB, 1 GiB] are refused where a caller asks for one
// (SIZE_MAX used to wrap to a zero-byte stack; 1 byte made a one-page
// stack that the first library call overflowed).
TEST(stack_pool, sizes_out_of_range_are_refused) {
  for (std::size_t bad : {std::size_t{1}, stack_pool::min_stack_size - 1, stack_pool::max_stack_size + 1,
                          std::size_t{1} << 44, SIZE_MAX}) {
    auto c = make_context(switcher_kind::asm_switch, context_options{bad, nullptr});
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error(), std::errc::invalid_argument) << bad;
    EXPECT_EQ(stack_pool::set_default_stack_size(bad).error(), std::errc::invalid_argument) << bad;
  }
  auto c = make_context(switcher_kind::asm_switch, context_options{stack_pool::min_stack_size, nullptr});
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->stack().size, stack_pool::min_stack_size);
  EXPECT_LE(stack_pool(SIZE_MAX, 0).stack_size(), stack_pool::max_stack_size + stack_pool::page_size());
}

TEST(stack_pool, default_size_fixed_after_first_use) {
  EXPECT_FALSE(stack_pool::set_default_stack_size(0));
  (void)stack_pool::default_pool();
  auto r = stack_pool::set_default_stack_size(1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::device_or_resource_busy);
  EXPECT_EQ(stack_pool::default_pool().stack_size(), stack_pool::default_stack_size_bytes);
}

class stack_reuse : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(stack_reuse, destroy_then_create_gets_same_base) {
  stack_pool pool(32 * 1024);
  void* first = nullptr;
  for (int i = 0; i < 3; ++i) {
    auto c = make_context(GetParam(), context_options{0, &pool});
    ASSERT_TRUE(c);
    stepper s;
    s.yields = 1;
    start_steps(**c, s);
    (*c)->resume();
    if (i == 1) {
      // Destroyed while suspended: the stack still goes back to the pool.
    } else {
      (*c)->resume();
      EXPECT_EQ((*c)->state(), context_state::finished);
    }
    EXPECT_EQ((*c)->stack().size, pool.stack_size());
    if (i == 0) first = (*c)->stack().base;
    EXPECT_EQ((*c)->stack().base, first) << "round " << i;
  }
  EXPECT_EQ(pool.cached(), 1u);
}

TEST_P(stack_reuse, shared_pool_for_other_sizes) {
  auto c = make(GetParam(), 20 * 1024);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stack().size, stack_pool::shared(20 * 1024).stack_size());
  void* base = c->stack().base;
  c.reset();
  c = make(GetParam(), 20 * 1024);
  EXPECT_EQ(c->stack().base, base);
}

INSTANTIATE_TEST_SUITE_P(stackful, stack_reuse, ::testing::ValuesIn(stackful_switchers), kind_name);

}  // namespace
}  // namespace prio::test
