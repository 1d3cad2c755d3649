#include "evaluate/trec.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "evaluate/metrics.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;

class TrecIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("ragft_trec_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  // Asserts kInvalidArgument whose message starts with "<path>:<line>:".
  template <typename T>
  void expect_line_error(const Result<T>& r, const fs::path& p, int line) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    std::string prefix = p.string() + ":" + std::to_string(line) + ":";
    EXPECT_EQ(r.error().message.rfind(prefix, 0), 0u) << r.error().message;
  }

  fs::path dir_;
};

TEST_F(TrecIo, QrelsBeirTsvWithCrlf) {
  auto p = write("q.tsv", "query-id\tcorpus-id\tscore\r\n1\t31715818\t1\r\n1\t999\t2\r\n3\t14717500\t0\r\n");
  auto q = read_qrels(p);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ(q->at("1").at("31715818"), 1);
  EXPECT_EQ(q->at("1").at("999"), 2);  // no trailing '\r' in ids or values
  EXPECT_EQ(q->at("3").at("14717500"), 0);
}

TEST_F(TrecIo, QrelsTrecFormatWhitespace) {
  auto p = write("q.trec", "101 0 DOC-1 2\n101\t0\tDOC-2\t0\n\n102  Q0 DOC-3   1\r\n");
  auto q = read_qrels(p);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ(q->at("101").at("DOC-1"), 2);
  EXPECT_EQ(q->at("101").at("DOC-2"), 0);
  EXPECT_EQ(q->at("102").at("DOC-3"), 1);
}

TEST_F(TrecIo, QrelsBundledScifactTest) {
  auto q = read_qrels(fs::path(RAGFT_SOURCE_DIR) / "data/scifact/qrels/test.tsv");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->size(), 300u);  // SOURCES: 300 queries, 339 judgments
  std::size_t n = 0;
  for (const auto& [qid, docs] : *q) n += docs.size();
  EXPECT_EQ(n, 339u);
  EXPECT_EQ(q->at("1").at("31715818"), 1);
}

TEST_F(TrecIo, QrelsMalformed) {
  auto bad_rel = write("a.tsv", "query-id\tcorpus-id\tscore\r\n1\td1\t1\r\n1\td2\thigh\r\n");
  expect_line_error(read_qrels(bad_rel), bad_rel, 3);
  auto bad_cols = write("b.tsv", "query-id\tcorpus-id\tscore\n1\td1\n");
  expect_line_error(read_qrels(bad_cols), bad_cols, 2);
  auto bad_trec = write("c.trec", "1 0 d1 1\n1 0 d2\n");
  expect_line_error(read_qrels(bad_trec), bad_trec, 2);
  auto dup = write("d.trec", "1 0 d1 1\n1 0 d1 2\n");
  expect_line_error(read_qrels(dup), dup, 2);
  auto unknown = write("e.txt", "just some words here and there\n");
  expect_line_error(read_qrels(unknown), unknown, 1);
  auto empty = write("f.tsv", "query-id\tcorpus-id\tscore\r\n");
  auto r = read_qrels(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  auto missing = read_qrels(dir_ / "nope.tsv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(TrecIo, QueriesJsonl) {
  auto p = write("q.jsonl",
                 "{\"_id\": \"0\", \"text\": \"0-dimensional biomaterials\", \"metadata\": {}}\r\n"
                 "\r\n"
                 "{\"_id\": 7, \"text\": \"caf\\u00e9 claim\", \"metadata\": {\"1\": [1]}}\n");
  auto q = read_queries(p);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].id, "0");
  EXPECT_EQ((*q)[0].text, "0-dimensional biomaterials");
  EXPECT_EQ((*q)[1].id, "7");
  EXPECT_EQ((*q)[1].text, "caf\xC3\xA9 claim");
}

TEST_F(TrecIo, QueriesTsv) {
  auto p = write("q.tsv", "q1\tdoes aspirin help\r\nq2\ttabs\tinside text\n");
  auto q = read_queries(p);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].id, "q1");
  EXPECT_EQ((*q)[0].text, "does aspirin help");
  EXPECT_EQ((*q)[1].text, "tabs\tinside text");
}

TEST_F(TrecIo, QueriesBundledScifact) {
  auto q = read_queries(fs::path(RAGFT_SOURCE_DIR) / "data/scifact/queries.jsonl");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->size(), 1109u);
}

TEST_F(TrecIo, QueriesMalformed) {
  auto bad_json = write("a.jsonl", "{\"_id\": \"1\", \"text\": \"ok\"}\n{\"_id\": \"2\", \"text\": \n");
  expect_line_error(read_queries(bad_json), bad_json, 2);
  auto no_text = write("b.jsonl", "{\"_id\": \"1\", \"title\": \"x\"}\n");
  expect_line_error(read_queries(no_text), no_text, 1);
  auto no_id = write("c.jsonl", "{\"text\": \"x\"}\n");
  expect_line_error(read_queries(no_id), no_id, 1);
  auto dup = write("d.tsv", "1\ta\n1\tb\n");
  expect_line_error(read_queries(dup), dup, 2);
  auto no_tab = write("e.tsv", "1\ta\n2 b\n");
  expect_line_error(read_queries(no_tab), no_tab, 2);
  auto bad_utf8 = write("f.tsv", "1\t\xC3\x28\n");
  expect_line_error(read_queries(bad_utf8), bad_utf8, 1);
}

TEST_F(TrecIo, ReadRun) {
  auto p = write("run.txt", "q1 Q0 d1 1 12.5 bm25\r\nq1 Q0 d2 2 -3e-1 bm25\r\n\r\nq2\tQ0\td1\t1\t7\tbm25\n");
  auto run = read_run(p);
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_EQ(run->size(), 2u);
  ASSERT_EQ(run->at("q1").size(), 2u);
  EXPECT_EQ(run->at("q1")[0].doc_id, "d1");
  EXPECT_DOUBLE_EQ(run->at("q1")[0].score, 12.5);
  EXPECT_EQ(run->at("q1")[1].doc_id, "d2");
  EXPECT_DOUBLE_EQ(run->at("q1")[1].score, -0.3);
  EXPECT_DOUBLE_EQ(run->at("q2")[0].score, 7.0);
}

TEST_F(TrecIo, ReadRunMalformed) {
  auto few = write("a.txt", "q1 Q0 d1 1 1.0 tag\nq1 Q0 d2 2 1.0\n");
  expect_line_error(read_run(few), few, 2);
  auto score = write("b.txt", "q1 Q0 d1 1 abc tag\n");
  expect_line_error(read_run(score), score, 1);
  auto rank = write("c.txt", "q1 Q0 d1 one 1.0 tag\n");
  expect_line_error(read_run(rank), rank, 1);
  auto dup = write("d.txt", "q1 Q0 d1 1 2.0 tag\nq2 Q0 d1 1 2.0 tag\nq1 Q0 d1 2 1.0 tag\n");
  expect_line_error(read_run(dup), dup, 3);
}

TEST_F(TrecIo, WriteRunSortsLikeTrecEvalAndRoundTrips) {
  ragft::Run run = {{"q1", {{"d1", 1.0}, {"d3", 1.0}, {"d2", 2.5}, {"d10", 0.1 + 0.2}}},
             {"q2", {{"x", -1.0}}}};
  std::ostringstream out;
  write_run(out, run, "mytag");
  EXPECT_EQ(out.str(),
            "q1 Q0 d2 1 2.5 mytag\n"
            "q1 Q0 d3 2 1 mytag\n"
            "q1 Q0 d1 3 1 mytag\n"
            "q1 Q0 d10 4 0.30000000000000004 mytag\n"
            "q2 Q0 x 1 -1 mytag\n");
  auto p = write("rt.txt", out.str());
  auto back = read_run(p);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->at("q1").size(), 4u);
  EXPECT_EQ(back->at("q1")[3].score, 0.1 + 0.2);  // exact round trip
  // Same metrics before and after the round trip.
  Qrels qrels = {{"q1", {{"d3", 1}, {"d10", 2}}}, {"q2", {{"y", 1}}}};
  EvalResult a = evaluate(run, qrels), b = evaluate(*back, qrels);
  EXPECT_EQ(a.mean, b.mean);
}

}  // namespace
}  // namespace ragft
