#include "sources/near_dead_end.hpp"

#include <gtest/gtest.h>

namespace ar::sources {
namespace {

journal::Summary dead(int id, const std::string& title, const std::string& status = "discard") {
  journal::Summary s;
  s.id = id;
  s.title = title;
  s.status = status;
  return s;
}

TEST(NearDeadEnds, FlagsTheEarliestDeadEndWithMostlyTheSameWords) {
  NearDeadEnds near;
  near.add(dead(1, "Use a larger hash table for the word counts"));
  near.add(dead(2, "Use a larger hash table for the word counts please", "keep"));  // not a dead end
  near.add(dead(3, "use larger hash table for word counts", "checks_failed"));
  // Many dead ends that share only "the" with it, and a cluster of near-identical ones.
  for (int i = 4; i < 2000; ++i) near.add(dead(i, "the quick brown fox jumps v" + std::to_string(i)));
  auto m = near.find("Use a larger hash table for the counts of words");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, 1);
  EXPECT_GE(m->similarity, 0.6);
  EXPECT_FALSE(near.find("Prefetch the next bucket").has_value()) << "sharing only \"the\" is not a repeat";
  auto t = near.find("the quick brown fox jumps v77");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, 4) << "five of seven words shared is over 0.6: the earliest such dead end is named";
  EXPECT_FALSE(near.find("the slow brown cat sits v77").has_value());
}

}  // namespace
}  // namespace ar::sources
