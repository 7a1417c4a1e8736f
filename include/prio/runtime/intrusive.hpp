// intrusive.hpp: allocation-free containers whose links live in the elements.
//
// intrusive_list<T, &T::node>  doubly linked FIFO/list, O(1) push, pop and
//                              remove; single-threaded.
// mpsc_queue<T, &T::mpsc>      multi-producer single-consumer queue: push()
//                              is wait-free from any thread, pop() belongs to
//                              one consumer thread (Vyukov's intrusive design).
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>

namespace prio {

// member_offset<T, M, P>() is the byte offset of member P within T (T must not
// be polymorphic). Computed on static storage, never through a null pointer.
template <class T, class M, M T::*P>
std::size_t member_offset() noexcept {
  alignas(T) static unsigned char storage[sizeof(T)];
  T* p = reinterpret_cast<T*>(storage);
  return static_cast<std::size_t>(reinterpret_cast<unsigned char*>(&(p->*P)) - storage);
}

struct list_node {
  list_node* prev = nullptr;
  list_node* next = nullptr;
  // linked() is true while the node is in some intrusive_list.
  bool linked() const noexcept { return next != nullptr; }
};

template <class T, list_node T::*Node>
class intrusive_list {
 public:
  intrusive_list() noexcept { head_.prev = head_.next = &head_; }
  intrusive_list(const intrusive_list&) = delete;
  intrusive_list& operator=(const intrusive_list&) = delete;

  bool empty() const noexcept { return head_.next == &head_; }
  std::size_t size() const noexcept { return size_; }

  T* front() const noexcept { return empty() ? nullptr : owner(head_.next); }
  T* back() const noexcept { return empty() ? nullptr : owner(head_.prev); }

  void push_back(T& v) noexcept { link_before(&head_, &(v.*Node)); }
  void push_front(T& v) noexcept { link_before(head_.next, &(v.*Node)); }

  T* pop_front() noexcept {
    if (empty()) return nullptr;
    list_node* n = head_.next;
    unlink(n);
    return owner(n);
  }

  // remove() unlinks v, which must be in this list.
  void remove(T& v) noexcept { unlink(&(v.*Node)); }

  // next() is the element after v, or nullptr at the end.
  T* next(const T& v) const noexcept {
    list_node* n = (v.*Node).next;
    return n == &head_ ? nullptr : owner(n);
  }

  template <class F>
  void for_each(F&& f) const {
    for (list_node* n = head_.next; n != &head_;) {
      list_node* nx = n->next;  // f may unlink n
      f(*owner(n));
      n = nx;
    }
  }

 private:
  static T* owner(const list_node* n) noexcept {
    return reinterpret_cast<T*>(reinterpret_cast<char*>(const_cast<list_node*>(n)) -
                                member_offset<T, list_node, Node>());
  }
  void link_before(list_node* pos, list_node* n) noexcept {
    assert(!n->linked() && "node is already in a list");
    n->next = pos;
    n->prev = pos->prev;
    pos->prev->next = n;
    pos->prev = n;
    ++size_;
  }
  void unlink(list_node* n) noexcept {
    assert(n->linked());
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = nullptr;
    --size_;
  }

  list_node head_;
  std::size_t size_ = 0;
};

struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

template <class T, mpsc_node T::*Node>
class mpsc_queue {
 public:
  mpsc_queue() noexcept : head_(&stub_), tail_(&stub_) {}
  mpsc_queue(const mpsc_queue&) = delete;
  mpsc_queue& operator=(const mpsc_queue&) = delete;

  // push() appends v; wait-free, callable from any thread.
  void push(T& v) noexcept { push_node(&(v.*Node)); }

  // push_all() appends items[0..n) in order with one exchange; wait-free,
  // callable from any thread. The items must not be in any queue.
  template <class It>
  void push_all(It first, It last) noexcept {
    if (first == last) return;
    mpsc_node* head = &((*first)->*Node);
    mpsc_node* tail = head;
    for (It it = first + 1; it != last; ++it) {
      mpsc_node* n = &((*it)->*Node);
      tail->next.store(n, std::memory_order_relaxed);
      tail = n;
    }
    push_chain(head, tail);
  }

  // pop() removes the oldest element, or returns nullptr when the queue is
  // empty or a producer is between its two steps (the element then appears
  // on a later pop). Consumer thread only.
  T* pop() noexcept {
    mpsc_node* n = pop_node();
    return n ? element_of(n) : nullptr;
  }

  // push_marker() queues a node that belongs to no T: a marker the consumer
  // recognises by its address in pop_node() before any element_of().
  void push_marker(mpsc_node& n) noexcept { push_node(&n); }
  // pop_node() is pop() without the conversion to T.
  mpsc_node* pop_node() noexcept {
    mpsc_node* tail = tail_;
    mpsc_node* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;  // producer mid-push
    push_node(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }
  static T* element_of(mpsc_node* n) noexcept {
    return reinterpret_cast<T*>(reinterpret_cast<char*>(n) - member_offset<T, mpsc_node, Node>());
  }

  // maybe_nonempty() is the consumer's cheap check: false only when no push
  // has begun since the queue was drained. A push between its two steps
  // counts as queued, so a consumer that finds false after publishing that
  // it sleeps (seq_cst) cannot miss a producer that then checks (the
  // producer's exchange is seq_cst too).
  bool maybe_nonempty() const noexcept { return head_.load(std::memory_order_seq_cst) != tail_; }

  // visibly_nonempty() reads only the consumer's end (tail and stub, one
  // line): true when an element is linked there. For a consumer that polls
  // often: unlike maybe_nonempty() it does not pull the producers' head line
  // away from them on every poll. Blind to a push between its two steps, so
  // check maybe_nonempty() before sleeping.
  bool visibly_nonempty() const noexcept {
    return tail_ != &stub_ || stub_.next.load(std::memory_order_acquire) != nullptr;
  }

  // empty() is a consumer-side hint: true if nothing is queued, not even a
  // push between its two steps.
  bool empty() const noexcept { return !visibly_nonempty() && !maybe_nonempty(); }

 private:
  void push_node(mpsc_node* n) noexcept { push_chain(n, n); }
  // push_chain() appends the linked nodes first..last with one exchange.
  void push_chain(mpsc_node* first, mpsc_node* last) noexcept {
    last->next.store(nullptr, std::memory_order_relaxed);
    mpsc_node* prev = head_.exchange(last, std::memory_order_seq_cst);
    prev->next.store(first, std::memory_order_release);
  }

  alignas(64) std::atomic<mpsc_node*> head_;  // producers
  alignas(64) mpsc_node* tail_;               // consumer
  mpsc_node stub_;
};

}  // namespace prio
