// End-to-end tests of the `ragft` binary: index, search, ask with citations, ACLs, sync.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "apps/test_util.h"
#include "core/utf8.h"
#include "store/store.h"

namespace ragft {
namespace {

using testing::make_temp_dir;
using testing::quote;
using testing::run_ragft;
using testing::write_file;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = make_temp_dir("ragft_cli_");
    docs_ = root_ / "docs";
    data_ = root_ / "ws";
    write_file(docs_ / "volcano.md",
               "# Volcanoes\n\nA volcano is a rupture in the crust of a planet. Lava flows from the "
               "vent during an eruption.\n\n## Types\n\nShield volcanoes have gentle slopes built by "
               "fluid basalt lava. Stratovolcanoes are steep and explosive.\n");
    write_file(docs_ / "bees.html",
               "<html><head><title>Honey bees</title><script>var x='lava';</script></head><body>"
               "<nav>menu lava</nav><p>Honey bees communicate the location of flowers with a "
               "waggle dance.</p><p>A colony has one queen and thousands of workers.</p></body></html>");
    write_file(docs_ / "notes.txt", "Café owners in Zürich serve espresso. The espresso is strong.\n");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string ws() const { return "--data " + quote(data_.string()); }

  std::filesystem::path root_, docs_, data_;
};

TEST_F(CliTest, IndexSearchAskWithExactCitations) {
  auto idx = run_ragft(ws() + " --json index " + quote(docs_.string()));
  ASSERT_EQ(idx.exit_code, 0) << idx.out;
  auto summary = nlohmann::json::parse(idx.out);
  EXPECT_EQ(summary["added"], 3);
  EXPECT_EQ(summary["failed"], 0);

  auto s = run_ragft(ws() + " --json search " + quote("basalt lava slopes") + " -k 5");
  ASSERT_EQ(s.exit_code, 0);
  auto hits = nlohmann::json::parse(s.out)["hits"];
  ASSERT_FALSE(hits.empty());
  EXPECT_NE(hits[0]["doc_id"].get<std::string>().find("volcano.md"), std::string::npos);
  EXPECT_NE(hits[0]["snippet"].get<std::string>().find("**basalt**"), std::string::npos);
  // Script and nav text of the HTML page is not indexed.
  for (const auto& h : hits) EXPECT_EQ(h["doc_id"].get<std::string>().find("bees.html"), std::string::npos);

  auto a = run_ragft(ws() + " --json ask " + quote("How do honey bees communicate where flowers are?"));
  ASSERT_EQ(a.exit_code, 0);
  auto ans = nlohmann::json::parse(a.out);
  EXPECT_FALSE(ans["abstained"].get<bool>());
  ASSERT_FALSE(ans["sources"].empty());
  EXPECT_NE(ans["answer"].get<std::string>().find("waggle dance"), std::string::npos);
  EXPECT_NE(ans["answer"].get<std::string>().find("[1]"), std::string::npos);
  // Every citation's span is exactly its quote in the stored document text.
  auto store = Store::open(data_ / "store.db");
  ASSERT_TRUE(store.ok());
  for (const auto& src : ans["sources"]) {
    auto doc = store->find("default", src["doc_id"].get<std::string>());
    ASSERT_TRUE(doc.ok() && doc->has_value());
    const std::string& text = (*doc)->text;
    std::size_t b0 = byte_offset(text, src["char_start"].get<std::size_t>());
    std::size_t b1 = byte_offset(text, src["char_end"].get<std::size_t>());
    EXPECT_EQ(text.substr(b0, b1 - b0), src["quote"].get<std::string>());
  }
}

TEST_F(CliTest, AskAbstainsWhenNothingRelevant) {
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  auto a = run_ragft(ws() + " --json ask " + quote("quantum chromodynamics gluon confinement"));
  ASSERT_EQ(a.exit_code, 0);
  auto ans = nlohmann::json::parse(a.out);
  EXPECT_TRUE(ans["abstained"].get<bool>());
  EXPECT_TRUE(ans["sources"].empty());
}

TEST_F(CliTest, UnicodeOffsetsInCitations) {
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  auto a = run_ragft(ws() + " --json ask " + quote("Where do café owners serve espresso?"));
  ASSERT_EQ(a.exit_code, 0);
  auto ans = nlohmann::json::parse(a.out);
  ASSERT_FALSE(ans["abstained"].get<bool>()) << a.out;
  // "Café owners in Zürich serve espresso." starts at char 0 and has 37 code points.
  EXPECT_EQ(ans["sources"][0]["char_start"], 0);
  EXPECT_EQ(ans["sources"][0]["char_end"], 37);
}

TEST_F(CliTest, AclFiltersInsideSearch) {
  write_file(root_ / "secret" / "plan.txt", "The merger plan with Initech closes in March.\n");
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  ASSERT_EQ(run_ragft(ws() + " index --acl board " + quote((root_ / "secret").string())).exit_code, 0);
  ASSERT_EQ(run_ragft(ws() + " principal add alice --groups board").exit_code, 0);
  ASSERT_EQ(run_ragft(ws() + " principal add bob --groups staff").exit_code, 0);
  auto as_alice = nlohmann::json::parse(run_ragft(ws() + " --json search merger --as alice").out);
  auto as_bob = nlohmann::json::parse(run_ragft(ws() + " --json search merger --as bob").out);
  EXPECT_EQ(as_alice["hits"].size(), 1u);
  EXPECT_TRUE(as_bob["hits"].empty());
  auto unknown = run_ragft(ws() + " search merger --as mallory");
  EXPECT_EQ(unknown.exit_code, 1);
}

TEST_F(CliTest, DenseAndHybridSearchModes) {
  // Without a dense index, dense and hybrid say how to build one.
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  auto none = run_ragft(ws() + " search lava --mode dense", /*with_stderr=*/true);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("--embedder"), std::string::npos) << none.out;
  auto bad = run_ragft(ws() + " search lava --mode semantic", true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bm25, dense or hybrid"), std::string::npos) << bad.out;

  // --embedder configures it (recorded: later commands need not repeat it).
  write_file(root_ / "secret" / "plan.txt", "The merger plan with Initech closes in March. Lawyers meet on Monday.\n");
  auto idx = run_ragft(ws() + " --json index --acl board --embedder ict:dim=8,epochs=2,mincount=1 " +
                       quote((root_ / "secret").string()));
  ASSERT_EQ(idx.exit_code, 0) << idx.out;
  auto ij = nlohmann::json::parse(idx.out);
  ASSERT_TRUE(ij["dense"].is_object()) << ij;
  EXPECT_GT(ij["dense"]["vectors"].get<int>(), 0);
  for (const char* mode : {"dense", "hybrid"}) {
    auto s = run_ragft(ws() + " --json search " + quote("volcano lava eruption") + " -k 3 --mode " + mode);
    ASSERT_EQ(s.exit_code, 0) << s.out;
    auto j = nlohmann::json::parse(s.out);
    EXPECT_EQ(j["mode"], mode);
    EXPECT_FALSE(j["hits"].empty());
    EXPECT_TRUE(j.contains("dense"));
  }
  // ACLs hold in every mode: bob never sees the board's document, alice can.
  ASSERT_EQ(run_ragft(ws() + " principal add alice --groups board").exit_code, 0);
  ASSERT_EQ(run_ragft(ws() + " principal add bob --groups staff").exit_code, 0);
  for (const char* mode : {"bm25", "dense", "hybrid"}) {
    auto bob = nlohmann::json::parse(run_ragft(ws() + " --json search merger -k 10 --as bob --mode " + mode).out);
    for (const auto& h : bob["hits"]) EXPECT_EQ(h["doc_id"].get<std::string>().find("plan.txt"), std::string::npos) << mode;
    auto alice = nlohmann::json::parse(run_ragft(ws() + " --json search merger -k 10 --as alice --mode " + mode).out);
    bool found = false;
    for (const auto& h : alice["hits"]) found = found || h["doc_id"].get<std::string>().find("plan.txt") != std::string::npos;
    EXPECT_TRUE(found) << mode;
  }
}

TEST_F(CliTest, EvalRerankRefusesToLearnFromTheTestQueries) {
  write_file(root_ / "q.tsv", "q1\tlava\n");
  write_file(root_ / "qrels.tsv", "q1\t0\t" + (docs_ / "volcano.md").string() + "\t1\n");
  const std::string base = ws() + " eval retrieval --corpus " + quote(docs_.string()) + " --queries " +
                           quote((root_ / "q.tsv").string()) + " --qrels " + quote((root_ / "qrels.tsv").string());
  auto no_train = run_ragft(base + " --rerank rerank", true);
  EXPECT_EQ(no_train.exit_code, 1);
  EXPECT_NE(no_train.out.find("--train-qrels"), std::string::npos) << no_train.out;
  auto same = run_ragft(base + " --rerank rerank --train-qrels " + quote((root_ / "qrels.tsv").string()), true);
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_NE(same.out.find("judged in both"), std::string::npos) << same.out;
}

TEST_F(CliTest, TrainedRerankerServesSearchAskAndEval) {
  const auto kb = root_ / "kb";
  write_file(kb / "a.txt", "Lava flows from volcanoes during an eruption. Volcanoes are mountains.\n");
  write_file(kb / "b.txt", "Mountains are climbed by hikers; lava rock paths are common.\n");
  write_file(kb / "c.txt", "Bees make honey and dance to share flowers with the hive.\n");
  write_file(kb / "d.txt", "Flowers need bees; honey is sold at mountain markets.\n");
  write_file(kb / "e.txt", "Espresso is strong coffee brewed from beans.\n");
  write_file(kb / "f.txt", "Coffee beans grow on mountains in the tropics.\n");
  write_file(root_ / "q.tsv",
             "q1\tlava eruption\nq2\thoney bees dance\nq3\tstrong espresso coffee\nq4\tcoffee beans tropics\n"
             "q5\thikers on mountains\n");
  std::string qrels = "query-id\tcorpus-id\tscore\n";
  for (const auto& [q, d] : std::vector<std::pair<std::string, std::string>>{
           {"q1", "a.txt"}, {"q2", "c.txt"}, {"q3", "e.txt"}, {"q4", "f.txt"}, {"q5", "b.txt"}}) {
    qrels += q + "\t" + (kb / d).string() + "\t1\n";
  }
  write_file(root_ / "qrels.tsv", qrels);
  const std::string files = " --queries " + quote((root_ / "q.tsv").string()) + " --qrels " + quote((root_ / "qrels.tsv").string());

  // Nothing trained yet: search --rerank says how to train one.
  ASSERT_EQ(run_ragft(ws() + " index " + quote(kb.string())).exit_code, 0);
  auto untrained = run_ragft(ws() + " search lava --rerank", true);
  EXPECT_EQ(untrained.exit_code, 1);
  EXPECT_NE(untrained.out.find("ragft train rerank"), std::string::npos) << untrained.out;

  auto trained = run_ragft(ws() + " --json train rerank" + files);
  ASSERT_EQ(trained.exit_code, 0) << trained.out;
  auto tj = nlohmann::json::parse(trained.out);
  EXPECT_EQ(tj["train_queries"], 5);
  EXPECT_EQ(tj["documents"], 6);
  EXPECT_TRUE(std::filesystem::exists(data_ / "models" / "reranker" / "retriever.json"));

  auto s = run_ragft(ws() + " --json search " + quote("honey bees dance") + " -k 2 --rerank");
  ASSERT_EQ(s.exit_code, 0) << s.out;
  auto sj = nlohmann::json::parse(s.out);
  ASSERT_EQ(sj["hits"].size(), 2u) << sj;
  EXPECT_EQ(sj["hits"][0]["doc_id"], (kb / "c.txt").string());
  EXPECT_EQ(sj["hits"][0]["rank"], 1);
  ASSERT_TRUE(sj.contains("reranker")) << sj;
  EXPECT_EQ(sj["reranker"]["unknown_to_model"], 0);
  EXPECT_GE(sj["reranker"]["reranked"].get<int>(), 2);

  auto ask = run_ragft(ws() + " --json ask " + quote("Where do coffee beans grow?") + " --rerank");
  ASSERT_EQ(ask.exit_code, 0) << ask.out;
  auto aj = nlohmann::json::parse(ask.out);
  EXPECT_TRUE(aj.contains("reranker")) << aj;
  ASSERT_FALSE(aj["sources"].empty()) << aj;
  EXPECT_EQ(aj["sources"][0]["doc_id"], (kb / "f.txt").string());

  // A saved reranker is evaluated as saved; it re-ranks BM25 only.
  auto eval = run_ragft(ws() + " --json eval retrieval --workspace " + quote(data_.string()) + " --corpus " +
                        quote(kb.string()) + files + " --reranker " + quote((data_ / "models" / "reranker").string()));
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  auto ej = nlohmann::json::parse(eval.out);
  EXPECT_TRUE(ej["config"].contains("rerank")) << ej;
  EXPECT_GT(ej["metrics"]["ndcg@10"].get<double>(), 0.5);
  auto hybrid = run_ragft(ws() + " search lava --rerank --mode hybrid", true);
  EXPECT_EQ(hybrid.exit_code, 1);
  EXPECT_NE(hybrid.out.find("BM25"), std::string::npos) << hybrid.out;

  // A document added after training is flagged as unknown to the model.
  write_file(kb / "g.txt", "Honey bees also dance on mountains.\n");
  ASSERT_EQ(run_ragft(ws() + " index " + quote(kb.string())).exit_code, 0);
  auto stale = run_ragft(ws() + " search " + quote("honey bees dance") + " --rerank", true);
  EXPECT_EQ(stale.exit_code, 0);
  EXPECT_NE(stale.out.find("added after the reranker was trained"), std::string::npos) << stale.out;
}

TEST_F(CliTest, PromptAndRaftTrainingData) {
  auto prompt = run_ragft("prompt");
  ASSERT_EQ(prompt.exit_code, 0);
  EXPECT_NE(prompt.out.find("[user]"), std::string::npos);
  write_file(root_ / "my_prompt.txt", prompt.out);

  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  const std::string volcano = (docs_ / "volcano.md").string();
  write_file(root_ / "q.jsonl", "{\"id\": \"v1\", \"question\": \"What flows from the vent during an eruption?\", "
                                "\"answer\": \"lava\", \"evidence\": [{\"doc_id\": \"" + volcano + "\"}]}\n");
  const auto out = root_ / "raft.jsonl";
  auto r = run_ragft(ws() + " raft --questions " + quote((root_ / "q.jsonl").string()) + " --out " + quote(out.string()) +
                         " --prompt " + quote((root_ / "my_prompt.txt").string()) + " --config raft:no_oracle=0",
                     true);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 examples (1 with the oracle, 0 without)"), std::string::npos) << r.out;
  std::ifstream in(out);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  const std::string answer = j["messages"][2]["content"];
  EXPECT_EQ(answer.rfind("lava [", 0), 0u) << answer;
  EXPECT_NE(answer.find("Evidence: \"Lava flows from the vent during an eruption.\""), std::string::npos) << answer;

  write_file(root_ / "bad.jsonl", "{\"id\": \"x\", \"question\": \"?\", \"evidence\": [{\"doc_id\": \"missing\"}]}\n");
  auto bad = run_ragft(ws() + " raft --questions " + quote((root_ / "bad.jsonl").string()), true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("document missing is not in the workspace"), std::string::npos) << bad.out;
}

TEST_F(CliTest, IncrementalSyncCountsAndPrune) {
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  auto again = nlohmann::json::parse(run_ragft(ws() + " --json index " + quote(docs_.string())).out);
  EXPECT_EQ(again["unchanged"], 3);
  EXPECT_EQ(again["added"], 0);
  write_file(docs_ / "notes.txt", "Tea houses in Kyoto serve matcha.\n");
  std::filesystem::remove(docs_ / "bees.html");
  write_file(docs_ / "empty.txt", "");
  auto changed = nlohmann::json::parse(run_ragft(ws() + " --json index --prune " + quote(docs_.string())).out);
  EXPECT_EQ(changed["changed"], 1);
  EXPECT_EQ(changed["unchanged"], 1);
  EXPECT_EQ(changed["removed"], 1);
  EXPECT_EQ(changed["failed"], 1);  // the empty file
  auto espresso = nlohmann::json::parse(run_ragft(ws() + " --json search espresso").out);
  EXPECT_TRUE(espresso["hits"].empty());
  auto matcha = nlohmann::json::parse(run_ragft(ws() + " --json search matcha").out);
  EXPECT_EQ(matcha["hits"].size(), 1u);
  auto bees = nlohmann::json::parse(run_ragft(ws() + " --json search waggle").out);
  EXPECT_TRUE(bees["hits"].empty());
}

TEST_F(CliTest, JsonlCsvAndMetadataFilters) {
  write_file(root_ / "recs" / "items.jsonl",
             "{\"id\": \"r1\", \"title\": \"Red kettle\", \"text\": \"A kettle that boils water fast.\", "
             "\"metadata\": {\"color\": \"red\"}}\n"
             "{\"id\": \"r2\", \"title\": \"Blue kettle\", \"text\": \"A kettle with a whistle.\", "
             "\"metadata\": {\"color\": \"blue\"}}\n"
             "not json at all\n");
  write_file(root_ / "recs" / "faq.csv", "key,question,answer\nq1,Kettle warranty?,Two years for every kettle.\n");
  auto idx = run_ragft(ws() + " --json index --include '*.jsonl' --include '*.csv' --csv-id key --csv-text answer " +
                       quote((root_ / "recs").string()));
  ASSERT_EQ(idx.exit_code, 0);
  auto summary = nlohmann::json::parse(idx.out);
  EXPECT_EQ(summary["added"], 3);
  EXPECT_EQ(summary["failed"], 1);  // the bad jsonl line, named in the failures
  ASSERT_EQ(summary["failures"].size(), 1u);
  EXPECT_NE(summary["failures"][0].get<std::string>().find("items.jsonl"), std::string::npos);
  auto all = nlohmann::json::parse(run_ragft(ws() + " --json search kettle -k 10").out);
  EXPECT_EQ(all["hits"].size(), 3u);
  auto blue = nlohmann::json::parse(run_ragft(ws() + " --json search kettle --where color=blue").out);
  ASSERT_EQ(blue["hits"].size(), 1u);
  EXPECT_EQ(blue["hits"][0]["doc_id"], "r2");
  auto none = nlohmann::json::parse(run_ragft(ws() + " --json search kettle --where color=green").out);
  EXPECT_TRUE(none["hits"].empty());
  auto csv = nlohmann::json::parse(run_ragft(ws() + " --json search years").out);
  ASSERT_EQ(csv["hits"].size(), 1u);
  EXPECT_EQ(csv["hits"][0]["doc_id"], "q1");
}

TEST_F(CliTest, ConcurrentIndexersTakeTurns) {
  for (int i = 0; i < 200; ++i) {
    write_file(root_ / "a" / ("a" + std::to_string(i) + ".txt"), "alpha file number " + std::to_string(i) + "\n");
    write_file(root_ / "b" / ("b" + std::to_string(i) + ".txt"), "beta file number " + std::to_string(i) + "\n");
  }
  std::string bin = testing::ragft_binary().string();
  std::string cmd = "(" + bin + " " + ws() + " index " + quote((root_ / "a").string()) + " & " + bin + " " + ws() +
                    " index " + quote((root_ / "b").string()) + " & wait) 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto stats = nlohmann::json::parse(run_ragft(ws() + " --json stats").out);
  EXPECT_EQ(stats["documents"], 400);
  EXPECT_EQ(stats["index"]["live_chunks"], stats["chunks"]);
  auto alpha = nlohmann::json::parse(run_ragft(ws() + " --json search alpha -k 1000").out);
  auto beta = nlohmann::json::parse(run_ragft(ws() + " --json search beta -k 1000").out);
  EXPECT_EQ(alpha["hits"].size(), 200u);
  EXPECT_EQ(beta["hits"].size(), 200u);
}

TEST_F(CliTest, IndexRebuildsWhenDeleted) {
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  std::filesystem::remove_all(data_ / "index");
  auto s = nlohmann::json::parse(run_ragft(ws() + " --json search waggle").out);
  EXPECT_EQ(s["hits"].size(), 1u);
}

TEST_F(CliTest, BadArgumentsGiveClearErrors) {
  EXPECT_EQ(run_ragft(ws() + " index /no/such/path").exit_code, 1);
  EXPECT_NE(run_ragft(ws() + " search").exit_code, 0);
  ASSERT_EQ(run_ragft(ws() + " index " + quote(docs_.string())).exit_code, 0);
  EXPECT_EQ(run_ragft(ws() + " search " + quote("the of and")).exit_code, 1);  // only stopwords
  EXPECT_EQ(run_ragft(ws() + " search lava --where nokey").exit_code, 1);
}

}  // namespace
}  // namespace ragft
