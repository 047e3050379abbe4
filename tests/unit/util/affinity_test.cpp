// benchmark.cpus: CPU lists and the pinning plan (util/affinity.hpp).

#include "util/affinity.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ar::util {
namespace {

TEST(CpuList, ParsesRangesAndLists) {
  EXPECT_EQ(parse_cpu_list("2-3"), (std::vector<int>{2, 3}));
  EXPECT_EQ(parse_cpu_list("0,2,4-5"), (std::vector<int>{0, 2, 4, 5}));
  EXPECT_EQ(parse_cpu_list("5,1-2,2"), (std::vector<int>{1, 2, 5}));
  EXPECT_EQ(parse_cpu_list("7"), (std::vector<int>{7}));
  for (const char* bad : {"", "a", "3-1", "1,", ",1", "1-", "-1", "1 - 2", "99999"})
    EXPECT_FALSE(parse_cpu_list(bad).has_value()) << bad;
  EXPECT_EQ(cpu_list_text({0, 1, 2, 3, 6}), "0-3,6");
  EXPECT_EQ(cpu_list_text({1, 3}), "1,3");
  EXPECT_EQ(cpu_list_text({}), "");
}

TEST(CpuPinning, AutoKeepsOneCpuForTheLoopFromFourOn) {
  const Pinning eight = plan_pinning("auto", {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(eight.benchmark, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(eight.orchestrator, (std::vector<int>{0}));
  // Two CPUs (this machine's kind): a set, not a single CPU, and the loop stays put.
  const Pinning two = plan_pinning("auto", {0, 1});
  EXPECT_EQ(two.benchmark, (std::vector<int>{0, 1}));
  EXPECT_TRUE(two.orchestrator.empty());
  EXPECT_TRUE(plan_pinning("auto", {}).benchmark.empty()) << "unknown: unpinned";
}

TEST(CpuPinning, AllAndAnExplicitSet) {
  const Pinning all = plan_pinning("all", {0, 1, 2, 3});
  EXPECT_EQ(all.benchmark, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(all.orchestrator.empty());
  const Pinning set = plan_pinning("2-3", {0, 1, 2, 3});
  EXPECT_EQ(set.benchmark, (std::vector<int>{2, 3}));
  EXPECT_EQ(set.orchestrator, (std::vector<int>{0, 1}));
  const Pinning single = plan_pinning("1", {0, 1});
  EXPECT_EQ(single.benchmark, (std::vector<int>{1}));
  EXPECT_EQ(single.orchestrator, (std::vector<int>{0}));
  EXPECT_EQ(plan_pinning("4", {0, 1}).error, "CPU 4 is not one this process may use (0-1)");
  EXPECT_FALSE(plan_pinning("x", {0, 1}).error.empty());
}

TEST(CpuPinning, TheProcessMayReadAndKeepItsOwnSet) {
  const std::vector<int> mine = allowed_cpus();
  ASSERT_FALSE(mine.empty());
  EXPECT_TRUE(set_affinity(mine));
  EXPECT_EQ(allowed_cpus(), mine);
}

}  // namespace
}  // namespace ar::util
