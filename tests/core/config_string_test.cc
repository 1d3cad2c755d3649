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
