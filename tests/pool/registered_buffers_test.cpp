// Registered buffers on pool executors: each executor with a ring gets the
// counts of pool_options (config keys registered_buffers_small/_large) and
// its tasks find them at current_executor()->buffers().
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "../io/file/file_helpers.hpp"
#include "pool_helpers.hpp"
#include "prio/io/registered_buffers.hpp"

namespace prio::test {
namespace {

std::unique_ptr<pool> make_buffer_pool(unsigned threads, unsigned ring_entries, unsigned small,
                                       unsigned large) {
  pool_options o = pool_test_options(threads, ring_entries);
  o.registered_buffers_small = small;
  o.registered_buffers_large = large;
  return make_pool(o);
}

class PoolBuffers : public ::testing::TestWithParam<unsigned> {};

// Every task writes its own 4 KiB block through a claimed small buffer of
// the executor it runs on; the file read back holds every block.
TEST_P(PoolBuffers, TasksWriteThroughTheirExecutorsBuffers) {
  const unsigned threads = GetParam();
  auto p = make_buffer_pool(threads, 64, 4, 1);
  ASSERT_TRUE(p);
  scratch_dir dir;
  const std::string path = dir / "blocks";
  {
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  const int blocks = static_cast<int>(8 * threads);
  std::atomic<int> failures{0}, wrong_counts{0};
  for (int i = 0; i < blocks; ++i) {
    ASSERT_TRUE(p->submit([&, i](task& t) {
      registered_buffers* rb = t.current_executor()->buffers();
      if (!rb) {
        failures.fetch_add(1);
        return;
      }
      if (rb->count(buffer_size::small) != 4 || rb->count(buffer_size::large) != 1) wrong_counts.fetch_add(1);
      auto b = rb->claim(t, buffer_size::small);  // 4 per executor: some tasks wait their turn
      if (!b) {
        failures.fetch_add(1);
        return;
      }
      std::memset(b->data, 'a' + i % 26, small_buffer_bytes);
      auto f = open_file(t, AT_FDCWD, path.c_str(), open_how_of(O_WRONLY));
      bool ok = false;
      if (f) {
        auto w = write_fixed(t, *f, *b, small_buffer_bytes, std::uint64_t(i) * small_buffer_bytes);
        ok = w && *w == small_buffer_bytes;
        ok = close_file(t, *f) && ok;
      }
      rb->release(*b);
      if (!ok) failures.fetch_add(1);
    }));
  }
  ASSERT_TRUE(p->wait(30s));
  EXPECT_EQ(wrong_counts.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<char> got(small_buffer_bytes);
  for (int i = 0; i < blocks; ++i) {
    ASSERT_EQ(::pread(fd, got.data(), got.size(), off_t(i) * small_buffer_bytes), ssize_t(got.size())) << i;
    EXPECT_EQ(std::count(got.begin(), got.end(), char('a' + i % 26)), ssize_t(got.size())) << "block " << i;
  }
  ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Threads, PoolBuffers, ::testing::ValuesIn(thread_counts), threads_name);

TEST(PoolBuffersOff, ComputeOnlyOrZeroCountsMakeNone) {
  for (auto [ring, small, large] : {std::tuple{0u, 4u, 1u}, std::tuple{64u, 0u, 0u}}) {
    auto p = make_buffer_pool(2, ring, small, large);
    ASSERT_TRUE(p);
    std::atomic<int> with_buffers{0};
    for (int i = 0; i < 8; ++i)
      ASSERT_TRUE(p->submit([&](task& t) {
        if (t.current_executor()->buffers() != nullptr) with_buffers.fetch_add(1);
      }));
    ASSERT_TRUE(p->wait(30s));
    EXPECT_EQ(with_buffers.load(), 0) << "ring " << ring << ", " << small << "+" << large;
  }
}

TEST(PoolBuffersOff, TooManyBuffersFailCreateClearly) {
  pool_options o;
  o.threads = 2;
  o.exec.ring_entries = 64;
  o.registered_buffers_small = 20000;  // above the 16,384 a ring takes
  auto r = pool::create(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace prio::test
