// Description: starting and stopping a pool 100 times leaks no threads
// (/proc/self/task, less the kernel's io_uring workers), no file
// descriptors (/proc/self/fd) and no memory (malloc's in-use bytes;
// LeakSanitizer covers the sanitizer builds).
#include <dirent.h>
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "prio_build_config.h"
#include "pool_helpers.hpp"

namespace prio::test {
namespace {

// count_entries(): the entries of dir (not . and ..) that keep() accepts.
std::size_t count_entries(const char* dir, bool (*keep)(const char* name) = nullptr) {
  std::size_t n = 0;
  if (DIR* d = ::opendir(dir)) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.' && (keep == nullptr || keep(e->d_name))) ++n;
    ::closedir(d);
  }
  return n;
}

// not_io_uring_worker(): false for the kernel's io_uring workers (comm
// "iou-wrk-..."/"iou-sqp-..."): they belong to a ring and exit on their own
// schedule after it is gone, so a count taken just after a pool stopped
// may still include one.
bool not_io_uring_worker(const char* tid) {
  char comm[32] = {};
  const std::string path = std::string("/proc/self/task/") + tid + "/comm";
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fgets(comm, sizeof(comm), f) == nullptr) comm[0] = '\0';
    std::fclose(f);
  }
  return std::strncmp(comm, "iou-", 4) != 0;
}

std::size_t count_threads() { return count_entries("/proc/self/task", not_io_uring_worker); }

void cycle(unsigned threads, int i) {
  auto p = make_pool(threads, i % 2 ? 64 : 0);  // ring and compute-only executors alike
  ASSERT_TRUE(p);
  std::atomic<int> ran{0};
  for (int k = 0; k < 16; ++k) ASSERT_TRUE(p->submit([&ran] { ran.fetch_add(1); }));
  ASSERT_TRUE(p->shutdown(30s));
  EXPECT_EQ(ran.load(), 16);
}

class StartStop : public ::testing::TestWithParam<unsigned> {};

TEST_P(StartStop, HundredTimesLeaksNothing) {
  const unsigned n = GetParam();
  for (int i = 0; i < 4; ++i) cycle(n, i);  // warm caches (stack pool, TSC calibration)
  const std::size_t threads0 = count_threads();
  const std::size_t fds0 = count_entries("/proc/self/fd");
  const std::size_t heap0 = mallinfo2().uordblks;
  for (int i = 0; i < 100; ++i) {
    cycle(n, i);
    if (HasFatalFailure()) return;
  }
  // pthread_join() returns when the kernel clears the thread's tid, a moment
  // before its /proc/self/task entry goes: a just-joined thread may still be
  // listed. A leaked one stays.
  EXPECT_TRUE(eventually([&] { return count_threads() <= threads0; }))
      << count_threads() << " threads, " << threads0 << " before the 100 cycles";
  EXPECT_EQ(count_entries("/proc/self/fd"), fds0);
#if !PRIO_SANITIZE_ADDRESS && !PRIO_SANITIZE_THREAD
  // A leak of even one allocation per cycle would show as >= 100 objects.
  EXPECT_LT(mallinfo2().uordblks, heap0 + 4096) << "heap grew over 100 pool lifetimes";
#else
  (void)heap0;
#endif
}

INSTANTIATE_TEST_SUITE_P(Pool, StartStop, ::testing::ValuesIn(thread_counts), threads_name);

}  // namespace
}  // namespace prio::test
