// pairing_heap.hpp: an intrusive min-heap with O(1) insert and O(log n)
// amortised pop and remove; no allocation. The executor keeps its user-space
// timers in one (a sleeping task costs no SQE).
#pragma once

#include <cstddef>
#include <cstdint>

namespace prio {

struct heap_node {
  heap_node* child = nullptr;
  heap_node* sibling = nullptr;
  heap_node* prev = nullptr;  // parent if first child, else left sibling
  std::uint64_t key = 0;
  bool in_heap = false;
};

class pairing_heap {
 public:
  bool empty() const noexcept { return root_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  heap_node* top() const noexcept { return root_; }
  std::uint64_t top_key() const noexcept { return root_->key; }

  // push() inserts n (not already in a heap) with n->key set by the caller.
  void push(heap_node* n) noexcept {
    n->child = n->sibling = n->prev = nullptr;
    n->in_heap = true;
    ++size_;
    root_ = root_ ? meld(root_, n) : n;
  }

  // pop() removes and returns the smallest key, or nullptr when empty.
  heap_node* pop() noexcept {
    heap_node* r = root_;
    if (!r) return nullptr;
    root_ = merge_pairs(r->child);
    if (root_) root_->prev = nullptr;
    r->child = nullptr;
    r->in_heap = false;
    --size_;
    return r;
  }

  // remove() takes n, which must be in this heap, out of it.
  void remove(heap_node* n) noexcept {
    if (n == root_) {
      pop();
      return;
    }
    // Cut n's subtree out of its parent's child list.
    if (n->prev->child == n)
      n->prev->child = n->sibling;
    else
      n->prev->sibling = n->sibling;
    if (n->sibling) n->sibling->prev = n->prev;
    n->sibling = n->prev = nullptr;
    heap_node* rest = merge_pairs(n->child);
    n->child = nullptr;
    n->in_heap = false;
    --size_;
    if (rest) {
      rest->prev = nullptr;
      root_ = meld(root_, rest);
    }
  }

 private:
  // meld() joins two roots (each with no siblings) and returns the new root.
  static heap_node* meld(heap_node* a, heap_node* b) noexcept {
    if (b->key < a->key) {
      heap_node* t = a;
      a = b;
      b = t;
    }
    b->prev = a;
    b->sibling = a->child;
    if (a->child) a->child->prev = b;
    a->child = b;
    a->sibling = nullptr;
    return a;
  }
  // merge_pairs() is the standard two-pass combine of a sibling list; the loop
  // is bounded by the number of children of the removed node.
  static heap_node* merge_pairs(heap_node* first) noexcept {
    if (!first) return nullptr;
    // Pass 1: meld pairs left to right, chaining results through `prev`.
    heap_node* last = nullptr;
    while (first) {
      heap_node* a = first;
      heap_node* b = a->sibling;
      if (!b) {
        a->sibling = nullptr;
        a->prev = last;
        last = a;
        break;
      }
      first = b->sibling;
      a->sibling = b->sibling = nullptr;
      heap_node* m = meld(a, b);
      m->prev = last;
      last = m;
    }
    // Pass 2: meld right to left.
    heap_node* r = last;
    heap_node* p = r->prev;
    r->prev = nullptr;
    while (p) {
      heap_node* next = p->prev;
      p->prev = nullptr;
      r = meld(r, p);
      p = next;
    }
    return r;
  }

  heap_node* root_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace prio
