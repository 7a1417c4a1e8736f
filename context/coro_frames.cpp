// coro_frames.cpp: the per-thread recycling allocator of coroutine frames.
//
// Frames are grouped in 64-byte size classes up to 4 KiB; each thread keeps
// a bounded LIFO free list per class, so a warm thread creates coroutines
// without malloc. Larger frames go straight to operator new.
#include <cstdint>
#include <new>

#include "prio/context/coro.hpp"

namespace prio::detail {
namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 64;  // up to 64 * 64 = 4 KiB
constexpr std::uint32_t max_per_class = 1024;

struct free_frame {
  free_frame* next;
};

struct free_lists {
  free_frame* head[classes];
  std::uint32_t count[classes];
  bool registered;  // the reaper below will drain us at thread exit
  bool dead;        // drained: free straight to operator delete from now on
};

constinit thread_local free_lists lists{};

// reaper drains the lists when its thread exits.
struct reaper {
  ~reaper() {
    for (std::size_t c = 0; c < classes; ++c) {
      while (free_frame* f = lists.head[c]) {
        lists.head[c] = f->next;
        ::operator delete(f);
      }
      lists.count[c] = 0;
    }
    lists.dead = true;
  }
};
thread_local reaper the_reaper;

std::size_t class_of(std::size_t bytes) noexcept { return (bytes + granule - 1) / granule - 1; }

}  // namespace

void* coro_frame_alloc(std::size_t bytes) {
  const std::size_t c = class_of(bytes);
  if (c < classes) {
    if (free_frame* f = lists.head[c]) [[likely]] {
      lists.head[c] = f->next;
      --lists.count[c];
      return f;
    }
    if (!lists.registered && !lists.dead) {
      lists.registered = true;
      [[maybe_unused]] reaper* volatile touch = &the_reaper;  // registers its destructor
    }
    return ::operator new((c + 1) * granule);
  }
  return ::operator new(bytes);
}

void coro_frame_free(void* p, std::size_t bytes) noexcept {
  const std::size_t c = class_of(bytes);
  if (c < classes && lists.count[c] < max_per_class && lists.registered && !lists.dead) {
    auto* f = static_cast<free_frame*>(p);
    f->next = lists.head[c];
    lists.head[c] = f;
    ++lists.count[c];
    return;
  }
  ::operator delete(p);
}

}  // namespace prio::detail
