#include "http/sse_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ragft {
namespace {

using Events = std::vector<std::pair<std::string, std::string>>;  // (type, data)

// Parses `stream` fed in the pieces that `cuts` (ascending offsets) make, then finish().
Events parse(const std::string& stream, const std::vector<std::size_t>& cuts = {}) {
  SseParser p;
  Events out;
  auto on = [&](const SseEvent& e) {
    out.emplace_back(e.type, e.data);
    return true;
  };
  std::size_t at = 0;
  for (std::size_t c : cuts) {
    EXPECT_TRUE(p.feed(std::string_view(stream).substr(at, c - at), on));
    at = c;
  }
  EXPECT_TRUE(p.feed(std::string_view(stream).substr(at), on));
  EXPECT_TRUE(p.finish(on));
  return out;
}

// A stream with every feature: BOM, comments, CRLF, CR, multi-line data, event types, unknown
// fields, multi-byte UTF-8, an event without data.
const std::string kStream =
    "\xEF\xBB\xBF: keep-alive\r\n"
    "\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "id: 7\n"
    "retry: 100\n"
    "data:no space\n"
    "data:  two spaces\n"
    "\n"
    "event: error\r"
    "data: caf\xC3\xA9 \xE2\x82\xAC\r"
    "\r"
    "event: ignored-no-data\n"
    "\n"
    ": comment\n"
    "data\n"
    "\n"
    "data: [DONE]\n"
    "\n";

const Events kWant = {
    {"", "{\"a\":1}"},
    {"", "no space\n two spaces"},
    {"error", "caf\xC3\xA9 \xE2\x82\xAC"},
    {"", ""},
    {"", "[DONE]"},
};

TEST(SseParser, ParsesEveryLineEndingCommentAndField) { EXPECT_EQ(parse(kStream), kWant); }

TEST(SseParser, SplitAtEveryPositionGivesTheSameEvents) {
  for (std::size_t i = 0; i <= kStream.size(); ++i) {
    EXPECT_EQ(parse(kStream, {i}), kWant) << "split at " << i;
  }
}

TEST(SseParser, ByteByByteAndRandomSplitsGiveTheSameEvents) {
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < kStream.size(); ++i) every.push_back(i);
  EXPECT_EQ(parse(kStream, every), kWant);

  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::size_t> cuts;
    std::uniform_int_distribution<std::size_t> step(0, 9);
    for (std::size_t at = step(rng); at < kStream.size(); at += step(rng)) cuts.push_back(at);
    EXPECT_EQ(parse(kStream, cuts), kWant) << "trial " << trial;
  }
}

TEST(SseParser, CrlfSplitBetweenCrAndLfIsOneLineEnd) {
  // A CR at the end of one piece and its LF at the start of the next must not make a blank line.
  const std::string s = "data: a\r\ndata: b\r\n\r\n";
  EXPECT_EQ(parse(s, {8}), (Events{{"", "a\nb"}}));
  EXPECT_EQ(parse(s, {8, 17}), (Events{{"", "a\nb"}}));
}

TEST(SseParser, FinishDispatchesAnUnterminatedLastEvent) {
  EXPECT_EQ(parse("data: one\n\ndata: two"), (Events{{"", "one"}, {"", "two"}}));
  EXPECT_EQ(parse("data: one\n\ndata: two\n"), (Events{{"", "one"}, {"", "two"}}));
  EXPECT_EQ(parse(": only a comment"), Events{});
  EXPECT_EQ(parse(""), Events{});
}

TEST(SseParser, HandlerReturningFalseStops) {
  SseParser p;
  int seen = 0;
  auto on = [&](const SseEvent&) { return ++seen < 2; };
  EXPECT_FALSE(p.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", on));
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(p.overflowed());
}

TEST(SseParser, ResetForgetsAPartialEvent) {
  SseParser p;
  Events out;
  auto on = [&](const SseEvent& e) {
    out.emplace_back(e.type, e.data);
    return true;
  };
  ASSERT_TRUE(p.feed("event: x\ndata: half", on));
  p.reset();
  ASSERT_TRUE(p.feed("data: whole\n\n", on));
  EXPECT_EQ(out, (Events{{"", "whole"}}));
}

TEST(SseParser, AnOversizedEventOverflows) {
  SseParser p(64);
  auto on = [](const SseEvent&) { return true; };
  EXPECT_TRUE(p.feed("data: short\n\n", on));
  EXPECT_FALSE(p.feed("data: " + std::string(100, 'x'), on));  // one long unterminated line
  EXPECT_TRUE(p.overflowed());

  SseParser q(64);
  bool ok = true;
  for (int i = 0; i < 20 && ok; ++i) ok = q.feed("data: 0123456789\n", on);  // many lines, one event
  EXPECT_FALSE(ok);
  EXPECT_TRUE(q.overflowed());
}

}  // namespace
}  // namespace ragft
