#include "core/result.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ragft {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return make_error(ErrorCode::kInvalidArgument, "value {} must be > 0", x);
  return x;
}

// Doubles via RAGFT_TRY; `reached_end` shows whether the code after the TRY ran.
Result<int> doubled(int x, bool* reached_end) {
  RAGFT_TRY(int v, parse_positive(x));
  *reached_end = true;
  return v * 2;
}

Status check_positive(int x) {
  RAGFT_TRY(auto v, parse_positive(x));
  (void)v;
  return ok_status();
}

Status two_checks(int a, int b, int* steps) {
  RAGFT_TRY_STATUS(check_positive(a));
  ++*steps;
  RAGFT_TRY_STATUS(check_positive(b));
  ++*steps;
  return ok_status();
}

// Two RAGFT_TRY on different lines in one scope must not collide.
Result<int> sum_two(int a, int b) {
  RAGFT_TRY(int x, parse_positive(a));
  RAGFT_TRY(int y, parse_positive(b));
  return x + y;
}

Result<std::unique_ptr<int>> make_box(int v) { return std::make_unique<int>(v); }

Result<int> unbox(int v) {
  RAGFT_TRY(std::unique_ptr<int> p, make_box(v));  // move-only value goes through TRY
  return *p;
}

TEST(ResultTest, HoldsValue) {
  Result<std::string> r = std::string("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), "abc");
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(r->size(), 3u);
  r.value() += "d";
  EXPECT_EQ(*r, "abcd");
  std::string moved = std::move(r).value();
  EXPECT_EQ(moved, "abcd");
}

TEST(ResultTest, HoldsError) {
  Result<int> r = make_error(ErrorCode::kNotFound, "doc {} missing in {}", 7, "a.db");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "doc 7 missing in a.db");
  Error e = r.take_error();
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.message, "doc 7 missing in a.db");
}

TEST(ResultTest, StatusOkAndError) {
  Status ok = ok_status();
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  Status bad = make_error(ErrorCode::kCorrupt, "bad magic");
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(bad.take_error().message, "bad magic");
}

TEST(ResultTest, TryPropagatesValue) {
  bool reached = false;
  Result<int> r = doubled(21, &reached);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(reached);
}

TEST(ResultTest, TryPropagatesErrorAndStopsEarly) {
  bool reached = false;
  Result<int> r = doubled(-3, &reached);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "value -3 must be > 0");
  EXPECT_FALSE(reached);
}

TEST(ResultTest, TryIntoStatusFunction) {
  EXPECT_TRUE(check_positive(1).ok());
  Status s = check_positive(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST(ResultTest, TryStatusPropagates) {
  int steps = 0;
  EXPECT_TRUE(two_checks(1, 2, &steps).ok());
  EXPECT_EQ(steps, 2);

  steps = 0;
  Status first = two_checks(-1, 2, &steps);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message, "value -1 must be > 0");
  EXPECT_EQ(steps, 0);

  steps = 0;
  Status second = two_checks(1, -2, &steps);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "value -2 must be > 0");
  EXPECT_EQ(steps, 1);
}

TEST(ResultTest, MultipleTryInOneScope) {
  Result<int> r = sum_two(3, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  Result<int> bad = sum_two(3, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "value 0 must be > 0");
}

TEST(ResultTest, TryWithMoveOnlyValue) {
  Result<int> r = unbox(9);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 9);
}

TEST(ResultTest, ErrorCodeNames) {
  struct Case {
    ErrorCode code;
    const char* name;
  };
  const std::vector<Case> cases = {
      {ErrorCode::kInvalidArgument, "invalid argument"},
      {ErrorCode::kNotFound, "not found"},
      {ErrorCode::kCorrupt, "corrupt"},
      {ErrorCode::kIo, "io"},
      {ErrorCode::kUnsupported, "unsupported"},
      {ErrorCode::kResourceExhausted, "resource exhausted"},
      {ErrorCode::kCancelled, "cancelled"},
      {ErrorCode::kInternal, "internal"},
  };
  for (const Case& c : cases) EXPECT_STREQ(error_code_name(c.code), c.name);
}

TEST(ResultTest, ErrorToString) {
  Error e = make_error(ErrorCode::kIo, "write {}: {}", "x.bin", "No space left on device");
  EXPECT_EQ(e.to_string(), "io: write x.bin: No space left on device");
  Error def;
  EXPECT_EQ(def.code, ErrorCode::kInternal);
  EXPECT_EQ(def.to_string(), "internal: ");
  EXPECT_EQ(make_error(ErrorCode::kResourceExhausted, "limit {}", 10).to_string(),
            "resource exhausted: limit 10");
}

}  // namespace
}  // namespace ragft
