// Description: prio-demo's workload (examples/prio_demo/workload.cpp) makes
// progress in every class, with priorities on and off, on a pool of 2 and of
// 16 threads: echo round trips, durable records and scanned chunks all above
// zero, no errors. With 16 threads (more workers than the demo's tasks keep
// busy at first) the high-priority echo clients used to wait in the
// dispatcher's queue until the low-priority scanners stopped at the run's
// end, and the demo printed 0 round trips.
#include "examples/prio_demo/workload.hpp"
#include "../io/file/file_helpers.hpp"  // scratch_dir

namespace prio::test {
namespace {

class DemoWorkload : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override { ASSERT_TRUE(demo::make_scan_file(scan_, 16u << 20)); }
  scratch_dir dir_;
  const std::string scan_ = dir_ / "scan.dat";
};

TEST_P(DemoWorkload, EveryClassMakesProgress) {
  for (bool priorities : {true, false}) {
    SCOPED_TRACE(priorities ? "priorities on" : "all equal");
    pool_options po;  // as config/config has them
    po.threads = GetParam();
    po.exec.ring_entries = 256;
    po.stack_size = 256 * 1024;
    auto p = pool::create(po);
    ASSERT_TRUE(p) << p.error().message();
    demo::workload_config wc;
    wc.priorities = priorities;
    wc.seconds = 2;
    wc.dir = dir_.path();
    wc.scan_file = scan_;
    const demo::run_result r = demo::run_workload(**p, wc);
    EXPECT_GT(r.echo.ops, 0u);
    EXPECT_GT(r.writer.ops, 0u);
    EXPECT_GT(r.scan.ops, 0u);
    EXPECT_EQ(r.echo.errors + r.writer.errors + r.scan.errors, 0u);
    EXPECT_EQ(r.executors.size(), GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(Demo, DemoWorkload, ::testing::Values(2u, 16u),
                         [](const ::testing::TestParamInfo<unsigned>& i) {
                           return std::to_string(i.param) + "threads";
                         });

}  // namespace
}  // namespace prio::test
