// ring_enter.hpp (private to executors/): io_uring_enter(2) as one inline
// system call, for the run loop's non-blocking submit. liburing 2.3 makes the
// same call through its shared library (a PLT jump and ~40 instructions of
// checks the executor's rings never need: SQPOLL, CQ overflow flags).
#pragma once

#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace prio::detail {

// ring_enter() returns what the kernel returns: >= 0, or -errno.
inline int ring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) noexcept {
#if defined(__x86_64__)
  long r;
  register long r10 asm("r10") = flags;
  register long r8 asm("r8") = 0;  // no signal mask
  register long r9 asm("r9") = 0;
  asm volatile("syscall"
               : "=a"(r)
               : "0"(static_cast<long>(__NR_io_uring_enter)), "D"(static_cast<long>(fd)),
                 "S"(static_cast<long>(to_submit)), "d"(static_cast<long>(min_complete)), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return static_cast<int>(r);
#elif defined(__aarch64__)
  register long x8 asm("x8") = __NR_io_uring_enter;
  register long x0 asm("x0") = fd;
  register long x1 asm("x1") = to_submit;
  register long x2 asm("x2") = min_complete;
  register long x3 asm("x3") = flags;
  register long x4 asm("x4") = 0;
  register long x5 asm("x5") = 0;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return static_cast<int>(x0);
#else
  long r = ::syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0);
  return r < 0 ? -errno : static_cast<int>(r);
#endif
}

}  // namespace prio::detail
