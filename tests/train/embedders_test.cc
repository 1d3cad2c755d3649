// make_embedder / canonical_embedder_config: instruction prefixes on pretrained encoders.
#include "train/embedders.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

constexpr const char* kOpenAi = "openai:url=http://127.0.0.1:9/v1,model=e5,dim=4";

TEST(EmbeddersTest, PrefixesRoundTripThroughTheConfig) {
  const std::string with = std::string(kOpenAi) + ",query_prefix=query: ,passage_prefix=passage: ";
  auto canonical = canonical_embedder_config(with);
  ASSERT_TRUE(canonical.ok()) << canonical.error().to_string();
  auto plain = canonical_embedder_config(kOpenAi);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*canonical, *plain + ",query_prefix=query: ,passage_prefix=passage: ");
  // Prefix items anywhere in the config.
  auto moved = canonical_embedder_config("openai:passage_prefix=passage: ,url=http://127.0.0.1:9/v1,query_prefix=query: ,model=e5,dim=4");
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  EXPECT_EQ(*moved, *canonical);
  auto e = make_embedder(with, {});  // makes no network call
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ((*e)->config(), *canonical);
  auto again = canonical_embedder_config((*e)->config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *canonical);
  auto bare = make_embedder(kOpenAi, {});
  ASSERT_TRUE(bare.ok());
  EXPECT_NE((*e)->model_id(), (*bare)->model_id());
}

TEST(EmbeddersTest, PrefixesOnlyForPretrainedEncoders) {
  for (const char* bad : {"ict:query_prefix=q: ", "sif:passage_prefix=p: "}) {
    auto r = canonical_embedder_config(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("pretrained"), std::string::npos) << r.error().message;
  }
  auto twice = canonical_embedder_config(std::string(kOpenAi) + ",query_prefix=a,query_prefix=b");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos) << twice.error().message;
}

}  // namespace
}  // namespace ragft
