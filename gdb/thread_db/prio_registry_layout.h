/* prio_registry_layout.h: prio_debug_registry's version-2 layout for C
 * readers (include/prio/executors/registry.hpp is the definition; the
 * static_asserts there and the thread_db test keep them in step). 64-bit. */
#ifndef PRIO_REGISTRY_LAYOUT_H
#define PRIO_REGISTRY_LAYOUT_H
#include <stdint.h>

#define PRIO_TASK_MAGIC 0x6b736174u
#define PRIO_EXECUTOR_MAGIC 0x63657865u
#define PRIO_REG_TASKS 0x10     /* prio_debug_registry.tasks */
#define PRIO_REG_EXECUTORS 0x18 /* prio_debug_registry.executors */

enum { PRIO_SAVED_NONE, PRIO_SAVED_ASM_SP, PRIO_SAVED_JMP_BUF, PRIO_SAVED_UCONTEXT, PRIO_SAVED_CORO };
enum { PRIO_STATE_IDLE = 0, PRIO_STATE_PENDING = 1, PRIO_STATE_RUNNABLE = 2, PRIO_STATE_RUNNING = 3,
       PRIO_STATE_COMPLETED = 9 };

struct prio_task_entry {
  uint64_t next, prev;
  uint32_t magic;
  uint8_t switcher, saved_kind;
  uint16_t reserved;
  uint64_t id;
  uint64_t task, ctx, stack_lo, stack_hi;
  void *saved;
  const uint8_t *state;
  void *const *executor;
  const uint8_t *cpu_priority, *io_priority, *body_kind;
  void *const *body_fn, *const *body_invoke, *const *body_coro_invoke;
  const uint64_t *ticks_executed, *resumptions;
  const uint8_t *ctx_state;
  const void *coro_body;
  const uint8_t *cancel_requested;
};

struct prio_executor_entry {
  uint64_t next, prev;
  uint32_t magic;
  int32_t lwp;
  uint64_t executor;
  uint64_t bound_thread;
};

_Static_assert(sizeof(struct prio_task_entry) == 0xb0, "registry.hpp prio_debug_task");
_Static_assert(sizeof(struct prio_executor_entry) == 0x28, "registry.hpp prio_debug_executor");
#endif
