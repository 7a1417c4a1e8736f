// Description: the floating-point control state (MXCSR and the x87 control
// word on x86-64, FPCR on AArch64) is callee-saved: each side of a switch
// keeps its own value.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

#if defined(__x86_64__)
struct fp_control {
  std::uint32_t mxcsr;
  std::uint16_t x87cw;
  bool operator==(const fp_control&) const = default;
};
fp_control read_fp() {
  fp_control f;
  __asm__ volatile("stmxcsr %0" : "=m"(f.mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(f.x87cw));
  f.mxcsr &= ~0x3Fu;  // status flags are caller-saved
  return f;
}
void write_fp(fp_control f) {
  __asm__ volatile("ldmxcsr %0" ::"m"(f.mxcsr));
  __asm__ volatile("fldcw %0" ::"m"(f.x87cw));
}
// Round toward zero + flush-to-zero; x87: round up, 53-bit precision.
const fp_control inside{0x1F80u | 0x6000u | 0x8000u, 0x027F | 0x0800};
// Round down; x87: round to nearest, 24-bit precision.
const fp_control outside{0x1F80u | 0x2000u, 0x007F};
std::ostream& operator<<(std::ostream& o, const fp_control& f) {
  return o << "mxcsr=" << std::hex << f.mxcsr << " x87cw=" << f.x87cw << std::dec;
}
#elif defined(__aarch64__)
struct fp_control {
  std::uint64_t fpcr;
  bool operator==(const fp_control&) const = default;
};
fp_control read_fp() {
  fp_control f;
  __asm__ volatile("mrs %0, fpcr" : "=r"(f.fpcr));
  return f;
}
void write_fp(fp_control f) { __asm__ volatile("msr fpcr, %0" ::"r"(f.fpcr)); }
const fp_control inside{3u << 22};   // round toward zero
const fp_control outside{1u << 22};  // round toward +inf
std::ostream& operator<<(std::ostream& o, const fp_control& f) {
  return o << "fpcr=" << std::hex << f.fpcr << std::dec;
}
#endif

struct fp_probe {
  context* ctx;
  fp_control seen_after_resume{};
};

void fp_body(void* a) {
  auto* p = static_cast<fp_probe*>(a);
  write_fp(inside);
  for (int i = 0; i < 3; ++i) {
    (void)p->ctx->suspend();
    p->seen_after_resume = read_fp();
    if (!(p->seen_after_resume == inside)) return;
  }
}

class fp_control_saved : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(fp_control_saved, both_sides_keep_their_own) {
  const fp_control original = read_fp();
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  fp_probe p{c.get()};
  c->start(&fp_body, &p);
  write_fp(outside);
  for (int i = 0; i < 3; ++i) {
    c->resume();
    const fp_control here = read_fp();
    EXPECT_EQ(here, outside) << "round " << i;
    if (i > 0) {
      EXPECT_EQ(p.seen_after_resume, inside) << "round " << i;
    }
  }
  c->resume();
  EXPECT_EQ(read_fp(), outside);
  EXPECT_EQ(p.seen_after_resume, inside);
  EXPECT_EQ(c->state(), context_state::finished);
  write_fp(original);
}

INSTANTIATE_TEST_SUITE_P(stackful, fp_control_saved, ::testing::ValuesIn(stackful_switchers),
                         kind_name);

}  // namespace
}  // namespace prio::test
