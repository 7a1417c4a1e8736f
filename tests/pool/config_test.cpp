// Description: the pool reads its options from config/config through the
// runtime config reader: the shipped file parses, PRIO_<OPTION> overrides
// apply, and a bad line is an error naming the file and the line.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "pool_helpers.hpp"

namespace prio::test {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/prio_pool_config_XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(PoolConfig, ShippedFileParses) {
  const char* root = std::getenv("PRIO_SOURCE_ROOT");
  ASSERT_NE(root, nullptr);
  auto o = pool_options::load(std::string(root) + "/config/config");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->threads, 0u);
  EXPECT_EQ(o->exec.ring_entries, 256u);
  EXPECT_EQ(o->stack_size, 256u * 1024);
  EXPECT_EQ(o->max_pooled_tasks, 4096u);
  EXPECT_EQ(o->switcher, switcher_kind::asm_switch);
  EXPECT_FALSE(o->cpu_pinning);
  EXPECT_EQ(o->spin_before_sleep, std::chrono::microseconds(50));
  EXPECT_TRUE(o->exec.track_task_time);
  EXPECT_EQ(o->exec.stats_publish_interval, std::chrono::microseconds(100));
}

TEST(PoolConfig, EveryOptionReachesThePool) {
  const std::string path = write_temp(
      "threads=3\nring_entries=32\nstack_size=128K\nswitcher=sjlj\ncpu_pinning=yes\n"
      "spin_before_sleep_us=7\nregistered_buffers_small=8\nregistered_buffers_large=1\n"
      "low_priority_io_cap=5\ntrack_task_time=false\nstats_publish_us=250\nmax_pooled_tasks=4\n");
  auto o = pool_options::load(path);
  ::unlink(path.c_str());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->threads, 3u);
  EXPECT_EQ(o->exec.ring_entries, 32u);
  EXPECT_EQ(o->exec.low_priority_io_cap, 5u);
  EXPECT_FALSE(o->exec.track_task_time);
  EXPECT_EQ(o->exec.stats_publish_interval, std::chrono::microseconds(250));
  EXPECT_EQ(o->stack_size, 128u * 1024);
  EXPECT_EQ(o->max_pooled_tasks, 4u);
  EXPECT_EQ(o->switcher, switcher_kind::sjlj);
  EXPECT_TRUE(o->cpu_pinning);
  EXPECT_EQ(o->spin_before_sleep, std::chrono::microseconds(7));
  EXPECT_EQ(o->registered_buffers_small, 8u);
  EXPECT_EQ(o->registered_buffers_large, 1u);
  auto p = pool::create(*o);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ((*p)->threads(), 3u);
  std::atomic<int> ran{0};
  for (int i = 0; i < 30; ++i) ASSERT_TRUE((*p)->submit([&ran](task& t) { ran += t.yield() ? 1 : 0; }));
  ASSERT_TRUE((*p)->wait(30s));
  EXPECT_EQ(ran.load(), 30);
  EXPECT_LE((*p)->pooled_tasks(), 4u);  // the other callables waited in the backlog
}

TEST(PoolConfig, EnvironmentOverridesTheFile) {
  const std::string path = write_temp("threads=3\n");
  ::setenv("PRIO_THREADS", "2", 1);
  ::setenv("PRIO_SWITCHER", "ucontext", 1);
  auto o = pool_options::load(path);
  ::unsetenv("PRIO_THREADS");
  ::unsetenv("PRIO_SWITCHER");
  ::unlink(path.c_str());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->threads, 2u);
  EXPECT_EQ(o->switcher, switcher_kind::ucontext);
}

TEST(PoolConfig, ErrorsNameFileAndLine) {
  const std::string path = write_temp("# pool\nthreads=2\n\ntreads=4\n");
  auto o = pool_options::load(path);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().file, path);
  EXPECT_EQ(o.error().line, 4u);
  EXPECT_NE(o.error().message.find(path + ":4:"), std::string::npos) << o.error().message;
  EXPECT_NE(o.error().message.find("treads"), std::string::npos) << o.error().message;

  const std::string bad_value = write_temp("threads=2\nswitcher=fast\n");
  auto v = pool_options::load(bad_value);
  ::unlink(bad_value.c_str());
  ::unlink(path.c_str());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().line, 2u);
  EXPECT_NE(v.error().message.find(bad_value + ":2:"), std::string::npos) << v.error().message;
}

TEST(PoolConfig, BadEnvironmentValueNamesTheVariable) {
  ::setenv("PRIO_RING_ENTRIES", "many", 1);
  auto o = pool_options::load("/nonexistent/prio/config", true);
  ::unsetenv("PRIO_RING_ENTRIES");
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("PRIO_RING_ENTRIES"), std::string::npos) << o.error().message;
}

TEST(PoolConfig, MissingFile) {
  auto o = pool_options::load("/nonexistent/prio/config");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, std::errc::no_such_file_or_directory);
  auto d = pool_options::load("/nonexistent/prio/config", true);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->exec.ring_entries, 256u);
}

}  // namespace
}  // namespace prio::test
