#include "serve/embeddings_api.h"

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ragft::serve {

namespace {

using nlohmann::json;

bool is_token_array(const json& v) {
  return v.is_array() && !v.empty() && (v[0].is_number() || v[0].is_array());
}

std::size_t words(std::string_view s) {
  std::size_t n = 0;
  bool in = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in) ++n;
    in = !space;
  }
  return n;
}

}  // namespace

ParsedEmbeddings parse_embeddings_request(std::string_view body, const ServeLimits& limits) {
  ParsedEmbeddings out;
  auto fail = [&](ApiError e) {
    out.error = std::move(e);
    return out;
  };
  json j;
  if (auto e = parse_json_object(body, j)) return fail(std::move(*e));
  EmbeddingsApiRequest r;
  auto input = j.find("input");
  if (input == j.end() || input->is_null()) return fail(bad_request("input", "input is required", "missing_field"));
  if (input->is_string()) {
    r.input.push_back(input->get<std::string>());
  } else if (is_token_array(*input)) {
    return fail(bad_request("input", "input as token ids is not supported by this server; send strings", "unsupported"));
  } else if (input->is_array()) {
    if (input->empty()) return fail(bad_request("input", "input must hold at least one string"));
    if (input->size() > limits.max_embedding_inputs) {
      return fail(bad_request("input",
                              fmt::format("{} inputs exceed the server's limit of {}", input->size(),
                                          limits.max_embedding_inputs),
                              "limit_exceeded"));
    }
    for (std::size_t i = 0; i < input->size(); ++i) {
      if (!(*input)[i].is_string()) return fail(wrong_type(fmt::format("input[{}]", i), "a string", (*input)[i]));
      r.input.push_back((*input)[i].get<std::string>());
    }
  } else {
    return fail(wrong_type("input", "a string or an array of strings", *input));
  }
  std::size_t bytes = 0;
  for (const auto& s : r.input) bytes += s.size();
  if (bytes > limits.max_input_bytes) {
    return fail(bad_request("input",
                            fmt::format("the input holds {} bytes, over the server's limit of {}", bytes,
                                        limits.max_input_bytes),
                            "limit_exceeded"));
  }
  if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
    if (!m->is_string()) return fail(wrong_type("model", "a string", *m));
    r.model = m->get<std::string>();
  }
  if (auto f = j.find("encoding_format"); f != j.end() && !f->is_null()) {
    if (!f->is_string()) return fail(wrong_type("encoding_format", "a string", *f));
    if (*f == "base64") {
      r.base64 = true;
    } else if (*f != "float") {
      return fail(bad_request("encoding_format",
                              fmt::format("encoding_format \"{}\" must be float or base64", f->get<std::string>())));
    }
  }
  if (auto d = j.find("dimensions"); d != j.end() && !d->is_null()) {
    if (!d->is_number_integer() && !d->is_number_unsigned()) return fail(wrong_type("dimensions", "an integer", *d));
    r.dimensions = d->get<long long>();
  }
  if (auto x = j.find("ragft"); x != j.end() && !x->is_null()) {
    if (!x->is_object()) return fail(wrong_type("ragft", "an object", *x));
    for (const auto& [key, value] : x->items()) {
      if (key != "role") {
        return fail(bad_request("ragft." + key, fmt::format("unknown field ragft.{} (known: role)", key), "unknown_field"));
      }
      if (value == "query") {
        r.role = EmbedRole::kQuery;
      } else if (value == "document") {
        r.role = EmbedRole::kDocument;
      } else {
        return fail(bad_request("ragft.role", "ragft.role must be \"query\" or \"document\""));
      }
    }
  }
  out.request = std::move(r);
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string embeddings_response(const EmbeddingsApiRequest& request, const std::string& model,
                                const std::vector<float>& vectors, int dim) {
  json data = json::array();
  const std::size_t d = static_cast<std::size_t>(dim);
  for (std::size_t i = 0; i < request.input.size(); ++i) {
    const float* row = vectors.data() + i * d;
    json embedding;
    if (request.base64) {
      // float32 little-endian, as OpenAI encodes it (every target ragft builds for is little-endian).
      static_assert(sizeof(float) == 4);
      embedding = base64_encode(std::string_view(reinterpret_cast<const char*>(row), d * sizeof(float)));
    } else {
      embedding = std::vector<float>(row, row + d);
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  std::size_t tokens = 0;
  for (const auto& s : request.input) tokens += words(s);
  json out = {{"object", "list"},
              {"data", std::move(data)},
              {"model", model},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ragft::serve
