// Description: intrusive_list keeps FIFO order through push, pop and remove
// with a correct size; mpsc_queue delivers every element pushed by four
// concurrent producers exactly once, in per-producer FIFO order.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "prio/runtime/intrusive.hpp"

namespace {

struct item {
  item() = default;
  explicit item(int v) : value(v) {}
  int value = 0;
  prio::list_node node;
  prio::mpsc_node mpsc;
};

using item_list = prio::intrusive_list<item, &item::node>;
using item_queue = prio::mpsc_queue<item, &item::mpsc>;

std::vector<int> contents(const item_list& l) {
  std::vector<int> out;
  l.for_each([&](item& i) { out.push_back(i.value); });
  return out;
}

TEST(IntrusiveList, PushPopOrderAndSize) {
  item a{1}, b{2}, c{3};
  item_list l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.pop_front(), nullptr);
  EXPECT_EQ(l.front(), nullptr);
  l.push_back(a);
  l.push_back(b);
  l.push_front(c);
  EXPECT_EQ(l.size(), 3u);
  EXPECT_TRUE(a.node.linked());
  EXPECT_EQ(contents(l), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(l.front(), &c);
  EXPECT_EQ(l.back(), &b);
  EXPECT_EQ(l.next(c), &a);
  EXPECT_EQ(l.next(b), nullptr);
  EXPECT_EQ(l.pop_front(), &c);
  EXPECT_FALSE(c.node.linked());
  EXPECT_EQ(l.pop_front(), &a);
  EXPECT_EQ(l.pop_front(), &b);
  EXPECT_EQ(l.pop_front(), nullptr);
  EXPECT_EQ(l.size(), 0u);
}

TEST(IntrusiveList, RemoveAnywhere) {
  item it[5];
  item_list l;
  for (int i = 0; i < 5; ++i) {
    it[i].value = i;
    l.push_back(it[i]);
  }
  l.remove(it[2]);  // middle
  l.remove(it[0]);  // head
  l.remove(it[4]);  // tail
  EXPECT_FALSE(it[2].node.linked());
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(contents(l), (std::vector<int>{1, 3}));
  l.push_back(it[2]);  // a removed node can be re-linked
  EXPECT_EQ(contents(l), (std::vector<int>{1, 3, 2}));
}

TEST(IntrusiveList, ForEachMayUnlinkCurrent) {
  item it[6];
  item_list l;
  for (int i = 0; i < 6; ++i) {
    it[i].value = i;
    l.push_back(it[i]);
  }
  l.for_each([&](item& i) {
    if (i.value % 2 == 0) l.remove(i);
  });
  EXPECT_EQ(contents(l), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(l.size(), 3u);
}

TEST(MpscQueue, SingleThreadFifo) {
  item it[3];
  item_queue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop(), nullptr);
  for (int i = 0; i < 3; ++i) {
    it[i].value = i;
    q.push(it[i]);
  }
  EXPECT_FALSE(q.empty());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.pop(), &it[i]);
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
  q.push(it[1]);  // reuse after draining
  EXPECT_EQ(q.pop(), &it[1]);
}

// Four producers push 100000 items each while the consumer pops; the consumer
// checks each producer's sequence arrives in order and nothing is lost or
// duplicated. The consumer stops on the count, never on a timer.
TEST(MpscQueue, FourProducersEachItemOnceInProducerOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 100000;
  std::vector<item> items(static_cast<std::size_t>(kProducers) * kPerProducer);
  for (int p = 0; p < kProducers; ++p)
    for (int i = 0; i < kPerProducer; ++i) items[p * kPerProducer + i].value = p * kPerProducer + i;

  item_queue q;
  std::atomic<int> ready{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      ready.fetch_add(1);
      while (ready.load() < kProducers) {
      }
      for (int i = 0; i < kPerProducer; ++i) q.push(items[p * kPerProducer + i]);
    });
  }

  std::vector<int> next(kProducers, 0);
  std::vector<unsigned char> seen(items.size(), 0);
  int popped = 0;
  while (popped < kProducers * kPerProducer) {
    item* it = q.pop();
    if (it == nullptr) {
      std::this_thread::yield();
      continue;
    }
    const int p = it->value / kPerProducer;
    const int seq = it->value % kPerProducer;
    ASSERT_EQ(seen[it->value], 0) << "item " << it->value << " popped twice";
    seen[it->value] = 1;
    ASSERT_EQ(seq, next[p]) << "producer " << p << " out of order";
    ++next[p];
    ++popped;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
}

}  // namespace
