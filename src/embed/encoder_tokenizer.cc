#include "embed/encoder_tokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "embed/subword_tokenizer.h"
#include "embed/wordpiece.h"

namespace ragft {

SubwordEncoderTokenizer::SubwordEncoderTokenizer(std::shared_ptr<const SubwordTokenizer> tokenizer,
                                                 std::int32_t fallback_pad)
    : tokenizer_(std::move(tokenizer)), pad_(tokenizer_->pad_id() >= 0 ? tokenizer_->pad_id() : fallback_pad) {}

std::size_t SubwordEncoderTokenizer::size() const { return tokenizer_->size(); }

std::vector<std::int32_t> SubwordEncoderTokenizer::encode(std::string_view text, std::size_t max_len) const {
  std::vector<std::int32_t> with = tokenizer_->encode(text, true);
  const std::vector<std::int32_t> bare = tokenizer_->encode(text, false);
  // Where the bare pieces sit inside `with`: the specials before them and after them.
  std::size_t prefix = 0;
  auto at = std::search(with.begin(), with.end(), bare.begin(), bare.end());
  if (!bare.empty() && at != with.end()) prefix = static_cast<std::size_t>(at - with.begin());
  if (bare.empty() || at == with.end()) {  // no pieces, or specials inside the text: cut the tail
    if (with.size() > max_len) with.resize(std::max<std::size_t>(max_len, 1));
    return with;
  }
  const std::size_t suffix = with.size() - prefix - bare.size();
  if (with.size() <= max_len) return with;
  const std::size_t room = max_len > prefix + suffix ? max_len - prefix - suffix : 0;
  std::vector<std::int32_t> out(with.begin(), with.begin() + static_cast<std::ptrdiff_t>(prefix));
  out.insert(out.end(), bare.begin(), bare.begin() + static_cast<std::ptrdiff_t>(room));
  out.insert(out.end(), with.end() - static_cast<std::ptrdiff_t>(suffix), with.end());
  return out;
}

Result<std::shared_ptr<const EncoderTokenizer>> load_encoder_tokenizer(const std::filesystem::path& dir,
                                                                      std::int32_t fallback_pad) {
  std::error_code ec;
  const auto json_path = dir / "tokenizer.json";
  bool wordpiece = !std::filesystem::exists(json_path, ec) && std::filesystem::exists(dir / "vocab.txt", ec);
  if (std::filesystem::exists(json_path, ec)) {
    RAGFT_TRY(std::string text, Env::posix().read_file(json_path));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", json_path.string());
    const auto model = j.find("model");
    wordpiece = model != j.end() && model->is_object() && model->value("type", "") == "WordPiece";
  }
  if (wordpiece) {
    RAGFT_TRY(WordPieceTokenizer tok, WordPieceTokenizer::from_dir(dir));
    return std::shared_ptr<const EncoderTokenizer>(std::make_shared<const WordPieceTokenizer>(std::move(tok)));
  }
  RAGFT_TRY(std::unique_ptr<SubwordTokenizer> sub, load_subword_tokenizer(dir));
  return std::shared_ptr<const EncoderTokenizer>(
      std::make_shared<const SubwordEncoderTokenizer>(std::shared_ptr<const SubwordTokenizer>(std::move(sub)), fallback_pad));
}

}  // namespace ragft
