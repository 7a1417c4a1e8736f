/* prio_thread_db.c: an opt-in libthread_db.so.1 that also reports prio tasks.
 *
 * For GDB builds that show user-mode threads (e.g. the fork linked from
 * seed 003); stock GDB maps threads to kernel LWPs and cannot use the extra
 * threads (docs/debugging.md). It wraps the system libthread_db (dlopen by
 * path; $PRIO_REAL_THREAD_DB overrides) for the kernel threads, typed
 * TD_THR_SYSTEM, and adds one TD_THR_USER thread per attached prio task,
 * read from prio_debug_registry (include/prio/executors/registry.hpp):
 * td_ta_thr_iter lists them, td_thr_get_info describes them and
 * td_thr_getgregs gives a suspended task's saved registers (a task running
 * on its LWP: that LWP's registers and TD_PARTIALREG). x86-64 only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <proc_service.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <thread_db.h>

#include "prio_registry_layout.h"

#define EXPORT __attribute__((visibility("default")))

struct td_thragent {
  td_thragent_t *real;          /* the system library's agent */
  struct ps_prochandle *ph;
  psaddr_t registry;            /* &prio_debug_registry, or 0 */
};

/* A task's handle: th_unique is its registry entry with bit 0 set (entries
 * are 8-byte aligned; pthread handles never have it). */
#define TASK_TAG 1u
static int is_task(const td_thrhandle_t *th) { return ((uintptr_t)th->th_unique & TASK_TAG) != 0; }
static psaddr_t task_entry(const td_thrhandle_t *th) {
  return (psaddr_t)((uintptr_t)th->th_unique & ~(uintptr_t)TASK_TAG);
}

/* --- the system library ------------------------------------------------- */
static void *real_lib;
#define REAL(name) ((__typeof__(&name))real_sym(#name))

static void *real_sym(const char *name) { return real_lib ? dlsym(real_lib, name) : NULL; }

static const char *const real_paths[] = {
    "/lib/x86_64-linux-gnu/libthread_db.so.1", "/usr/lib/x86_64-linux-gnu/libthread_db.so.1",
    "/lib64/libthread_db.so.1", "/usr/lib64/libthread_db.so.1", "/lib/libthread_db.so.1", NULL};

EXPORT td_err_e td_init(void) {
  if (!real_lib) {
    const char *env = getenv("PRIO_REAL_THREAD_DB");
    if (env && *env) real_lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    for (int i = 0; !real_lib && real_paths[i]; ++i) real_lib = dlopen(real_paths[i], RTLD_NOW | RTLD_LOCAL);
    if (!real_lib) return TD_ERR;
  }
  return REAL(td_init) ? REAL(td_init)() : TD_ERR;
}

EXPORT td_err_e td_ta_new(struct ps_prochandle *ph, td_thragent_t **ta) {
  td_thragent_t *real = NULL;
  td_err_e err = REAL(td_ta_new) ? REAL(td_ta_new)(ph, &real) : TD_ERR;
  if (err != TD_OK) return err;
  td_thragent_t *mine = calloc(1, sizeof *mine);
  if (!mine) {
    REAL(td_ta_delete)(real);
    return TD_MALLOC;
  }
  mine->real = real;
  mine->ph = ph;
  if (ps_pglobal_lookup(ph, NULL, "prio_debug_registry", &mine->registry) != PS_OK) mine->registry = 0;
  *ta = mine;
  return TD_OK;
}

EXPORT td_err_e td_ta_delete(td_thragent_t *ta) {
  if (REAL(td_ta_delete)) REAL(td_ta_delete)(ta->real);
  free(ta);
  return TD_OK;
}

/* real_handle() is the system library's view of a kernel thread's handle. */
static td_thrhandle_t real_handle(const td_thrhandle_t *th) {
  td_thrhandle_t r = *th;
  r.th_ta_p = th->th_ta_p->real;
  return r;
}

EXPORT td_err_e td_ta_map_lwp2thr(const td_thragent_t *ta, lwpid_t lwp, td_thrhandle_t *th) {
  td_err_e err = REAL(td_ta_map_lwp2thr)(ta->real, lwp, th);
  if (err == TD_OK) th->th_ta_p = (td_thragent_t *)ta;
  return err;
}

/* --- reading the registry ------------------------------------------------- */
static int rd(const td_thragent_t *ta, psaddr_t a, void *out, size_t n) {
  return ps_pdread(ta->ph, a, out, n) == PS_OK;
}
static uint64_t rd64(const td_thragent_t *ta, psaddr_t a) {
  uint64_t v = 0;
  rd(ta, a, &v, sizeof v);
  return v;
}
static uint8_t rd8(const td_thragent_t *ta, psaddr_t a) {
  uint8_t v = 0;
  rd(ta, a, &v, 1);
  return v;
}

/* lwp_of() is the kernel thread of the executor the task is attached to. */
static lwpid_t lwp_of(const td_thragent_t *ta, const struct prio_task_entry *e) {
  uint64_t ex = rd64(ta, (psaddr_t)e->executor);
  psaddr_t p = (psaddr_t)rd64(ta, (psaddr_t)((char *)ta->registry + PRIO_REG_EXECUTORS));
  for (int n = 0; p && ex && n < 4096; ++n) {
    struct prio_executor_entry x;
    if (!rd(ta, p, &x, sizeof x) || x.magic != PRIO_EXECUTOR_MAGIC) break;
    if (x.executor == ex) return x.lwp;
    p = (psaddr_t)x.next;
  }
  return 0;
}

static int read_task(const td_thragent_t *ta, psaddr_t entry, struct prio_task_entry *e) {
  return rd(ta, entry, e, sizeof *e) && e->magic == PRIO_TASK_MAGIC;
}

/* listed() says whether a task is reported: attached and not finished. */
static int listed(const td_thragent_t *ta, const struct prio_task_entry *e) {
  uint8_t s = rd8(ta, (psaddr_t)e->state);
  return s != PRIO_STATE_IDLE && s != PRIO_STATE_COMPLETED;
}

/* --- iteration -------------------------------------------------------------- */
struct iter_ctx {
  const td_thragent_t *ta;
  td_thr_iter_f *cb;
  void *data;
};

static int rewrap(const td_thrhandle_t *th, void *arg) {
  struct iter_ctx *c = arg;
  td_thrhandle_t mine = *th;
  mine.th_ta_p = (td_thragent_t *)c->ta;
  return c->cb(&mine, c->data);
}

EXPORT td_err_e td_ta_thr_iter(const td_thragent_t *ta, td_thr_iter_f *cb, void *data,
                               td_thr_state_e state, int pri, sigset_t *mask, unsigned flags) {
  struct iter_ctx c = {ta, cb, data};
  td_err_e err = REAL(td_ta_thr_iter)(ta->real, rewrap, &c, state, pri, mask, flags);
  if (err != TD_OK || !ta->registry) return err;
  psaddr_t p = (psaddr_t)rd64(ta, (psaddr_t)((char *)ta->registry + PRIO_REG_TASKS));
  for (int n = 0; p && n < (1 << 20); ++n) {
    struct prio_task_entry e;
    if (!read_task(ta, p, &e)) break;
    if (listed(ta, &e)) {
      td_thrhandle_t th = {(td_thragent_t *)ta, (psaddr_t)((uintptr_t)p | TASK_TAG)};
      if (cb(&th, data) != 0) return TD_DBERR;
    }
    p = (psaddr_t)e.next;
  }
  return TD_OK;
}

/* --- registers ---------------------------------------------------------------- */
/* on_cpu() says whether the task's executor thread is running on its stack;
 * regs then holds that thread's registers. */
static int on_cpu(const td_thragent_t *ta, const struct prio_task_entry *e, struct user_regs_struct *regs) {
  lwpid_t lwp = lwp_of(ta, e);
  if (!lwp || ps_lgetregs(ta->ph, lwp, (elf_greg_t *)regs) != PS_OK) return 0;
  if (!e->stack_lo) return rd8(ta, (psaddr_t)e->state) == PRIO_STATE_RUNNING;
  return regs->rsp >= e->stack_lo && regs->rsp < e->stack_hi;
}

/* saved_regs() fills the callee-saved registers of a suspended task as its
 * switcher left them (the layouts of gdb/prio_gdb/regs.py). */
static int saved_regs(const td_thragent_t *ta, const struct prio_task_entry *e, struct user_regs_struct *r) {
  psaddr_t s = (psaddr_t)e->saved;
  uint64_t v[8];
  switch (e->saved_kind) {
    case PRIO_SAVED_ASM_SP: {
      uint64_t sp = rd64(ta, s);
      if (!rd(ta, (psaddr_t)sp, v, sizeof v)) return 0;
      r->r12 = v[1], r->r13 = v[2], r->r14 = v[3], r->r15 = v[4];
      r->rbx = v[5], r->rbp = v[6], r->rip = v[7], r->rsp = sp + 0x40;
      return 1;
    }
    case PRIO_SAVED_UCONTEXT: {
      uint64_t g[17];
      if (!rd(ta, (psaddr_t)((char *)s + 40), g, sizeof g)) return 0;
      r->r12 = g[4], r->r13 = g[5], r->r14 = g[6], r->r15 = g[7];
      r->rbp = g[10], r->rbx = g[11], r->rsp = g[15], r->rip = g[16];
      return 1;
    }
    case PRIO_SAVED_JMP_BUF: {
      /* GCC's __builtin_setjmp buffer: frame pointer, resume pc, stack
       * pointer, unmangled. The function that set it saved every other
       * callee-saved register in its frame, where its CFI finds them. */
      if (!rd(ta, s, v, 3 * sizeof v[0])) return 0;
      r->rbp = v[0], r->rip = v[1], r->rsp = v[2];
      return 1;
    }
    default:
      return 0;
  }
}

EXPORT td_err_e td_thr_getgregs(const td_thrhandle_t *th, prgregset_t gregs) {
  if (!is_task(th)) {
    td_thrhandle_t r = real_handle(th);
    return REAL(td_thr_getgregs)(&r, gregs);
  }
  const td_thragent_t *ta = th->th_ta_p;
  struct prio_task_entry e;
  if (!read_task(ta, task_entry(th), &e)) return TD_BADTH;
  struct user_regs_struct *r = (struct user_regs_struct *)gregs;
  memset(r, 0, sizeof *r);
  if (on_cpu(ta, &e, r)) return TD_PARTIALREG;  /* its LWP's registers */
  memset(r, 0, sizeof *r);
  return saved_regs(ta, &e, r) ? TD_OK : TD_NOCAPAB;
}

EXPORT td_err_e td_thr_get_info(const td_thrhandle_t *th, td_thrinfo_t *info) {
  if (!is_task(th)) {
    td_thrhandle_t r = real_handle(th);
    td_err_e err = REAL(td_thr_get_info)(&r, info);
    info->ti_ta_p = th->th_ta_p;
    info->ti_type = TD_THR_SYSTEM;  /* the kernel threads that run executors */
    return err;
  }
  const td_thragent_t *ta = th->th_ta_p;
  struct prio_task_entry e;
  if (!read_task(ta, task_entry(th), &e)) return TD_BADTH;
  memset(info, 0, sizeof *info);
  info->ti_ta_p = (td_thragent_t *)ta;
  info->ti_tid = (thread_t)e.id;
  info->ti_type = TD_THR_USER;
  info->ti_lid = lwp_of(ta, &e);
  uint8_t kind = rd8(ta, (psaddr_t)e.body_kind);
  void *const *fn = kind == 3 ? e.body_invoke : kind == 4 ? e.body_coro_invoke : e.body_fn;
  info->ti_startfunc = (psaddr_t)rd64(ta, (psaddr_t)fn);
  info->ti_stkbase = (psaddr_t)e.stack_hi;
  info->ti_stksize = (long)(e.stack_hi - e.stack_lo);
  info->ti_pri = rd8(ta, (psaddr_t)e.cpu_priority);
  uint8_t s = rd8(ta, (psaddr_t)e.state);
  info->ti_state = s == PRIO_STATE_RUNNING ? TD_THR_ACTIVE
                   : (s == PRIO_STATE_PENDING || s == PRIO_STATE_RUNNABLE) ? TD_THR_RUN
                                                                            : TD_THR_SLEEP;
  return TD_OK;
}

/* --- the rest: pass kernel threads through; tasks have no TLS or events ---- */
EXPORT td_err_e td_thr_validate(const td_thrhandle_t *th) {
  if (is_task(th)) {
    struct prio_task_entry e;
    return read_task(th->th_ta_p, task_entry(th), &e) ? TD_OK : TD_NOTHR;
  }
  td_thrhandle_t r = real_handle(th);
  return REAL(td_thr_validate)(&r);
}

EXPORT td_err_e td_thr_tls_get_addr(const td_thrhandle_t *th, psaddr_t map, size_t off, psaddr_t *addr) {
  if (is_task(th)) return TD_NOCAPAB;
  td_thrhandle_t r = real_handle(th);
  return REAL(td_thr_tls_get_addr)(&r, map, off, addr);
}

EXPORT td_err_e td_thr_tlsbase(const td_thrhandle_t *th, unsigned long mod, psaddr_t *base) {
  if (is_task(th)) return TD_NOCAPAB;
  td_thrhandle_t r = real_handle(th);
  return REAL(td_thr_tlsbase)(&r, mod, base);
}

EXPORT td_err_e td_thr_getfpregs(const td_thrhandle_t *th, prfpregset_t *regs) {
  if (is_task(th)) return TD_NOFPREGS;
  td_thrhandle_t r = real_handle(th);
  return REAL(td_thr_getfpregs)(&r, regs);
}

EXPORT td_err_e td_thr_event_enable(const td_thrhandle_t *th, int on) {
  if (is_task(th)) return TD_OK;
  td_thrhandle_t r = real_handle(th);
  return REAL(td_thr_event_enable)(&r, on);
}

EXPORT td_err_e td_ta_event_addr(const td_thragent_t *ta, td_event_e ev, td_notify_t *addr) {
  return REAL(td_ta_event_addr)(ta->real, ev, addr);
}
EXPORT td_err_e td_ta_set_event(const td_thragent_t *ta, td_thr_events_t *ev) {
  return REAL(td_ta_set_event)(ta->real, ev);
}
EXPORT td_err_e td_ta_clear_event(const td_thragent_t *ta, td_thr_events_t *ev) {
  return REAL(td_ta_clear_event)(ta->real, ev);
}
EXPORT td_err_e td_ta_event_getmsg(const td_thragent_t *ta, td_event_msg_t *msg) {
  td_err_e err = REAL(td_ta_event_getmsg)(ta->real, msg);
  if (err == TD_OK && msg->th_p) ((td_thrhandle_t *)msg->th_p)->th_ta_p = (td_thragent_t *)ta;
  return err;
}
EXPORT td_err_e td_ta_map_id2thr(const td_thragent_t *ta, pthread_t pt, td_thrhandle_t *th) {
  td_err_e err = REAL(td_ta_map_id2thr)(ta->real, pt, th);
  if (err == TD_OK) th->th_ta_p = (td_thragent_t *)ta;
  return err;
}
EXPORT td_err_e td_ta_get_nthreads(const td_thragent_t *ta, int *n) {
  return REAL(td_ta_get_nthreads)(ta->real, n);
}
