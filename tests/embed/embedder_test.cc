// with_prefixes: instruction prefixes per role, and what they do to model_id and config.
#include "embed/embedder.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

// Records the texts it is asked to embed; each vector is (length of the text, 1).
class RecordingEmbedder final : public Embedder {
 public:
  int dim() const override { return 2; }
  std::string model_id() const override { return "rec"; }
  std::string config() const override { return "rec:x=1"; }
  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override {
    seen.insert(seen.end(), texts.begin(), texts.end());
    out.clear();
    for (const auto& t : texts) {
      out.push_back(static_cast<float>(t.size()));
      out.push_back(1);
    }
    return ok_status();
  }
  std::vector<std::string> seen;
};

TEST(EmbedderTest, PrefixesArePrependedPerRole) {
  auto inner = std::make_unique<RecordingEmbedder>();
  RecordingEmbedder* rec = inner.get();
  auto e = with_prefixes(std::move(inner), {"query: ", "passage: "});
  std::vector<float> out;
  ASSERT_TRUE(e->embed({"red apples"}, EmbedRole::kQuery, out).ok());
  ASSERT_TRUE(e->embed({"apples are red", "pears"}, EmbedRole::kDocument, out).ok());
  EXPECT_EQ(rec->seen, (std::vector<std::string>{"query: red apples", "passage: apples are red", "passage: pears"}));
  EXPECT_EQ(out.size(), 4u);
  EXPECT_FLOAT_EQ(out[0], 23.0f);  // the inner embedder saw the prefixed text
  EXPECT_EQ(e->dim(), 2);
}

TEST(EmbedderTest, OnlyThePassagePrefixChangesTheModelId) {
  auto both = with_prefixes(std::make_unique<RecordingEmbedder>(), {"query: ", "passage: "});
  auto query_only = with_prefixes(std::make_unique<RecordingEmbedder>(), {"query: ", ""});
  EXPECT_EQ(query_only->model_id(), "rec");  // stored (passage) vectors are unchanged
  EXPECT_EQ(both->model_id(), "rec|passage_prefix=passage: ");
  EXPECT_EQ(both->config(), "rec:x=1,query_prefix=query: ,passage_prefix=passage: ");
  EXPECT_EQ(query_only->config(), "rec:x=1,query_prefix=query: ");
  auto none = with_prefixes(std::make_unique<RecordingEmbedder>(), {});
  EXPECT_EQ(none->config(), "rec:x=1");
}

}  // namespace
}  // namespace ragft
