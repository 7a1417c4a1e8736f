/* switch_x86_64_sysv_elf_gas.S: the asm switcher's swap for x86-64 SysV.
 *
 *   offset  saved                 (frame at the saved rsp; frame_x86_64.h)
 *   0x00    MXCSR                 (stmxcsr/ldmxcsr)
 *   0x04    x87 control word      (fnstcw/fldcw)
 *   0x08    r12
 *   0x10    r13
 *   0x18    r14
 *   0x20    r15
 *   0x28    rbx
 *   0x30    rbp
 *   0x38    return address        (pushed by the caller's call)
 *
 * void prio_ctx_swap(void** save_sp  rdi, void* load_sp  rsi) */
#include "context/asm/frame_x86_64.h"

    .text
    .globl  prio_ctx_swap
    .type   prio_ctx_swap, @function
    .p2align 4
prio_ctx_swap:
    .cfi_startproc
    leaq    -PRIO_FRAME_RIP(%rsp), %rsp
    .cfi_adjust_cfa_offset PRIO_FRAME_RIP
    stmxcsr PRIO_FRAME_MXCSR(%rsp)
    fnstcw  PRIO_FRAME_X87CW(%rsp)
    movq    %r12, PRIO_FRAME_R12(%rsp)
    movq    %r13, PRIO_FRAME_R13(%rsp)
    movq    %r14, PRIO_FRAME_R14(%rsp)
    movq    %r15, PRIO_FRAME_R15(%rsp)
    movq    %rbx, PRIO_FRAME_RBX(%rsp)
    movq    %rbp, PRIO_FRAME_RBP(%rsp)
    movq    %rsp, (%rdi)

    movq    %rsi, %rsp
    /* Load the resume address first so the indirect jump's target is known
     * early. Jump instead of ret: the return stack buffer holds this side's
     * call, not the other side's, so a ret would always be mispredicted. */
    movq    PRIO_FRAME_RIP(%rsp), %r8
    ldmxcsr PRIO_FRAME_MXCSR(%rsp)
    fldcw   PRIO_FRAME_X87CW(%rsp)
    movq    PRIO_FRAME_R12(%rsp), %r12
    movq    PRIO_FRAME_R13(%rsp), %r13
    movq    PRIO_FRAME_R14(%rsp), %r14
    movq    PRIO_FRAME_R15(%rsp), %r15
    movq    PRIO_FRAME_RBX(%rsp), %rbx
    movq    PRIO_FRAME_RBP(%rsp), %rbp
    leaq    PRIO_FRAME_SIZE(%rsp), %rsp
    .cfi_adjust_cfa_offset -PRIO_FRAME_SIZE
    jmp     *%r8
    .cfi_endproc
    .size   prio_ctx_swap, .-prio_ctx_swap

/* prio_ctx_trampoline: first "return" target of a fresh frame; rsp is 16-byte
 * aligned here. Calls r13(r12); that function never returns. The undefined
 * return address ends backtraces of the context's stack. */
    .globl  prio_ctx_trampoline
    .hidden prio_ctx_trampoline
    .type   prio_ctx_trampoline, @function
    .p2align 4
prio_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq    %r12, %rdi
    callq   *%r13
    ud2
    .cfi_endproc
    .size   prio_ctx_trampoline, .-prio_ctx_trampoline

    .section .note.GNU-stack, "", %progbits
