// prio_context_asm.h for the AArch64 cross-built context tests: the frame
// layout of context/asm/switch_aarch64_aapcs_elf_gas.S.
#define PRIO_ASM_FRAME_HEADER "context/asm/frame_aarch64.h"
