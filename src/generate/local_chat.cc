#include "generate/local_chat.h"

#include <chrono>

#include <fmt/format.h>

#include "core/config_string.h"
#include "embed/subword_tokenizer.h"
#include "generate/chat_format.h"
#include "generate/lora.h"
#include "generate/openai_chat.h"
#include "train/neural_backend.h"

namespace ragft {

namespace {

class LocalChat final : public ChatModel {
 public:
  LocalChat(LocalChatOptions o, std::unique_ptr<TokenGenerator> gen, ChatTemplate t)
      : o_(std::move(o)), gen_(std::move(gen)), tok_(std::move(t.tokenizer)), format_(t.format),
        bos_(std::move(t.bos)), eos_text_(std::move(t.eos)) {
    for (std::int32_t id : gen_->config().eos_token_ids) eos_.push_back(id);
    if (tok_->eos_id() >= 0) eos_.push_back(tok_->eos_id());
    for (const std::string& s : end_of_turn(format_, eos_text_)) {
      if (std::int32_t id = tok_->id(s); id >= 0) eos_.push_back(id);
    }
  }

  std::string config() const override { return o_.to_config(); }

  Result<ChatResponse> complete(const ChatRequest& request) const override {
    RAGFT_TRY_STATUS(request.validate());
    if (request.json || !request.json_schema.empty()) {
      return make_error(ErrorCode::kUnsupported, "local chat model {}: JSON mode and schemas are not supported", o_.path);
    }
    const auto t0 = std::chrono::steady_clock::now();
    RAGFT_TRY(std::string prompt, render_chat(format_, request.messages, bos_, eos_text_));
    const std::vector<std::int32_t> ids = tok_->encode(prompt, /*add_special_tokens=*/false);
    GenerateOptions g;
    g.max_new_tokens = request.max_tokens > 0 ? request.max_tokens : 512;
    g.eos_ids = eos_;
    if (request.temperature && *request.temperature > 0) g.sampling.temperature = *request.temperature;
    if (request.top_p) g.sampling.top_p = *request.top_p;
    if (request.seed) g.sampling.seed = static_cast<std::uint64_t>(*request.seed);
    for (const auto& s : request.stop) g.stop_sequences.push_back(tok_->encode(s, false));
    RAGFT_TRY(Generation out, gen_->generate(ids, g));
    ChatResponse r;
    r.text = tok_->decode(out.tokens, /*skip_special_tokens=*/true);
    bool stopped = out.finish != FinishReason::kMaxTokens && out.finish != FinishReason::kContextFull;
    for (const auto& s : request.stop) {  // a stop string the token sequences did not catch
      if (std::size_t at = r.text.find(s); at != std::string::npos) {
        r.text.resize(at);
        stopped = true;
      }
    }
    r.finish_reason = stopped ? "stop" : "length";
    r.usage = ChatUsage{out.prompt_tokens, out.generated, out.prompt_tokens + out.generated};
    r.model = o_.path;
    r.attempts = 1;
    r.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    r.first_delta_ms = r.latency_ms;
    return r;
  }

  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override {
    RAGFT_TRY(ChatResponse r, complete(request));
    if (!r.text.empty() && !on_delta(r.text)) return make_error(ErrorCode::kCancelled, "local chat: cancelled");
    return r;
  }

 private:
  LocalChatOptions o_;
  std::unique_ptr<TokenGenerator> gen_;
  std::shared_ptr<const SubwordTokenizer> tok_;
  ChatFormat format_;
  std::string bos_, eos_text_;
  std::vector<std::int32_t> eos_;
};

}  // namespace

std::string LocalChatOptions::to_config() const {
  std::string s = fmt::format("local:path={},format={},dtype={},threads={}", path, format, dtype, threads);
  if (!adapter.empty()) s += ",adapter=" + adapter;
  return s;
}

Result<LocalChatOptions> LocalChatOptions::parse(std::string_view config) {
  LocalChatOptions o;
  RAGFT_TRY(auto items, config_items(config, "local"));
  for (const auto& [key, value] : items) {
    if (key == "path") {
      o.path = value;
    } else if (key == "format") {
      if (value != "auto") {
        auto f = parse_chat_format(value);
        if (!f.ok()) return f.error();
      }
      o.format = value;
    } else if (key == "dtype") {
      if (value != "auto" && value != "fp32" && value != "bf16") {
        return make_error(ErrorCode::kInvalidArgument, "local option dtype=\"{}\" must be auto, fp32 or bf16", value);
      }
      o.dtype = value;
    } else if (key == "threads") {
      RAGFT_TRY(long long v, config_int("local", key, value, 0, 1024));
      o.threads = static_cast<int>(v);
    } else if (key == "adapter") {
      if (value.empty()) return make_error(ErrorCode::kInvalidArgument, "local option adapter= needs a directory");
      o.adapter = value;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "local chat config: unknown key \"{}\" (path, format, dtype, threads, adapter)", key);
    }
  }
  if (o.path.empty()) return make_error(ErrorCode::kInvalidArgument, "local chat config \"{}\": path=DIR is required", config);
  return o;
}

Result<ChatTemplate> load_chat_template(const std::filesystem::path& dir, std::string_view format_name) {
  RAGFT_TRY(std::unique_ptr<SubwordTokenizer> tok, load_subword_tokenizer(dir));
  ChatTemplate t;
  if (format_name == "auto") {
    RAGFT_TRY(TokenizerConfig tc, TokenizerConfig::from_dir(dir));
    auto detected = detect_chat_format(tc.chat_template);
    if (!detected.ok()) return make_error(detected.error().code, "{}: {}", dir.string(), detected.error().message);
    t.format = *detected;
  } else {
    RAGFT_TRY(t.format, parse_chat_format(format_name));
  }
  t.eos = tok->eos_id() >= 0 ? tok->token(tok->eos_id()) : std::string("</s>");
  t.bos = tok->bos_id() >= 0 ? tok->token(tok->bos_id()) : std::string();
  t.tokenizer = std::move(tok);
  return t;
}

Result<std::unique_ptr<ChatModel>> make_local_chat(const LocalChatOptions& o) {
  RAGFT_TRY(ChatTemplate t, load_chat_template(o.path, o.format));
  LlamaOptions lo;
  lo.dtype = o.dtype;
  lo.threads = o.threads;
  lo.adapter = o.adapter;
  RAGFT_TRY(std::unique_ptr<TokenGenerator> gen, make_token_generator(o.path, lo));
  if (t.tokenizer->size() > static_cast<std::size_t>(gen->config().vocab_size)) {
    return make_error(ErrorCode::kCorrupt, "{}: the tokenizer has {} tokens but config.json vocab_size is {}", o.path,
                      t.tokenizer->size(), gen->config().vocab_size);
  }
  return std::unique_ptr<ChatModel>(std::make_unique<LocalChat>(o, std::move(gen), std::move(t)));
}

Result<std::unique_ptr<ChatModel>> make_chat_model(std::string_view config) {
  if (config.starts_with("local:")) {
    RAGFT_TRY(LocalChatOptions o, LocalChatOptions::parse(config));
    return make_local_chat(o);
  }
  if (config.starts_with("openai:") || config == "openai") return make_openai_chat(config);
  return make_error(ErrorCode::kInvalidArgument,
                    "chat model \"{}\": unknown kind (openai:url=URL,model=NAME or local:path=DIR)", config);
}

}  // namespace ragft
