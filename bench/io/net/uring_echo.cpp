// uring_echo.cpp: the raw liburing baseline, written the way a careful
// liburing user would: SINGLE_ISSUER|DEFER_TASKRUN ring, sparse fixed-file
// table, multishot accept straight into it, one recv or send in flight per
// connection, one io_uring_submit_and_wait per loop.
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "bench/io/net/baseline_servers.hpp"

namespace prio::bench {

namespace {
enum op : std::uint64_t { op_accept = 1, op_recv = 2, op_send = 3, op_stop = 4 };
constexpr unsigned max_conns = 4096;

struct conn {
  char buf[4096];
  unsigned len = 0, off = 0;  // bytes to echo and how many are sent
};

std::uint64_t ud(op o, unsigned slot) { return (static_cast<std::uint64_t>(slot) << 8) | o; }

io_uring_sqe* sqe_of(io_uring* r) {
  io_uring_sqe* s = io_uring_get_sqe(r);
  if (!s) {
    io_uring_submit(r);
    s = io_uring_get_sqe(r);
  }
  return s;
}

void post_recv(io_uring* r, std::vector<conn>& cs, unsigned slot) {
  io_uring_sqe* s = sqe_of(r);
  io_uring_prep_recv(s, static_cast<int>(slot), cs[slot].buf, sizeof(cs[slot].buf), 0);
  s->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(s, ud(op_recv, slot));
}

void post_send(io_uring* r, std::vector<conn>& cs, unsigned slot) {
  conn& c = cs[slot];
  io_uring_sqe* s = sqe_of(r);
  io_uring_prep_send(s, static_cast<int>(slot), c.buf + c.off, c.len - c.off, MSG_NOSIGNAL);
  s->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(s, ud(op_send, slot));
}

void post_close(io_uring* r, unsigned slot) {
  io_uring_sqe* s = sqe_of(r);
  io_uring_prep_close_direct(s, slot);
  io_uring_sqe_set_data64(s, 0);
}
}  // namespace

int uring_echo::run(const std::function<void(std::uint16_t)>& on_ready) {
  io_uring ring;
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(1024, &ring, &p) < 0) {
    p.flags = 0;
    if (int r = io_uring_queue_init_params(1024, &ring, &p); r < 0) return -r;
  }
  if (int r = io_uring_register_files_sparse(&ring, max_conns); r < 0) return -r;
  (void)io_uring_register_ring_fd(&ring);  // as prio's executor does on its thread
  std::uint16_t port = 0;
  const int l = listen_loopback(0, port);
  if (l < 0) return -l;
  const int sfd = ::eventfd(0, EFD_CLOEXEC);
  stop_fd_.store(sfd);
  std::vector<conn> cs(max_conns);
  std::uint64_t stop_buf = 0;
  io_uring_sqe* s = sqe_of(&ring);
  io_uring_prep_multishot_accept_direct(s, l, nullptr, nullptr, 0);
  io_uring_sqe_set_data64(s, ud(op_accept, 0));
  s = sqe_of(&ring);
  io_uring_prep_read(s, sfd, &stop_buf, sizeof(stop_buf), 0);
  io_uring_sqe_set_data64(s, ud(op_stop, 0));
  on_ready(port);
  for (bool running = true; running;) {
    io_uring_submit_and_wait(&ring, 1);
    unsigned head, n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++n;
      const auto o = static_cast<op>(cqe->user_data & 0xff);
      const auto slot = static_cast<unsigned>(cqe->user_data >> 8);
      const int res = cqe->res;
      if (o == op_stop) {
        running = false;
      } else if (o == op_accept) {
        if (res >= 0) post_recv(&ring, cs, static_cast<unsigned>(res));
        if (!(cqe->flags & IORING_CQE_F_MORE)) {  // re-arm
          io_uring_sqe* x = sqe_of(&ring);
          io_uring_prep_multishot_accept_direct(x, l, nullptr, nullptr, 0);
          io_uring_sqe_set_data64(x, ud(op_accept, 0));
        }
      } else if (o == op_recv) {
        if (res <= 0) {
          post_close(&ring, slot);
        } else {
          cs[slot].len = static_cast<unsigned>(res);
          cs[slot].off = 0;
          post_send(&ring, cs, slot);
        }
      } else if (o == op_send) {
        if (res <= 0) {
          post_close(&ring, slot);
        } else if ((cs[slot].off += static_cast<unsigned>(res)) < cs[slot].len) {
          post_send(&ring, cs, slot);
        } else {
          post_recv(&ring, cs, slot);
        }
      }
    }
    io_uring_cq_advance(&ring, n);
  }
  stop_fd_.store(-1);
  io_uring_queue_exit(&ring);  // closes the fixed files still registered
  ::close(sfd);
  ::close(l);
  return 0;
}

}  // namespace prio::bench
