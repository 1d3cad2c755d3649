// Subword tokenizer throughput: MB/s and tokens/s of HfBpeTokenizer::encode (Llama 3-like:
// cl100k split + byte-level BPE, with and without ignore_merges; RoBERTa-like: GPT-2 split) and
// SentencePieceModel::encode (Llama 2-like BPE with byte fallback; Unigram), single-threaded, on
// the SST-2 training sentences (data/sst2, ~0.7 MB of English).
//
// No pretrained vocabulary exists on this machine, so the bench builds one from the text: every
// word becomes one token through merges that add one character at a time (ranked by the word's
// frequency), which gives real-sized tables (~60k merges) and the merge work of common words.
// Target: >= 5 MB/s on one core, so that tokenizing never limits embedding or generation.
//
// Built as its own binary, ragft_tokenizer_bench (links ragft_embed only).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "embed/bpe_tokenizer.h"
#include "embed/sentencepiece_model.h"

namespace {

using namespace ragft;
using nlohmann::json;

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

struct Corpus {
  std::string text;
  // Distinct words (with their leading space, if any), most frequent first.
  std::vector<std::string> words;

  Corpus() {
    std::ifstream in(std::string(RAGFT_SOURCE_DIR) + "/data/sst2/stsa.binary.train");
    std::string line;
    std::unordered_map<std::string, int> freq;
    while (std::getline(in, line)) {
      if (line.size() < 3) continue;
      std::string sentence = line.substr(2);  // "1 text"
      text += sentence + "\n";
      std::istringstream ws(sentence);
      std::string w;
      bool first = true;
      while (ws >> w) {
        ++freq[(first ? "" : " ") + w];
        first = false;
      }
    }
    for (const auto& [w, n] : freq) words.push_back(w);
    std::sort(words.begin(), words.end(),
              [&](const auto& a, const auto& b) { return freq[a] != freq[b] ? freq[a] > freq[b] : a < b; });
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

// Byte-level tokenizer.json: 256 byte characters, then one merge per new prefix of each word.
std::string byte_level_json(bool llama3) {
  std::vector<std::string> chars(256);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    chars[b] = utf8(printable ? static_cast<char32_t>(b) : next++);
  }
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[chars[b]] = b;
  json merges = json::array();
  for (const std::string& w : corpus().words) {
    std::vector<std::string> symbols;
    for (unsigned char c : w) symbols.push_back(chars[c]);
    std::string prefix = symbols[0];
    for (std::size_t i = 1; i < symbols.size(); ++i) {
      std::string merged = prefix + symbols[i];
      if (!vocab.contains(merged)) {
        vocab[merged] = vocab.size();
        merges.push_back(json::array({prefix, symbols[i]}));
      }
      prefix = merged;
    }
  }
  json split = {
      {"type", "Split"},
      {"pattern",
       {{"Regex",
         R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"},
      {"invert", false}};
  json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", !llama3}};
  json j = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", llama3}}},
            {"pre_tokenizer",
             llama3 ? json{{"type", "Sequence"}, {"pretokenizers", json::array({split, byte_level})}} : byte_level},
            {"decoder", byte_level}};
  return j.dump();
}

class Proto {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      s_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    s_ += static_cast<char>(v);
  }
  void bytes(int field, const std::string& b) {
    varint(static_cast<std::uint64_t>(field) << 3 | 2);
    varint(b.size());
    s_ += b;
  }
  void uint(int field, std::uint64_t v) {
    varint(static_cast<std::uint64_t>(field) << 3);
    varint(v);
  }
  void f32(int field, float f) {
    varint(static_cast<std::uint64_t>(field) << 3 | 5);
    char b[4];
    std::memcpy(b, &f, 4);
    s_.append(b, 4);
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// A SentencePiece model with the same word-building pieces ("▁" for the space); BPE scores by
// rank, Unigram scores favouring long pieces.
std::string sentencepiece_model(int model_type) {
  Proto m;
  auto piece = [&](const std::string& p, float score, int type) {
    Proto pw;
    pw.bytes(1, p);
    pw.f32(2, score);
    if (type != 1) pw.uint(3, static_cast<std::uint64_t>(type));
    m.bytes(1, pw.str());
  };
  piece("<unk>", 0, 2);
  piece("<s>", 0, 3);
  piece("</s>", 0, 3);
  static const char* kHex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) piece(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", 0, 6);
  std::map<std::string, float> pieces;
  float rank = 0;
  for (const std::string& raw : corpus().words) {
    std::string w = raw[0] == ' ' ? "\xE2\x96\x81" + raw.substr(1) : "\xE2\x96\x81" + raw;
    std::size_t i = 0;
    std::string prefix;
    while (i < w.size()) {
      std::size_t n = 1;
      auto c = static_cast<unsigned char>(w[i]);
      if (c >= 0xF0)
        n = 4;
      else if (c >= 0xE0)
        n = 3;
      else if (c >= 0xC0)
        n = 2;
      std::string ch = w.substr(i, n);
      if (!pieces.count(ch)) pieces[ch] = -1e6f;  // characters: lowest BPE score
      prefix += ch;
      i += n;
      if (prefix.size() > ch.size() && !pieces.count(prefix)) pieces[prefix] = -(++rank);
    }
  }
  for (const auto& [p, score] : pieces) {
    float s = model_type == 2 ? score : -10.0f / static_cast<float>(p.size());
    piece(p, s, 1);
  }
  Proto t;
  t.uint(3, static_cast<std::uint64_t>(model_type));
  t.uint(35, 1);  // byte_fallback
  m.bytes(2, t.str());
  Proto n;
  n.bytes(1, "identity");
  n.uint(4, 0);  // remove_extra_whitespaces off, as Llama 2
  m.bytes(3, n.str());
  return m.str();
}

void run(benchmark::State& state, const SubwordTokenizer& t) {
  const std::string& text = corpus().text;
  std::size_t tokens = 0;
  for (auto _ : state) {
    auto ids = t.encode(text, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["tokens_per_s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["vocab"] = static_cast<double>(t.size());
}

void BM_HfBpeLlama3(benchmark::State& state) {
  static const auto t = HfBpeTokenizer::from_json_text(byte_level_json(true)).value();
  run(state, t);
}
BENCHMARK(BM_HfBpeLlama3)->Unit(benchmark::kMillisecond);

void BM_HfBpeRoberta(benchmark::State& state) {
  static const auto t = HfBpeTokenizer::from_json_text(byte_level_json(false)).value();
  run(state, t);
}
BENCHMARK(BM_HfBpeRoberta)->Unit(benchmark::kMillisecond);

void BM_SentencePieceBpe(benchmark::State& state) {
  static const auto t = SentencePieceModel::from_bytes(sentencepiece_model(2)).value();
  run(state, t);
}
BENCHMARK(BM_SentencePieceBpe)->Unit(benchmark::kMillisecond);

void BM_SentencePieceUnigram(benchmark::State& state) {
  static const auto t = SentencePieceModel::from_bytes(sentencepiece_model(1)).value();
  run(state, t);
}
BENCHMARK(BM_SentencePieceUnigram)->Unit(benchmark::kMillisecond);

}  // namespace
