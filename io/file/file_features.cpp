// file_features.cpp: what the kernel offers file I/O, found out once per
// process: the opcode probe and whether RT I/O priority is permitted.
#include <liburing.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prio/io/file_detail.hpp"

namespace prio::detail {

namespace {
file_features probe_features() noexcept {
  file_features f;
  io_uring_probe* p = io_uring_get_probe();
  if (!p) return f;  // no io_uring at all: every operation falls back or fails
  auto has = [p](int op) { return io_uring_opcode_supported(p, op) != 0; };
  f.openat2 = has(IORING_OP_OPENAT2);
  f.close = has(IORING_OP_CLOSE);
  f.files_update = has(IORING_OP_FILES_UPDATE);
  f.statx = has(IORING_OP_STATX);
  f.fallocate = has(IORING_OP_FALLOCATE);
  f.sync_file_range = has(IORING_OP_SYNC_FILE_RANGE);
  f.fsync = has(IORING_OP_FSYNC);
  f.unlinkat = has(IORING_OP_UNLINKAT);
  f.renameat = has(IORING_OP_RENAMEAT);
  f.mkdirat = has(IORING_OP_MKDIRAT);
  f.ftruncate = has(op_ftruncate);
  f.fixed_fd_install = has(op_fixed_fd_install);
  f.read_write = has(IORING_OP_READ) && has(IORING_OP_WRITE);
  io_uring_free_probe(p);
  return f;
}

file_features& the_features() noexcept {
  static file_features f = probe_features();
  return f;
}

bool probe_rt_permitted() noexcept {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  return has(CAP_SYS_ADMIN) || has(CAP_SYS_NICE);
}
}  // namespace

const file_features& features() noexcept { return the_features(); }
file_features& file_features_for_test() noexcept { return the_features(); }
unsigned test_async_every = 0;

bool rt_ioprio_permitted() noexcept {
  static const bool permitted = probe_rt_permitted();
  return permitted;
}

}  // namespace prio::detail
