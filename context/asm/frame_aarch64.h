/* frame_aarch64.h: the frame prio_ctx_swap saves on AArch64 (AAPCS64).
 *
 * Readable from C++ and from switch_aarch64_aapcs_elf_gas.S. The frame sits
 * at the saved sp. Saved: exactly the AAPCS64 callee-saved state: x19-x28,
 * the frame pointer x29, the link register x30 (the resume address), the low
 * 64 bits of v8-v15 (d8-d15), and FPCR (rounding mode and trap enables). */
#ifndef PRIO_CONTEXT_ASM_FRAME_AARCH64_H
#define PRIO_CONTEXT_ASM_FRAME_AARCH64_H

#define PRIO_FRAME_D8 0x00
#define PRIO_FRAME_D10 0x10
#define PRIO_FRAME_D12 0x20
#define PRIO_FRAME_D14 0x30
#define PRIO_FRAME_X19 0x40
#define PRIO_FRAME_X21 0x50
#define PRIO_FRAME_X23 0x60
#define PRIO_FRAME_X25 0x70
#define PRIO_FRAME_X27 0x80
#define PRIO_FRAME_X29 0x90 /* x29 (fp) then x30 (lr) */
#define PRIO_FRAME_FPCR 0xa0 /* 8 bytes, then 8 unused */
#define PRIO_FRAME_SIZE 0xb0

#ifndef __ASSEMBLER__
#include <cstddef>
#include <cstdint>

extern "C" {
// prio_ctx_swap() saves the current frame, stores its address in *save_sp,
// and continues the frame at load_sp.
void prio_ctx_swap(void** save_sp, void* load_sp) noexcept;
// prio_ctx_trampoline() is where a fresh frame "returns" to: it calls
// fn(arg) with fn in x20 and arg in x19; fn must never return.
void prio_ctx_trampoline() noexcept;
}

namespace prio::detail {

struct asm_frame {
  std::uint64_t d8, d9, d10, d11, d12, d13, d14, d15;
  std::uint64_t x19, x20, x21, x22, x23, x24, x25, x26, x27, x28;
  std::uint64_t x29, x30;
  std::uint64_t fpcr, unused;
};
static_assert(offsetof(asm_frame, d8) == PRIO_FRAME_D8);
static_assert(offsetof(asm_frame, d10) == PRIO_FRAME_D10);
static_assert(offsetof(asm_frame, d12) == PRIO_FRAME_D12);
static_assert(offsetof(asm_frame, d14) == PRIO_FRAME_D14);
static_assert(offsetof(asm_frame, x19) == PRIO_FRAME_X19);
static_assert(offsetof(asm_frame, x21) == PRIO_FRAME_X21);
static_assert(offsetof(asm_frame, x23) == PRIO_FRAME_X23);
static_assert(offsetof(asm_frame, x25) == PRIO_FRAME_X25);
static_assert(offsetof(asm_frame, x27) == PRIO_FRAME_X27);
static_assert(offsetof(asm_frame, x29) == PRIO_FRAME_X29);
static_assert(offsetof(asm_frame, x30) == PRIO_FRAME_X29 + 8);
static_assert(offsetof(asm_frame, fpcr) == PRIO_FRAME_FPCR);
static_assert(sizeof(asm_frame) == PRIO_FRAME_SIZE);
static_assert(PRIO_FRAME_SIZE % 16 == 0, "sp must stay 16-byte aligned");

// init_asm_frame() writes a frame below `top` that starts fn(arg) on the
// first swap to it, with the calling thread's FPCR; returns the sp to swap to.
inline void* init_asm_frame(void* top, void (*fn)(void*), void* arg) noexcept {
  auto t = reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15};
  auto* f = reinterpret_cast<asm_frame*>(t - sizeof(asm_frame));
  *f = asm_frame{};
  std::uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  f->fpcr = fpcr;
  f->x19 = reinterpret_cast<std::uint64_t>(arg);
  f->x20 = reinterpret_cast<std::uint64_t>(fn);
  f->x30 = reinterpret_cast<std::uint64_t>(&prio_ctx_trampoline);
  return f;
}

}  // namespace prio::detail
#endif /* __ASSEMBLER__ */
#endif
