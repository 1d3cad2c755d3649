#include "embed/openai_embedder.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "http/openai_http.h"

namespace ragft {

namespace {

using nlohmann::json;

constexpr std::string_view kSuffix = "/embeddings";
constexpr int kMaxBatch = 2048;          // OpenAI's limit on inputs per request
constexpr int kMaxDim = 65536;

constexpr std::string_view kWhat = "openai embedder";

class OpenAiEmbedder final : public Embedder {
 public:
  OpenAiEmbedder(OpenAiEmbedderOptions o, std::unique_ptr<OpenAiHttp> http)
      : o_(std::move(o)), endpoint_(http->endpoint(kSuffix)), http_(std::move(http)), dim_(o_.dim) {}

  int dim() const override { return dim_.load(); }
  std::string model_id() const override { return fmt::format("openai:{}#{}#dim={}", o_.url, o_.model, dim()); }
  std::string config() const override { return o_.to_config(); }

  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override {
    out.clear();
    if (texts.empty()) return ok_status();
    std::vector<std::size_t> sent;  // rows that are not empty strings
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (!texts[i].empty()) sent.push_back(i);
    }
    int d = dim_.load();
    if (sent.empty() && d == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "openai embedder {}: every text is empty and the vector size is not known yet (give dim= or "
                        "embed a non-empty text first)",
                        endpoint_);
    }
    if (d > 0) out.assign(texts.size() * static_cast<std::size_t>(d), 0.0f);
    std::vector<float> rows;
    const auto batch = static_cast<std::size_t>(o_.batch);
    for (std::size_t b = 0; b < sent.size(); b += batch) {
      const std::size_t count = std::min(batch, sent.size() - b);
      json input = json::array();
      for (std::size_t k = 0; k < count; ++k) input.push_back(texts[sent[b + k]]);
      const json req = {{"model", o_.model}, {"input", std::move(input)}, {"encoding_format", "float"}};
      // Invalid UTF-8 becomes U+FFFD rather than failing the whole batch.
      const std::string body = req.dump(-1, ' ', false, json::error_handler_t::replace);
      RAGFT_TRY(std::string response, http_->post(kSuffix, body));
      int row_dim = 0;
      RAGFT_TRY_STATUS(decode(response, count, rows, row_dim));
      RAGFT_TRY_STATUS(check_dim(row_dim));
      if (d == 0) {
        d = row_dim;
        out.assign(texts.size() * static_cast<std::size_t>(d), 0.0f);
      }
      for (std::size_t k = 0; k < count; ++k) {
        std::copy_n(rows.data() + k * static_cast<std::size_t>(d), d,
                    out.data() + sent[b + k] * static_cast<std::size_t>(d));
      }
    }
    l2_normalize_rows(out.data(), texts.size(), d);
    return ok_status();
  }

 private:
  // Learns the dimension from the first valid response, then holds every response to it.
  Status check_dim(int row_dim) {
    std::lock_guard lock(mu_);
    const int d = dim_.load();
    if (d == 0) {
      dim_.store(row_dim);
      return ok_status();
    }
    if (row_dim != d) {
      return make_error(ErrorCode::kInvalidArgument,
                        "openai embedder {}: model {} returned vectors of size {} but dim={} ({}); check the model "
                        "and dim",
                        endpoint_, o_.model, row_dim, d,
                        o_.dim > 0 ? "given in the config" : "learnt from an earlier response");
    }
    return ok_status();
  }

  // Parses a response to `count` inputs into `rows` (count x row_dim, by "index").
  Status decode(const std::string& body, std::size_t count, std::vector<float>& rows, int& row_dim) const {
    auto corrupt = [&](std::string_view what) {
      return make_error(ErrorCode::kCorrupt, "openai embedder {}: bad response: {}", endpoint_, what);
    };
    try {
      const json j = json::parse(body);
      auto data = j.is_object() ? j.find("data") : j.end();
      if (!j.is_object() || data == j.end() || !data->is_array()) return corrupt("no \"data\" array");
      if (data->size() != count) return corrupt(fmt::format("{} embeddings for {} inputs", data->size(), count));
      std::vector<char> seen(count, 0);
      row_dim = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const json& item = (*data)[i];
        if (!item.is_object()) return corrupt(fmt::format("data[{}] is not an object", i));
        auto idx = item.find("index");
        if (idx == item.end() || !idx->is_number_integer()) {
          return corrupt(fmt::format("data[{}] has no integer \"index\"", i));
        }
        const auto index = idx->get<std::int64_t>();
        if (index < 0 || static_cast<std::uint64_t>(index) >= count) {
          return corrupt(fmt::format("data[{}].index={} is out of range for {} inputs", i, index, count));
        }
        if (seen[index]) return corrupt(fmt::format("index {} appears twice", index));
        seen[index] = 1;
        auto emb = item.find("embedding");
        if (emb == item.end() || !emb->is_array()) {
          return corrupt(fmt::format("data[{}].embedding is not an array of numbers{}", i,
                                     emb != item.end() && emb->is_string() ? " (base64? encoding_format=float ignored)"
                                                                           : ""));
        }
        if (emb->empty() || emb->size() > static_cast<std::size_t>(kMaxDim)) {
          return corrupt(fmt::format("data[{}].embedding has {} values", i, emb->size()));
        }
        const int n = static_cast<int>(emb->size());
        if (row_dim == 0) {
          row_dim = n;
          rows.assign(count * static_cast<std::size_t>(n), 0.0f);
        } else if (n != row_dim) {
          return corrupt(fmt::format("data[{}].embedding has {} values, an earlier one {}", i, n, row_dim));
        }
        float* row = rows.data() + static_cast<std::size_t>(index) * static_cast<std::size_t>(n);
        for (int k = 0; k < n; ++k) {
          const json& v = (*emb)[k];
          if (!v.is_number()) return corrupt(fmt::format("data[{}].embedding[{}] is not a number", i, k));
          const auto f = static_cast<float>(v.get<double>());
          if (!std::isfinite(f)) return corrupt(fmt::format("data[{}].embedding[{}] is not finite", i, k));
          row[k] = f;
        }
      }
    } catch (const json::exception& e) {
      return corrupt(fmt::format("not JSON ({})", e.what()));
    }
    return ok_status();
  }

  const OpenAiEmbedderOptions o_;
  const std::string endpoint_;  // for messages: url + "/embeddings"
  const std::unique_ptr<OpenAiHttp> http_;
  std::mutex mu_;  // guards the first store to dim_
  std::atomic<int> dim_;
};

}  // namespace

std::string OpenAiEmbedderOptions::to_config() const {
  return fmt::format("openai:url={},model={},batch={},timeout_ms={},retries={},backoff_ms={},key_env={},dim={}", url,
                     model, batch, timeout_ms, retries, backoff_ms, key_env, dim);
}

Status OpenAiEmbedderOptions::validate() const {
  const std::string config = to_config();
  RAGFT_TRY_STATUS(validate_openai_endpoint(kWhat, config, *this));
  if (batch < 1 || batch > kMaxBatch) {
    return openai_config_error(kWhat, config, "batch", fmt::format("must be in [1, {}], got {}", kMaxBatch, batch));
  }
  if (dim < 0 || dim > kMaxDim) return openai_config_error(kWhat, config, "dim", fmt::format("must be in [0, {}], got {}", kMaxDim, dim));
  return ok_status();
}

Result<OpenAiEmbedderOptions> OpenAiEmbedderOptions::parse(std::string_view config) {
  OpenAiEmbedderOptions o;
  auto own = [&](const std::string& key, const std::string& value) -> Result<bool> {
    if (key == "batch") {
      RAGFT_TRY(o.batch, openai_config_int(kWhat, config, key, value, 1, kMaxBatch));
    } else if (key == "dim") {
      RAGFT_TRY(o.dim, openai_config_int(kWhat, config, key, value, 0, kMaxDim));
    } else {
      return false;
    }
    return true;
  };
  RAGFT_TRY_STATUS(parse_openai_config(kWhat, config, o, own,
                                       "url, model, batch, timeout_ms, retries, backoff_ms, key_env, dim"));
  return o;
}

Result<std::unique_ptr<Embedder>> make_openai_embedder(const OpenAiEmbedderOptions& options) {
  OpenAiEmbedderOptions o = options;
  o.url = strip_trailing_slashes(o.url);
  RAGFT_TRY_STATUS(o.validate());
  RAGFT_TRY(std::unique_ptr<OpenAiHttp> http, OpenAiHttp::make(o.http_options(std::string(kWhat))));
  return std::unique_ptr<Embedder>(std::make_unique<OpenAiEmbedder>(std::move(o), std::move(http)));
}

Result<std::unique_ptr<Embedder>> make_openai_embedder(std::string_view config) {
  RAGFT_TRY(const OpenAiEmbedderOptions o, OpenAiEmbedderOptions::parse(config));
  return make_openai_embedder(o);
}

}  // namespace ragft
