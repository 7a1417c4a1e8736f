// Description: self-contained AArch64 check of the asm switcher's swap
// (context/asm/switch_aarch64_aapcs_elf_gas.S), cross-built with
// aarch64-linux-gnu-g++ -static and run under qemu-aarch64 by
// aarch64_qemu_test. It switches between main and one context many times and
// checks that x19-x28, d8-d15 and FPCR of each side survive every switch.
// No gtest: the exit code is the number of failed checks (capped at 100).
#include <cstdint>
#include <cstdio>

#include "context/asm/frame_aarch64.h"

namespace {

// One checked swap: load `in` into x19-x28 and d8-d15, swap, store the same
// registers to `out`. Written in asm because every one of them is in use.
struct swap_block {
  std::uint64_t in[18];   // d8-d15, x19-x28
  std::uint64_t out[18];  // same order
  void** save;
  void* load;
};
static_assert(sizeof(swap_block) == 304);

extern "C" void checked_swap(swap_block* b);
__asm__(R"(
    .text
    .globl checked_swap
    .type checked_swap, %function
checked_swap:
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    sub sp, sp, #160
    stp d8, d9, [sp, #0]
    stp d10, d11, [sp, #16]
    stp d12, d13, [sp, #32]
    stp d14, d15, [sp, #48]
    stp x19, x20, [sp, #64]
    stp x21, x22, [sp, #80]
    stp x23, x24, [sp, #96]
    stp x25, x26, [sp, #112]
    stp x27, x28, [sp, #128]
    str x0, [sp, #144]
    ldp d8, d9, [x0, #0]
    ldp d10, d11, [x0, #16]
    ldp d12, d13, [x0, #32]
    ldp d14, d15, [x0, #48]
    ldp x19, x20, [x0, #64]
    ldp x21, x22, [x0, #80]
    ldp x23, x24, [x0, #96]
    ldp x25, x26, [x0, #112]
    ldp x27, x28, [x0, #128]
    ldr x1, [x0, #296]
    ldr x0, [x0, #288]
    bl prio_ctx_swap
    ldr x9, [sp, #144]
    stp d8, d9, [x9, #144]
    stp d10, d11, [x9, #160]
    stp d12, d13, [x9, #176]
    stp d14, d15, [x9, #192]
    stp x19, x20, [x9, #208]
    stp x21, x22, [x9, #224]
    stp x23, x24, [x9, #240]
    stp x25, x26, [x9, #256]
    stp x27, x28, [x9, #272]
    ldp d8, d9, [sp, #0]
    ldp d10, d11, [sp, #16]
    ldp d12, d13, [sp, #32]
    ldp d14, d15, [sp, #48]
    ldp x19, x20, [sp, #64]
    ldp x21, x22, [sp, #80]
    ldp x23, x24, [sp, #96]
    ldp x25, x26, [sp, #112]
    ldp x27, x28, [sp, #128]
    add sp, sp, #160
    ldp x29, x30, [sp], #16
    ret
    .size checked_swap, .-checked_swap
)");

constexpr int rounds = 1000;
constexpr std::uint64_t main_fpcr = 0;                       // round to nearest
constexpr std::uint64_t context_fpcr = (3u << 22) | (1u << 24);  // toward zero, flush-to-zero

void* main_sp;
void* context_sp;
int failures;
int context_rounds;
alignas(16) char stack[64 * 1024];

std::uint64_t fpcr() {
  std::uint64_t v;
  __asm__ volatile("mrs %0, fpcr" : "=r"(v));
  return v;
}
void set_fpcr(std::uint64_t v) { __asm__ volatile("msr fpcr, %0" ::"r"(v)); }

void check(bool ok, const char* what, int round) {
  if (ok) return;
  if (failures < 10) std::printf("FAIL: %s (round %d)\n", what, round);
  ++failures;
}

// swap_and_check() swaps with fresh register patterns and checks they came back.
void swap_and_check(void** save, void* load, std::uint64_t seed, std::uint64_t want_fpcr,
                    int round) {
  swap_block b{};
  for (int i = 0; i < 18; ++i) b.in[i] = seed * 0x9E3779B97F4A7C15ull + i * 0x0101010101010101ull;
  b.save = save;
  b.load = load;
  checked_swap(&b);
  for (int i = 0; i < 18; ++i)
    check(b.out[i] == b.in[i], i < 8 ? "d8-d15 preserved" : "x19-x28 preserved", round);
  check(fpcr() == want_fpcr, "FPCR preserved", round);
}

void context_body(void* arg) {
  check(arg == &context_rounds, "trampoline passes the argument", 0);
  set_fpcr(context_fpcr);
  for (int r = 0;; ++r) {
    ++context_rounds;
    swap_and_check(&context_sp, main_sp, 1000 + r, context_fpcr, r);
  }
}

}  // namespace

int main() {
  context_sp = prio::detail::init_asm_frame(stack + sizeof stack, &context_body, &context_rounds);
  set_fpcr(main_fpcr);
  for (int r = 0; r < rounds; ++r) {
    swap_and_check(&main_sp, context_sp, r, main_fpcr, r);
    check(context_rounds == r + 1, "context ran once per switch", r);
  }
  std::printf("aarch64 switch self-test: %d switches, %d failures\n", 2 * rounds, failures);
  return failures > 100 ? 100 : failures;
}
