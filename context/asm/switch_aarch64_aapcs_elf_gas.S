/* switch_aarch64_aapcs_elf_gas.S: the asm switcher's swap for AArch64.
 *
 *   offset  saved                 (frame at the saved sp; frame_aarch64.h)
 *   0x00    d8    0x08  d9
 *   0x10    d10   0x18  d11
 *   0x20    d12   0x28  d13
 *   0x30    d14   0x38  d15
 *   0x40    x19   0x48  x20
 *   0x50    x21   0x58  x22
 *   0x60    x23   0x68  x24
 *   0x70    x25   0x78  x26
 *   0x80    x27   0x88  x28
 *   0x90    x29   0x98  x30 (lr: where the swap returns to)
 *   0xa0    FPCR  0xa8  unused
 *
 * void prio_ctx_swap(void** save_sp  x0, void* load_sp  x1) */
#include "context/asm/frame_aarch64.h"

    .text
    .globl  prio_ctx_swap
    .type   prio_ctx_swap, %function
    .p2align 4
prio_ctx_swap:
    .cfi_startproc
    sub     sp, sp, #PRIO_FRAME_SIZE
    .cfi_adjust_cfa_offset PRIO_FRAME_SIZE
    stp     d8, d9, [sp, #PRIO_FRAME_D8]
    stp     d10, d11, [sp, #PRIO_FRAME_D10]
    stp     d12, d13, [sp, #PRIO_FRAME_D12]
    stp     d14, d15, [sp, #PRIO_FRAME_D14]
    stp     x19, x20, [sp, #PRIO_FRAME_X19]
    stp     x21, x22, [sp, #PRIO_FRAME_X21]
    stp     x23, x24, [sp, #PRIO_FRAME_X23]
    stp     x25, x26, [sp, #PRIO_FRAME_X25]
    stp     x27, x28, [sp, #PRIO_FRAME_X27]
    stp     x29, x30, [sp, #PRIO_FRAME_X29]
    mrs     x9, fpcr
    str     x9, [sp, #PRIO_FRAME_FPCR]
    mov     x10, sp
    str     x10, [x0]

    mov     sp, x1
    ldp     d8, d9, [sp, #PRIO_FRAME_D8]
    ldp     d10, d11, [sp, #PRIO_FRAME_D10]
    ldp     d12, d13, [sp, #PRIO_FRAME_D12]
    ldp     d14, d15, [sp, #PRIO_FRAME_D14]
    ldp     x19, x20, [sp, #PRIO_FRAME_X19]
    ldp     x21, x22, [sp, #PRIO_FRAME_X21]
    ldp     x23, x24, [sp, #PRIO_FRAME_X23]
    ldp     x25, x26, [sp, #PRIO_FRAME_X25]
    ldp     x27, x28, [sp, #PRIO_FRAME_X27]
    ldp     x29, x30, [sp, #PRIO_FRAME_X29]
    ldr     x9, [sp, #PRIO_FRAME_FPCR]
    msr     fpcr, x9
    add     sp, sp, #PRIO_FRAME_SIZE
    .cfi_adjust_cfa_offset -PRIO_FRAME_SIZE
    ret
    .cfi_endproc
    .size   prio_ctx_swap, .-prio_ctx_swap

/* prio_ctx_trampoline: first "return" target of a fresh frame. Calls
 * x20(x19); that function never returns. The undefined lr ends backtraces. */
    .globl  prio_ctx_trampoline
    .hidden prio_ctx_trampoline
    .type   prio_ctx_trampoline, %function
    .p2align 4
prio_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov     x0, x19
    blr     x20
    brk     #0
    .cfi_endproc
    .size   prio_ctx_trampoline, .-prio_ctx_trampoline

    .section .note.GNU-stack, "", %progbits
