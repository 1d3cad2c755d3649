// SearchSlots (serve/search_slots.h): at most `slots` holders at once, and a freed slot goes to
// the longest waiting request, in arrival order. Synchronised on waiting(), never on time.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/search_slots.h"

namespace ragft::serve {
namespace {

void wait_until(const std::function<bool()>& done) {
  while (!done()) std::this_thread::yield();
}

TEST(SearchSlotsTest, NeverMoreHoldersThanSlots) {
  SearchSlots slots(3);
  std::atomic<int> inside{0}, most{0}, passes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        SearchSlots::Hold hold(slots);
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        inside.fetch_sub(1);
        passes.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(passes.load(), 12 * 200);
  EXPECT_GE(most.load(), 1);
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(slots.held(), 0u);
  EXPECT_EQ(slots.waiting(), 0u);
}

TEST(SearchSlotsTest, FreedSlotsGoToWaitersInArrivalOrder) {
  SearchSlots slots(2);
  auto a = std::make_unique<SearchSlots::Hold>(slots);
  auto b = std::make_unique<SearchSlots::Hold>(slots);
  EXPECT_EQ(slots.held(), 2u);
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int id = 0; id < 6; ++id) {
    waiters.emplace_back([&, id] {
      SearchSlots::Hold hold(slots);
      std::lock_guard lock(mu);
      order.push_back(id);
    });
    // The next one starts only once this one waits, so arrival order is 0, 1, 2, ...
    wait_until([&] { return slots.waiting() == static_cast<std::size_t>(id) + 1; });
  }
  EXPECT_EQ(slots.held(), 2u);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(order.empty()) << "a waiter got a slot while both were held";
  }
  a.reset();  // one slot: the waiters pass it on, one after another, in arrival order
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(slots.held(), 1u);  // b's
  b.reset();
  EXPECT_EQ(slots.held(), 0u);

  // A newcomer does not overtake a waiter: with both slots held and one waiter, a freed slot
  // goes to the waiter, and the newcomer waits behind it.
  auto c = std::make_unique<SearchSlots::Hold>(slots);
  auto d = std::make_unique<SearchSlots::Hold>(slots);
  order.clear();
  std::thread first([&] {
    SearchSlots::Hold hold(slots);
    std::lock_guard lock(mu);
    order.push_back(1);
  });
  wait_until([&] { return slots.waiting() == 1; });
  std::thread second([&] {
    SearchSlots::Hold hold(slots);
    std::lock_guard lock(mu);
    order.push_back(2);
  });
  wait_until([&] { return slots.waiting() == 2; });
  c.reset();
  first.join();
  second.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  d.reset();
  EXPECT_EQ(slots.held(), 0u);
}

}  // namespace
}  // namespace ragft::serve
