// accept_stream.cpp: multishot accept feeding a bounded queue of sockets.
#include "prio/io/accept_stream.hpp"

#include <liburing.h>

#include <cstdio>

#include "io/net/socket_prep.hpp"
#include "prio/io/status_wait.hpp"

namespace prio::net {

using namespace detail;

namespace {

struct prep_multishot_accept {
  socket l;
  bool direct;
  void operator()(io_uring_sqe* sqe) const noexcept {
    if (direct)
      io_uring_prep_multishot_accept_direct(sqe, 0, nullptr, nullptr, 0);
    else
      io_uring_prep_multishot_accept(sqe, 0, nullptr, nullptr, SOCK_CLOEXEC);
    target(sqe, l);
  }
};

constexpr int max_rounds = 1 << 20;  // bounds next(); each round waits or changes state

}  // namespace

accept_stream::accept_stream(const socket& l, unsigned capacity)
    : listener_(l), queue_(2 * static_cast<std::size_t>(capacity ? capacity : 1)), capacity_(capacity ? capacity : 1) {
  st_.on_cqe = &accept_stream::on_cqe;
  st_.user = this;
}

accept_stream::~accept_stream() {
  if (st_.state == io_state::in_flight || st_.state == io_state::waiting_slot) {
    st_.user = nullptr;  // on_cqe no longer touches this object
    task* owner = st_.owner;
    if (owner && executor::current_task() == owner && !owner->is_coroutine_body()) {
      (void)stop(*owner);
    } else {
      if (owner && owner->current_executor()) owner->current_executor()->cancel_io(st_);
      std::fprintf(stderr, "prio: accept_stream destroyed while accepting; call stop() first\n");
    }
  }
  if (count_ != 0) std::fprintf(stderr, "prio: accept_stream destroyed with %u unclosed socket(s)\n", count_);
}

void accept_stream::push(std::int32_t res) noexcept {
  ++accepted_;
  if (count_ == queue_.size()) {
    // A burst past the back-pressure mark: keep every connection (slow path).
    std::vector<int> bigger(queue_.size() * 2);
    for (unsigned i = 0; i < count_; ++i) bigger[i] = queue_[(head_ + i) % queue_.size()];
    queue_.swap(bigger);
    head_ = 0;
    ++overflows_;
  }
  queue_[(head_ + count_) % queue_.size()] = res;
  ++count_;
}

socket accept_stream::pop() noexcept {
  const int v = queue_[head_];
  head_ = static_cast<unsigned>((head_ + 1) % queue_.size());
  --count_;
  return as_socket(v);
}

bool accept_stream::on_cqe(io_status& st, std::int32_t res, std::uint32_t flags) noexcept {
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  auto* self = static_cast<accept_stream*>(st.user);
  if (!self) return more;
  if (res >= 0) self->push(res);
  executor* ex = st.owner->current_executor();
  if (more && self->count_ >= self->capacity_ && !st.cancel_requested) {
    self->paused_ = true;  // back-pressure: the backlog holds the rest
    ex->cancel_io(st);
  }
  // Wake the waiter, unless this CQE is the last and a cancel CQE is still
  // owed: then next() waits for the completion itself (wait_status).
  if (self->waiter_ && (more || st.pending == 1)) ex->resume_waiter(*self->waiter_);
  return more;
}

accept_stream::step accept_stream::next_step() noexcept {
  if (count_ != 0) return step::take;
  switch (st_.state) {
    case io_state::completed:
      executor::reap(st_);
      if (st_.res < 0 && !(st_.res == -ECANCELED && paused_)) error_ = st_.res;
      paused_ = false;
      return error_ ? step::fail : step::arm;
    case io_state::in_flight:
      return st_.cancel_requested ? step::drain : step::wait;
    case io_state::waiting_slot:
      return step::wait;
    default:
      return error_ ? step::fail : step::arm;
  }
}

result<socket> accept_stream::next(task& t, std::chrono::nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, listener_));
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  const tsc::ticks deadline = deadline_after(timeout);
  for (int round = 0; round < max_rounds; ++round) {
    switch (next_step()) {
      case step::take:
        return pop();
      case step::fail:
        return failure(errno_error(-std::exchange(error_, 0)));
      case step::arm:
        table_ = ex->fixed_file_slots() > 0 ? ex : nullptr;
        ++arms_;
        PRIO_TRY(initiate(t, st_, prep_multishot_accept{listener_, table_ != nullptr}));
        break;
      case step::drain:
        PRIO_TRY(wait_status(t, st_));
        break;
      case step::wait: {
        waiter_ = &t;
        auto w = t.wait_stackful(task_state::suspended_other, deadline);
        waiter_ = nullptr;
        if (!w) return failure(w.error());
        break;
      }
    }
  }
  return failure(errno_error(EAGAIN));
}

co<result<socket>> accept_stream::async_next(task& t, std::chrono::nanoseconds timeout) {
  if (auto c = check_socket(t, listener_); !c) co_return failure(c.error());
  executor* ex = t.current_executor();
  if (!ex) co_return failure(errno_error(EINVAL));
  const tsc::ticks deadline = deadline_after(timeout);
  for (int round = 0; round < max_rounds; ++round) {
    switch (next_step()) {
      case step::take:
        co_return pop();
      case step::fail:
        co_return failure(errno_error(-std::exchange(error_, 0)));
      case step::arm: {
        table_ = ex->fixed_file_slots() > 0 ? ex : nullptr;
        ++arms_;
        auto r = co_await async_initiate(t, st_, prep_multishot_accept{listener_, table_ != nullptr});
        if (!r) co_return failure(r.error());
        break;
      }
      case step::drain: {
        auto r = co_await status_awaiter(t, st_);
        if (!r) co_return failure(r.error());
        break;
      }
      case step::wait: {
        waiter_ = &t;
        auto w = co_await task::awaiter(t, task_state::suspended_other, deadline);
        waiter_ = nullptr;
        if (!w) co_return failure(w.error());
        break;
      }
    }
  }
  co_return failure(errno_error(EAGAIN));
}

result<void> accept_stream::stop(task& t) noexcept {
  if (st_.state == io_state::in_flight) {
    if (st_.owner != &t) return failure(errno_error(EINVAL));
    t.current_executor()->cancel_io(st_);
    PRIO_TRY(wait_status(t, st_));
  }
  executor::reap(st_);
  result<void> out = success();
  while (count_ != 0) {
    socket s = pop();
    auto r = close(t, s);
    if (!r && out) out = r;
  }
  return out;
}

co<result<void>> accept_stream::async_stop(task& t) {
  if (st_.state == io_state::in_flight) {
    if (st_.owner != &t) co_return failure(errno_error(EINVAL));
    t.current_executor()->cancel_io(st_);
    auto w = co_await status_awaiter(t, st_);
    if (!w) co_return failure(w.error());
  }
  executor::reap(st_);
  result<void> out = success();
  while (count_ != 0) {
    socket s = pop();
    auto r = co_await async_close(t, s);
    if (!r && out) out = r;
  }
  co_return out;
}

}  // namespace prio::net
