/* frame_x86_64.h: the frame prio_ctx_swap saves on x86-64 (SysV ABI).
 *
 * Readable from C++ and from switch_x86_64_sysv_elf_gas.S. The frame sits at
 * the saved stack pointer; the return address is its last slot, so the
 * frame ends where the caller's stack was before its call.
 * Saved: exactly the SysV callee-saved state: rbx, rbp, r12-r15, the MXCSR
 * (its control bits are callee-saved; its status bits are caller-saved, so
 * carrying them along is allowed) and the x87 control word. */
#ifndef PRIO_CONTEXT_ASM_FRAME_X86_64_H
#define PRIO_CONTEXT_ASM_FRAME_X86_64_H

#define PRIO_FRAME_MXCSR 0x00 /* 4 bytes */
#define PRIO_FRAME_X87CW 0x04 /* 2 bytes, then 2 unused */
#define PRIO_FRAME_R12 0x08
#define PRIO_FRAME_R13 0x10
#define PRIO_FRAME_R14 0x18
#define PRIO_FRAME_R15 0x20
#define PRIO_FRAME_RBX 0x28
#define PRIO_FRAME_RBP 0x30
#define PRIO_FRAME_RIP 0x38 /* return address pushed by the call */
#define PRIO_FRAME_SIZE 0x40

#ifndef __ASSEMBLER__
#include <cstddef>
#include <cstdint>

extern "C" {
// prio_ctx_swap() saves the current frame, stores its address in *save_sp,
// and continues the frame at load_sp.
void prio_ctx_swap(void** save_sp, void* load_sp) noexcept;
// prio_ctx_trampoline() is where a fresh frame "returns" to: it calls
// fn(arg) with fn in r13 and arg in r12; fn must never return.
void prio_ctx_trampoline() noexcept;
}

namespace prio::detail {

struct asm_frame {
  std::uint32_t mxcsr;
  std::uint16_t x87cw;
  std::uint16_t unused;
  std::uint64_t r12, r13, r14, r15, rbx, rbp, rip;
};
static_assert(offsetof(asm_frame, mxcsr) == PRIO_FRAME_MXCSR);
static_assert(offsetof(asm_frame, x87cw) == PRIO_FRAME_X87CW);
static_assert(offsetof(asm_frame, r12) == PRIO_FRAME_R12);
static_assert(offsetof(asm_frame, r13) == PRIO_FRAME_R13);
static_assert(offsetof(asm_frame, r14) == PRIO_FRAME_R14);
static_assert(offsetof(asm_frame, r15) == PRIO_FRAME_R15);
static_assert(offsetof(asm_frame, rbx) == PRIO_FRAME_RBX);
static_assert(offsetof(asm_frame, rbp) == PRIO_FRAME_RBP);
static_assert(offsetof(asm_frame, rip) == PRIO_FRAME_RIP);
static_assert(sizeof(asm_frame) == PRIO_FRAME_SIZE);
static_assert(PRIO_FRAME_SIZE % 16 == 0, "the trampoline's call needs a 16-byte aligned rsp");

// init_asm_frame() writes a frame below `top` that starts fn(arg) on the
// first swap to it, with the calling thread's MXCSR and x87 control word;
// returns the stack pointer to swap to.
inline void* init_asm_frame(void* top, void (*fn)(void*), void* arg) noexcept {
  auto t = reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15};
  auto* f = reinterpret_cast<asm_frame*>(t - sizeof(asm_frame));
  *f = asm_frame{};
  __asm__ volatile("stmxcsr %0" : "=m"(f->mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(f->x87cw));
  f->r12 = reinterpret_cast<std::uint64_t>(arg);
  f->r13 = reinterpret_cast<std::uint64_t>(fn);
  f->rip = reinterpret_cast<std::uint64_t>(&prio_ctx_trampoline);
  return f;
}

}  // namespace prio::detail
#endif /* __ASSEMBLER__ */
#endif
