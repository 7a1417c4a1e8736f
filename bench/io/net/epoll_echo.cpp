// epoll_echo.cpp: the epoll baseline: one thread, non-blocking sockets,
// read what is there, write it back, keep what did not fit for EPOLLOUT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "bench/io/net/baseline_servers.hpp"

namespace prio::bench {

namespace {
struct conn {
  std::vector<char> buf = std::vector<char>(4096);
  std::size_t pending = 0, off = 0;  // bytes read but not yet written back
  bool open = false;
};
}  // namespace

int epoll_echo::run(const std::function<void(std::uint16_t)>& on_ready) {
  std::uint16_t port = 0;
  const int l = listen_loopback(SOCK_NONBLOCK, port);
  if (l < 0) return -l;
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  const int sfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  stop_fd_.store(sfd);
  epoll_event ev{EPOLLIN, {.fd = l}};
  ::epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  ev = {EPOLLIN, {.fd = sfd}};
  ::epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  std::vector<conn> conns(65536);
  on_ready(port);
  epoll_event evs[256];
  for (bool running = true; running;) {
    const int n = ::epoll_wait(ep, evs, 256, 1000);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == sfd) {
        running = false;
      } else if (fd == l) {
        for (int c; (c = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          conns[static_cast<unsigned>(c)] = conn{};
          conns[static_cast<unsigned>(c)].open = true;
          epoll_event ce{EPOLLIN, {.fd = c}};
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
      } else {
        conn& c = conns[static_cast<unsigned>(fd)];
        bool closed = false;
        if (c.pending == 0) {
          const ssize_t r = ::read(fd, c.buf.data(), c.buf.size());
          if (r > 0) c.pending = static_cast<std::size_t>(r), c.off = 0;
          else if (r == 0 || errno != EAGAIN) closed = true;
        }
        while (!closed && c.pending > 0) {
          const ssize_t w = ::send(fd, c.buf.data() + c.off, c.pending, MSG_NOSIGNAL);
          if (w > 0) c.pending -= static_cast<std::size_t>(w), c.off += static_cast<std::size_t>(w);
          else if (w < 0 && errno == EAGAIN) break;
          else closed = true;
        }
        if (closed) {
          ::close(fd);  // also leaves the epoll set
          c.open = false;
        } else {
          epoll_event ce{c.pending ? static_cast<std::uint32_t>(EPOLLOUT) : static_cast<std::uint32_t>(EPOLLIN), {.fd = fd}};
          if (evs[i].events & (c.pending ? EPOLLIN : EPOLLOUT)) ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ce);
        }
      }
    }
  }
  for (std::size_t fd = 0; fd < conns.size(); ++fd)
    if (conns[fd].open) ::close(static_cast<int>(fd));
  ::close(ep);
  ::close(l);
  stop_fd_.store(-1);
  ::close(sfd);
  return 0;
}

}  // namespace prio::bench
