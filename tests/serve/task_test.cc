// POST /v1/classify and POST /v1/extract with real models trained here (a fastText linear
// classifier, a BM25 kNN classifier, a tagger-knn extractor on a slice of the shipped WNUT'17
// data): the server's answers equal the library's own predictions, single and batched, from
// many threads at once; the request parser's errors name their field; TaskModels loads what
// `ragft predict` loads and refuses what it cannot.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/utf8.h"
#include "serve/openapi.h"
#include "serve/serve_test_util.h"
#include "serve/server.h"
#include "serve/task_api.h"
#include "serve/task_models.h"
#include "train/classify_test_util.h"
#include "train/conll.h"
#include "train/knn_classifier.h"
#include "train/knn_tagger.h"
#include "train/linear_classifier.h"

namespace ragft::serve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The first `n` sentences of the shipped WNUT'17 training data.
std::vector<TaggedSentence> wnut_slice(std::size_t n) {
  auto d = read_conll(fs::path(RAGFT_SOURCE_DIR) / "data" / "wnut17" / "wnut17train.conll");
  RAGFT_CHECK(d.ok());
  std::vector<TaggedSentence> out(d->sentences.begin(), d->sentences.begin() + std::min(n, d->sentences.size()));
  return out;
}

std::string joined(const std::vector<std::string>& tokens, const char* sep = " ") {
  std::string s;
  for (const auto& t : tokens) s += (s.empty() ? "" : sep) + t;
  return s;
}

// Models trained once per test process (fastText and BM25 training are quick, not free); the
// directory goes when the process exits.
struct Trained {
  Trained() = default;
  Trained(const Trained&) = delete;
  Trained& operator=(const Trained&) = delete;
  ~Trained() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }
  fs::path root;
  fs::path linear, knn, tagger;
  std::vector<std::string> texts;      // classify inputs: the training texts and unseen ones
  std::vector<std::string> sentences;  // extract inputs: training sentences (with entities) and others
};

void train_into(Trained& t) {
  t.root = testing::temp_dir("ragft_serve_task_");
  const std::vector<Example> data = ragft::testing::tiny_topics();
  LinearOptions lo;
  lo.dim = 16;
  lo.epochs = {25};
  lo.bucket = 10000;
  TrainOptions to;
  auto linear = LinearClassifier::train(data, lo, to);
  RAGFT_CHECK(linear.ok());
  t.linear = t.root / "linear";
  RAGFT_CHECK((*linear)->save(t.linear).ok());
  KnnOptions ko;
  ko.ks = {1, 3};
  auto knn = KnnClassifier::train(data, ko, to);
  RAGFT_CHECK(knn.ok());
  t.knn = t.root / "knn";
  RAGFT_CHECK((*knn)->save(t.knn).ok());
  const auto sentences = wnut_slice(300);
  auto tagger = KnnTagger::build(sentences, KnnTaggerOptions{});
  RAGFT_CHECK(tagger.ok());
  t.tagger = t.root / "tagger";
  RAGFT_CHECK((*tagger)->save(t.tagger).ok());
  for (const auto& e : data) t.texts.push_back(e.text);
  for (const char* s : {"the storm brought snow and frost", "a pizza with garlic", "the referee stopped the match",
                        "", "Ünïcode wörds: ☂ and 🍕"}) {
    t.texts.emplace_back(s);
  }
  for (std::size_t i = 0; i < sentences.size(); i += 7) t.sentences.push_back(joined(sentences[i].tokens));
  // Irregular whitespace and multi-byte characters: offsets are code points of the input.
  t.sentences.push_back("  Été \t à  " + joined(sentences[0].tokens, "   ") + " ☂");
  t.sentences.push_back("");
  t.sentences.push_back("nothing much here");
}

const Trained& trained() {
  static Trained t;
  static const bool done = (train_into(t), true);
  (void)done;
  return t;
}

class TaskServerTest : public ::testing::Test {
 protected:
  static std::shared_ptr<const TaskModels> load(const std::vector<TaskModelSpec>& specs, std::size_t copies = 1) {
    TaskModelOptions o;
    o.classifier_copies = copies;
    auto m = TaskModels::load(specs, o);
    RAGFT_CHECK(m.ok());
    return std::shared_ptr<const TaskModels>(std::move(*m));
  }
  static std::shared_ptr<const TaskModels> standard(std::size_t copies = 1) {
    return load({{"topics", trained().linear}, {"ner", trained().tagger}}, copies);
  }

  void start(std::shared_ptr<const TaskModels> models, ServeOptions o = {}) {
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    ServeComponents c;
    c.task_models = std::move(models);
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
  }
  httplib::Result post(const std::string& path, const json& body) const { return post_raw(path, body.dump()); }
  httplib::Result post_raw(const std::string& path, const std::string& body) const {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(30, 0);
    return cli.Post(path.c_str(), body, "application/json");
  }
  // The 200 body, or a failed assertion.
  json ok_body(const std::string& path, const json& body) const {
    auto r = post(path, body);
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  static json error_of(const httplib::Result& r) {
    if (!r) return json();
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"] : json();
  }

  std::unique_ptr<Server> server_;
};

// What the server must answer for one classified text: the library's prediction, as JSON.
json expected_classification(const Classifier& c, const std::string& text, std::size_t index, std::size_t top_k = 0) {
  const Prediction p = c.predict(text);
  json labels = json::array();
  for (std::size_t i = 0; i < p.labels.size() && (top_k == 0 || i < top_k); ++i) {
    labels.push_back({{"label", p.labels[i].label}, {"score", static_cast<double>(p.labels[i].score)}});
  }
  return {{"object", "classification"},
          {"index", index},
          {"label", p.labels.front().label},
          {"score", static_cast<double>(p.labels.front().score)},
          {"labels", labels}};
}

json expected_extraction(const Extractor& m, const std::string& text, std::size_t index) {
  const auto tagged = m.predict_text(text);
  json entities = json::array();
  for (const EntityMention& e : entity_mentions(tagged.tokens, tagged.tags)) {
    entities.push_back({{"type", e.type}, {"token_start", e.start}, {"token_end", e.end}});
  }
  return {{"index", index}, {"tokens", tagged.tokens}, {"tags", tagged.tags}, {"entities", entities}};
}

// Checks one "data" item of /v1/extract against the library (tokens, tags, entity types and
// token spans) and its character spans against the input itself.
void expect_extraction(const json& got, const json& want, const std::string& text) {
  EXPECT_EQ(got["object"], "extraction");
  EXPECT_EQ(got["index"], want["index"]);
  EXPECT_EQ(got["tokens"], want["tokens"]);
  EXPECT_EQ(got["tags"], want["tags"]);
  ASSERT_EQ(got["entities"].size(), want["entities"].size()) << got;
  for (std::size_t i = 0; i < got["entities"].size(); ++i) {
    const json& e = got["entities"][i];
    EXPECT_EQ(e["type"], want["entities"][i]["type"]);
    EXPECT_EQ(e["token_start"], want["entities"][i]["token_start"]);
    EXPECT_EQ(e["token_end"], want["entities"][i]["token_end"]);
    const std::size_t b = byte_offset(text, e["char_start"].get<std::size_t>());
    const std::size_t end = byte_offset(text, e["char_end"].get<std::size_t>());
    ASSERT_LE(b, end);
    EXPECT_EQ(e["text"], text.substr(b, end - b)) << "the span [char_start, char_end) is the entity's text";
    // The span covers exactly its tokens: the first starts it, the last ends it.
    const auto& tokens = got["tokens"];
    EXPECT_TRUE(e["text"].get<std::string>().starts_with(tokens[e["token_start"].get<std::size_t>()].get<std::string>()));
    EXPECT_TRUE(e["text"].get<std::string>().ends_with(tokens[e["token_end"].get<std::size_t>() - 1].get<std::string>()));
  }
}

TEST_F(TaskServerTest, ClassifyEqualsTheLibrarysPredictionsSingleAndBatched) {
  start(standard());
  auto direct = load_classifier(trained().linear);
  ASSERT_TRUE(direct.ok()) << direct.error().to_string();
  const auto& texts = trained().texts;

  // One string, no model named: the server's one classifier.
  json one = ok_body("/v1/classify", {{"input", "a goal for the team"}});
  EXPECT_EQ(one["object"], "list");
  EXPECT_EQ(one["model"], "topics");
  EXPECT_GE(one["took_ms"].get<double>(), 0.0);
  ASSERT_EQ(one["data"].size(), 1u);
  EXPECT_EQ(one["data"][0], expected_classification(**direct, "a goal for the team", 0));
  EXPECT_EQ(one["data"][0]["labels"].size(), 3u) << "every label by default, as `ragft --json predict`";

  // A batch: one item per input, in order.
  json batch = ok_body("/v1/classify", {{"model", "topics"}, {"input", texts}});
  ASSERT_EQ(batch["data"].size(), texts.size());
  std::size_t right = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(batch["data"][i], expected_classification(**direct, texts[i], i)) << texts[i];
    if (i < 30 && batch["data"][i]["label"] == ragft::testing::tiny_topics()[i].labels[0]) ++right;
  }
  EXPECT_GE(right, 27u) << "the model learnt its training data";

  // top_k keeps the best labels; more than the model has is all of them.
  json top = ok_body("/v1/classify", {{"input", {texts[3], texts[20]}}, {"top_k", 2}});
  ASSERT_EQ(top["data"].size(), 2u);
  EXPECT_EQ(top["data"][0], expected_classification(**direct, texts[3], 0, 2));
  EXPECT_EQ(top["data"][1], expected_classification(**direct, texts[20], 1, 2));
  json all = ok_body("/v1/classify", {{"input", texts[3]}, {"top_k", 99}});
  EXPECT_EQ(all["data"][0]["labels"].size(), 3u);
}

TEST_F(TaskServerTest, ExtractEqualsTheLibrarysEntitiesWithCodePointOffsets) {
  start(standard());
  auto direct = load_extractor(trained().tagger);
  ASSERT_TRUE(direct.ok()) << direct.error().to_string();
  const auto& sentences = trained().sentences;

  json batch = ok_body("/v1/extract", {{"input", sentences}});
  EXPECT_EQ(batch["model"], "ner");
  ASSERT_EQ(batch["data"].size(), sentences.size());
  std::size_t entities = 0;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    SCOPED_TRACE(sentences[i]);
    expect_extraction(batch["data"][i], expected_extraction(**direct, sentences[i], i), sentences[i]);
    entities += batch["data"][i]["entities"].size();
  }
  EXPECT_GE(entities, 10u) << "the tagger finds the entities of sentences it was built from";

  // The irregular sentence: offsets count code points ("Été", "à", "☂": 1 each), not bytes.
  const std::string& odd = sentences[sentences.size() - 3];
  json single = ok_body("/v1/extract", {{"model", "ner"}, {"input", odd}});
  ASSERT_EQ(single["data"].size(), 1u);
  expect_extraction(single["data"][0], expected_extraction(**direct, odd, 0), odd);
  EXPECT_EQ(single["data"][0]["tokens"].front(), "Été");
  const ExtractedText lib = extract_entities(**direct, odd);
  ASSERT_EQ(single["data"][0]["entities"].size(), lib.entities.size());
  for (std::size_t i = 0; i < lib.entities.size(); ++i) {
    EXPECT_EQ(single["data"][0]["entities"][i]["char_start"], lib.entities[i].char_start);
    EXPECT_EQ(single["data"][0]["entities"][i]["char_end"], lib.entities[i].char_end);
    EXPECT_EQ(single["data"][0]["entities"][i]["text"], lib.entities[i].text);
  }

  // Empty input: no tokens, no entities.
  json empty = ok_body("/v1/extract", {{"input", ""}});
  EXPECT_EQ(empty["data"][0]["tokens"], json::array());
  EXPECT_EQ(empty["data"][0]["entities"], json::array());
}

TEST_F(TaskServerTest, ModelsListsTheTaskModelsInOpenAisShape) {
  start(standard());
  httplib::Client cli("127.0.0.1", server_->port());
  auto r = cli.Get("/v1/models");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "list");
  std::map<std::string, json> by_id;
  for (const auto& m : j["data"]) {
    EXPECT_EQ(m["object"], "model");
    EXPECT_TRUE(m["created"].is_number_integer());
    EXPECT_EQ(m["owned_by"], "ragft");
    by_id[m["id"]] = m;
  }
  ASSERT_EQ(by_id.size(), 2u) << j;  // no chat model or embedder in this server
  EXPECT_EQ(by_id["topics"]["ragft_task"], "classify");
  EXPECT_EQ(by_id["topics"]["ragft"]["model_kind"], "linear");
  EXPECT_EQ(by_id["topics"]["ragft"]["labels"], json({"food", "sport", "weather"}));
  EXPECT_EQ(by_id["ner"]["ragft_task"], "extract");
  EXPECT_EQ(by_id["ner"]["ragft"]["model_kind"], "tagger-knn");
  EXPECT_FALSE(by_id["ner"]["ragft"]["labels"].empty());
}

TEST_F(TaskServerTest, ManyThreadsAtOnceGetTheSameAnswers) {
  for (std::size_t copies : {std::size_t{1}, std::size_t{3}}) {
    SCOPED_TRACE(fmt::format("copies={}", copies));
    ServeOptions o;
    o.threads = 8;
    start(standard(copies), o);
    auto c = load_classifier(trained().linear);
    auto x = load_extractor(trained().tagger);
    ASSERT_TRUE(c.ok() && x.ok());
    const auto& texts = trained().texts;
    const auto& sentences = trained().sentences;
    std::vector<json> want_c, want_x;
    for (std::size_t i = 0; i < texts.size(); ++i) want_c.push_back(expected_classification(**c, texts[i], 0));
    for (std::size_t i = 0; i < sentences.size(); ++i) want_x.push_back(expected_extraction(**x, sentences[i], 0));

    std::atomic<int> compared{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client cli("127.0.0.1", server_->port());
        cli.set_read_timeout(30, 0);
        for (std::size_t i = static_cast<std::size_t>(t); i < 3 * texts.size(); i += 8) {
          const std::size_t k = i % texts.size();
          auto r = cli.Post("/v1/classify", json{{"input", texts[k]}}.dump(), "application/json");
          ASSERT_TRUE(r);
          ASSERT_EQ(r->status, 200) << r->body;
          EXPECT_EQ(json::parse(r->body)["data"][0], want_c[k]) << texts[k];
          const std::size_t s = i % sentences.size();
          auto e = cli.Post("/v1/extract", json{{"input", sentences[s]}}.dump(), "application/json");
          ASSERT_TRUE(e);
          ASSERT_EQ(e->status, 200) << e->body;
          expect_extraction(json::parse(e->body)["data"][0], want_x[s], sentences[s]);
          compared += 2;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(compared.load(), static_cast<int>(2 * 3 * texts.size()));
    server_->stop();
  }
}

TEST_F(TaskServerTest, TaskModelsCalledDirectlyFromManyThreads) {
  auto models = standard(2);
  auto c = load_classifier(trained().linear);
  ASSERT_TRUE(c.ok());
  const auto& texts = trained().texts;
  std::vector<std::string> want;
  std::vector<float> want_score;
  for (const auto& t : texts) {
    Prediction p = (*c)->predict(t);
    want.push_back(p.top());
    want_score.push_back(p.labels.front().score);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        auto got = models->classify("topics", texts);
        if (!got.ok() || got->size() != texts.size()) {
          ++mismatches;
          continue;
        }
        for (std::size_t i = 0; i < texts.size(); ++i) {
          if ((*got)[i].top() != want[i] || (*got)[i].labels.front().score != want_score[i]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(TaskServerTest, ErrorsNameTheFieldAndTheModel) {
  ServeOptions o;
  o.limits.max_task_inputs = 3;
  o.limits.max_input_bytes = 2000;
  start(load({{"topics", trained().linear}, {"near", trained().knn}, {"ner", trained().tagger}}), o);
  struct Case {
    const char* path;
    std::string body;
    int status;
    const char* param;
    const char* code;
  };
  const std::string big(2001, 'x');
  const std::vector<Case> cases = {
      {"/v1/classify", "not json", 400, nullptr, "invalid_json"},
      {"/v1/classify", "[1]", 400, nullptr, "invalid_type"},
      {"/v1/classify", R"({"model":"topics","input":"x","temperature":1})", 400, "temperature", "unknown_field"},
      {"/v1/extract", R"({"model":"ner","input":"x","top_k":1})", 400, "top_k", "unknown_field"},
      {"/v1/classify", R"({"model":"topics"})", 400, "input", "missing_field"},
      {"/v1/classify", R"({"model":"topics","input":null})", 400, "input", "missing_field"},
      {"/v1/classify", R"({"model":"topics","input":5})", 400, "input", "invalid_type"},
      {"/v1/classify", R"({"model":"topics","input":["a",7]})", 400, "input[1]", "invalid_type"},
      {"/v1/classify", R"({"model":"topics","input":[]})", 400, "input", "invalid_value"},
      {"/v1/classify", R"({"model":"topics","input":["a","b","c","d"]})", 400, "input", "limit_exceeded"},
      {"/v1/extract", R"({"model":"ner","input":")" + big + R"("})", 400, "input", "limit_exceeded"},
      {"/v1/classify", R"({"model":"topics","input":"x","top_k":"2"})", 400, "top_k", "invalid_type"},
      {"/v1/classify", R"({"model":"topics","input":"x","top_k":1.5})", 400, "top_k", "invalid_type"},
      {"/v1/classify", R"({"model":"topics","input":"x","top_k":0})", 400, "top_k", "out_of_range"},
      {"/v1/classify", R"({"model":"topics","input":"x","top_k":-2})", 400, "top_k", "out_of_range"},
      {"/v1/classify", R"({"model":3,"input":"x"})", 400, "model", "invalid_type"},
      {"/v1/classify", R"({"model":"","input":"x"})", 400, "model", "invalid_value"},
      // Two classifiers: the request must say which.
      {"/v1/classify", R"({"input":"x"})", 400, "model", "missing_field"},
      {"/v1/classify", R"({"model":"nope","input":"x"})", 404, "model", "model_not_found"},
      {"/v1/extract", R"({"model":"nope","input":"x"})", 404, "model", "model_not_found"},
      {"/v1/classify", R"({"model":"ner","input":"x"})", 400, "model", "wrong_task"},
      {"/v1/extract", R"({"model":"topics","input":"x"})", 400, "model", "wrong_task"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path + std::string(" ") + c.body.substr(0, 80));
    auto r = post_raw(c.path, c.body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << r->body;
    json e = error_of(r);
    ASSERT_TRUE(e.is_object()) << r->body;
    EXPECT_EQ(e["code"], c.code) << r->body;
    if (c.param) {
      EXPECT_EQ(e["param"], c.param) << r->body;
    } else {
      EXPECT_TRUE(e["param"].is_null()) << r->body;
    }
    EXPECT_EQ(e["type"], "invalid_request_error");
  }
  // The 404 says which models there are.
  auto nf = post("/v1/classify", {{"model", "nope"}, {"input", "x"}});
  const std::string message = error_of(nf)["message"];
  EXPECT_NE(message.find("nope"), std::string::npos) << message;
  EXPECT_NE(message.find("topics, near"), std::string::npos) << message;
  // The limits are inclusive: three inputs, 2000 bytes.
  EXPECT_EQ(ok_body("/v1/classify", {{"model", "near"}, {"input", {"a", "b", "c"}}})["data"].size(), 3u);
  EXPECT_EQ(ok_body("/v1/extract", {{"input", std::string(2000, 'y')}})["data"].size(), 1u);
  // The kNN classifier answers as the library's.
  auto knn = load_classifier(trained().knn);
  ASSERT_TRUE(knn.ok());
  EXPECT_EQ(ok_body("/v1/classify", {{"model", "near"}, {"input", "snow and wind"}})["data"][0],
            expected_classification(**knn, "snow and wind", 0));
}

TEST_F(TaskServerTest, WithoutModelsBothRoutesSayHowToServeOne) {
  start(nullptr);
  for (const char* path : {"/v1/classify", "/v1/extract"}) {
    auto r = post(path, {{"input", "x"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_EQ(error_of(r)["code"], "no_model");
    EXPECT_NE(error_of(r)["message"].get<std::string>().find("--model NAME=DIR"), std::string::npos) << r->body;
  }
  server_->stop();
  // Only an extractor: classify has no model, extract needs no name.
  start(load({{"ner", trained().tagger}}));
  auto r = post("/v1/classify", {{"input", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(error_of(r)["code"], "no_model");
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("ragft train classify"), std::string::npos);
  EXPECT_EQ(ok_body("/v1/extract", {{"input", "x"}})["model"], "ner");
}

TEST(TaskModelsTest, LoadErrorsNameTheModelAndItsDirectory) {
  const fs::path root = testing::temp_dir("ragft_serve_task_");
  auto missing = TaskModels::load({{"gone", root / "nothing"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("model gone ("), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find((root / "nothing").string()), std::string::npos);

  auto twice = TaskModels::load({{"a", trained().linear}, {"a", trained().tagger}});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);

  // A manifest of another task is refused by read_manifest (kCorrupt: only classify and
  // extract exist), with the model's name in front.
  ModelManifest m;
  m.task = "rerank";
  m.kind = "cross";
  ASSERT_TRUE(write_manifest(root / "rerank", m).ok());
  auto other = TaskModels::load({{"r", root / "rerank"}});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(other.error().message.find("model r ("), std::string::npos) << other.error().message;
  EXPECT_NE(other.error().message.find("\"rerank\""), std::string::npos) << other.error().message;

  // An unknown kind: the loader's kUnsupported.
  m.task = "classify";
  m.kind = "quantum";
  m.labels = {"a", "b"};
  ASSERT_TRUE(write_manifest(root / "quantum", m).ok());
  auto unknown = TaskModels::load({{"q", root / "quantum"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported);

  TaskModelOptions none;
  none.classifier_copies = 0;
  EXPECT_EQ(TaskModels::load({}, none).error().code, ErrorCode::kInvalidArgument);

  // Direct calls name the model and the task.
  auto models = TaskModels::load({{"topics", trained().linear}, {"ner", trained().tagger}});
  ASSERT_TRUE(models.ok());
  EXPECT_EQ((*models)->classify("nope", {"x"}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*models)->classify("ner", {"x"}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*models)->extract("topics", {"x"}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*models)->names("classify"), std::vector<std::string>{"topics"});
  EXPECT_EQ((*models)->names("extract"), std::vector<std::string>{"ner"});
  ASSERT_NE((*models)->find("ner"), nullptr);
  EXPECT_EQ((*models)->find("ner")->kind, "tagger-knn");
  EXPECT_EQ((*models)->find("zzz"), nullptr);
  fs::remove_all(root);
}

TEST(TaskModelsTest, ModelSpecs) {
  auto named = parse_task_model_spec("topics=/models/a=b");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "topics");
  EXPECT_EQ(named->dir, "/models/a=b");  // split at the first "="
  auto bare = parse_task_model_spec("models/trec-linear/");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->name, "trec-linear");
  EXPECT_EQ(bare->dir, "models/trec-linear/");
  EXPECT_EQ(parse_task_model_spec("ft:topics.v2_a-b=dir")->name, "ft:topics.v2_a-b");
  for (const char* bad : {"", "=dir", "name=", "bad name=dir", "my model", "/", "é=dir"}) {
    auto r = parse_task_model_spec(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(parse_task_model_spec(std::string(129, 'a') + "=d").ok());
  EXPECT_TRUE(parse_task_model_spec(std::string(128, 'a') + "=d").ok());
}

// The OpenAPI description states the routes' limits from the server's options.
TEST(TaskApiTest, OpenApiDescribesTheTaskRequests) {
  ServeOptions o;
  o.limits.max_task_inputs = 7;
  const json doc = openapi_document(o);
  const json& schemas = doc["components"]["schemas"];
  for (const char* name : {"ClassifyRequest", "ExtractRequest"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(schemas[name]["required"], json({"input"}));
    EXPECT_EQ(schemas[name]["additionalProperties"], false);
    EXPECT_EQ(schemas[name]["properties"]["input"]["oneOf"][1]["maxItems"], 7);
  }
  EXPECT_TRUE(schemas["ClassifyRequest"]["properties"].contains("top_k"));
  EXPECT_FALSE(schemas["ExtractRequest"]["properties"].contains("top_k"));
  EXPECT_TRUE(doc["paths"]["/v1/classify"]["post"]["responses"].contains("404"));
}

// The parsers without sockets: accepted shapes.
TEST(TaskApiTest, ParsesInputsModelAndTopK) {
  const ServeLimits limits;
  ParsedTask p = parse_classify_request(R"({"model":"m","input":["a","b"],"top_k":2})", limits);
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_EQ(p.request->model, "m");
  EXPECT_EQ(p.request->input, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.request->top_k, 2u);
  p = parse_extract_request(R"({"input":"one text","model":null})", limits);
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_FALSE(p.request->model);
  EXPECT_EQ(p.request->input, std::vector<std::string>{"one text"});
  EXPECT_FALSE(p.request->top_k);
  p = parse_classify_request(R"({"input":"x","top_k":null})", limits);
  ASSERT_TRUE(p.request);
  EXPECT_FALSE(p.request->top_k);

  Prediction pred{{{"b", 0.75f}, {"a", 0.25f}}};
  json j = classification_json(pred, 4, 1);
  EXPECT_EQ(j, json({{"object", "classification"},
                     {"index", 4},
                     {"label", "b"},
                     {"score", 0.75},
                     {"labels", {{{"label", "b"}, {"score", 0.75}}}}}));
  EXPECT_EQ(classification_json(pred, 0)["labels"].size(), 2u);
}

}  // namespace
}  // namespace ragft::serve
