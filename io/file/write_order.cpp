// write_order.cpp: one write in flight per (task, file), and the wait for it.
#include "prio/io/file_detail.hpp"

namespace prio::detail {

result<void> wait_for_io(task& t, io_status* st) noexcept {
  if (st == nullptr) return success();
  if (t.cancel_requested()) return failure(errno_error(ECANCELED));
  // st stays on t's completed list for the caller that initiated it to reap.
  PRIO_TRY(wait_io(t, *st));
  if (t.cancel_requested()) return failure(errno_error(ECANCELED));
  return success();
}

io_status* write_order::in_flight(const task& t) const noexcept {
  for (const entry& e : entries_)
    if (e.t == &t) return e.st;
  return nullptr;
}

void write_order::track(task& t, io_status& st) {
  st.user = this;
  st.on_cqe = &write_order::on_cqe;
  for (entry& e : entries_) {
    if (e.st == nullptr || e.t == &t) {
      e = entry{&t, &st};
      return;
    }
  }
  entries_.push_back(entry{&t, &st});  // a new concurrent writer: slow path
}

void write_order::untrack(io_status& st) noexcept {
  for (entry& e : entries_)
    if (e.st == &st) e = entry{nullptr, nullptr};
  st.on_cqe = nullptr;
  st.user = nullptr;
}

bool write_order::on_cqe(io_status& st, std::int32_t, std::uint32_t) noexcept {
  // The write has landed (or failed): the task's next write may start.
  static_cast<write_order*>(st.user)->untrack(st);
  return false;
}

}  // namespace prio::detail
