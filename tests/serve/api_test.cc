// The wire formats of the server without sockets: chat, search and embeddings request parsing (every
// field, its type errors naming the field, the limits), the response shapes, base64, and the
// ErrorCode -> HTTP status map; the search response body written directly is byte for byte
// nlohmann's dump of the same object.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "serve/chat_api.h"
#include "serve/embeddings_api.h"
#include "serve/search_api.h"

namespace ragft::serve {
namespace {

using nlohmann::json;

ParsedChat parse(const json& j, const ServeLimits& limits = {}) { return parse_chat_request(j.dump(), limits); }

json minimal() { return {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

TEST(ChatApiTest, ReadsEveryOpenAiField) {
  json j = minimal();
  j["messages"] = json::array({{{"role", "developer"}, {"content", "be brief"}},
                               {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}},
                               {{"role", "assistant"}, {"content", nullptr}},
                               {{"role", "user"}, {"content", "again"}, {"name", "ignored"}}});
  j["max_tokens"] = 10;
  j["max_completion_tokens"] = 12;
  j["temperature"] = 0.5;
  j["top_p"] = 0.9;
  j["seed"] = 7;
  j["stop"] = "END";
  j["n"] = 1;
  j["stream"] = true;
  j["stream_options"] = {{"include_usage", true}};
  j["response_format"] = {{"type", "json_object"}};
  j["unknown_field"] = {{"anything", 1}};
  ParsedChat p = parse(j);
  ASSERT_TRUE(p.request) << p.error.message;
  const ChatApiRequest& r = *p.request;
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.chat.messages.size(), 4u);
  EXPECT_EQ(r.chat.messages[0].role, ChatRole::kSystem);
  EXPECT_EQ(r.chat.messages[1].content, "ab");
  EXPECT_EQ(r.chat.messages[2].role, ChatRole::kAssistant);
  EXPECT_EQ(r.chat.messages[2].content, "");
  EXPECT_EQ(r.chat.max_tokens, 12);  // max_completion_tokens wins
  EXPECT_TRUE(r.max_tokens_given);
  EXPECT_EQ(r.chat.temperature, 0.5);
  EXPECT_EQ(r.chat.top_p, 0.9);
  EXPECT_EQ(r.chat.seed, 7);
  EXPECT_EQ(r.chat.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.chat.json);
  EXPECT_FALSE(r.rag);
}

TEST(ChatApiTest, DefaultsAndJsonSchema) {
  json j = minimal();
  j["response_format"] = {{"type", "json_schema"},
                          {"json_schema", {{"name", "answer"}, {"schema", {{"type", "object"}}}, {"strict", false}}}};
  ServeLimits limits;
  limits.max_tokens = 99;
  ParsedChat p = parse(j, limits);
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_EQ(p.request->chat.max_tokens, 99);  // not given: the server's bound is sent
  EXPECT_FALSE(p.request->max_tokens_given);
  EXPECT_FALSE(p.request->stream);
  EXPECT_EQ(json::parse(p.request->chat.json_schema), json({{"type", "object"}}));
  EXPECT_EQ(p.request->chat.json_schema_name, "answer");
  EXPECT_FALSE(p.request->chat.json_schema_strict);
}

struct BadCase {
  const char* name;
  std::function<void(json&)> edit;
  std::string param;
  std::string code;
};

TEST(ChatApiTest, EachBadFieldIsNamed) {
  const std::vector<BadCase> cases = {
      {"no messages", [](json& j) { j.erase("messages"); }, "messages", "missing_field"},
      {"messages not array", [](json& j) { j["messages"] = "hi"; }, "messages", "invalid_type"},
      {"empty messages", [](json& j) { j["messages"] = json::array(); }, "messages", "invalid_value"},
      {"role type", [](json& j) { j["messages"][0]["role"] = 5; }, "messages[0].role", "invalid_type"},
      {"role value", [](json& j) { j["messages"][0]["role"] = "robot"; }, "messages[0].role", "invalid_value"},
      {"tool role", [](json& j) { j["messages"][0]["role"] = "tool"; }, "messages[0].role", "unsupported"},
      {"content type", [](json& j) { j["messages"][0]["content"] = 3; }, "messages[0].content", "invalid_type"},
      {"user content missing", [](json& j) { j["messages"][0].erase("content"); }, "messages[0].content", "missing_field"},
      {"image part", [](json& j) { j["messages"][0]["content"] = {{{"type", "image_url"}}}; }, "messages[0].content[0].type", "unsupported"},
      {"model type", [](json& j) { j["model"] = 1; }, "model", "invalid_type"},
      {"temperature type", [](json& j) { j["temperature"] = "hot"; }, "temperature", "invalid_type"},
      {"temperature range", [](json& j) { j["temperature"] = 3; }, "temperature", "invalid_value"},
      {"top_p range", [](json& j) { j["top_p"] = 0; }, "top_p", "invalid_value"},
      {"max_tokens type", [](json& j) { j["max_tokens"] = 1.5; }, "max_tokens", "invalid_type"},
      {"max_tokens zero", [](json& j) { j["max_tokens"] = 0; }, "max_tokens", "out_of_range"},
      {"max_tokens over limit", [](json& j) { j["max_tokens"] = 5000; }, "max_tokens", "out_of_range"},
      {"seed type", [](json& j) { j["seed"] = "x"; }, "seed", "invalid_type"},
      {"stop type", [](json& j) { j["stop"] = 4; }, "stop", "invalid_type"},
      {"stop element", [](json& j) { j["stop"] = {"a", 2}; }, "stop[1]", "invalid_type"},
      {"stop empty", [](json& j) { j["stop"] = {"a", ""}; }, "stop[1]", "invalid_value"},
      {"too many stops", [](json& j) { j["stop"] = {"a", "b", "c", "d", "e"}; }, "stop", "limit_exceeded"},
      {"n", [](json& j) { j["n"] = 2; }, "n", "unsupported"},
      {"stream type", [](json& j) { j["stream"] = "yes"; }, "stream", "invalid_type"},
      {"include_usage type", [](json& j) { j["stream_options"] = {{"include_usage", 1}}; }, "stream_options.include_usage", "invalid_type"},
      {"response_format type", [](json& j) { j["response_format"] = {{"type", "xml"}}; }, "response_format.type", "invalid_value"},
      {"schema missing", [](json& j) { j["response_format"] = {{"type", "json_schema"}, {"json_schema", json::object()}}; }, "response_format.json_schema.schema", "invalid_type"},
      {"ragft type", [](json& j) { j["ragft"] = true; }, "ragft", "invalid_type"},
      {"ragft.rag type", [](json& j) { j["ragft"] = {{"rag", "yes"}}; }, "ragft.rag", "invalid_type"},
      {"ragft.k type", [](json& j) { j["ragft"] = {{"rag", true}, {"k", "five"}}; }, "ragft.k", "invalid_type"},
      {"ragft.k range", [](json& j) { j["ragft"] = {{"rag", true}, {"k", 51}}; }, "ragft.k", "out_of_range"},
      {"ragft.filter value", [](json& j) { j["ragft"] = {{"rag", true}, {"filter", {{"lang", 1}}}}; }, "ragft.filter.lang", "invalid_type"},
      {"ragft.mode", [](json& j) { j["ragft"] = {{"rag", true}, {"mode", "magic"}}; }, "ragft.mode", "invalid_value"},
      {"ragft.tenant", [](json& j) { j["ragft"] = {{"rag", true}, {"tenant", "acme"}}; }, "ragft.tenant", "not_allowed"},
      {"ragft.principal", [](json& j) { j["ragft"] = {{"rag", true}, {"principal", "root"}}; }, "ragft.principal", "not_allowed"},
      {"ragft unknown", [](json& j) { j["ragft"] = {{"rag", true}, {"colour", "red"}}; }, "ragft.colour", "unknown_field"},
      {"ragft.k without rag", [](json& j) { j["ragft"] = {{"k", 3}}; }, "ragft.rag", "missing_field"},
      {"rag without a user message", [](json& j) { j["messages"][0]["role"] = "system"; j["ragft"] = {{"rag", true}}; }, "messages", "invalid_value"},
  };
  for (const BadCase& c : cases) {
    json j = minimal();
    c.edit(j);
    ParsedChat p = parse(j);
    EXPECT_FALSE(p.request) << c.name;
    EXPECT_EQ(p.error.status, 400) << c.name;
    EXPECT_EQ(p.error.type, "invalid_request_error") << c.name;
    EXPECT_EQ(p.error.param, c.param) << c.name << ": " << p.error.message;
    EXPECT_EQ(p.error.code, c.code) << c.name << ": " << p.error.message;
    EXPECT_FALSE(p.error.message.empty()) << c.name;
  }
}

TEST(ChatApiTest, NotJsonAndInputLimits) {
  ParsedChat p = parse_chat_request("{\"messages\": [", {});
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.error.code, "invalid_json");
  p = parse_chat_request("[1, 2]", {});
  EXPECT_EQ(p.error.code, "invalid_type");

  ServeLimits limits;
  limits.max_input_bytes = 10;
  limits.max_messages = 2;
  json j = minimal();
  j["messages"][0]["content"] = std::string(11, 'x');
  p = parse(j, limits);
  EXPECT_EQ(p.error.param, "messages");
  EXPECT_EQ(p.error.code, "limit_exceeded");
  j = minimal();
  j["messages"] = json::array({j["messages"][0], j["messages"][0], j["messages"][0]});
  p = parse(j, limits);
  EXPECT_EQ(p.error.code, "limit_exceeded");
}

TEST(ChatApiTest, RagExtension) {
  json j = minimal();
  j["ragft"] = {{"rag", true}, {"k", 3}, {"filter", {{"lang", "en"}, {"team", "ops"}}}, {"mode", "hybrid"}};
  ParsedChat p = parse(j);
  ASSERT_TRUE(p.request) << p.error.message;
  ASSERT_TRUE(p.request->rag);
  EXPECT_EQ(p.request->rag->k, 3u);
  EXPECT_EQ(p.request->rag->mode, SearchMode::kHybrid);
  ASSERT_EQ(p.request->rag->filter.size(), 2u);
  EXPECT_EQ(p.request->rag->filter[0], (std::pair<std::string, std::string>{"lang", "en"}));
  j["ragft"] = {{"rag", false}};
  p = parse(j);
  ASSERT_TRUE(p.request);
  EXPECT_FALSE(p.request->rag);
}

TEST(ChatApiTest, ResponseShapes) {
  ChatResponse r;
  r.text = "hello";
  r.usage = ChatUsage{3, 1, 4};
  json c = completion_json("chatcmpl-x", 100, "m", r);
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(c["usage"]["total_tokens"], 4);
  EXPECT_FALSE(c.contains("ragft"));
  r.usage.reset();
  r.finish_reason = "length";
  c = completion_json("chatcmpl-x", 100, "m", r, json{{"abstained", true}});
  EXPECT_TRUE(c["usage"].is_null());
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c["ragft"]["abstained"], true);

  const std::string e = chunk_event("id", 1, "m", {{"content", "x"}}, "stop");
  ASSERT_TRUE(e.starts_with("data: ") && e.ends_with("\n\n")) << e;
  json chunk = json::parse(e.substr(6));
  EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_EQ(chunk["choices"][0]["delta"]["content"], "x");
  EXPECT_EQ(chunk["choices"][0]["finish_reason"], "stop");
  json usage = json::parse(usage_event("id", 1, "m", ChatUsage{1, 2, 3}).substr(6));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 2);

  EXPECT_NE(new_completion_id(), new_completion_id());
  EXPECT_TRUE(new_completion_id().starts_with("chatcmpl-"));
}

TEST(ChatApiTest, RagExtensionListsCitedSources) {
  Answer a;
  a.sources = {Citation{1, 11, "d1", "T1", "s1", 0, 5, 0, "quote1"}, Citation{2, 12, "d2", "T2", "s2", 3, 9, 2, "quote2"}};
  a.sentences = {AnswerSentence{"claim", {2}}};
  json x = rag_extension_json(a, true, 2);
  ASSERT_EQ(x["citations"].size(), 1u);
  EXPECT_EQ(x["citations"][0]["chunk_id"], 12);
  EXPECT_EQ(x["citations"][0]["doc_id"], "d2");
  EXPECT_EQ(x["citations"][0]["char_start"], 3);
  EXPECT_EQ(x["citations"][0]["page"], 2);
  EXPECT_EQ(x["sources"].size(), 2u);
  EXPECT_FALSE(x["abstained"].get<bool>());
  a.abstained = true;
  EXPECT_TRUE(rag_extension_json(a, true, 2)["citations"].empty());
}

// Found by fuzz/serve_json_fuzz: an integral float outside int64 ({"k": 1e19}) was converted to
// int64 before its range was checked (undefined behaviour; UBSan stops there).
TEST(ChatApiTest, IntegersOutsideInt64AreOutOfRange) {
  for (const char* field : {"max_tokens", "seed"}) {
    for (const char* value : {"1e300", "-1e300", "9.3e18", "9223372036854775808", "18446744073709551615"}) {
      const std::string body =
          std::string(R"({"messages":[{"role":"user","content":"hi"}],")") + field + "\":" + value + "}";
      ParsedChat p = parse_chat_request(body, {});
      EXPECT_FALSE(p.request) << body;
      EXPECT_EQ(p.error.param, field) << body;
      EXPECT_EQ(p.error.code, "out_of_range") << body << ": " << p.error.message;
    }
  }
  ParsedChat p = parse_chat_request(R"({"messages":[{"role":"user","content":"hi"}],"seed":-9223372036854775808})", {});
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_EQ(p.request->chat.seed, INT64_MIN);
  p = parse_chat_request(R"({"messages":[{"role":"user","content":"hi"}],"seed":-9.223372036854775808e18})", {});
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_EQ(p.request->chat.seed, INT64_MIN);
  p = parse_chat_request(R"({"messages":[{"role":"user","content":"hi"}],"ragft":{"rag":true,"k":1e19}})", {});
  EXPECT_EQ(p.error.param, "ragft.k");
  EXPECT_EQ(p.error.code, "out_of_range");
}

TEST(SearchApiTest, KIsAnIntegerWithinTheLimit) {
  ServeLimits limits;
  limits.max_k = 20;
  for (const char* ask : {"query", "question"}) {
    auto parse_k = [&](const std::string& k) {
      const std::string body = std::string("{\"") + ask + R"(":"protein folding","k":)" + k + "}";
      return std::string(ask) == "query" ? parse_search_request(body, limits) : parse_ask_request(body, limits);
    };
    ParsedRetrieval p = parse_k("3.0");
    ASSERT_TRUE(p.request) << p.error.message;
    EXPECT_EQ(p.request->k, 3u);
    EXPECT_EQ(p.request->query, "protein folding");
    p = parse_k("20");
    ASSERT_TRUE(p.request) << p.error.message;
    EXPECT_EQ(p.request->k, 20u);
    for (const char* bad : {"1.5", "\"3\"", "true"}) {
      p = parse_k(bad);
      EXPECT_FALSE(p.request) << bad;
      EXPECT_EQ(p.error.code, "invalid_type") << bad;
    }
    // Like the chat and task parsers, the message names the type the value has.
    p = parse_k("\"3\"");
    EXPECT_EQ(p.error.message, "k must be an integer, not a string");
    // 1e19 is the fuzzer's input (a float past int64); the others bracket the range.
    for (const char* bad : {"1e19", "-1e19", "1e300", "18446744073709551615", "9223372036854775807", "0", "-1", "21"}) {
      p = parse_k(bad);
      EXPECT_FALSE(p.request) << bad;
      EXPECT_EQ(p.error.param, "k") << bad;
      EXPECT_EQ(p.error.code, "out_of_range") << bad << ": " << p.error.message;
    }
  }
}

TEST(SearchApiTest, TypeErrorsNameTheValuesType) {
  struct Case {
    const char* body;
    bool ask;
    const char* message;
  };
  const Case cases[] = {
      {R"({"query":5})", false, "query must be a string, not an integer"},
      {R"({"query":"x","mode":["bm25"]})", false, "mode must be a string, not an array"},
      {R"({"query":"x","filter":"red"})", false, "filter must be an object of string values, not a string"},
      {R"({"query":"x","filter":{"color":1.5}})", false, "filter.color must be a string, not a number"},
      {R"({"question":"x","llm":"yes"})", true, "llm must be a boolean, not a string"},
  };
  for (const auto& c : cases) {
    ParsedRetrieval p = c.ask ? parse_ask_request(c.body, {}) : parse_search_request(c.body, {});
    EXPECT_FALSE(p.request) << c.body;
    EXPECT_EQ(p.error.code, "invalid_type") << c.body;
    EXPECT_EQ(p.error.message, c.message) << c.body;
  }
}

TEST(EmbeddingsApiTest, ParsesInputsAndOptions) {
  auto p = parse_embeddings_request(R"({"input":"one","model":"e"})", {});
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_EQ(p.request->input, std::vector<std::string>{"one"});
  EXPECT_EQ(p.request->role, EmbedRole::kDocument);
  p = parse_embeddings_request(R"({"input":["a","b"],"encoding_format":"base64","ragft":{"role":"query"},"user":"u"})", {});
  ASSERT_TRUE(p.request) << p.error.message;
  EXPECT_EQ(p.request->input.size(), 2u);
  EXPECT_TRUE(p.request->base64);
  EXPECT_EQ(p.request->role, EmbedRole::kQuery);

  struct Bad {
    const char* body;
    const char* param;
    const char* code;
  };
  ServeLimits limits;
  limits.max_embedding_inputs = 2;
  limits.max_input_bytes = 8;
  for (const Bad& b : std::vector<Bad>{{R"({"model":"e"})", "input", "missing_field"},
                                       {R"({"input":5})", "input", "invalid_type"},
                                       {R"({"input":[1,2,3]})", "input", "unsupported"},
                                       {R"({"input":[[1,2],[3]]})", "input", "unsupported"},
                                       {R"({"input":["a",2]})", "input[1]", "invalid_type"},
                                       {R"({"input":[]})", "input", "invalid_value"},
                                       {R"({"input":["a","b","c"]})", "input", "limit_exceeded"},
                                       {R"({"input":"123456789"})", "input", "limit_exceeded"},
                                       {R"({"input":"a","encoding_format":"hex"})", "encoding_format", "invalid_value"},
                                       {R"({"input":"a","dimensions":"8"})", "dimensions", "invalid_type"},
                                       {R"({"input":"a","ragft":{"role":"both"}})", "ragft.role", "invalid_value"},
                                       {R"({"input":"a","ragft":{"tenant":"x"}})", "ragft.tenant", "unknown_field"},
                                       {R"({"input":"a","model":3})", "model", "invalid_type"},
                                       {R"(not json)", "", "invalid_json"}}) {
    auto r = parse_embeddings_request(b.body, limits);
    EXPECT_FALSE(r.request) << b.body;
    EXPECT_EQ(r.error.status, 400) << b.body;
    EXPECT_EQ(r.error.param, b.param) << b.body << ": " << r.error.message;
    EXPECT_EQ(r.error.code, b.code) << b.body << ": " << r.error.message;
  }
  // Type errors name the value's type, as every other route's do.
  EXPECT_EQ(parse_embeddings_request(R"({"input":"a","dimensions":"8"})", {}).error.message,
            "dimensions must be an integer, not a string");
  EXPECT_EQ(parse_embeddings_request(R"({"input":["a",2]})", {}).error.message, "input[1] must be a string, not an integer");
}

TEST(EmbeddingsApiTest, Base64IsStandardAndFloatsAreLittleEndian) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EmbeddingsApiRequest r;
  r.input = {"one two", ""};
  r.base64 = true;
  const std::vector<float> v = {1.0f, 0.0f, 0.0f, 0.0f};
  json j = json::parse(embeddings_response(r, "e", v, 2));
  EXPECT_EQ(j["data"][0]["embedding"], "AACAPwAAAAA=");  // 1.0f = 00 00 80 3f
  EXPECT_EQ(j["data"][1]["index"], 1);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 2);
  r.base64 = false;
  j = json::parse(embeddings_response(r, "e", v, 2));
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["data"][0]["object"], "embedding");
  EXPECT_EQ(j["data"][0]["embedding"], json::array({1.0, 0.0}));
  EXPECT_EQ(j["model"], "e");
}

TEST(ApiErrorTest, JsonInt64) {
  std::int64_t v = 0;
  EXPECT_EQ(json_int64(json(5), v), JsonInt::kOk);
  EXPECT_EQ(v, 5);
  EXPECT_EQ(json_int64(json(-7), v), JsonInt::kOk);
  EXPECT_EQ(v, -7);
  EXPECT_EQ(json_int64(json(4.0), v), JsonInt::kOk);
  EXPECT_EQ(v, 4);
  EXPECT_EQ(json_int64(json(-9223372036854775808.0), v), JsonInt::kOk);
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_EQ(json_int64(json(std::uint64_t{INT64_MAX}), v), JsonInt::kOk);
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_EQ(json_int64(json(9223372036854775808.0), v), JsonInt::kOutOfRange);
  EXPECT_EQ(json_int64(json(-1e300), v), JsonInt::kOutOfRange);
  EXPECT_EQ(json_int64(json(std::uint64_t{INT64_MAX} + 1), v), JsonInt::kOutOfRange);
  EXPECT_EQ(json_int64(json(1.5), v), JsonInt::kNotInteger);
  EXPECT_EQ(json_int64(json(std::nan("")), v), JsonInt::kNotInteger);
  EXPECT_EQ(json_int64(json("3"), v), JsonInt::kNotInteger);
  EXPECT_EQ(json_int64(json(nullptr), v), JsonInt::kNotInteger);
}

TEST(ApiErrorTest, WrongTypeNamesTheFieldAndBothTypes) {
  ApiError e = wrong_type("filter.lang", "a string", json(1.5));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "filter.lang");
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.message, "filter.lang must be a string, not a number");
  EXPECT_EQ(wrong_type("ragft", "an object", json(nullptr)).message, "ragft must be an object, not null");
}

TEST(ApiErrorTest, CodesMapToStatuses) {
  auto status = [](ErrorCode c, ErrorSource s) { return api_error_from(Error{c, "m"}, s).status; };
  EXPECT_EQ(status(ErrorCode::kInvalidArgument, ErrorSource::kUpstream), 400);
  EXPECT_EQ(status(ErrorCode::kUnsupported, ErrorSource::kUpstream), 400);
  EXPECT_EQ(status(ErrorCode::kNotFound, ErrorSource::kServer), 404);
  EXPECT_EQ(status(ErrorCode::kIo, ErrorSource::kUpstream), 502);
  EXPECT_EQ(status(ErrorCode::kIo, ErrorSource::kServer), 500);
  EXPECT_EQ(status(ErrorCode::kCorrupt, ErrorSource::kUpstream), 502);
  EXPECT_EQ(status(ErrorCode::kInternal, ErrorSource::kServer), 500);
  EXPECT_EQ(status(ErrorCode::kResourceExhausted, ErrorSource::kServer), 400);
  EXPECT_EQ(status(ErrorCode::kCancelled, ErrorSource::kServer), 503);
  ApiError e = api_error_from(Error{ErrorCode::kUnsupported, "no JSON mode"}, ErrorSource::kUpstream, "chat model");
  EXPECT_EQ(e.message, "chat model: no JSON mode");
  json body = json::parse(api_error_body(e));
  EXPECT_EQ(body["error"]["message"], "chat model: no JSON mode");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(body["error"]["param"].is_null());
  EXPECT_EQ(body["error"]["code"], "unsupported");
}

// What the handler wrote before search_result_body: a JSON tree, dumped.
std::string tree_body(std::string_view query, SearchMode mode, const std::vector<SearchHit>& hits, double took_ms) {
  json out = {{"object", "search.result"}, {"query", std::string(query)}, {"mode", search_mode_name(mode)},
              {"hits", json::array()}};
  for (const auto& h : hits) out["hits"].push_back(search_hit_json(h));
  out["took_ms"] = took_ms;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

SearchHit hit(std::string snippet, std::string title, float score) {
  SearchHit h;
  h.chunk_id = 4294967295u;
  h.doc_id = 7;
  h.ext_id = "doc/7.txt";
  h.title = std::move(title);
  h.source = "/data/docs/7.txt";
  h.score = score;
  h.rank = 1;
  h.char_start = -3;
  h.char_end = std::int64_t{1} << 40;
  h.page = 2;
  h.snippet = std::move(snippet);
  h.highlights = {{0, 4}, {10, 15}};
  return h;
}

TEST(SearchApiTest, ResultBodyIsTheTreesDumpByteForByte) {
  // Escapes, every control character, DEL, multi-byte UTF-8, and invalid UTF-8 (replaced).
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls += static_cast<char>(c);
  const std::vector<std::string> strings = {"",
                                            "plain words",
                                            "quote \" backslash \\ slash / tab\t newline\n cr\r",
                                            controls + "\x7f",
                                            "\u2026caf\u00e9 \u65e5\u672c \U0001F600 **bees**",
                                            "bad \xff byte, truncated \xe2\x80, overlong \xc0\xaf, surrogate \xed\xa0\x80"};
  const std::vector<float> scores = {0.0f, 10.883894f, 1e-7f, 3.0f, 1e20f, -2.5f,
                                     std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
  for (const auto& s : strings) {
    for (float score : scores) {
      std::vector<SearchHit> hits = {hit(s, s, score), hit("second", "t", 1.0f)};
      hits[1].highlights.clear();
      hits[1].rank = 2;
      for (double took : {0.0, 0.586463, 12.0, 1e-9}) {
        EXPECT_EQ(search_result_body(s, SearchMode::kHybrid, hits, took), tree_body(s, SearchMode::kHybrid, hits, took))
            << "string " << json(s).dump(-1, ' ', false, json::error_handler_t::replace) << " score " << score;
      }
    }
  }
  // No hits at all, and random bytes (mostly invalid UTF-8) in every string field.
  EXPECT_EQ(search_result_body("q", SearchMode::kBm25, {}, 1.5), tree_body("q", SearchMode::kBm25, {}, 1.5));
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    SearchHit h = hit(s, s, static_cast<float>(rng()) / 1e6f);
    h.ext_id = s;
    h.source = s;
    EXPECT_EQ(search_result_body(s, SearchMode::kDense, {h}, 2.0), tree_body(s, SearchMode::kDense, {h}, 2.0));
  }
}

}  // namespace
}  // namespace ragft::serve
