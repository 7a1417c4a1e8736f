// io_status.hpp: the record of one I/O operation in flight (NT IO_STATUS style).
//
// The caller supplies one io_status per operation and keeps it in place
// while the operation is in flight: its address is the SQE's user_data. A
// completed one may go away unreaped (its destructor unlinks it). One that
// goes away in flight (a frame left without waiting for it) is cancelled
// and waited for by its destructor, on its executor's thread, before its
// memory is released: the kernel writes nothing into a dead frame and no
// completion is lost track of. That wait blocks the executor's thread for as
// long as the cancellation takes (executor_stats::abandoned_io counts them).
// States: idle -> waiting_slot (no submission slot yet) -> in_flight ->
// completed (on the task's completed list) -> reaped (handed to the caller).
#pragma once

#include <linux/time_types.h>

#include <cstdint>
#include <system_error>

#include "prio/executors/priority.hpp"
#include "prio/runtime/clock.hpp"
#include "prio/runtime/intrusive.hpp"
#include "prio/runtime/result.hpp"

namespace prio {

class task;
struct io_status;

enum class io_state : std::uint8_t { idle, waiting_slot, in_flight, completed, reaped };

namespace detail {
// release() is ~io_status() of one its executor still tracks (admitted or
// completed, not reaped): an admitted one is abandoned (cancelled and waited
// for), then a completed one leaves its task's completed list
// (executors/executor_io.cpp).
void release(io_status& st) noexcept;
// tracked(): the states between idle and reaped, in one comparison.
static_assert(static_cast<unsigned>(io_state::idle) == 0 && static_cast<unsigned>(io_state::reaped) == 4);
constexpr bool tracked(io_state s) noexcept { return static_cast<unsigned>(s) - 1u < 3u; }
}  // namespace detail

struct io_status {
  // io_status() initialises only what must be known before initiation; the
  // executor fills the rest when it admits the operation (a zeroing of the
  // whole record showed up as a `rep stos` on the hot path).
  io_status() noexcept {}
  // ~io_status() of a completed operation nobody reaped takes it off its
  // task's completed list, so the list never holds a dead record (an
  // io_status in a task's frame that the body leaves without reaping). One
  // still waiting for a slot or in flight is abandoned first (see the top).
  ~io_status() {
    if (detail::tracked(state)) [[unlikely]]
      detail::release(*this);
  }
  io_status(const io_status&) = delete;
  io_status& operator=(const io_status&) = delete;

  // result() is the operation's outcome: res >= 0 as a value, a negative res
  // as std::error_code{-res, system_category()}. Meaningful only once done();
  // before that, res and the stamps are unset (the executor fills them).
  prio::result<std::int32_t> result() const noexcept {
    if (res < 0) return failure(errno_error(-res));
    return res;
  }
  bool done() const noexcept { return state == io_state::completed || state == io_state::reaped; }

  // Filled by the executor.
  std::int32_t res;              // CQE res (for multishot: the last one)
  std::uint32_t cqe_flags;       // CQE flags (buffer id, MORE, ...)
  io_state state = io_state::idle;
  priority io_prio;              // the level it was admitted at
  std::uint8_t pending;          // CQEs still owed: op, linked timeout, cancel
  bool cancel_requested;         // an async cancel was submitted for it
  bool timed_out;                // its linked timeout fired (res is -ETIME)
  // reap_on_wake: the caller awaits exactly this operation and reaps it as
  // soon as it resumes (perform()): it is on neither of the task's lists (the
  // task's awaited_io_ names it while it is in flight). Set before
  // initiation; kept across reuse.
  bool reap_on_wake = false;
  task* owner = nullptr;
  // Stamps of the executor's clock: initiated once admitted, completed once
  // done(), reaped once reaped. Unset before that: a reused record still
  // holds its previous use's, a new one none (do not read them).
  tsc::ticks initiated, completed, reaped;

  // on_cqe, if set, sees every CQE of the operation before the executor does
  // (multishot accept/recv). Returning true means "more will come: keep the
  // operation in flight"; false lets the executor complete it as usual.
  bool (*on_cqe)(io_status& st, std::int32_t res, std::uint32_t flags) = nullptr;
  void* user = nullptr;  // free for the caller and for on_cqe

  // Private to the executor.
  list_node node;                 // owner's in-flight list, then completed list
  __kernel_timespec timeout_ts;   // storage for a linked timeout
};

}  // namespace prio
