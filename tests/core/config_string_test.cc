#include "core/config_string.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

using Items = std::vector<std::pair<std::string, std::string>>;

TEST(ConfigItemsTest, SplitsKeyValueItemsWithOrWithoutTheKind) {
  auto a = config_items("neural:lr=0.1,widths=1|2,,arch=cnn", "neural");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Items{{"lr", "0.1"}, {"widths", "1|2"}, {"arch", "cnn"}}));
  auto b = config_items("lr=0.1", "neural");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Items{{"lr", "0.1"}}));
  auto c = config_items("neural", "neural");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->empty());
  // Another kind's prefix is not removed: its first key keeps the prefix and fails later.
  auto d = config_items("neuralx:a=1", "neural");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->front().first, "neuralx:a");
  auto e = config_items("k=", "x");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, (Items{{"k", ""}}));
}

TEST(ConfigItemsTest, AnItemWithoutEqualsIsInvalid) {
  auto r = config_items("neural:lr=0.1,dropout", "neural");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("\"dropout\""), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ragft

namespace ragft {
namespace {

TEST(ConfigNumbers, IntegersWithinRange) {
  EXPECT_EQ(*config_int("k", "n", "42", 1, 100), 42);
  EXPECT_EQ(*config_int("k", "n", "-3", -5, 5), -3);
  for (const char* bad : {"", "4x", "1.5", "101", "0", " 4"}) {
    auto r = config_int("k", "n", bad, 1, 100);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("k option n="), std::string::npos) << r.error().message;
  }
}

TEST(ConfigNumbers, DoublesWithinRange) {
  EXPECT_DOUBLE_EQ(*config_double("k", "lr", "0.05", 0, 1), 0.05);
  EXPECT_DOUBLE_EQ(*config_double("k", "lr", "1e-3", 0, 1), 0.001);
  for (const char* bad : {"", "x", "0.5.1", "nan", "inf", "2", "-0.1", "0.1 "}) {
    EXPECT_FALSE(config_double("k", "lr", bad, 0, 1).ok()) << bad;
  }
}

TEST(NestedConfig, SplitsAtTheNestedKind) {
  auto a = split_nested_config("sif:dim=100,analyzer:lang=english,stop=none", "analyzer");
  EXPECT_EQ(a.head, "sif:dim=100");
  EXPECT_EQ(a.nested, "analyzer:lang=english,stop=none");
  auto b = split_nested_config("sif:analyzer:lang=english", "analyzer");
  EXPECT_EQ(b.head, "sif");
  EXPECT_EQ(b.nested, "analyzer:lang=english");
  auto c = split_nested_config("sif:dim=100", "analyzer");
  EXPECT_EQ(c.head, "sif:dim=100");
  EXPECT_TRUE(c.nested.empty());
  // "analyzer:" inside a value is not a nested config.
  auto d = split_nested_config("x:name=myanalyzer:1", "analyzer");
  EXPECT_EQ(d.head, "x:name=myanalyzer:1");
  EXPECT_TRUE(d.nested.empty());
}

}  // namespace
}  // namespace ragft
