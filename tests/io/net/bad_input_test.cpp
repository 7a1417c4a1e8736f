// Description: bad input gets a clear error and submits nothing: an invalid
// handle (EBADF), a closed socket, a null buffer with a non-zero length or
// a null msghdr (EINVAL), an empty address; the executor's submission
// counters prove no SQE went to the kernel. A socket fd closed behind the
// ring's back gives the kernel's EBADF / ENOTSOCK.
#include "net_helpers.hpp"

namespace prio::test {
namespace {

TEST(SocketBadInput, NothingSubmitted) {
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::asm_switch);
  std::uint64_t before = 0, after = 0;
  t1->set_body([&](task& t) -> result<std::int64_t> {
    // Open a socket and close it: the handle is reset, later use is EBADF.
    auto s = net::open_socket(t, AF_INET);
    EXPECT_TRUE(s);
    net::socket closed = *s;
    EXPECT_TRUE(net::close(t, closed));
    EXPECT_TRUE(t.yield());  // let run() flush the close; count from here
    before = t.current_executor()->stats().submitted_sqes + t.current_executor()->stats().io_in_flight;
    const net::socket bad{};
    char b[4];
    auto ebadf = std::errc::bad_file_descriptor;
    auto einval = std::errc::invalid_argument;
    EXPECT_EQ(net::recv(t, bad, std::as_writable_bytes(std::span<char>(b))).error(), ebadf);
    EXPECT_EQ(net::send(t, closed, bytes("x")).error(), ebadf);
    EXPECT_EQ(net::close(t, closed).error(), ebadf);
    EXPECT_EQ(net::shutdown(t, bad).error(), ebadf);
    EXPECT_EQ(net::accept(t, bad).error(), ebadf);
    EXPECT_EQ(net::connect(t, bad, *net::address::ipv4("127.0.0.1", 1)).error(), ebadf);
    EXPECT_EQ(net::adopt(t, -1).error(), ebadf);
    net::socket live{0, -1};  // stdin: only argument checks run below
    EXPECT_EQ(net::recv(t, live, std::span<std::byte>(static_cast<std::byte*>(nullptr), 8)).error(), einval);
    EXPECT_EQ(net::send(t, live, std::span<const std::byte>(static_cast<const std::byte*>(nullptr), 8)).error(), einval);
    EXPECT_EQ(net::send_zc(t, live, std::span<const std::byte>(static_cast<const std::byte*>(nullptr), 8)).error(), einval);
    EXPECT_EQ(net::recvmsg(t, live, nullptr).error(), einval);
    EXPECT_EQ(net::sendmsg(t, live, nullptr).error(), einval);
    EXPECT_EQ(net::connect(t, live, net::address{}).error(), einval);
    EXPECT_EQ(net::connect_to(t, net::address{}).error(), einval);
    EXPECT_EQ(net::listen_on(t, net::address{}).error(), einval);
    after = t.current_executor()->stats().submitted_sqes + t.current_executor()->stats().io_in_flight;
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_TRUE(t1->outcome());
  EXPECT_EQ(before, after);
}

TEST(SocketBadInput, CoroutineFormsCheckFirst) {
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::coroutine);
  t1->set_body([&](task& t) -> co<result<std::int64_t>> {
    const auto before = t.current_executor()->stats().io_in_flight;
    const net::socket bad{};
    char b[4];
    auto r = co_await net::async_recv(t, bad, std::as_writable_bytes(std::span<char>(b)));
    EXPECT_EQ(r.error(), std::errc::bad_file_descriptor);
    auto n = co_await net::async_send(t, net::socket{0, -1}, std::span<const std::byte>(static_cast<const std::byte*>(nullptr), 1));
    EXPECT_EQ(n.error(), std::errc::invalid_argument);
    EXPECT_EQ(t.current_executor()->stats().io_in_flight, before);
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_EQ(ex->stats().submitted_sqes, 1u);  // only the executor's own wake read
}

// The kernel's own answer for descriptors the checks cannot know about.
TEST(SocketBadInput, StaleAndWrongDescriptors) {
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::asm_switch);
  t1->set_body([&](task& t) -> result<std::int64_t> {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ::close(sv[0]);
    ::close(sv[1]);
    char b[4];
    auto r = net::recv(t, net::socket{sv[0], -1}, std::as_writable_bytes(std::span<char>(b)));
    EXPECT_EQ(r.error(), std::errc::bad_file_descriptor);
    auto slot = net::recv(t, net::socket{-1, 1000}, std::as_writable_bytes(std::span<char>(b)));  // empty slot
    EXPECT_EQ(slot.error(), std::errc::bad_file_descriptor);
    int pipefd[2];
    EXPECT_EQ(::pipe(pipefd), 0);
    auto notsock = net::send(t, net::socket{pipefd[1], -1}, bytes("x"));
    EXPECT_EQ(notsock.error(), std::errc::not_a_socket);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_TRUE(t1->outcome());
}

}  // namespace
}  // namespace prio::test
