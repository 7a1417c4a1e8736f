// file_path.cpp: operations on names: statx, unlinkat, renameat, mkdirat,
// each falling back to its syscall where the kernel lacks the opcode.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file/op_common.hpp"
#include "prio/io/file_meta.hpp"

namespace prio {

using detail::features;

namespace {

result<void> sys(int r) noexcept { return r == 0 ? success() : result<void>(failure(errno_error(errno))); }

struct statx_op {
  int dir;
  const char* path;
  int flags;
  unsigned mask;
  struct statx* out;
  bool have() const noexcept { return features().statx; }
  void operator()(io_uring_sqe* s) const noexcept { io_uring_prep_statx(s, dir, path, flags, mask, out); }
  result<void> fallback() const noexcept { return sys(::statx(dir, path, flags, mask, out)); }
};
struct unlink_op {
  int dir;
  const char* path;
  int flags;
  bool have() const noexcept { return features().unlinkat; }
  void operator()(io_uring_sqe* s) const noexcept { io_uring_prep_unlinkat(s, dir, path, flags); }
  result<void> fallback() const noexcept { return sys(::unlinkat(dir, path, flags)); }
};
struct rename_op {
  int old_dir;
  const char* old_path;
  int new_dir;
  const char* new_path;
  unsigned flags;
  bool have() const noexcept { return features().renameat; }
  void operator()(io_uring_sqe* s) const noexcept {
    io_uring_prep_renameat(s, old_dir, old_path, new_dir, new_path, flags);
  }
  result<void> fallback() const noexcept { return sys(::renameat2(old_dir, old_path, new_dir, new_path, flags)); }
};
struct mkdir_op {
  int dir;
  const char* path;
  mode_t mode;
  bool have() const noexcept { return features().mkdirat; }
  void operator()(io_uring_sqe* s) const noexcept { io_uring_prep_mkdirat(s, dir, path, mode); }
  result<void> fallback() const noexcept { return sys(::mkdirat(dir, path, mode)); }
};

template <class Op>
result<void> run_path(task& t, const Op& op) noexcept {
  if (!t.current_executor()) return failure(errno_error(EINVAL));
  if (!op.have()) return op.fallback();
  return detail::to_void(perform(t, op));
}

template <class Op>
co<result<void>> run_path_async(task& t, Op op) noexcept {
  if (!t.current_executor()) co_return failure(errno_error(EINVAL));
  if (!op.have()) co_return op.fallback();
  co_return detail::to_void(co_await async_perform(t, op));
}

result<void> need(const char* a, const char* b = "") noexcept {
  return a && b ? success() : result<void>(failure(errno_error(EINVAL)));
}

}  // namespace

result<struct statx> statx(task& t, int dir, const char* path, int flags, unsigned mask) noexcept {
  PRIO_TRY(need(path));
  struct statx sx {};
  PRIO_TRY(run_path(t, statx_op{dir, path, flags, mask, &sx}));
  return sx;
}
result<void> unlinkat(task& t, int dir, const char* path, int flags) noexcept {
  PRIO_TRY(need(path));
  return run_path(t, unlink_op{dir, path, flags});
}
result<void> renameat(task& t, int old_dir, const char* old_path, int new_dir, const char* new_path,
                      unsigned flags) noexcept {
  PRIO_TRY(need(old_path, new_path));
  return run_path(t, rename_op{old_dir, old_path, new_dir, new_path, flags});
}
result<void> mkdirat(task& t, int dir, const char* path, mode_t mode) noexcept {
  PRIO_TRY(need(path));
  return run_path(t, mkdir_op{dir, path, mode});
}

co<result<struct statx>> async_statx(task& t, int dir, const char* path, int flags, unsigned mask) noexcept {
  if (auto n = need(path); !n) co_return failure(n.error());
  struct statx sx {};
  auto r = co_await run_path_async(t, statx_op{dir, path, flags, mask, &sx});
  if (!r) co_return failure(r.error());
  co_return sx;
}
co<result<void>> async_unlinkat(task& t, int dir, const char* path, int flags) noexcept {
  if (auto n = need(path); !n) co_return n;
  co_return co_await run_path_async(t, unlink_op{dir, path, flags});
}
co<result<void>> async_renameat(task& t, int old_dir, const char* old_path, int new_dir, const char* new_path,
                                unsigned flags) noexcept {
  if (auto n = need(old_path, new_path); !n) co_return n;
  co_return co_await run_path_async(t, rename_op{old_dir, old_path, new_dir, new_path, flags});
}
co<result<void>> async_mkdirat(task& t, int dir, const char* path, mode_t mode) noexcept {
  if (auto n = need(path); !n) co_return n;
  co_return co_await run_path_async(t, mkdir_op{dir, path, mode});
}

}  // namespace prio
