// seqlock.hpp: a value one thread publishes and any thread reads, without a
// lock and without the writer ever waiting.
//
// seqlock_cell<T> holds a copy of a trivially copyable T made of 8-byte
// words. publish() (one writer thread only) stores a new copy; read() (any
// thread) returns a copy that was published whole, retrying while a publish
// is in progress. Every word is an atomic: fence-free seqlock, the writer's
// word stores are releases and the reader's word loads acquires, so a reader
// that sees any word of a newer copy also sees the sequence number that
// makes it retry (plain moves on x86-64; TSan sees no race).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>

namespace prio {

template <class T>
class seqlock_cell {
  static_assert(std::is_trivially_copyable_v<T>, "seqlock_cell copies T word by word");
  static_assert(sizeof(T) % sizeof(std::uint64_t) == 0, "T must be a whole number of 8-byte words");
  static constexpr std::size_t words = sizeof(T) / sizeof(std::uint64_t);

 public:
  seqlock_cell() noexcept {
    for (auto& w : words_) w.store(0, std::memory_order_relaxed);
  }
  seqlock_cell(const seqlock_cell&) = delete;
  seqlock_cell& operator=(const seqlock_cell&) = delete;

  // publish(): the writer's thread only (one writer at a time).
  void publish(const T& value) noexcept {
    std::uint64_t v[words];
    std::memcpy(v, &value, sizeof(T));
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);  // odd: a copy in progress
    for (std::size_t i = 0; i < words; ++i) words_[i].store(v[i], std::memory_order_release);
    seq_.store(s + 2, std::memory_order_release);
  }

  // read(): any thread. Retries while a publish is under way; a writer
  // preempted mid-copy is waited for with yields, not a busy spin.
  T read() const noexcept {
    std::uint64_t v[words];
    for (unsigned tries = 0;; ++tries) {
      const std::uint64_t s = seq_.load(std::memory_order_acquire);
      if ((s & 1) == 0) {
        for (std::size_t i = 0; i < words; ++i) v[i] = words_[i].load(std::memory_order_acquire);
        if (seq_.load(std::memory_order_relaxed) == s) break;
      }
      if (tries >= 64) std::this_thread::yield();
    }
    T out;
    std::memcpy(&out, v, sizeof(T));
    return out;
  }

  // version() counts the publishes so far (any thread).
  std::uint64_t version() const noexcept { return seq_.load(std::memory_order_acquire) / 2; }

 private:
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint64_t> words_[words];
};

}  // namespace prio
