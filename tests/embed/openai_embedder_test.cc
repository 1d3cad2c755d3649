#include "embed/openai_embedder.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ragft {
namespace {

using nlohmann::json;
using Texts = std::vector<std::string>;

constexpr int kDim = 8;
constexpr const char* kKeyEnv = "RAGFT_TEST_OPENAI_KEY";

// A deterministic, unnormalised vector for a text: an LCG seeded by FNV-1a of the text.
std::vector<float> fake_vector(const std::string& text, int dim) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  std::vector<float> v(dim);
  for (int j = 0; j < dim; ++j) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    v[j] = static_cast<float>(static_cast<int>((h >> 33) % 2001) - 1000) / 100.0f;
  }
  return v;
}

std::vector<float> expected_row(const std::string& text, int dim) {
  std::vector<float> v = fake_vector(text, dim);
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(s));
  return v;
}

// An OpenAI-style response to `req`: data items in reverse order, so placement by "index" matters.
std::string embeddings_response(const httplib::Request& req, int dim) {
  const json in = json::parse(req.body);
  json data = json::array();
  const auto& input = in.at("input");
  for (std::size_t i = input.size(); i-- > 0;) {
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", fake_vector(input[i].get<std::string>(), dim)}});
  }
  return json{{"object", "list"}, {"data", data}, {"model", in.at("model")}}.dump();
}

// An in-process server on 127.0.0.1 (a free port) answering POST /v1/embeddings with `handler`
// (called with the 1-based call number); records every request.
class FakeServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, int call)>;

  explicit FakeServer(Handler handler = nullptr) : handler_(std::move(handler)) {
    if (!handler_) {
      handler_ = [](const httplib::Request& req, httplib::Response& res, int) {
        res.set_content(embeddings_response(req, kDim), "application/json");
      };
    }
    svr_.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
      int call = 0;
      {
        std::lock_guard lock(mu_);
        call = static_cast<int>(bodies_.size()) + 1;
        bodies_.push_back(json::parse(req.body));
        auth_.push_back(req.has_header("Authorization") ? req.get_header_value("Authorization") : "<none>");
      }
      handler_(req, res, call);
    });
    svr_.set_tcp_nodelay(true);  // else Nagle and delayed ACKs add ~40 ms per keep-alive request
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) std::abort();
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    svr_.stop();
    thread_.join();
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}/v1", port_); }
  int port() const { return port_; }
  int calls() {
    std::lock_guard lock(mu_);
    return static_cast<int>(bodies_.size());
  }
  std::vector<json> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> auth() {
    std::lock_guard lock(mu_);
    return auth_;
  }

 private:
  Handler handler_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<json> bodies_;
  std::vector<std::string> auth_;
};

// A loopback port with nothing listening (bound by the kernel's choice, then closed).
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::unique_ptr<Embedder> make(const std::string& url, const std::string& extra = "") {
  auto e = make_openai_embedder(fmt::format("openai:url={},model=test-model,backoff_ms=1,key_env={}{}", url, kKeyEnv,
                                            extra));
  if (!e.ok()) {
    ADD_FAILURE() << e.error().to_string();
    std::abort();
  }
  return std::move(e).value();
}

void expect_rows(const std::vector<float>& out, const Texts& texts, int dim) {
  ASSERT_EQ(out.size(), texts.size() * dim);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> want = texts[i].empty() ? std::vector<float>(dim, 0.0f) : expected_row(texts[i], dim);
    for (int j = 0; j < dim; ++j) EXPECT_NEAR(out[i * dim + j], want[j], 1e-6) << "row " << i << " col " << j;
  }
}

class OpenAiEmbedderTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv(kKeyEnv); }
  void TearDown() override { ::unsetenv(kKeyEnv); }
};

TEST_F(OpenAiEmbedderTest, VectorsArePlacedByIndexAndNormalised) {
  FakeServer server;
  auto e = make(server.url());
  const Texts texts = {"alpha", "beta gamma", "delta", "épsilon ünïcode", "zeta"};
  std::vector<float> out;
  ASSERT_TRUE(e->embed(texts, EmbedRole::kDocument, out).ok());
  expect_rows(out, texts, kDim);
  ASSERT_EQ(server.calls(), 1);
  const json body = server.bodies()[0];
  EXPECT_EQ(body.at("model"), "test-model");
  EXPECT_EQ(body.at("encoding_format"), "float");
  EXPECT_EQ(body.at("input"), json(texts));
}

TEST_F(OpenAiEmbedderTest, BatchesAtMostBatchTexts) {
  FakeServer server;
  auto e = make(server.url(), ",batch=3");
  Texts texts;
  for (int i = 0; i < 10; ++i) texts.push_back(fmt::format("text number {}", i));
  std::vector<float> out;
  ASSERT_TRUE(e->embed(texts, EmbedRole::kQuery, out).ok());
  expect_rows(out, texts, kDim);
  ASSERT_EQ(server.calls(), 4);
  std::vector<std::size_t> sizes;
  Texts sent;
  for (const json& b : server.bodies()) {
    sizes.push_back(b.at("input").size());
    for (const auto& t : b.at("input")) sent.push_back(t.get<std::string>());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 3, 1}));
  EXPECT_EQ(sent, texts);
}

TEST_F(OpenAiEmbedderTest, EmptyInputMakesNoRequest) {
  FakeServer server;
  auto e = make(server.url());
  std::vector<float> out = {1.0f, 2.0f};
  ASSERT_TRUE(e->embed({}, EmbedRole::kQuery, out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(server.calls(), 0);
}

TEST_F(OpenAiEmbedderTest, EmptyStringsGetTheZeroVectorWithoutBeingSent) {
  FakeServer server;
  auto e = make(server.url());
  std::vector<float> out;
  // Nothing says the row size yet.
  auto s = e->embed({"", ""}, EmbedRole::kQuery, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(server.calls(), 0);

  const Texts texts = {"a", "", "b"};
  ASSERT_TRUE(e->embed(texts, EmbedRole::kDocument, out).ok());
  expect_rows(out, texts, kDim);
  ASSERT_EQ(server.calls(), 1);
  EXPECT_EQ(server.bodies()[0].at("input"), json(Texts{"a", "b"}));

  ASSERT_TRUE(e->embed({"", ""}, EmbedRole::kQuery, out).ok());  // dim known now
  EXPECT_EQ(out, std::vector<float>(2 * kDim, 0.0f));
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(OpenAiEmbedderTest, InvalidUtf8IsReplacedNotFatal) {
  FakeServer server;
  auto e = make(server.url());
  std::vector<float> out;
  ASSERT_TRUE(e->embed({"ok", std::string("bad \xff byte")}, EmbedRole::kDocument, out).ok());
  EXPECT_EQ(out.size(), 2u * kDim);
  EXPECT_EQ(server.bodies()[0].at("input")[1], "bad \xEF\xBF\xBD byte");
}

TEST_F(OpenAiEmbedderTest, BearerHeaderOnlyWhenTheKeyIsSet) {
  FakeServer server;
  auto e = make(server.url());
  std::vector<float> out;
  ASSERT_TRUE(e->embed({"x"}, EmbedRole::kQuery, out).ok());  // unset
  ::setenv(kKeyEnv, "", 1);
  ASSERT_TRUE(e->embed({"x"}, EmbedRole::kQuery, out).ok());  // empty
  ::setenv(kKeyEnv, "sk-secret-123", 1);
  ASSERT_TRUE(e->embed({"x"}, EmbedRole::kQuery, out).ok());
  EXPECT_EQ(server.auth(), (std::vector<std::string>{"<none>", "<none>", "Bearer sk-secret-123"}));
  EXPECT_EQ(e->config().find("sk-secret"), std::string::npos);
  EXPECT_EQ(e->model_id().find("sk-secret"), std::string::npos);

  // key_env= (empty): never a key, whatever the environment holds.
  auto none = make_openai_embedder(fmt::format("openai:url={},model=test-model,key_env=", server.url()));
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  ASSERT_TRUE((*none)->embed({"x"}, EmbedRole::kQuery, out).ok());
  EXPECT_EQ(server.auth().back(), "<none>");
}

TEST_F(OpenAiEmbedderTest, RetriesA500ThenSucceeds) {
  FakeServer server([](const httplib::Request& req, httplib::Response& res, int call) {
    if (call == 1) {
      res.status = 500;
      res.set_content(R"({"error":{"message":"warming up"}})", "application/json");
      return;
    }
    res.set_content(embeddings_response(req, kDim), "application/json");
  });
  auto e = make(server.url(), ",retries=2");
  std::vector<float> out;
  const Texts texts = {"one", "two"};
  auto s = e->embed(texts, EmbedRole::kDocument, out);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  expect_rows(out, texts, kDim);
  EXPECT_EQ(server.calls(), 2);
}

TEST_F(OpenAiEmbedderTest, Retries429HonouringRetryAfter) {
  FakeServer server([](const httplib::Request& req, httplib::Response& res, int call) {
    if (call <= 2) {
      res.status = 429;
      res.set_header("Retry-After", "0");
      res.set_content(R"({"error":{"message":"rate limited"}})", "application/json");
      return;
    }
    res.set_content(embeddings_response(req, kDim), "application/json");
  });
  auto e = make(server.url(), ",retries=2");
  std::vector<float> out;
  auto s = e->embed({"t"}, EmbedRole::kQuery, out);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  expect_rows(out, {"t"}, kDim);
  EXPECT_EQ(server.calls(), 3);
}

TEST_F(OpenAiEmbedderTest, A400FailsAtOnceWithTheServersMessage) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"input is too long for model test-model","type":"invalid_request_error"}})",
                    "application/json");
  });
  auto e = make(server.url(), ",retries=3");
  std::vector<float> out;
  auto s = e->embed({"t"}, EmbedRole::kQuery, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("input is too long for model test-model"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("HTTP 400"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(server.url()), std::string::npos) << s.error().message;
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(OpenAiEmbedderTest, A404IsNotFound) {
  FakeServer server;
  auto e = make(server.url() + "/nowhere");
  std::vector<float> out;
  auto s = e->embed({"t"}, EmbedRole::kQuery, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound) << s.error().to_string();
  EXPECT_EQ(server.calls(), 0);
}

TEST_F(OpenAiEmbedderTest, TheKeyIsRedactedFromServerMessages) {
  FakeServer server([](const httplib::Request& req, httplib::Response& res, int) {
    res.status = 401;
    const std::string key = req.get_header_value("Authorization").substr(7);
    res.set_content(json{{"error", {{"message", "Incorrect API key provided: " + key}}}}.dump(), "application/json");
  });
  ::setenv(kKeyEnv, "sk-secret-123", 1);
  auto e = make(server.url());
  std::vector<float> out;
  auto s = e->embed({"t"}, EmbedRole::kQuery, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("Incorrect API key provided"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("sk-secret-123"), std::string::npos) << s.error().message;
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(OpenAiEmbedderTest, RetriesRunOutOnAClosedPort) {
  const int port = closed_port();
  ASSERT_GT(port, 0);
  auto e = make(fmt::format("http://127.0.0.1:{}/v1", port), ",retries=1,timeout_ms=500");
  std::vector<float> out;
  auto s = e->embed({"t"}, EmbedRole::kQuery, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("2 attempt(s)"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(fmt::format("127.0.0.1:{}", port)), std::string::npos) << s.error().message;
  EXPECT_EQ(e->dim(), 0);
}

TEST_F(OpenAiEmbedderTest, RetriesRunOutOnRepeated503) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 503;
    res.set_content(R"({"error":{"message":"overloaded"}})", "application/json");
  });
  auto e = make(server.url(), ",retries=2");
  std::vector<float> out;
  auto s = e->embed({"t"}, EmbedRole::kQuery, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("3 attempt(s)"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("HTTP 503: overloaded"), std::string::npos) << s.error().message;
  EXPECT_EQ(server.calls(), 3);
}

TEST_F(OpenAiEmbedderTest, DimensionIsLearntFromTheFirstResponse) {
  FakeServer server;
  auto e = make(server.url());
  EXPECT_EQ(e->dim(), 0);
  EXPECT_EQ(e->model_id(), "openai:" + server.url() + "#test-model#dim=0");
  EXPECT_EQ(server.calls(), 0);  // making it sent nothing
  std::vector<float> out;
  ASSERT_TRUE(e->embed({"t"}, EmbedRole::kQuery, out).ok());
  EXPECT_EQ(e->dim(), kDim);
  EXPECT_EQ(e->model_id(), fmt::format("openai:{}#test-model#dim={}", server.url(), kDim));
  ASSERT_TRUE(e->embed({"u"}, EmbedRole::kQuery, out).ok());
  EXPECT_EQ(e->model_id(), fmt::format("openai:{}#test-model#dim={}", server.url(), kDim));  // stable
}

TEST_F(OpenAiEmbedderTest, DimensionMismatchIsAnError) {
  std::atomic<int> dim{kDim};
  FakeServer server([&](const httplib::Request& req, httplib::Response& res, int) {
    res.set_content(embeddings_response(req, dim.load()), "application/json");
  });
  std::vector<float> out;
  {  // given dim
    auto e = make(server.url(), ",dim=4");
    EXPECT_EQ(e->dim(), 4);
    auto s = e->embed({"t"}, EmbedRole::kQuery, out);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find("dim=4"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find(server.url()), std::string::npos) << s.error().message;
  }
  {  // learnt dim, then the server changes model
    auto e = make(server.url());
    ASSERT_TRUE(e->embed({"t"}, EmbedRole::kQuery, out).ok());
    dim = 6;
    auto s = e->embed({"t"}, EmbedRole::kQuery, out);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find("size 6"), std::string::npos) << s.error().message;
    EXPECT_EQ(e->dim(), kDim);
  }
}

struct BadResponse {
  const char* name;
  const char* body;  // the answer to a request with inputs {"a", "b"}
  const char* says;  // part of the error message
};

class OpenAiEmbedderBadResponse : public ::testing::TestWithParam<BadResponse> {};

TEST_P(OpenAiEmbedderBadResponse, IsCorruptAndNotRetried) {
  const BadResponse p = GetParam();
  FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(p.body, "application/json");
  });
  auto e = make(server.url(), ",retries=3");
  std::vector<float> out;
  auto s = e->embed({"a", "b"}, EmbedRole::kDocument, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorrupt) << s.error().to_string();
  EXPECT_NE(s.error().message.find(p.says), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(server.url()), std::string::npos) << s.error().message;
  EXPECT_EQ(server.calls(), 1);
  EXPECT_EQ(e->dim(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    All, OpenAiEmbedderBadResponse,
    ::testing::Values(
        BadResponse{"NotJson", "<html>oops</html>", "not JSON"},
        BadResponse{"NoData", R"({"object":"list"})", "no \"data\" array"},
        BadResponse{"WrongCount", R"({"data":[{"index":0,"embedding":[1,2]}]})", "1 embeddings for 2 inputs"},
        BadResponse{"MissingIndex", R"({"data":[{"index":0,"embedding":[1,2]},{"embedding":[1,2]}]})",
                    "data[1] has no integer \"index\""},
        BadResponse{"DuplicateIndex", R"({"data":[{"index":1,"embedding":[1,2]},{"index":1,"embedding":[1,2]}]})",
                    "index 1 appears twice"},
        BadResponse{"IndexOutOfRange", R"({"data":[{"index":0,"embedding":[1,2]},{"index":2,"embedding":[1,2]}]})",
                    "out of range"},
        BadResponse{"NonNumeric", R"({"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[1,"x"]}]})",
                    "data[1].embedding[1] is not a number"},
        BadResponse{"Base64", R"({"data":[{"index":0,"embedding":"AAAA"},{"index":1,"embedding":"AAAA"}]})",
                    "not an array of numbers"},
        BadResponse{"RaggedRows", R"({"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[1,2,3]}]})",
                    "has 3 values"},
        BadResponse{"EmptyEmbedding", R"({"data":[{"index":0,"embedding":[]},{"index":1,"embedding":[]}]})",
                    "has 0 values"}),
    [](const ::testing::TestParamInfo<BadResponse>& info) { return std::string(info.param.name); });

TEST_F(OpenAiEmbedderTest, ConcurrentEmbedsAreCorrect) {
  FakeServer server;
  auto e = make(server.url(), ",batch=2");
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Texts texts;
      for (int i = 0; i < 5; ++i) texts.push_back(fmt::format("thread {} text {}", t, i));
      std::vector<float> out;
      if (!e->embed(texts, EmbedRole::kDocument, out).ok() || out.size() != texts.size() * kDim) return;
      for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto want = expected_row(texts[i], kDim);
        for (int j = 0; j < kDim; ++j) {
          if (std::abs(out[i * kDim + j] - want[j]) > 1e-6) return;
        }
      }
      ++good;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 4);
  EXPECT_EQ(server.calls(), 4 * 3);
}

TEST(OpenAiEmbedderOptions, ParsesEveryKeyAndRoundTrips) {
  const std::string config =
      "openai:url=https://api.example.com/v1,model=text-embedding-3-small,batch=16,timeout_ms=1000,retries=5,"
      "backoff_ms=50,key_env=MY_KEY,dim=1536";
  auto o = OpenAiEmbedderOptions::parse(config);
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->url, "https://api.example.com/v1");
  EXPECT_EQ(o->model, "text-embedding-3-small");
  EXPECT_EQ(o->batch, 16);
  EXPECT_EQ(o->timeout_ms, 1000);
  EXPECT_EQ(o->retries, 5);
  EXPECT_EQ(o->backoff_ms, 50);
  EXPECT_EQ(o->key_env, "MY_KEY");
  EXPECT_EQ(o->dim, 1536);
  EXPECT_EQ(o->to_config(), config);

  auto e = make_openai_embedder(config);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ((*e)->config(), config);
  EXPECT_EQ((*e)->dim(), 1536);
  EXPECT_EQ((*e)->model_id(), "openai:https://api.example.com/v1#text-embedding-3-small#dim=1536");
}

TEST(OpenAiEmbedderOptions, DefaultsAndNormalisation) {
  auto o = OpenAiEmbedderOptions::parse("openai:model=nomic-embed-text:latest,url=http://localhost:11434/v1/");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->url, "http://localhost:11434/v1");  // trailing '/' dropped
  EXPECT_EQ(o->model, "nomic-embed-text:latest");
  EXPECT_EQ(o->batch, 64);
  EXPECT_EQ(o->timeout_ms, 30000);
  EXPECT_EQ(o->retries, 3);
  EXPECT_EQ(o->backoff_ms, 200);
  EXPECT_EQ(o->key_env, "OPENAI_API_KEY");
  EXPECT_EQ(o->dim, 0);
  EXPECT_EQ(o->to_config(),
            "openai:url=http://localhost:11434/v1,model=nomic-embed-text:latest,batch=64,timeout_ms=30000,retries=3,"
            "backoff_ms=200,key_env=OPENAI_API_KEY,dim=0");
  auto again = OpenAiEmbedderOptions::parse(o->to_config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->to_config(), o->to_config());

  for (const char* url : {"http://[::1]:8080/v1", "http://host", "https://host:443"}) {
    auto u = OpenAiEmbedderOptions::parse(fmt::format("openai:url={},model=m", url));
    EXPECT_TRUE(u.ok()) << url << ": " << u.error().to_string();
  }
  auto empty_key_env = OpenAiEmbedderOptions::parse("openai:url=http://h/v1,model=m,key_env=");
  ASSERT_TRUE(empty_key_env.ok());
  EXPECT_EQ(empty_key_env->key_env, "");
}

TEST(OpenAiEmbedderOptions, BadConfigsNameTheKey) {
  struct Case {
    const char* config;
    const char* names;
  };
  const Case cases[] = {
      {"openai:model=m", "url"},
      {"openai:url=http://h/v1", "model"},
      {"openai", "url"},
      {"openai:url=http://h/v1,model=m,color=red", "color"},
      {"openai:url=http://h/v1,model=m,batch=0", "batch"},
      {"openai:url=http://h/v1,model=m,batch=abc", "batch"},
      {"openai:url=http://h/v1,model=m,batch=3000", "batch"},
      {"openai:url=http://h/v1,model=m,timeout_ms=0", "timeout_ms"},
      {"openai:url=http://h/v1,model=m,timeout_ms=1.5", "timeout_ms"},
      {"openai:url=http://h/v1,model=m,retries=-1", "retries"},
      {"openai:url=http://h/v1,model=m,backoff_ms=x", "backoff_ms"},
      {"openai:url=http://h/v1,model=m,dim=-3", "dim"},
      {"openai:url=http://h/v1,model=m,key_env=1BAD", "key_env"},
      {"openai:url=http://h/v1,model=m,key_env=A-B", "key_env"},
      {"openai:url=ftp://h/v1,model=m", "url"},
      {"openai:url=h:8080/v1,model=m", "url"},
      {"openai:url=http:///v1,model=m", "url"},
      {"openai:url=http://h:99999/v1,model=m", "url"},
      {"openai:url=http://h:/v1,model=m", "url"},
      {"openai:url=http://user:pw@h/v1,model=m", "url"},
      {"openai:url=http://h/v1?x=1,model=m", "url"},
      {"openai:url=http://h/v1,url=http://g/v1,model=m", "url"},
      {"openai:url=http://h/v1,model=m#x", "model"},
      {"openai:url=http://h/v1,model", "model"},
  };
  for (const Case& c : cases) {
    auto o = OpenAiEmbedderOptions::parse(c.config);
    ASSERT_FALSE(o.ok()) << c.config;
    EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument) << c.config;
    EXPECT_NE(o.error().message.find(c.names), std::string::npos) << c.config << ": " << o.error().message;
    auto e = make_openai_embedder(c.config);
    ASSERT_FALSE(e.ok()) << c.config;
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument) << c.config;
  }
  auto other_kind = OpenAiEmbedderOptions::parse("sif:dim=100");
  ASSERT_FALSE(other_kind.ok());
  EXPECT_EQ(other_kind.error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenAiEmbedderOptions, OptionsBuiltInCodeAreValidated) {
  OpenAiEmbedderOptions o;
  o.url = "http://127.0.0.1:1/v1/";
  o.model = "m";
  auto e = make_openai_embedder(o);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ((*e)->config(), "openai:url=http://127.0.0.1:1/v1,model=m,batch=64,timeout_ms=30000,retries=3,"
                            "backoff_ms=200,key_env=OPENAI_API_KEY,dim=0");
  o.model = "a,b";
  auto bad = make_openai_embedder(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("model"), std::string::npos);
}

}  // namespace
}  // namespace ragft
