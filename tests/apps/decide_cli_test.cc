// `ragft decide` and `ragft profile` end to end on small real (TREC subset) and synthetic
// (retrieval) projects: report structure, evidence on every reason, the cache, errors that name
// the field, the requirements-only plan and the interactive questionnaire.
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apps/test_util.h"

namespace ragft::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

CommandResult run_all(const std::string& args) { return run_ragft(args, /*with_stderr=*/true); }

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first `n` lines of a bundled file, starting at line `from`.
std::string lines_of(const fs::path& p, std::size_t from, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  std::string line, out;
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    if (i >= from && i < from + n) out += line + "\n";
  }
  return out;
}

const std::set<std::string> kDecisions = {"rag", "fine_tune", "fine_tune_rag", "fix_data"};

void expect_sound_report(const json& r) {
  ASSERT_TRUE(r.contains("recommendation")) << r.dump();
  const json& rec = r["recommendation"];
  EXPECT_TRUE(kDecisions.count(rec["decision"].get<std::string>())) << rec.dump();
  ASSERT_FALSE(rec["reasons"].empty());
  for (const auto& reason : rec["reasons"]) {
    std::string ev = reason["evidence"];
    EXPECT_TRUE(ev == "measured" || ev == "answered") << reason;
    EXPECT_FALSE(reason["ref"].get<std::string>().empty()) << reason;
  }
  for (const auto& a : r["arms"]) {
    double v = a["quality"]["value"], lo = a["quality"]["ci_low"], hi = a["quality"]["ci_high"];
    EXPECT_LE(lo, v + 1e-12) << a;
    EXPECT_GE(hi, v - 1e-12) << a;
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0);
    EXPECT_FALSE(a["config"].get<std::string>().empty()) << a;
  }
}

class DecideCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("ragft_decide_cli_"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DecideCli, ClassificationProjectRecommendsWithEvidenceAndCaches) {
  const fs::path trec = fs::path(RAGFT_SOURCE_DIR) / "data" / "trec-qc";
  write_file(dir_ / "train.label", lines_of(trec / "train_5500.label", 0, 1500));
  write_file(dir_ / "eval.label", lines_of(trec / "TREC_10.label", 0, 200));
  write_file(dir_ / "project.yaml", R"(name: small TREC
task: classification
data:
  train: train.label
  eval: eval.label
  format: trec
  encoding: latin-1
requirements:
  need: behaviour
  latency_p95_ms: 50
bakeoff:
  freshness: 0.15
  bootstrap_samples: 200
)");
  std::string args = fmt::format("decide {} --out {} --json", quote((dir_ / "project.yaml").string()),
                                 quote((dir_ / "out").string()));
  CommandResult first = run_ragft(args);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  json r = json::parse(first.out);
  expect_sound_report(r);
  std::vector<std::string> ids;
  for (const auto& a : r["arms"]) ids.push_back(a["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"baseline", "rag", "fine_tuned", "fine_tuned_rag"}));
  EXPECT_EQ(r["metric"]["name"], "accuracy");
  EXPECT_EQ(r["requirements"]["labeled_examples"]["source"], "measured");
  EXPECT_EQ(r["requirements"]["labeled_examples"]["value"], 1500);
  EXPECT_EQ(r["requirements"]["need"]["source"], "answered");
  EXPECT_EQ(r["profile"]["labeled"]["examples"], 1500);
  // The trained arms beat the majority class on this data by far.
  EXPECT_GT(r["arms"][2]["quality"]["value"].get<double>(), r["arms"][0]["quality"]["value"].get<double>() + 0.3);
  EXPECT_EQ(r["timing"]["cached_arms"], 0);
  ASSERT_TRUE(r["freshness"].is_object());
  EXPECT_EQ(r["freshness"]["arms"].size(), 3u);
  for (const auto& f : r["freshness"]["arms"]) EXPECT_GE(f["time_to_fresh_s"].get<double>(), 0.0);
  // Comparisons cover every pair of arms.
  EXPECT_EQ(r["comparisons"].size(), 6u);

  std::string html = read_all(dir_ / "out" / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(json::parse(read_all(dir_ / "out" / "report.json"))["recommendation"], r["recommendation"]);

  // Warm: every arm and the freshness experiment come from the cache, with the same figures.
  CommandResult second = run_ragft(args);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  json w = json::parse(second.out);
  EXPECT_EQ(w["timing"]["cached_arms"], 4);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(w["arms"][i]["quality"], r["arms"][i]["quality"]);
  EXPECT_EQ(w["freshness"], r["freshness"]);
  EXPECT_EQ(w["recommendation"]["decision"], r["recommendation"]["decision"]);

  // A damaged cache entry is rerun, not trusted.
  int damaged = 0;
  for (const auto& e : fs::directory_iterator(dir_ / ".ragft-decide" / "results")) {
    if (e.path().filename().string().rfind("arm-", 0) == 0 && damaged == 0) {
      write_file(e.path(), "{not json");
      ++damaged;
    }
  }
  ASSERT_EQ(damaged, 1);
  CommandResult third = run_ragft(args);
  ASSERT_EQ(third.exit_code, 0) << third.out;
  EXPECT_EQ(json::parse(third.out)["timing"]["cached_arms"], 3);

  // The profile alone.
  CommandResult prof = run_ragft("profile " + quote((dir_ / "project.yaml").string()) + " --json");
  ASSERT_EQ(prof.exit_code, 0) << prof.out;
  json p = json::parse(prof.out);
  EXPECT_EQ(p["labeled"]["examples"], 1500);
  EXPECT_EQ(p["eval"]["items"], 200);
}

// A synthetic knowledge task: each document is about one made-up topic; queries name it.
void write_retrieval_project(const fs::path& dir) {
  std::string corpus, queries, train, eval = "query-id\tcorpus-id\tscore\n";
  train = eval;
  const char* words[] = {"river", "engine", "violin", "glacier", "protein", "lantern", "harbor", "comet",
                         "orchard", "saddle", "canyon", "beacon", "marble", "falcon", "meadow", "quartz",
                         "tunnel", "velvet", "walnut", "zephyr", "anchor", "bamboo", "cactus", "dolphin"};
  constexpr int kDocs = 24;
  for (int i = 0; i < kDocs; ++i) {
    std::string w = words[i], v = words[(i + 7) % kDocs];
    corpus += json{{"_id", fmt::format("d{}", i)},
                   {"title", fmt::format("On the {}", w)},
                   {"text", fmt::format("The {0} is studied here. A {0} differs from a {1}. Notes on {0} care and {0} "
                                        "history follow, with remarks on maintenance.",
                                        w, v)}}
                  .dump() +
              "\n";
    queries += json{{"_id", fmt::format("t{}", i)}, {"text", fmt::format("what is known about the {}", w)}}.dump() + "\n";
    queries += json{{"_id", fmt::format("e{}", i)}, {"text", fmt::format("{} history and care", w)}}.dump() + "\n";
    train += fmt::format("t{}\td{}\t1\n", i, i);
    eval += fmt::format("e{}\td{}\t1\n", i, i);
  }
  write_file(dir / "corpus.jsonl", corpus);
  write_file(dir / "queries.jsonl", queries);
  write_file(dir / "train.tsv", train);
  write_file(dir / "test.tsv", eval);
  write_file(dir / "project.yaml", R"(name: synthetic knowledge
task: retrieval
data:
  corpus: corpus.jsonl
  queries: queries.jsonl
  train_qrels: train.tsv
  eval_qrels: test.tsv
requirements:
  need: knowledge
  citations: true
bakeoff:
  freshness: 0.25
  bootstrap_samples: 200
)");
}

TEST_F(DecideCli, RetrievalProjectMeasuresEveryArmAndFreshness) {
  write_retrieval_project(dir_);
  // A first run with two arms only: the full run then reuses them (finished arms are cached one
  // by one, whatever else the run does).
  std::string yaml = read_all(dir_ / "project.yaml");
  write_file(dir_ / "two.yaml", yaml + "  arms: [baseline, rag]\n");
  CommandResult two = run_ragft(fmt::format("decide {} --out {} --json", quote((dir_ / "two.yaml").string()),
                                            quote((dir_ / "out2").string())));
  ASSERT_EQ(two.exit_code, 0) << two.out;
  EXPECT_EQ(json::parse(two.out)["arms"].size(), 2u);
  CommandResult res = run_ragft(fmt::format("decide {} --out {} --json", quote((dir_ / "project.yaml").string()),
                                            quote((dir_ / "out").string())));
  ASSERT_EQ(res.exit_code, 0) << res.out;
  json r = json::parse(res.out);
  expect_sound_report(r);
  EXPECT_EQ(r["timing"]["cached_arms"], 2);
  EXPECT_EQ(r["metric"]["label"], "nDCG@10");
  ASSERT_EQ(r["arms"].size(), 4u);
  // BM25 finds every topic word; the baseline cannot.
  EXPECT_GT(r["arms"][1]["quality"]["value"].get<double>(), 0.9);
  EXPECT_LT(r["arms"][0]["quality"]["value"].get<double>(), 0.5);
  EXPECT_EQ(r["profile"]["corpus"]["documents"], 24);
  // Citations are required: the closed-book arm cannot cite and is excluded.
  bool closed_book_out = false;
  for (const auto& e : r["recommendation"]["excluded"]) closed_book_out |= e["arm"] == "fine_tuned";
  EXPECT_TRUE(closed_book_out) << r["recommendation"].dump();
  EXPECT_NE(r["recommendation"]["decision"], "fine_tune");
  ASSERT_TRUE(r["freshness"].is_object());
  const json& f = r["freshness"];
  ASSERT_GT(f["new_items"].get<int>(), 0);
  // RAG cannot find what is not indexed yet, and finds it once the update is applied.
  for (const auto& a : f["arms"]) {
    if (a["id"] != "rag") continue;
    EXPECT_LT(a["before"]["value"].get<double>(), 0.5);
    EXPECT_GT(a["after"]["value"].get<double>(), 0.9);
    EXPECT_EQ(a["update"], "incremental index");
  }
}

TEST_F(DecideCli, MalformedProjectNamesTheFieldAndLine) {
  write_file(dir_ / "bad.yaml", "name: x\ntask: classification\nrequirements:\n  latency_p95_ms: fast\n");
  CommandResult r = run_all("decide " + quote((dir_ / "bad.yaml").string()) + " --out " + quote((dir_ / "o").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("requirements.latency_p95_ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad.yaml:4:"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "o" / "report.json"));

  write_file(dir_ / "broken.yaml", "name: [unclosed\n");
  r = run_all("decide " + quote((dir_ / "broken.yaml").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("broken.yaml:"), std::string::npos) << r.out;

  r = run_all("decide " + quote((dir_ / "missing.yaml").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("missing.yaml"), std::string::npos) << r.out;
}

TEST_F(DecideCli, RequirementsAloneGiveAPlanAndWhatDataToCollect) {
  write_file(dir_ / "plan.yaml", R"(name: support bot
task: retrieval
requirements:
  need: knowledge
  change: daily
  citations: true
  acls: true
)");
  CommandResult r = run_ragft("decide " + quote((dir_ / "plan.yaml").string()) + " --json --out " +
                              quote((dir_ / "o").string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json j = json::parse(r.out);
  EXPECT_EQ(j["recommendation"]["decision"], "rag");
  EXPECT_TRUE(j["arms"].empty());
  EXPECT_FALSE(j["recommendation"]["collect"].empty());
  EXPECT_FALSE(j["recommendation"]["arms_to_try"].empty());
  EXPECT_TRUE(fs::exists(dir_ / "o" / "report.html"));
}

TEST_F(DecideCli, InteractiveWritesAProjectFileThenDecides) {
  // Name, task, no data (empty answer), then the defaults for every requirement.
  std::string answers = "my project\nclassification\n\n";
  for (int i = 0; i < 20; ++i) answers += "\n";
  write_file(dir_ / "answers.txt", answers);
  fs::path project = dir_ / "asked.yaml";
  CommandResult r = run_all(fmt::format("decide --interactive --write {} --out {} < {}", quote(project.string()),
                                        quote((dir_ / "o").string()), quote((dir_ / "answers.txt").string())));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string yaml = read_all(project);
  EXPECT_NE(yaml.find("my project"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("task: classification"), std::string::npos) << yaml;
  // The file it wrote is a valid project: deciding on it again works.
  CommandResult again = run_ragft("decide " + quote(project.string()) + " --json --out " + quote((dir_ / "o2").string()));
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(json::parse(again.out)["project"]["name"], "my project");

  // An existing file is not overwritten without --force.
  r = run_all(fmt::format("decide --interactive --write {} < {}", quote(project.string()),
                          quote((dir_ / "answers.txt").string())));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--force"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ragft::testing
