// pool_backlog.hpp: callables a pool holds back while every pooled task of
// their switcher kind is out (pool_options::max_pooled_tasks).
//
// A submitted callable normally moves straight into a pooled task. Once a
// switcher kind has max_pooled_tasks tasks and none is free, pool::submit()
// moves the callable into a backlog_job instead, queued by CPU priority;
// the first pooled task of that kind to complete takes the highest-priority
// one (FIFO within a level) and is submitted with it. Held jobs count in the
// dispatcher's submitted and undispatched figures (work_dispatcher::hold()).
//
// Everything here is guarded by lock(), except waiting(k): a count the
// submit and completion fast paths read to know whether to take the lock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "prio/context/context.hpp"
#include "prio/executors/priority.hpp"
#include "prio/executors/executor.hpp"  // task.hpp with its inline part
#include "prio/runtime/intrusive.hpp"
#include "prio/runtime/result.hpp"

namespace prio::detail {

// callable_ops: what the backlog needs to do with a pool's callable wrapper W
// without knowing its type.
struct callable_ops {
  void (*move_into)(void* dst, void* src) noexcept;  // move-construct a W at dst from src
  void (*install)(void* src, task& t) noexcept;      // t.set_body(std::move(*src))
  void (*destroy)(void* p) noexcept;                 // ~W()
};

template <class W>
inline constexpr callable_ops callable_ops_for{
    [](void* dst, void* src) noexcept { ::new (dst) W(std::move(*static_cast<W*>(src))); },
    [](void* src, task& t) noexcept { t.set_body(std::move(*static_cast<W*>(src))); },
    [](void* p) noexcept { static_cast<W*>(p)->~W(); },
};

class pool_backlog;

struct backlog_job {
  enum class state : std::uint8_t { free, queued, installed };
  explicit backlog_job(const pool_backlog* o) noexcept : owner(o) {}
  const pool_backlog* const owner;  // the backlog that made it (fixed)
  list_node node;  // in its FIFO while queued, in the free records while free
  alignas(std::max_align_t) unsigned char callable[task::inline_capacity];
  const callable_ops* ops = nullptr;
  state st = state::free;
  switcher_kind kind = switcher_kind::none;
  priority cpu = priority::normal;
  priority io = priority::normal;
  std::uint64_t seq = 0;  // the job handle's number while not free (never 0)
  // Once installed: the pooled task it runs in and that submission's number.
  task* t = nullptr;
  std::uint64_t submission = 0;
};

class pool_backlog {
 public:
  pool_backlog() = default;
  // ~pool_backlog() destroys the callables still queued, unrun.
  ~pool_backlog();
  pool_backlog(const pool_backlog&) = delete;
  pool_backlog& operator=(const pool_backlog&) = delete;

  std::mutex& lock() noexcept { return mu_; }

  // waiting(k): jobs of kind k queued, plus submitters of kind k inside the
  // lock (announce()). Read without the lock by the fast paths: a submit
  // that sees 0 may take a free task directly; a completion that pushed its
  // task to the free list, fenced, and sees 0 leaves it there (every
  // submitter announces itself before it looks at the free list).
  std::size_t waiting(switcher_kind k) const noexcept {
    return count_[static_cast<int>(k)].load(std::memory_order_relaxed);
  }
  void announce(switcher_kind k) noexcept { count_[static_cast<int>(k)].fetch_add(1, std::memory_order_seq_cst); }
  void retract(switcher_kind k) noexcept { count_[static_cast<int>(k)].fetch_sub(1, std::memory_order_seq_cst); }

  // Under lock():
  // queued(k) says whether jobs of kind k are queued.
  bool queued(switcher_kind k) const noexcept;
  // push() queues a new job holding src (moved in through ops); it keeps the
  // caller's announcement as its count. ENOMEM if no record can be made.
  result<backlog_job*> push(switcher_kind k, priority cpu, priority io, void* src,
                            const callable_ops* ops) noexcept;
  // pop() takes kind k's highest-priority job out of its FIFO (its count
  // goes), or nullptr.
  backlog_job* pop(switcher_kind k) noexcept;
  // withdraw() takes a queued job out and destroys its callable unrun;
  // withdraw_all() does it to every queued job and returns how many.
  void withdraw(backlog_job& j) noexcept;
  std::size_t withdraw_all() noexcept;
  // release() makes a job's record free again (its number is spent).
  void release(backlog_job& j) noexcept;
  // queued_jobs() is how many jobs wait, all kinds.
  std::size_t queued_jobs() const noexcept;

 private:
  using fifo = intrusive_list<backlog_job, &backlog_job::node>;
  std::mutex mu_;
  std::array<std::array<fifo, priority_count>, switcher_kind_count> fifos_;
  fifo free_;
  std::vector<std::unique_ptr<backlog_job>> all_;
  std::uint64_t last_seq_ = 0;
  std::atomic<std::size_t> count_[switcher_kind_count] = {};
};

}  // namespace prio::detail
