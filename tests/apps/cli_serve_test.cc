// `ragft serve` as a process: it prints where it listens, answers OpenAI-style chat requests
// (here RAG over a workspace, the model being a scripted OpenAI-compatible server on loopback)
// and trained task models (--model), and exits 0 on SIGTERM. The server itself is covered in
// tests/serve.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>


#include <string>
#include <vector>

#include "apps/fake_chat_server.h"
#include "apps/serve_process.h"
#include "apps/test_util.h"

namespace ragft {
namespace {

using testing::make_temp_dir;
using testing::quote;
using testing::run_ragft;
using testing::write_file;
using testing::ChatServer;
using testing::ServeProcess;

TEST(CliServeTest, ServesRagChatAndStopsCleanlyOnSigterm) {
  const auto root = make_temp_dir("ragft_cli_serve_");
  write_file(root / "docs" / "bees.txt", "Honey bees communicate the location of flowers with a waggle dance.\n");
  write_file(root / "docs" / "rocks.txt", "Granite is an igneous rock made of quartz and feldspar.\n");
  const std::string data = (root / "ws").string();
  ASSERT_EQ(run_ragft("--data " + quote(data) + " index " + quote((root / "docs").string())).exit_code, 0);
  ChatServer model("Bees dance to show where flowers are [1].");

  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data, "--json", "serve", "--port", "0", "--llm", model.config()}));
  const int port = serve.port;

  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  nlohmann::json req = {{"model", "any"},
                        {"messages", {{{"role", "user"}, {"content", "How do honey bees show where flowers are?"}}}},
                        {"ragft", {{"rag", true}, {"k", 2}}}};
  auto res = client.Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_NE(j["choices"][0]["message"]["content"].get<std::string>().find("Bees dance to show where flowers are"), std::string::npos) << j;
  ASSERT_FALSE(j["ragft"]["citations"].empty()) << j;
  EXPECT_NE(j["ragft"]["citations"][0]["doc_id"].get<std::string>().find("bees.txt"), std::string::npos) << j;
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);

  // A bad request is a 400 naming the field; the server keeps serving.
  auto bad = client.Post("/v1/chat/completions", R"({"messages": "hi"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad->body)["error"]["param"], "messages");

  EXPECT_EQ(serve.stop(), 0);  // SIGTERM: drains and exits 0
  std::filesystem::remove_all(root);
}


// ragft key create/list/revoke, then `ragft serve` over a workspace with keys: no key or a
// revoked one -> 401, a valid key searches as its principal.
TEST(CliServeTest, KeysGateTheServerAndSearchRunsAsTheKeysPrincipal) {
  const auto root = make_temp_dir("ragft_cli_keys_");
  write_file(root / "docs" / "bees.txt", "Honey bees communicate the location of flowers with a waggle dance.\n");
  write_file(root / "hr" / "bees-hr.txt", "Honey bees stung a staff member in the office garden.\n");
  const std::string data = (root / "ws").string();
  const std::string d = "--data " + quote(data) + " ";
  ASSERT_EQ(run_ragft(d + "index " + quote((root / "docs").string())).exit_code, 0);
  ASSERT_EQ(run_ragft(d + "index --acl hr " + quote((root / "hr").string())).exit_code, 0);
  ASSERT_EQ(run_ragft(d + "principal add alice --groups staff").exit_code, 0);
  EXPECT_NE(run_ragft(d + "key create --principal nobody").exit_code, 0) << "an unknown principal is refused";
  auto made = run_ragft(d + "--json key create --principal alice --name laptop");
  ASSERT_EQ(made.exit_code, 0);
  const auto alice = nlohmann::json::parse(made.out);
  const std::string key = alice["key"];
  EXPECT_TRUE(key.starts_with("rk_"));
  auto owner = run_ragft(d + "key create --admin");  // plain: the key alone on stdout
  ASSERT_EQ(owner.exit_code, 0);
  const std::string owner_key = owner.out.substr(0, owner.out.find('\n'));
  EXPECT_EQ(owner_key.size(), 67u);
  auto listed = run_ragft(d + "--json key list");
  ASSERT_EQ(listed.exit_code, 0);
  EXPECT_EQ(listed.out.find(key.substr(3, 16)), std::string::npos) << "list shows no key material: " << listed.out;
  EXPECT_EQ(listed.out.find(owner_key.substr(3, 16)), std::string::npos);
  const auto keys = nlohmann::json::parse(listed.out);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["principal"], "alice");
  EXPECT_EQ(keys[0]["name"], "laptop");
  EXPECT_FALSE(keys[0]["admin"].get<bool>());
  EXPECT_TRUE(keys[1]["admin"].get<bool>());
  EXPECT_TRUE(keys[1]["principal"].is_null());
  EXPECT_NE(run_ragft(d + "key revoke 99").exit_code, 0);

  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data, "--json", "serve", "--port", "0"}));
  const int port = serve.port;
  httplib::Client client("127.0.0.1", port);
  const std::string body = R"({"query": "honey bees", "k": 10})";
  auto anonymous = client.Post("/v1/search", body, "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  auto as_alice = client.Post("/v1/search", {{"Authorization", "Bearer " + key}}, body, "application/json");
  ASSERT_TRUE(as_alice);
  ASSERT_EQ(as_alice->status, 200) << as_alice->body;
  const auto hits = nlohmann::json::parse(as_alice->body)["hits"];
  ASSERT_EQ(hits.size(), 1u) << hits;
  EXPECT_NE(hits[0]["doc_id"].get<std::string>().find("bees.txt"), std::string::npos) << hits;
  auto as_owner = client.Post("/v1/search", {{"Authorization", "Bearer " + owner_key}}, body, "application/json");
  ASSERT_TRUE(as_owner);
  EXPECT_EQ(nlohmann::json::parse(as_owner->body)["hits"].size(), 2u) << as_owner->body;
  // Revoked while the server runs: refused within its one-second refresh.
  ASSERT_EQ(run_ragft(d + "key revoke " + std::to_string(alice["id"].get<int>())).exit_code, 0);
  int status_after = 0;
  for (int i = 0; i < 50 && status_after != 401; ++i) {
    auto r = client.Post("/v1/search", {{"Authorization", "Bearer " + key}}, body, "application/json");
    ASSERT_TRUE(r);
    status_after = r->status;
    if (status_after != 401) ::usleep(100 * 1000);
  }
  EXPECT_EQ(status_after, 401);

  EXPECT_EQ(serve.stop(), 0);  // SIGTERM: drains and exits 0
  std::filesystem::remove_all(root);
}

// `ragft serve --model NAME=DIR`: a classifier and an extractor trained by `ragft train`, served
// without a workspace; the answers equal `ragft --json predict` on the same lines. A model
// directory that cannot be loaded fails start-up with an error naming it.
TEST(CliServeTest, ServesTrainedModelsAsPredictAnswers) {
  const auto root = make_temp_dir("ragft_cli_serve_models_");
  std::string jsonl;
  for (const char* s : {"football goal", "match team", "score player", "coach league", "stadium referee", "goal match"}) {
    jsonl += std::string("{\"text\": \"we saw ") + s + "\", \"label\": \"sport\"}\n";
  }
  for (const char* s : {"pizza pasta", "bread cheese", "soup salad", "butter garlic", "onion pepper", "pasta soup"}) {
    jsonl += std::string("{\"text\": \"i like ") + s + "\", \"label\": \"food\"}\n";
  }
  write_file(root / "train.jsonl", jsonl);
  write_file(root / "train.conll",
             "Justin\tB-person\nBieber\tI-person\nsings\tO\nin\tO\nToronto\tB-location\n\n"
             "I\tO\nlove\tO\nmy\tO\niPhone\tB-product\n\n"
             "Microsoft\tB-corporation\nbuys\tO\nGitHub\tB-corporation\n\n"
             "Obama\tB-person\nvisited\tO\nKenya\tB-location\n\n");
  const std::string classifier = (root / "topics").string(), extractor = (root / "ner").string();
  ASSERT_EQ(run_ragft("train classify --train " + quote((root / "train.jsonl").string()) +
                      " --contender linear --epochs 25,50 --bucket 10000 --dim 20 --out " + quote(classifier))
                .exit_code,
            0);
  const std::string conll = quote((root / "train.conll").string());
  ASSERT_EQ(run_ragft("train extract --train " + conll + " --dev " + conll + " --out " + quote(extractor)).exit_code, 0);
  const std::vector<std::string> lines = {"a goal for the team", "pizza with cheese", "Obama  visited Toronto ☂ today",
                                          "Justin Bieber sings"};
  std::string in;
  for (const auto& l : lines) in += l + "\n";
  write_file(root / "in.txt", in);
  auto predicted = [&](const std::string& model) {
    auto r = run_ragft("--json predict " + quote(model) + " " + quote((root / "in.txt").string()));
    EXPECT_EQ(r.exit_code, 0);
    std::vector<nlohmann::json> out;
    for (std::size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) {
      out.push_back(nlohmann::json::parse(r.out.substr(at, nl - at)));
    }
    return out;
  };
  const auto want_labels = predicted(classifier);
  const auto want_entities = predicted(extractor);
  ASSERT_EQ(want_labels.size(), lines.size());
  ASSERT_EQ(want_entities.size(), lines.size());

  // No workspace at --data: the task routes need none.
  const std::string data = (root / "no-ws").string();
  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data, "--json", "serve", "--port", "0", "--model",
                                       "topics=" + classifier, "--model", extractor, "--model-copies", "2"}));
  httplib::Client client("127.0.0.1", serve.port);
  auto models = client.Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  const auto listed = nlohmann::json::parse(models->body)["data"];
  ASSERT_EQ(listed.size(), 2u) << listed;
  EXPECT_EQ(listed[0]["id"], "topics");
  EXPECT_EQ(listed[0]["ragft_task"], "classify");
  EXPECT_EQ(listed[1]["id"], "ner");  // a bare DIR is named after its last component
  EXPECT_EQ(listed[1]["ragft_task"], "extract");

  auto classified = client.Post("/v1/classify", nlohmann::json{{"input", lines}}.dump(), "application/json");
  ASSERT_TRUE(classified);
  ASSERT_EQ(classified->status, 200) << classified->body;
  const auto c = nlohmann::json::parse(classified->body);
  EXPECT_EQ(c["model"], "topics");
  ASSERT_EQ(c["data"].size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(c["data"][i]["labels"], want_labels[i]["labels"]) << lines[i];
    EXPECT_EQ(c["data"][i]["label"], want_labels[i]["labels"][0]["label"]);
  }
  EXPECT_EQ(c["data"][0]["label"], "sport");
  EXPECT_EQ(c["data"][1]["label"], "food");

  auto extracted = client.Post("/v1/extract", nlohmann::json{{"model", "ner"}, {"input", lines}}.dump(), "application/json");
  ASSERT_TRUE(extracted);
  ASSERT_EQ(extracted->status, 200) << extracted->body;
  const auto x = nlohmann::json::parse(extracted->body);
  ASSERT_EQ(x["data"].size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(x["data"][i]["tokens"], want_entities[i]["tokens"]) << lines[i];
    const auto& got = x["data"][i]["entities"];
    const auto& want = want_entities[i]["entities"];
    ASSERT_EQ(got.size(), want.size()) << lines[i];
    for (std::size_t k = 0; k < got.size(); ++k) {
      for (const char* f : {"text", "type", "char_start", "char_end"}) EXPECT_EQ(got[k][f], want[k][f]) << f;
      EXPECT_EQ(got[k]["token_start"], want[k]["start"]);
      EXPECT_EQ(got[k]["token_end"], want[k]["end"]);
    }
  }
  // "Obama  visited Toronto ☂ today": Toronto is code points 15..22.
  ASSERT_EQ(x["data"][2]["entities"].size(), 2u) << x["data"][2];
  EXPECT_EQ(x["data"][2]["entities"][1]["text"], "Toronto");
  EXPECT_EQ(x["data"][2]["entities"][1]["char_start"], 15);
  EXPECT_EQ(x["data"][2]["entities"][1]["char_end"], 22);

  auto unknown = client.Post("/v1/classify", R"({"model": "nope", "input": "x"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(nlohmann::json::parse(unknown->body)["error"]["param"], "model");
  EXPECT_EQ(serve.stop(), 0);

  // Start-up fails on a directory without a model, naming it.
  auto bad = run_ragft("--data " + quote(data) + " serve --port 0 --model broken=" + quote((root / "none").string()),
                       /*with_stderr=*/true);
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("model broken"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find((root / "none").string()), std::string::npos) << bad.out;
  auto clash = run_ragft("--data " + quote(data) + " serve --port 0 --model ragft=" + quote(classifier), true);
  EXPECT_EQ(clash.exit_code, 1) << clash.out;
  std::filesystem::remove_all(root);
}

// --reports: a missing directory is refused at start; a real one is listed and served, and the
// web page loads without a key.
TEST(CliServeTest, ServesDecideReportsAndTheWebPage) {
  const auto root = make_temp_dir("ragft_cli_reports_");
  write_file(root / "docs" / "bees.txt", "Honey bees communicate the location of flowers with a waggle dance.\n");
  const std::string data = (root / "ws").string();
  ASSERT_EQ(run_ragft("--data " + quote(data) + " index " + quote((root / "docs").string())).exit_code, 0);
  auto missing = run_ragft("--data " + quote(data) + " serve --port 0 --reports " + quote((root / "nope").string()),
                           /*with_stderr=*/true);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("--reports"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("nope"), std::string::npos) << missing.out;

  write_file(root / "reports" / "bees" / "report.json",
             R"({"project": {"name": "Bee search", "task": "retrieval"}, "recommendation": {"decision": "rag"}})");
  write_file(root / "reports" / "bees" / "report.html", "<!doctype html><title>Bee search</title>");
  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(
      serve.start({"--data", data, "--json", "serve", "--port", "0", "--reports", (root / "reports").string()}));
  httplib::Client client("127.0.0.1", serve.port);
  auto list = client.Get("/v1/reports");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  const auto data_list = nlohmann::json::parse(list->body)["data"];
  ASSERT_EQ(data_list.size(), 1u) << list->body;
  EXPECT_EQ(data_list[0]["name"], "bees");
  EXPECT_EQ(data_list[0]["title"], "Bee search");
  EXPECT_EQ(data_list[0]["decision"], "rag");
  auto html = client.Get("/reports/bees");
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->body, "<!doctype html><title>Bee search</title>");
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<title>ragft</title>"), std::string::npos);
  EXPECT_EQ(serve.stop(), 0);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ragft
