#include "embed/bert_embedder_options.h"

#include <gtest/gtest.h>

#include <string>

namespace ragft {
namespace {

void expect_invalid(const std::string& config, const std::string& mentions) {
  auto r = BertEmbedderOptions::parse(config);
  ASSERT_FALSE(r.ok()) << config;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << config;
  EXPECT_NE(r.error().message.find(mentions), std::string::npos) << config << ": " << r.error().message;
}

TEST(BertEmbedderOptionsTest, DefaultsAndRoundTrip) {
  BertEmbedderOptions o;
  o.path = "/models/bge-small";
  EXPECT_EQ(o.to_config(), "bert:path=/models/bge-small,pool=mean,batch=32,maxlen=256,dtype=fp32,threads=0");
  BertEmbedderOptions x = o;
  x.pool = "cls";
  x.batch = 8;
  x.max_len = 128;
  x.dtype = "int8";
  x.threads = 2;
  for (const BertEmbedderOptions& y : {o, x}) {
    auto p = BertEmbedderOptions::parse(y.to_config());
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    EXPECT_EQ(p->to_config(), y.to_config());
  }
  auto bf16 = BertEmbedderOptions::parse("bert:path=m,dtype=bf16");
  ASSERT_TRUE(bf16.ok());
  EXPECT_EQ(bf16->dtype, "bf16");
}

TEST(BertEmbedderOptionsTest, AnyOrderAndDefaults) {
  auto p = BertEmbedderOptions::parse("bert:maxlen=64,pool=cls,path=/tmp/ck dir/model");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->path, "/tmp/ck dir/model");
  EXPECT_EQ(p->pool, "cls");
  EXPECT_EQ(p->max_len, 64);
  EXPECT_EQ(p->batch, 32);
  EXPECT_EQ(p->dtype, "fp32");
  EXPECT_EQ(p->threads, 0);
  auto bare = BertEmbedderOptions::parse("path=ck,batch=4");  // without the kind
  ASSERT_TRUE(bare.ok()) << bare.error().to_string();
  EXPECT_EQ(bare->path, "ck");
  EXPECT_EQ(bare->batch, 4);
}

TEST(BertEmbedderOptionsTest, BadConfigsNameTheKey) {
  expect_invalid("bert:pool=mean", "path");
  expect_invalid("bert", "path");
  expect_invalid("bert:path=", "path");
  expect_invalid("bert:path=m,depth=3", "depth");
  expect_invalid("bert:path=m,pool=max", "pool");
  expect_invalid("bert:path=m,batch=0", "batch");
  expect_invalid("bert:path=m,batch=many", "batch");
  expect_invalid("bert:path=m,maxlen=1", "maxlen");
  expect_invalid("bert:path=m,maxlen=12x", "maxlen");
  expect_invalid("bert:path=m,dtype=fp16", "dtype");
  expect_invalid("bert:path=m,threads=-1", "threads");
  expect_invalid("bert:path=m,max_len=8", "max_len");  // the key is maxlen
}

TEST(BertEmbedderOptionsTest, CommaInPathIsExplained) {
  expect_invalid("bert:path=/models/a,b,pool=mean", "may not contain ','");
  expect_invalid("bert:path=/models/a,b=c,pool=mean", "may not contain ','");
}

}  // namespace
}  // namespace ragft
