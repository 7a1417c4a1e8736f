// registry.hpp: the debugger-visible list of tasks and executors.
//
// A debugger (gdb/prio_gdb, gdb/libthread_db) reads this from a stopped
// process or a core file, without calling into it and without debug info:
// one exported symbol, `prio_debug_registry`, a version and plain structs
// whose layout is documented here and in docs/debugging.md.
//
// Entries are made when a task or an executor is created and removed when it
// is destroyed (slow path, under a mutex). Nothing is written on the hot
// path: an entry holds the addresses of the task's own live fields (state,
// executor, priorities, ticks) and of its switcher's saved state, which the
// task and the switcher keep up to date anyway.
//
// Reading at any instant: an entry is fully written before it is linked
// (list head written last) and its magic is cleared before it is freed;
// `writing` is odd while a writer is inside the list. The saved registers of
// a stackful task are valid when its task state is runnable or suspended_*
// and no thread's stack pointer lies inside its stack (otherwise it is on a
// CPU, mid-switch: read that thread's registers).
#pragma once

#include <cstdint>

#include "prio/context/context.hpp"

namespace prio {
class task;
class executor;
}  // namespace prio

extern "C" {

enum : std::uint32_t {
  PRIO_DEBUG_VERSION = 2,  // 2: prio_debug_task::cancel_requested
  PRIO_DEBUG_TASK_MAGIC = 0x6b736174u,      // "task"
  PRIO_DEBUG_EXECUTOR_MAGIC = 0x63657865u,  // "exec"
};

// Saved-state kinds (prio_debug_task::saved_kind): what `saved` points at.
enum : std::uint8_t {
  PRIO_DEBUG_SAVED_NONE = 0,      // stackless (none): nothing saved
  PRIO_DEBUG_SAVED_ASM_SP = 1,    // void*: sp of the asm frame (context/asm/frame_<arch>.h)
  PRIO_DEBUG_SAVED_JMP_BUF = 2,   // __builtin_setjmp buffer: void*[3] fp, pc, sp
  PRIO_DEBUG_SAVED_UCONTEXT = 3,  // ucontext_t (registers in uc_mcontext, unmangled)
  PRIO_DEBUG_SAVED_CORO = 4,      // nullptr: read coro_context::current_ (debug info)
};

// One task. Fields after `id` are fixed for the task's lifetime; the
// pointers give the addresses of the task's live fields (read the value
// there). x86-64 offsets in brackets; the Python side checks task_size.
struct prio_debug_task {
  prio_debug_task* next;            // [0x00] older entry, or nullptr
  prio_debug_task* prev;            // [0x08]
  std::uint32_t magic;              // [0x10] PRIO_DEBUG_TASK_MAGIC while linked
  std::uint8_t switcher;            // [0x14] prio::switcher_kind
  std::uint8_t saved_kind;          // [0x15] PRIO_DEBUG_SAVED_*
  std::uint16_t reserved;           // [0x16]
  std::uint64_t id;                 // [0x18] task::id()
  const void* task;                 // [0x20] the prio::task
  const void* ctx;                  // [0x28] its prio::context
  std::uintptr_t stack_lo;          // [0x30] usable stack [lo, hi); 0 if stackless
  std::uintptr_t stack_hi;          // [0x38]
  const void* saved;                // [0x40] the switcher's saved state (saved_kind)
  const std::uint8_t* state;        // [0x48] prio::task_state
  void* const* executor;            // [0x50] prio::executor* attached to, or nullptr
  const std::uint8_t* cpu_priority; // [0x58] prio::priority (0 high, 1 normal, 2 low)
  const std::uint8_t* io_priority;  // [0x60]
  const std::uint8_t* body_kind;    // [0x68] 0 none, 1 fn, 2 coro_fn, 3 callable, 4 coro_callable
  void* const* body_fn;             // [0x70] the function pointer (fn, coro_fn)
  void* const* body_invoke;         // [0x78] the callable's invoke thunk (callable)
  void* const* body_coro_invoke;    // [0x80] the callable's invoke thunk (coro_callable)
  const std::uint64_t* ticks_executed;  // [0x88] TSC ticks run this run
  const std::uint64_t* resumptions;     // [0x90] resumptions this run
  const std::uint8_t* ctx_state;    // [0x98] prio::context_state | context::direct_bit (0x80)
  const void* coro_body;            // [0xa0] coroutine body: its co<> (frame address first)
  const std::uint8_t* cancel_requested;  // [0xa8] bool: this run is cancelled (its waits fail)
};

// One executor: the kernel thread it is bound to.
struct prio_debug_executor {
  prio_debug_executor* next;        // [0x00]
  prio_debug_executor* prev;        // [0x08]
  std::uint32_t magic;              // [0x10] PRIO_DEBUG_EXECUTOR_MAGIC while linked
  std::int32_t lwp;                 // [0x14] kernel thread id once bound (0 before)
  const void* executor;             // [0x18] the prio::executor
  std::uint64_t bound_thread;       // [0x20] pthread_t of the bound thread (0 before)
};

// The root. Layout fixed per version.
struct prio_debug_registry_t {
  std::uint32_t version;            // [0x00] PRIO_DEBUG_VERSION
  std::uint32_t machine;            // [0x04] ELF e_machine: 62 x86-64, 183 AArch64
  std::uint32_t task_size;          // [0x08] sizeof(prio_debug_task)
  std::uint32_t executor_size;      // [0x0c] sizeof(prio_debug_executor)
  prio_debug_task* tasks;           // [0x10] newest first
  prio_debug_executor* executors;   // [0x18] newest first
  std::uint64_t writing;            // [0x20] odd while the lists are being changed
  std::uint64_t task_count;         // [0x28]
  std::uint64_t executor_count;     // [0x30]
  std::uint32_t asm_frame_size;     // [0x38] bytes of the asm switcher's saved frame
  std::uint32_t reserved;           // [0x3c]
};

extern prio_debug_registry_t prio_debug_registry;
}

namespace prio::debug {

// The addresses of a task's fields, handed over by task::create().
struct task_fields {
  const void* state;
  const void* executor;
  const void* cpu;
  const void* io;
  const void* body_kind;
  const void* body_fn;
  const void* body_invoke;
  const void* body_coro_invoke;
  const std::uint64_t* ticks_executed;
  const std::uint64_t* resumptions;
  const void* coro_body;
  const bool* cancel_requested;
};

// add_task() registers t (any thread; slow path: allocates, takes a mutex).
// Returns false when out of memory (the task then is simply not listed).
bool add_task(const task* t, std::uint64_t id, const context& ctx, const task_fields& f) noexcept;
// remove_task() forgets t (any thread).
void remove_task(const task* t) noexcept;
// add_executor() / remove_executor() / bind_executor() record an executor
// and, once bound, its kernel thread (bind_executor: on that thread).
void add_executor(const executor* ex) noexcept;
void remove_executor(const executor* ex) noexcept;
void bind_executor(const executor* ex) noexcept;

}  // namespace prio::debug
