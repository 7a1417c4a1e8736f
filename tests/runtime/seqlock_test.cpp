// Description: seqlock_cell hands readers on other threads only whole
// copies: a writer publishes records whose words all hold the same number,
// readers never see two different numbers in one copy, nor a number going
// backwards; version() counts the publishes.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "prio/runtime/seqlock.hpp"

namespace prio::test {
namespace {

struct record {
  std::uint64_t w[12];  // spans two cache lines, so a torn copy is possible
};

TEST(Seqlock, StartsZeroed) {
  seqlock_cell<record> cell;
  const record r = cell.read();
  for (std::uint64_t x : r.w) EXPECT_EQ(x, 0u);
  EXPECT_EQ(cell.version(), 0u);
}

TEST(Seqlock, ReadersSeeWholeCopiesInOrder) {
  seqlock_cell<record> cell;
  constexpr std::uint64_t publishes = 1000000;
  std::atomic<bool> writer_done{false};
  std::atomic<std::uint64_t> torn{0}, backwards{0}, reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      std::uint64_t last = 0;
      // Read at least once after the writer finished: the last copy is whole too.
      for (bool done = false; !done;) {
        done = writer_done.load(std::memory_order_acquire);
        const record r = cell.read();
        for (std::uint64_t x : r.w)
          if (x != r.w[0]) {
            torn.fetch_add(1, std::memory_order_relaxed);
            break;
          }
        if (r.w[0] < last) backwards.fetch_add(1, std::memory_order_relaxed);
        last = r.w[0];
        reads.fetch_add(1, std::memory_order_relaxed);
      }
      if (last != publishes) backwards.fetch_add(1, std::memory_order_relaxed);  // missed the final copy
    });
  }
  record r;
  for (std::uint64_t k = 1; k <= publishes; ++k) {
    for (auto& x : r.w) x = k;
    cell.publish(r);
  }
  writer_done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GE(reads.load(), 2u);
  EXPECT_EQ(cell.version(), publishes);
}

}  // namespace
}  // namespace prio::test
