// The generation bake-off (decide/generation.h): base model closed book, RAG, a LoRA adapter
// closed book, and RAFT's adapter with RAG, scored against reference answers, with the token-cost
// model.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "decide/bakeoff.h"
#include "decide/generation.h"
#include "decide/knowledge.h"
#include "decide/profile.h"
#include "evaluate/generative.h"
#include "core/env.h"
#include "generate/llm_answer.h"
#include "generate/lora.h"
#include "generate/local_chat.h"
#include "generate/raft.h"
#include "retrieve/searcher.h"

namespace ragft::decide {

namespace fs = std::filesystem;

Result<std::unique_ptr<ChatModel>> open_chat_model(const std::string& config) { return make_chat_model(config); }

namespace {

constexpr int kCacheVersion = 1;

void say(const BakeoffOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

struct GenData {
  std::vector<RaftQuestion> train, eval;
};

Result<GenData> load_questions(const Project& p) {
  GenData d;
  RAGFT_TRY(d.train, read_raft_questions(p.data.train, /*require_evidence=*/false));
  RAGFT_TRY(d.eval, read_raft_questions(p.data.eval, /*require_evidence=*/false));
  if (d.eval.empty()) return make_error(ErrorCode::kInvalidArgument, "data.eval: {} holds no question", p.data.eval.string());
  if (p.generation.metric != "json_valid") {
    for (const auto& q : d.eval) {
      if (q.answer.empty())
        return make_error(ErrorCode::kInvalidArgument,
                          "data.eval: question {} of {} has no reference answer (generation.metric {} needs one)", q.id,
                          p.data.eval.string(), p.generation.metric);
    }
  }
  return d;
}

// The text a metric scores: the reply before a RAFT-style "Evidence:" line, without [n] markers.
std::string scored_text(std::string_view reply) {
  std::string s(reply);
  for (std::size_t pos = 0; (pos = s.find("Evidence:", pos)) != std::string::npos; ++pos) {
    if (pos == 0 || s[pos - 1] == '\n') {
      s.resize(pos);
      break;
    }
  }
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '[') {
      std::size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == ',' || s[j] == ' ' || s[j] == '-')) ++j;
      if (j < s.size() && s[j] == ']' && j > i + 1) {
        i = j;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<EvidenceSpan> gold_spans(const RaftQuestion& q) {
  std::vector<EvidenceSpan> out;
  for (const auto& e : q.evidence) {
    if (e.spans.empty()) out.push_back({e.doc_id, 0, std::numeric_limits<std::int64_t>::max()});
    for (const auto& [a, b] : e.spans) out.push_back({e.doc_id, a, b});
  }
  return out;
}

std::vector<ChatMessage> closed_book_messages(const GenerationSpec& g, const std::string& question) {
  std::vector<ChatMessage> m;
  if (!g.system.empty()) m.push_back({ChatRole::kSystem, g.system});
  m.push_back({ChatRole::kUser, question});
  return m;
}

// One eval question answered by one arm.
struct Reply {
  GenerativeItem item;
  std::optional<ChatUsage> usage;
  double ms = 0;
};

struct Context {
  const Project& p;
  const BakeoffOptions& o;
  GenData data;
  std::unique_ptr<Workspace> ws;  // null without a corpus
  PromptTemplate prompt;
  LlmAnswerOptions answer;
  nlohmann::json schema;  // null without one
  OpenChatFn open_chat;
  TrainAdapterFn train_adapter;
};

Result<Reply> closed_book(const Context& c, const ChatModel& m, const RaftQuestion& q) {
  ChatRequest r;
  r.messages = closed_book_messages(c.p.generation, q.question);
  r.max_tokens = c.p.generation.max_tokens;
  r.temperature = 0;
  r.seed = static_cast<std::int64_t>(c.p.bakeoff.seed);
  Stopwatch w;
  RAGFT_TRY(ChatResponse resp, m.complete(r));
  Reply out;
  out.ms = w.ms();
  out.usage = resp.usage;
  out.item.prediction = scored_text(resp.text);
  return out;
}

Result<Reply> with_rag(Context& c, const ChatModel& m, const RaftQuestion& q) {
  SearchRequest req;
  req.query = q.question;
  req.k = c.answer.chunks;
  Stopwatch w;
  RAGFT_TRY(auto hits, search(*c.ws, req));
  RAGFT_TRY(LlmAnswer a, answer_with_llm(*c.ws, req, std::move(hits), m, c.prompt, c.answer));
  Reply out;
  out.ms = w.ms();
  out.usage = a.usage;
  out.item.abstained = a.answer.abstained;
  if (!a.answer.abstained) out.item.prediction = scored_text(a.raw);
  for (const auto& s : a.answer.sentences) {
    for (int n : s.citations) {
      if (n < 1 || static_cast<std::size_t>(n) > a.answer.sources.size()) continue;
      const Citation& src = a.answer.sources[n - 1];
      out.item.cited.push_back({src.doc_ext_id, src.char_start, src.char_end});
    }
  }
  return out;
}

double item_score(const Context& c, const GenerativeItem& it) {
  if (c.p.generation.metric == "json_valid") return !it.abstained && validate_json_text(it.prediction, c.schema).ok();
  if (it.abstained) return 0;
  return c.p.generation.metric == "exact_match" ? exact_match(it.prediction, it.references)
                                                : token_f1(it.prediction, it.references);
}

nlohmann::json number_or_null(double v, std::size_t n) { return n == 0 || std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

// Answers every eval question with `answer_one` and fills the arm's quality, latency and the
// "generative", "tokens" and "cost" objects.
Status run_eval(Context& c, ArmResult& a, std::int64_t training_tokens,
                const std::function<Result<Reply>(const RaftQuestion&)>& answer_one) {
  std::vector<GenerativeItem> items;
  std::int64_t prompt_tokens = 0, completion_tokens = 0;
  std::size_t with_usage = 0;
  a.per_item.clear();
  a.latency_ms.clear();
  for (const auto& q : c.data.eval) {
    RAGFT_TRY(Reply r, answer_one(q));
    if (!q.answer.empty()) r.item.references = {q.answer};
    r.item.gold = gold_spans(q);
    a.per_item.push_back(item_score(c, r.item));
    a.latency_ms.push_back(r.ms);
    if (r.usage) {
      ++with_usage;
      prompt_tokens += r.usage->prompt_tokens;
      completion_tokens += r.usage->completion_tokens;
    }
    items.push_back(std::move(r.item));
  }
  GenerativeSummary s = summarize_generative(items, c.schema);
  a.extra["generative"] = {{"items", s.items},
                           {"exact_match", number_or_null(s.exact_match, s.scored_answers)},
                           {"token_f1", number_or_null(s.token_f1, s.scored_answers)},
                           {"citation_precision", number_or_null(s.citation_precision, s.scored_precision)},
                           {"citation_recall", number_or_null(s.citation_recall, s.scored_recall)},
                           {"abstention_rate", s.abstention_rate},
                           {"format_valid", number_or_null(s.format_valid, s.scored_format)}};
  const TokenPrices& price = c.p.generation.prices;
  nlohmann::json tokens = {{"training", training_tokens}};
  nlohmann::json cost = {{"training_usd", training_tokens * price.training / 1e6}};
  if (with_usage == items.size()) {
    double pt = static_cast<double>(prompt_tokens) / items.size(), ct = static_cast<double>(completion_tokens) / items.size();
    tokens["prompt_per_query"] = pt;
    tokens["completion_per_query"] = ct;
    cost["per_1k_queries_usd"] = 1000 * (pt * price.prompt + ct * price.completion) / 1e6;
  } else {
    tokens["prompt_per_query"] = nullptr;  // the server did not report usage for every call
    tokens["completion_per_query"] = nullptr;
    cost["per_1k_queries_usd"] = nullptr;
  }
  a.extra["tokens"] = std::move(tokens);
  a.extra["cost"] = std::move(cost);
  return ok_status();
}

// Training and validation chats (the validation share: a tenth, at least one, none under 10).
void split_chats(std::vector<std::vector<ChatMessage>> all, std::uint64_t seed, AdapterJob& job) {
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  std::size_t val = all.size() < 10 ? 0 : std::max<std::size_t>(1, all.size() / 10);
  job.validation.assign(std::make_move_iterator(all.end() - static_cast<std::ptrdiff_t>(val)),
                        std::make_move_iterator(all.end()));
  all.resize(all.size() - val);
  job.train = std::move(all);
}

Result<std::string> file_hash_or_empty(const fs::path& p) {
  if (p.empty()) return std::string();
  return input_hash(p);
}

}  // namespace

Result<nlohmann::json> profile_generation(const Project& p, const BakeoffOptions& o) {
  RAGFT_TRY(GenData d, load_questions(p));
  std::size_t with_evidence = 0, with_answer = 0;
  for (const auto& q : d.train) with_evidence += !q.evidence.empty(), with_answer += !q.answer.empty();
  nlohmann::json out = {{"corpus", nullptr},
                        {"labeled",
                         {{"examples", d.train.size()},
                          {"with_answer", with_answer},
                          {"with_evidence", with_evidence}}},
                        {"eval", profile_eval(d.eval.size(), "questions").to_json()}};
  if (!p.data.corpus.empty()) {
    RAGFT_TRY(Workspace ws, synced_corpus(p.data.corpus, o.cache_dir, o.log));
    RAGFT_TRY(CorpusProfile cp, profile_corpus(ws.store()));
    out["corpus"] = cp.to_json();
  }
  return out;
}

Result<Bakeoff> run_generation_bakeoff(const Project& p, const BakeoffOptions& o) {
  const GenerationSpec& g = p.generation;
  const BakeoffSpec& b = p.bakeoff;
  if (g.llm.empty()) return make_error(ErrorCode::kInvalidArgument, "generation.llm: the base model is not set");
  RAGFT_TRY(LlmAnswerOptions answer, LlmAnswerOptions::parse(g.answer));
  answer.max_tokens = g.max_tokens;
  answer.temperature = 0;
  RAGFT_TRY(RaftOptions raft, RaftOptions::parse(g.raft));
  raft.seed = b.seed;
  Context c{p, o, {}, nullptr, PromptTemplate::default_template(), answer, nullptr,
            o.open_chat ? o.open_chat : OpenChatFn(open_chat_model),
            o.train_adapter ? o.train_adapter : TrainAdapterFn(train_lora_adapter)};
  RAGFT_TRY(c.data, load_questions(p));
  if (!g.prompt.empty()) {
    RAGFT_TRY(c.prompt, PromptTemplate::load(g.prompt));
  }
  if (!g.schema.empty()) {
    std::ifstream in(g.schema, std::ios::binary);
    std::string text(std::istreambuf_iterator<char>(in), {});
    c.schema = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!c.schema.is_object())
      return make_error(ErrorCode::kInvalidArgument, "generation.schema: {} is not a JSON object", g.schema.string());
  }

  nlohmann::json inputs = {{"v", kCacheVersion}, {"task", "generation"}, {"seed", b.seed},
                           {"bootstrap", b.bootstrap_samples}, {"metric", g.metric}, {"max_tokens", g.max_tokens}};
  RAGFT_TRY(inputs["train"], input_hash(p.data.train));
  RAGFT_TRY(inputs["eval"], input_hash(p.data.eval));
  RAGFT_TRY(inputs["schema"], file_hash_or_empty(g.schema));
  inputs["prompt"] = c.prompt.text();
  inputs["system"] = g.system;
  if (!p.data.corpus.empty()) {
    RAGFT_TRY(inputs["corpus"], corpus_hashes_of(p.data.corpus));
  }

  Bakeoff out;
  out.metric = g.metric == "json_valid"     ? nlohmann::json{{"name", "json_valid"}, {"label", "valid JSON"}, {"higher_is_better", true}}
               : g.metric == "exact_match" ? nlohmann::json{{"name", "exact_match"}, {"label", "exact match"}, {"higher_is_better", true}}
                                           : nlohmann::json{{"name", "token_f1"}, {"label", "answer F1"}, {"higher_is_better", true}};
  std::size_t with_evidence = 0;
  for (const auto& q : c.data.train) with_evidence += !q.evidence.empty();
  out.labeled_examples = static_cast<long>(c.data.train.size());
  out.profile = {{"corpus", nullptr},
                 {"labeled", {{"examples", c.data.train.size()}, {"with_evidence", with_evidence}}},
                 {"eval", profile_eval(c.data.eval.size(), "questions").to_json()}};

  Project project = p;  // the arms this data and model allow
  auto& arms = project.bakeoff.arms;
  std::vector<std::string> skipped;
  auto skip = [&](const std::string& id, const std::string& why) {
    auto it = std::find(arms.begin(), arms.end(), id);
    if (it == arms.end()) return;
    arms.erase(it);
    say(o, fmt::format("{}: skipped ({})", id, why));
    skipped.push_back(fmt::format("{}: {}", id, why));
  };
  if (p.data.corpus.empty()) {
    skip("rag", "needs data.corpus to retrieve from");
    skip("fine_tuned_rag", "needs data.corpus to retrieve from");
  }
  if (g.llm.rfind("local:", 0) != 0) {
    skip("fine_tuned", "LoRA adapters are trained on a local checkpoint (generation.llm local:path=DIR); export the "
                       "data with `ragft train generate --export-openai` to train elsewhere");
    skip("fine_tuned_rag", "LoRA adapters are trained on a local checkpoint");
  }
  if (with_evidence == 0) skip("fine_tuned_rag", "RAFT needs gold evidence in the training questions");
  if (c.data.train.empty()) {
    skip("fine_tuned", "no training questions");
    skip("fine_tuned_rag", "no training questions");
  }
  if (arms.empty()) return make_error(ErrorCode::kInvalidArgument, "no arm can run: {}", fmt::format("{}", fmt::join(skipped, "; ")));

  std::map<std::string, std::string> configs = {
      {"baseline", g.llm},
      {"rag", fmt::format("{};bm25;{}", g.llm, answer.to_config())},
      {"fine_tuned", fmt::format("{};{}", g.llm, g.lora)},
      {"fine_tuned_rag", fmt::format("{};{};{};bm25;{}", g.llm, g.lora, raft.to_config(), answer.to_config())}};
  ArmLedger ledger(project, o, inputs, configs);
  out.cached_arms = ledger.load();
  auto finish = [&](ArmResult a) {
    set_quality(a, b.bootstrap_samples, b.seed);
    return ledger.finish(std::move(a));
  };

  // The corpus (the retrieval arms' build cost, measured on the first run).
  double index_seconds = 0;
  fs::path ws_dir;
  if (!p.data.corpus.empty()) {
    ws_dir = corpus_dir(o.cache_dir, inputs["corpus"]);
    RAGFT_TRY(Workspace ws, synced_corpus(p.data.corpus, o.cache_dir, o.log, &index_seconds));
    c.ws = std::make_unique<Workspace>(std::move(ws));
    RAGFT_TRY(CorpusProfile cp, profile_corpus(c.ws->store()));
    out.measured_change = cp.change.as_change_frequency;
    out.profile["corpus"] = cp.to_json();
  }

  std::unique_ptr<ChatModel> base;
  double load_seconds = 0;
  auto base_model = [&]() -> Result<const ChatModel*> {
    if (!base) {
      Stopwatch w;
      RAGFT_TRY(base, c.open_chat(g.llm));
      load_seconds = w.seconds();
    }
    return base.get();
  };
  auto train = [&](const std::string& id, std::vector<std::vector<ChatMessage>> chats) -> Result<AdapterRun> {
    AdapterJob job;
    job.llm = g.llm;
    job.lora = g.lora;
    job.out = o.cache_dir / "models" / id;
    split_chats(std::move(chats), b.seed, job);
    say(o, fmt::format("{}: training a LoRA adapter on {} chats ({} held out for validation)", id, job.train.size(),
                       job.validation.size()));
    return c.train_adapter(job);
  };

  if (ledger.missing("baseline")) {
    say(o, fmt::format("baseline: {} closed book on {} questions", g.llm, c.data.eval.size()));
    reset_peak_rss();
    RAGFT_TRY(const ChatModel* m, base_model());
    ArmResult a;
    a.id = "baseline";
    a.name = "Base model, closed book";
    a.config = configs["baseline"];
    a.capabilities = {false, false, "none"};
    RAGFT_TRY_STATUS(run_eval(c, a, 0, [&](const RaftQuestion& q) { return closed_book(c, *m, q); }));
    a.build_seconds = load_seconds;
    a.peak_mb = peak_rss_mb();
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }
  if (ledger.missing("rag")) {
    say(o, "rag: BM25 top chunks, answers citing them");
    RAGFT_TRY(const ChatModel* m, base_model());
    ArmResult a;
    a.id = "rag";
    a.name = "Base model + BM25 retrieval";
    a.config = configs["rag"];
    a.capabilities = {true, true, "incremental"};
    RAGFT_TRY_STATUS(run_eval(c, a, 0, [&](const RaftQuestion& q) { return with_rag(c, *m, q); }));
    a.build_seconds = index_seconds + load_seconds;
    a.peak_mb = peak_rss_mb();
    a.disk_bytes = directory_bytes(ws_dir);
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }
  // An adapter arm: trains on `chats`, then answers every eval question closed book or with RAG.
  auto adapter_arm = [&](const std::string& id, const std::string& name, std::vector<std::vector<ChatMessage>> chats,
                         bool rag, double prep_seconds) -> Result<ArmResult> {
    reset_peak_rss();
    RAGFT_TRY(AdapterRun run, train(id, std::move(chats)));
    double peak = peak_rss_mb();
    RAGFT_TRY(auto model, c.open_chat(run.chat_config));
    ArmResult a;
    a.id = id;
    a.name = name;
    a.config = configs[id];
    a.capabilities = rag ? ArmCapabilities{true, true, "incremental"} : ArmCapabilities{false, false, "retrain"};
    RAGFT_TRY_STATUS(run_eval(c, a, run.training_tokens, [&](const RaftQuestion& q) {
      return rag ? with_rag(c, *model, q) : closed_book(c, *model, q);
    }));
    a.build_seconds = run.seconds + prep_seconds;
    a.peak_mb = peak;
    a.disk_bytes = directory_bytes(o.cache_dir / "models" / id);
    a.extra["training"] = run.report;
    return a;
  };
  if (ledger.missing("fine_tuned")) {
    std::vector<std::vector<ChatMessage>> chats;
    for (const auto& q : c.data.train) {
      if (q.answer.empty()) continue;
      auto m = closed_book_messages(g, q.question);
      m.push_back({ChatRole::kAssistant, q.answer});
      chats.push_back(std::move(m));
    }
    RAGFT_TRY(ArmResult a, adapter_arm("fine_tuned", "LoRA adapter, closed book", std::move(chats), false, 0));
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }
  if (ledger.missing("fine_tuned_rag")) {
    std::vector<RaftQuestion> with_ev;
    for (const auto& q : c.data.train)
      if (!q.evidence.empty()) with_ev.push_back(q);
    RaftStats st;
    Stopwatch w;
    RAGFT_TRY(auto examples, build_raft(*c.ws, with_ev, c.prompt, raft, &st));
    say(o, fmt::format("fine_tuned_rag: {} RAFT examples ({} with the oracle, {} without) in {:.1f} s", st.examples,
                       st.with_oracle, st.without_oracle, w.seconds()));
    std::vector<std::vector<ChatMessage>> chats;
    for (const auto& e : examples) {
      std::vector<ChatMessage> m;
      if (!e.prompt.system.empty()) m.push_back({ChatRole::kSystem, e.prompt.system});
      m.push_back({ChatRole::kUser, e.prompt.user});
      m.push_back({ChatRole::kAssistant, e.answer});
      chats.push_back(std::move(m));
    }
    RAGFT_TRY(ArmResult a, adapter_arm("fine_tuned_rag", "RAFT adapter + BM25 retrieval", std::move(chats), true, w.seconds()));
    a.extra["raft"] = {{"examples", st.examples}, {"with_oracle", st.with_oracle}, {"without_oracle", st.without_oracle}};
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  out.arms = ledger.take();
  out.skipped = std::move(skipped);
  out.comparisons = compare_arms(out.arms, b.bootstrap_samples, b.seed);
  out.freshness = nullptr;
  return out;
}

Result<AdapterRun> train_lora_adapter(const AdapterJob& job) {
  RAGFT_TRY(LocalChatOptions local, LocalChatOptions::parse(job.llm));
  TrainGenerateRequest r;
  r.base = local.path;
  r.out = job.out;
  RAGFT_TRY(r.options, LoraOptions::parse(job.lora));
  if (r.options.format == "auto") r.options.format = local.format;
  auto examples = [](const std::vector<std::vector<ChatMessage>>& chats) {
    std::vector<ChatExample> out;
    for (const auto& m : chats) {
      ChatExample e;
      e.messages = m;
      for (const auto& msg : m) e.weight.push_back(msg.role == ChatRole::kAssistant);
      out.push_back(std::move(e));
    }
    return out;
  };
  RAGFT_TRY(LoraReport report, train_lora_examples(r, examples(job.train), examples(job.validation), job.out.string()));
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(job.out / "lora_report.json", report.to_json().dump(2) + "\n"));
  AdapterRun run;
  local.adapter = job.out.string();
  run.chat_config = local.to_config();
  run.training_tokens = static_cast<std::int64_t>(report.tokens);
  run.seconds = report.seconds;
  run.report = report.to_json();
  return run;
}

}  // namespace ragft::decide
