// registry.cpp: the debugger-visible task and executor lists (registry.hpp).
#include "prio/executors/registry.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <new>
#include <unordered_map>

// The .debug_gdb_scripts entry that makes GDB load gdb/prio_gdb (generated
// from gdb/autoload_section.h.in; empty when -Dgdb_autoload=false).
#include "executors/prio_gdb_autoload.h"

// Where each stackful switcher keeps its saved state, and the context's
// state field: {saved offset, context_state offset} from the context's
// address, exported by context/switcher_<kind>.cpp.
extern "C" const std::uint32_t prio_debug_ctx_asm[2];
extern "C" const std::uint32_t prio_debug_ctx_sjlj[2];
extern "C" const std::uint32_t prio_debug_ctx_ucontext[2];
extern "C" const std::uint32_t prio_debug_asm_frame_size;

extern "C" {
[[gnu::used]] prio_debug_registry_t prio_debug_registry = {
    PRIO_DEBUG_VERSION,
#if defined(__x86_64__)
    62,
#elif defined(__aarch64__)
    183,
#else
    0,
#endif
    sizeof(prio_debug_task), sizeof(prio_debug_executor), nullptr, nullptr, 0, 0, 0, 0, 0};
}

static_assert(sizeof(bool) == 1);
static_assert(sizeof(prio_debug_task) == 0xb0 || sizeof(void*) != 8, "layout documented in registry.hpp");
static_assert(sizeof(prio_debug_executor) == 0x28 || sizeof(void*) != 8);
static_assert(sizeof(prio_debug_registry_t) == 0x40);

namespace prio::debug {
namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

// Lookup for removal (slow path only; the debugger walks the lists).
std::unordered_map<const void*, prio_debug_task*>& task_index() {
  static auto* m = new std::unordered_map<const void*, prio_debug_task*>();
  return *m;
}

// begin_write() / end_write() bracket list changes so that a reader of a
// stopped process knows the lists may be mid-change (odd counter).
void begin_write() noexcept { __atomic_add_fetch(&prio_debug_registry.writing, 1, __ATOMIC_RELEASE); }
void end_write() noexcept { __atomic_add_fetch(&prio_debug_registry.writing, 1, __ATOMIC_RELEASE); }

template <class E>
void link_front(E*& head, E* e) noexcept {
  e->prev = nullptr;
  e->next = head;
  if (head) head->prev = e;
  __atomic_store_n(&head, e, __ATOMIC_RELEASE);  // last: the entry is complete
}

template <class E>
void unlink(E*& head, E* e) noexcept {
  if (e->prev)
    e->prev->next = e->next;
  else
    head = e->next;
  if (e->next) e->next->prev = e->prev;
  e->magic = 0;
}

std::uint8_t saved_kind_of(switcher_kind k) noexcept {
  switch (k) {
    case switcher_kind::asm_switch: return PRIO_DEBUG_SAVED_ASM_SP;
    case switcher_kind::sjlj: return PRIO_DEBUG_SAVED_JMP_BUF;
    case switcher_kind::ucontext: return PRIO_DEBUG_SAVED_UCONTEXT;
    case switcher_kind::coroutine: return PRIO_DEBUG_SAVED_CORO;
    default: return PRIO_DEBUG_SAVED_NONE;
  }
}

std::uint32_t saved_offset_of(switcher_kind k) noexcept {
  switch (k) {
    case switcher_kind::asm_switch: return prio_debug_ctx_asm[0];
    case switcher_kind::sjlj: return prio_debug_ctx_sjlj[0];
    case switcher_kind::ucontext: return prio_debug_ctx_ucontext[0];
    default: return 0;
  }
}

}  // namespace

bool add_task(const task* t, std::uint64_t id, const context& ctx, const task_fields& f) noexcept {
  auto* e = new (std::nothrow) prio_debug_task{};
  if (!e) return false;
  const switcher_kind k = ctx.kind();
  const auto* base = reinterpret_cast<const unsigned char*>(&ctx);
  e->magic = PRIO_DEBUG_TASK_MAGIC;
  e->switcher = static_cast<std::uint8_t>(k);
  e->saved_kind = saved_kind_of(k);
  e->id = id;
  e->task = t;
  e->ctx = &ctx;
  const stack_region s = ctx.stack();
  e->stack_lo = reinterpret_cast<std::uintptr_t>(s.base);
  e->stack_hi = reinterpret_cast<std::uintptr_t>(s.top());
  const std::uint32_t off = saved_offset_of(k);
  e->saved = off != 0 ? base + off : nullptr;
  e->state = static_cast<const std::uint8_t*>(f.state);
  e->executor = static_cast<void* const*>(f.executor);
  e->cpu_priority = static_cast<const std::uint8_t*>(f.cpu);
  e->io_priority = static_cast<const std::uint8_t*>(f.io);
  e->body_kind = static_cast<const std::uint8_t*>(f.body_kind);
  e->body_fn = static_cast<void* const*>(f.body_fn);
  e->body_invoke = static_cast<void* const*>(f.body_invoke);
  e->body_coro_invoke = static_cast<void* const*>(f.body_coro_invoke);
  e->ticks_executed = f.ticks_executed;
  e->resumptions = f.resumptions;
  e->ctx_state = base + prio_debug_ctx_asm[1];  // context::state_, same in every context
  e->coro_body = f.coro_body;
  e->cancel_requested = reinterpret_cast<const std::uint8_t*>(f.cancel_requested);
  std::lock_guard lock(registry_mutex());
  try {
    task_index().emplace(t, e);
  } catch (...) {
    delete e;
    return false;
  }
  prio_debug_registry.asm_frame_size = prio_debug_asm_frame_size;
  begin_write();
  link_front(prio_debug_registry.tasks, e);
  ++prio_debug_registry.task_count;
  end_write();
  return true;
}

void remove_task(const task* t) noexcept {
  prio_debug_task* e = nullptr;
  {
    std::lock_guard lock(registry_mutex());
    auto it = task_index().find(t);
    if (it == task_index().end()) return;
    e = it->second;
    task_index().erase(it);
    begin_write();
    unlink(prio_debug_registry.tasks, e);
    --prio_debug_registry.task_count;
    end_write();
  }
  delete e;
}

void add_executor(const executor* ex) noexcept {
  auto* e = new (std::nothrow) prio_debug_executor{};
  if (!e) return;
  e->magic = PRIO_DEBUG_EXECUTOR_MAGIC;
  e->executor = ex;
  std::lock_guard lock(registry_mutex());
  begin_write();
  link_front(prio_debug_registry.executors, e);
  ++prio_debug_registry.executor_count;
  end_write();
}

void remove_executor(const executor* ex) noexcept {
  prio_debug_executor* e = nullptr;
  {
    std::lock_guard lock(registry_mutex());
    for (e = prio_debug_registry.executors; e && e->executor != ex; e = e->next) {
    }
    if (!e) return;
    begin_write();
    unlink(prio_debug_registry.executors, e);
    --prio_debug_registry.executor_count;
    end_write();
  }
  delete e;
}

void bind_executor(const executor* ex) noexcept {
  std::lock_guard lock(registry_mutex());
  for (prio_debug_executor* e = prio_debug_registry.executors; e; e = e->next) {
    if (e->executor != ex) continue;
    e->bound_thread = static_cast<std::uint64_t>(::pthread_self());
    e->lwp = static_cast<std::int32_t>(::syscall(SYS_gettid));
    return;
  }
}

}  // namespace prio::debug
