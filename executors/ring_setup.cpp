// ring_setup.cpp: ring creation with flag fallback, enabling, fixed files.
#include "executors/ring_setup.hpp"

#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "prio_build_config.h"
#if PRIO_SANITIZE_THREAD
#include <sanitizer/tsan_interface.h>
#endif

namespace prio {

std::string ring_flags_to_text(unsigned flags) {
  static const struct {
    unsigned bit;
    const char* name;
  } names[] = {
      {IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"}, {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"},
      {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},   {IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"},
      {IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"},       {IORING_SETUP_R_DISABLED, "R_DISABLED"},
      {IORING_SETUP_CQSIZE, "CQSIZE"},
  };
  std::string out;
  for (const auto& n : names) {
    if (flags & n.bit) {
      if (!out.empty()) out += '|';
      out += n.name;
    }
  }
  return out.empty() ? "none" : out;
}

result<void> create_ring(io_uring* ring, unsigned entries, unsigned cq_entries,
                         unsigned& flags_used, std::string& flags_text) noexcept {
  // Most capable first; each step drops what older kernels refuse (EINVAL).
  // Never SQPOLL, SQE128 or CQE32: executor::acquire_sqes() and
  // reap_ready_cqes() index the rings without the checks those need.
  static const unsigned attempts[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
          IORING_SETUP_R_DISABLED,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
          IORING_SETUP_SUBMIT_ALL | IORING_SETUP_R_DISABLED,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_SUBMIT_ALL,
      0,
  };
  int last = -EINVAL;
  for (unsigned f : attempts) {
    io_uring_params p;
    std::memset(&p, 0, sizeof(p));
    p.flags = f | IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    last = io_uring_queue_init_params(entries, ring, &p);
    if (last == 0) {
      note_ring_mapped();
      flags_used = p.flags;
      flags_text = ring_flags_to_text(p.flags & ~IORING_SETUP_R_DISABLED);
      return success();
    }
    if (last != -EINVAL) break;  // ENOMEM, EPERM, ENOSYS: no point retrying
  }
  return failure(errno_error(-last));
}

result<void> enable_ring(io_uring* ring, unsigned flags, unsigned& files, bool& fd_registered) noexcept {
  if (flags & IORING_SETUP_R_DISABLED) {
    // Raw register call: liburing 2.3 declares io_uring_enable_rings() but
    // its shared library does not export it.
    long r = ::syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
    if (r < 0) return failure(errno_error(errno));
  }
  if (files != 0) {
    int r = io_uring_register_files_sparse(ring, files);
    if (r < 0) {
      // Older kernels: register a table of empty (-1) slots instead.
      std::vector<int> empty(files, -1);
      r = io_uring_register_files(ring, empty.data(), files);
    }
    if (r < 0) files = 0;
  }
  fd_registered = false;
#if PRIO_HAVE_IO_URING_REGISTER_RING_FD
  // Every io_uring_enter then skips the fd lookup (fget/fput of the ring's
  // file). Older kernels refuse (EINVAL): the plain fd keeps working.
  fd_registered = io_uring_register_ring_fd(ring) == 1;
#endif
  return success();
}

#if PRIO_SANITIZE_THREAD
namespace {
char g_ring_memory;  // TSan's sync object for ring mappings
}
void note_ring_mapped() noexcept { __tsan_acquire(&g_ring_memory); }
void note_ring_unmapping() noexcept { __tsan_release(&g_ring_memory); }
#else
void note_ring_mapped() noexcept {}
void note_ring_unmapping() noexcept {}
#endif

void disown_ring_fd_registration(io_uring* ring) noexcept {
  // Slots are indexed from 0 to a small maximum (16 in Linux 6.x); an index
  // beyond any maximum makes the unregister call fail with EINVAL, touching
  // nothing.
  ring->enter_ring_fd = std::numeric_limits<int>::max();
}

}  // namespace prio
