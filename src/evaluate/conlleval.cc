#include "evaluate/conlleval.h"

namespace ragft {

namespace {

struct SplitTag {
  std::string_view prefix;  // "O", "B", "I", "E", "S" (anything else is kept as given)
  std::string_view type;
};

SplitTag split_tag(std::string_view tag) {
  auto dash = tag.find('-');
  if (dash == std::string_view::npos) return {tag, {}};
  return {tag.substr(0, dash), tag.substr(dash + 1)};
}

// conlleval.pl startOfChunk (bracket tags omitted: not used by BIO/IOBES data).
bool start_of_chunk(const SplitTag& prev, const SplitTag& cur) {
  const auto p = prev.prefix;
  const auto t = cur.prefix;
  if (t == "B" || t == "S") return true;
  if ((p == "E" || p == "S" || p == "O") && (t == "E" || t == "I")) return true;
  return t != "O" && t != "." && prev.type != cur.type;
}

// conlleval.pl endOfChunk: did a chunk end between `prev` and `cur`?
bool end_of_chunk(const SplitTag& prev, const SplitTag& cur) {
  const auto p = prev.prefix;
  const auto t = cur.prefix;
  if (p == "E" || p == "S") return true;
  if ((p == "B" || p == "I") && (t == "B" || t == "S" || t == "O")) return true;
  return p != "O" && p != "." && prev.type != cur.type;
}

double ratio(std::size_t a, std::size_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

nlohmann::json counts_json(const ChunkCounts& c) {
  return {{"precision", c.precision()}, {"recall", c.recall()}, {"f1", c.f1()},
          {"gold", c.gold},             {"guessed", c.guessed}, {"correct", c.correct}};
}

}  // namespace

std::vector<Chunk> extract_chunks(const std::vector<std::string>& tags) {
  std::vector<Chunk> out;
  const SplitTag boundary{"O", {}};
  SplitTag prev = boundary;
  bool open = false;
  for (std::size_t i = 0; i <= tags.size(); ++i) {
    SplitTag cur = i < tags.size() ? split_tag(tags[i]) : boundary;
    if (open && end_of_chunk(prev, cur)) {
      out.back().end = i;
      open = false;
    }
    if (i < tags.size() && start_of_chunk(prev, cur)) {
      out.push_back({i, i, std::string(cur.type)});
      open = true;
    }
    prev = cur;
  }
  return out;
}

std::vector<std::string> to_bio(const std::vector<std::string>& tags) {
  std::vector<std::string> out(tags.size(), "O");
  for (const Chunk& c : extract_chunks(tags)) {
    for (std::size_t i = c.start; i < c.end; ++i) out[i] = (i == c.start ? "B-" : "I-") + c.type;
  }
  return out;
}

double ChunkCounts::precision() const { return ratio(correct, guessed); }
double ChunkCounts::recall() const { return ratio(correct, gold); }
double ChunkCounts::f1() const {
  double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

double ConllevalResult::accuracy() const { return ratio(correct_tags, tokens); }

nlohmann::json ConllevalResult::to_json() const {
  nlohmann::json j = counts_json(overall);
  j["accuracy"] = accuracy();
  j["tokens"] = tokens;
  j["sentences"] = sentences;
  j["per_type"] = nlohmann::json::object();
  for (const auto& [type, c] : per_type) j["per_type"][type] = counts_json(c);
  return j;
}

// The counting loop of conlleval.pl, run over one sentence framed by boundary tokens.
Status ConllevalAccumulator::add(const std::vector<std::string>& gold, const std::vector<std::string>& guessed) {
  if (gold.size() != guessed.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sentence {}: {} gold tags but {} guessed tags (lengths must match)",
                      result_.sentences + 1, gold.size(), guessed.size());
  }
  ConllevalResult& r = result_;
  const SplitTag boundary{"O", {}};
  SplitTag last_c = boundary, last_g = boundary;
  bool in_correct = false;
  for (std::size_t i = 0; i <= gold.size(); ++i) {
    const bool at_end = i == gold.size();
    SplitTag c = at_end ? boundary : split_tag(gold[i]);
    SplitTag g = at_end ? boundary : split_tag(guessed[i]);
    if (in_correct) {
      bool end_c = end_of_chunk(last_c, c);
      bool end_g = end_of_chunk(last_g, g);
      if (end_c && end_g && last_g.type == last_c.type) {
        in_correct = false;
        ++r.overall.correct;
        ++r.per_type[std::string(last_c.type)].correct;
      } else if (end_c != end_g || g.type != c.type) {
        in_correct = false;
      }
    }
    if (!at_end) {
      bool start_c = start_of_chunk(last_c, c);
      bool start_g = start_of_chunk(last_g, g);
      if (start_c && start_g && g.type == c.type) in_correct = true;
      if (start_c) {
        ++r.overall.gold;
        ++r.per_type[std::string(c.type)].gold;
      }
      if (start_g) {
        ++r.overall.guessed;
        ++r.per_type[std::string(g.type)].guessed;
      }
      if (gold[i] == guessed[i]) ++r.correct_tags;
      ++r.tokens;
    }
    last_c = c;
    last_g = g;
  }
  ++r.sentences;
  return ok_status();
}

}  // namespace ragft
