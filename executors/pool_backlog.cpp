// pool_backlog.cpp: the records and FIFOs of a pool's held-back callables.
#include "prio/executors/pool_backlog.hpp"

namespace prio::detail {

pool_backlog::~pool_backlog() { (void)withdraw_all(); }

bool pool_backlog::queued(switcher_kind k) const noexcept {
  for (const fifo& f : fifos_[static_cast<int>(k)])
    if (!f.empty()) return true;
  return false;
}

result<backlog_job*> pool_backlog::push(switcher_kind k, priority cpu, priority io, void* src,
                                        const callable_ops* ops) noexcept {
  backlog_job* j = free_.pop_front();
  if (!j) {
    try {
      all_.push_back(std::make_unique<backlog_job>(this));
    } catch (const std::bad_alloc&) {
      return failure(errno_error(ENOMEM));
    }
    j = all_.back().get();
  }
  ops->move_into(j->callable, src);
  j->ops = ops;
  j->st = backlog_job::state::queued;
  j->kind = k;
  j->cpu = cpu;
  j->io = io;
  j->seq = ++last_seq_;
  j->t = nullptr;
  j->submission = 0;
  fifos_[static_cast<int>(k)][index(cpu)].push_back(*j);
  return j;
}

backlog_job* pool_backlog::pop(switcher_kind k) noexcept {
  for (fifo& f : fifos_[static_cast<int>(k)]) {
    if (backlog_job* j = f.pop_front()) {
      retract(k);
      return j;
    }
  }
  return nullptr;
}

void pool_backlog::withdraw(backlog_job& j) noexcept {
  fifos_[static_cast<int>(j.kind)][index(j.cpu)].remove(j);
  retract(j.kind);
  j.ops->destroy(j.callable);
  release(j);
}

std::size_t pool_backlog::withdraw_all() noexcept {
  std::size_t n = 0;
  for (auto& kind : fifos_)
    for (fifo& f : kind)
      while (backlog_job* j = f.front()) {
        withdraw(*j);
        ++n;
      }
  return n;
}

void pool_backlog::release(backlog_job& j) noexcept {
  j.st = backlog_job::state::free;
  j.ops = nullptr;
  j.t = nullptr;
  free_.push_back(j);
}

std::size_t pool_backlog::queued_jobs() const noexcept {
  std::size_t n = 0;
  for (const auto& kind : fifos_)
    for (const fifo& f : kind) n += f.size();
  return n;
}

}  // namespace prio::detail
