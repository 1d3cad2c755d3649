#include "embed/embedder.h"

#include <cmath>

namespace ragft {

void l2_normalize_rows(float* rows, std::size_t n, int dim) {
  for (std::size_t i = 0; i < n; ++i) {
    float* r = rows + i * static_cast<std::size_t>(dim);
    double s = 0;
    for (int j = 0; j < dim; ++j) s += static_cast<double>(r[j]) * r[j];
    if (s <= 0) continue;
    const auto inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int j = 0; j < dim; ++j) r[j] *= inv;
  }
}

namespace {
class PrefixedEmbedder final : public Embedder {
 public:
  PrefixedEmbedder(std::unique_ptr<Embedder> inner, EmbedPrefixes p) : inner_(std::move(inner)), p_(std::move(p)) {}
  int dim() const override { return inner_->dim(); }
  std::string model_id() const override {
    return p_.passage.empty() ? inner_->model_id() : inner_->model_id() + "|passage_prefix=" + p_.passage;
  }
  std::string config() const override {
    std::string c = inner_->config();
    if (!p_.query.empty()) c += ",query_prefix=" + p_.query;
    if (!p_.passage.empty()) c += ",passage_prefix=" + p_.passage;
    return c;
  }
  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override {
    const std::string& prefix = role == EmbedRole::kQuery ? p_.query : p_.passage;
    if (prefix.empty()) return inner_->embed(texts, role, out);
    std::vector<std::string> prefixed;
    prefixed.reserve(texts.size());
    for (const auto& t : texts) prefixed.push_back(prefix + t);
    return inner_->embed(prefixed, role, out);
  }

 private:
  std::unique_ptr<Embedder> inner_;
  EmbedPrefixes p_;
};
}  // namespace

std::unique_ptr<Embedder> with_prefixes(std::unique_ptr<Embedder> inner, EmbedPrefixes prefixes) {
  if (prefixes.empty()) return inner;
  return std::make_unique<PrefixedEmbedder>(std::move(inner), std::move(prefixes));
}

}  // namespace ragft
