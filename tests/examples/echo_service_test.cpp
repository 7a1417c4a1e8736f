// Description: the example echo service, on one executor and on a pool:
// clients over plain blocking sockets get every byte back, stop() ends
// run() with connections still open, bad options are refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "examples/echo_server/echo_service.hpp"

namespace prio::test {
namespace {

using examples::echo_options;
using examples::echo_service;

// client_connect() opens a blocking TCP socket to 127.0.0.1:port. Receives
// give up after 10 s so a broken server fails the test instead of hanging it.
int client_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// echo_round() sends msg and reads the same number of bytes back.
std::string echo_round(int fd, const std::string& msg) {
  if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size())) return "<send failed>";
  std::string got(msg.size(), '\0');
  std::size_t have = 0;
  while (have < got.size()) {
    const ssize_t n = ::recv(fd, got.data() + have, got.size() - have, 0);
    if (n <= 0) return "<recv failed: " + std::string(n == 0 ? "eof" : std::strerror(errno)) + ">";
    have += static_cast<std::size_t>(n);
  }
  return got;
}

// served: a service running on its own thread, with the port it got.
class served {
 public:
  explicit served(const echo_options& o) : svc_(o) {
    runner_ = std::thread([this] {
      outcome_ = svc_.run([this](std::uint16_t p) { port_.store(p, std::memory_order_release); });
      done_.store(true, std::memory_order_release);
    });
    // Wait for the listener, or for run() failing before it listens.
    while (port_.load(std::memory_order_acquire) == 0 && !done_.load(std::memory_order_acquire))
      std::this_thread::yield();
  }
  ~served() { (void)stop(); }
  std::uint16_t port() const { return port_.load(); }
  result<void> stop() {
    svc_.stop();
    if (runner_.joinable()) runner_.join();
    return outcome_;
  }
  const echo_service& service() const { return svc_; }

 private:
  echo_service svc_;
  std::thread runner_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> done_{false};
  result<void> outcome_ = success();
};

struct mode {
  unsigned threads;
  switcher_kind switcher;
};

class EchoService : public ::testing::TestWithParam<mode> {
 protected:
  // options() are the service's options for this mode.
  static echo_options options(unsigned max_connections) {
    echo_options o;
    o.threads = GetParam().threads;
    o.switcher = GetParam().switcher;
    o.max_connections = max_connections;
    return o;
  }
};

TEST_P(EchoService, EveryClientGetsItsBytesBack) {
  served s(options(64));
  ASSERT_NE(s.port(), 0) << "the service did not start";
  constexpr int clients = 24, rounds = 20;
  std::vector<int> fds;
  for (int c = 0; c < clients; ++c) {
    fds.push_back(client_connect(s.port()));
    ASSERT_GE(fds.back(), 0) << std::strerror(errno);
  }
  for (int r = 0; r < rounds; ++r) {
    for (int c = 0; c < clients; ++c) {
      // Sizes from 1 byte to past the 4 KiB receive buffer.
      const std::string msg(1 + (c * 977 + r * 389) % 6000, static_cast<char>('A' + (c + r) % 26));
      ASSERT_EQ(echo_round(fds[c], msg), msg) << "client " << c << " round " << r;
    }
  }
  for (int fd : fds) ::close(fd);
  auto r = s.stop();
  EXPECT_TRUE(r) << r.error().message();
  EXPECT_EQ(s.service().connections(), static_cast<std::uint64_t>(clients));
}

// stop() with clients still connected and idle: run() returns, and the
// clients see their connection closed.
TEST_P(EchoService, StopEndsRunWithConnectionsOpen) {
  served s(options(16));
  ASSERT_NE(s.port(), 0);
  std::vector<int> fds;
  for (int c = 0; c < 4; ++c) {
    fds.push_back(client_connect(s.port()));
    ASSERT_GE(fds.back(), 0);
    ASSERT_EQ(echo_round(fds.back(), "ping"), "ping");
  }
  auto r = s.stop();
  EXPECT_TRUE(r) << r.error().message();
  for (int fd : fds) {
    char b;
    EXPECT_LE(::recv(fd, &b, 1, 0), 0) << "connection still open after stop()";
    ::close(fd);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, EchoService,
                         ::testing::Values(mode{0, switcher_kind::asm_switch}, mode{0, switcher_kind::coroutine},
                                           mode{1, switcher_kind::asm_switch}, mode{2, switcher_kind::asm_switch},
                                           mode{4, switcher_kind::sjlj}),
                         [](const ::testing::TestParamInfo<mode>& i) {
                           return (i.param.threads ? std::to_string(i.param.threads) + "pool" : std::string("single")) +
                                  "_" + std::string(to_string(i.param.switcher));
                         });

TEST(EchoServiceOptions, CoroutinePoolIsRefused) {
  echo_options o;
  o.threads = 2;
  o.switcher = switcher_kind::coroutine;
  echo_service svc(o);
  bool ready = false;
  auto r = svc.run([&](std::uint16_t) { ready = true; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  EXPECT_FALSE(ready);
}

}  // namespace
}  // namespace prio::test
