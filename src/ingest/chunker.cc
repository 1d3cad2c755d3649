// Structure-aware chunker: sections (headings) -> paragraphs -> sentences -> word windows.
#include "ingest/chunker.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/check.h"
#include "text/sentences.h"

namespace ragft {

std::string ChunkerOptions::to_config() const {
  return fmt::format("chunk:target={},overlap={},max={}", target_tokens, overlap_tokens,
                     max_tokens);
}

Result<ChunkerOptions> ChunkerOptions::parse(std::string_view config) {
  constexpr std::string_view kPrefix = "chunk";
  if (config.substr(0, kPrefix.size()) != kPrefix) {
    return make_error(ErrorCode::kInvalidArgument,
                      "chunker config \"{}\" must start with \"chunk:\" (e.g. {})", config,
                      ChunkerOptions{}.to_config());
  }
  std::string_view rest = config.substr(kPrefix.size());
  if (!rest.empty()) {
    if (rest.front() != ':') {
      return make_error(ErrorCode::kInvalidArgument,
                        "chunker config \"{}\": expected ':' after \"chunk\"", config);
    }
    rest.remove_prefix(1);
  }
  if (!rest.empty() && rest.back() == ',') {
    return make_error(ErrorCode::kInvalidArgument, "chunker config \"{}\": trailing ','", config);
  }
  ChunkerOptions o;
  bool has_overlap = false, has_max = false;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "chunker config \"{}\": empty item", config);
    }
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "chunker config \"{}\": \"{}\" is not key=value", config, item);
    }
    std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    std::uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
    if (ec != std::errc() || ptr != val.data() + val.size() || val.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "chunker config \"{}\": value of {} (\"{}\") is not a non-negative integer",
                        config, key, val);
    }
    if (key == "target") {
      o.target_tokens = v;
    } else if (key == "overlap") {
      o.overlap_tokens = v;
      has_overlap = true;
    } else if (key == "max") {
      o.max_tokens = v;
      has_max = true;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "chunker config \"{}\": unknown key \"{}\" (known: target, overlap, max)",
                        config, key);
    }
  }
  // Unstated values scale with the target (the defaults are target/8 and target*3/2).
  if (!has_overlap) o.overlap_tokens = o.target_tokens / 8;
  if (!has_max) o.max_tokens = o.target_tokens + o.target_tokens / 2;
  if (o.target_tokens == 0) {
    return make_error(ErrorCode::kInvalidArgument, "chunker config \"{}\": target must be > 0",
                      config);
  }
  if (o.overlap_tokens >= o.target_tokens) {
    return make_error(ErrorCode::kInvalidArgument,
                      "chunker config \"{}\": overlap ({}) must be less than target ({})", config,
                      o.overlap_tokens, o.target_tokens);
  }
  if (o.max_tokens < o.target_tokens) {
    return make_error(ErrorCode::kInvalidArgument,
                      "chunker config \"{}\": max ({}) must be at least target ({})", config,
                      o.max_tokens, o.target_tokens);
  }
  return o;
}

namespace {

inline bool is_ws(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::uint32_t count_words(std::string_view text, std::uint32_t start, std::uint32_t end) {
  std::uint32_t words = 0;
  bool in_word = false;
  for (std::uint32_t i = start; i < end; ++i) {
    bool ws = is_ws(text[i]);
    words += static_cast<std::uint32_t>(!ws && !in_word);
    in_word = !ws;
  }
  return words;
}

// Trims [start, end) of ASCII whitespace; returns false when nothing is left.
bool trim_span(std::string_view text, std::uint32_t& start, std::uint32_t& end) {
  while (start < end && is_ws(text[start])) ++start;
  while (end > start && is_ws(text[end - 1])) --end;
  return start < end;
}

// Code points in text[start, end): bytes that are not UTF-8 continuation bytes (10xxxxxx),
// counted eight at a time.
std::size_t count_code_points(std::string_view text, std::size_t start, std::size_t end) {
  std::size_t continuation = 0, i = start;
  for (; i + 8 <= end; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    // High bit set and next-to-high bit clear, per byte.
    const std::uint64_t m = (w & ~(w << 1) & 0x8080808080808080ull) >> 7;  // 0/1 per byte
    continuation += static_cast<std::size_t>((m * 0x0101010101010101ull) >> 56);
  }
  for (; i < end; ++i) continuation += (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
  return (end - start) - continuation;
}

struct Unit {
  std::uint32_t start = 0;
  std::uint32_t end = 0;
  std::uint32_t words = 0;
  bool sentence = true;  // a whole sentence (may be carried as overlap); false: a word window
};

class Packer {
 public:
  Packer(std::string_view text, const ChunkerOptions& o, std::vector<ChunkSpan>& out)
      : text_(text), o_(o), out_(out) {}

  // Adds a paragraph given as units (in order). `heading`: the paragraph is a heading, which
  // must not end up alone in a chunk when text follows in its section.
  void add_paragraph(const std::vector<Unit>& units, std::uint32_t words, bool heading) {
    if (new_words() > 0 && cur_words_ + words > o_.target_tokens && !only_heading_) emit();
    if (new_words() == 0 && words <= o_.target_tokens) {
      fit_overlap(words, o_.target_tokens);
    }
    if (cur_words_ + words <= o_.target_tokens) {
      for (const Unit& u : units) push(u);
    } else {
      for (const Unit& u : units) add_unit(u);
    }
    only_heading_ = heading && cur_.size() - overlap_count_ == units.size();
  }

  // Ends a section: the chunk in progress is emitted and no overlap crosses into the next one.
  void end_section() {
    emit();
    cur_.clear();
    cur_words_ = 0;
    overlap_count_ = 0;
    only_heading_ = false;
  }

 private:
  std::uint32_t new_words() const { return cur_words_ - overlap_words(); }
  std::uint32_t overlap_words() const {
    std::uint32_t w = 0;
    for (std::size_t i = 0; i < overlap_count_; ++i) w += cur_[i].words;
    return w;
  }

  void push(const Unit& u) {
    cur_.push_back(u);
    cur_words_ += u.words;
  }

  void add_unit(const Unit& u) {
    if (new_words() > 0 && cur_words_ + u.words > o_.target_tokens && !only_heading_) emit();
    if (new_words() == 0) {
      fit_overlap(u.words, u.words <= o_.target_tokens ? o_.target_tokens : o_.max_tokens);
    } else if (cur_words_ + u.words > o_.max_tokens) {
      emit();  // only after a lone heading: never go past max
      fit_overlap(u.words, u.words <= o_.target_tokens ? o_.target_tokens : o_.max_tokens);
    }
    push(u);
    only_heading_ = false;
  }

  // Drops overlap units from the front until `words` more fit under `limit`.
  void fit_overlap(std::uint32_t words, std::uint32_t limit) {
    std::size_t drop = 0;
    while (drop < overlap_count_ && cur_words_ + words > limit) {
      cur_words_ -= cur_[drop].words;
      ++drop;
    }
    if (drop > 0) {
      cur_.erase(cur_.begin(), cur_.begin() + static_cast<std::ptrdiff_t>(drop));
      overlap_count_ -= drop;
    }
  }

  // Emits the chunk in progress (if it has new content) and starts the next one with the
  // trailing whole sentences of this one, up to overlap_tokens words (never all of it).
  void emit() {
    if (cur_.size() <= overlap_count_) return;
    ChunkSpan span;
    span.byte_start = cur_.front().start;
    span.byte_end = cur_.back().end;
    out_.push_back(span);
    std::size_t keep_from = cur_.size();
    std::uint32_t w = 0;
    while (keep_from > 1 && o_.overlap_tokens > 0) {
      const Unit& u = cur_[keep_from - 1];
      if (!u.sentence || w + u.words > o_.overlap_tokens) break;
      w += u.words;
      --keep_from;
    }
    cur_.erase(cur_.begin(), cur_.begin() + static_cast<std::ptrdiff_t>(keep_from));
    overlap_count_ = cur_.size();
    cur_words_ = w;
    only_heading_ = false;
  }

  std::string_view text_;
  const ChunkerOptions& o_;
  std::vector<ChunkSpan>& out_;
  std::vector<Unit> cur_;
  std::uint32_t cur_words_ = 0;
  std::size_t overlap_count_ = 0;  // leading units of cur_ carried over from the last chunk
  bool only_heading_ = false;      // the new content of cur_ is only a heading paragraph
};

// Appends the units of paragraph [start, end): sentences, each cut into word windows of about
// target_tokens when longer than max_tokens.
std::uint32_t paragraph_units(std::string_view text, std::uint32_t start, std::uint32_t end,
                              const ChunkerOptions& o, std::vector<Unit>& units) {
  std::vector<Span> sentences = split_sentences(text.substr(start, end - start));
  std::uint32_t total = 0;
  // No sentence: the paragraph is only (Unicode) whitespace, e.g. NBSPs; it gives no unit.
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    std::uint32_t s = i == 0 ? start : start + sentences[i].start;
    std::uint32_t e = i + 1 < sentences.size() ? start + sentences[i + 1].start : end;
    if (!trim_span(text, s, e)) continue;
    std::uint32_t words = count_words(text, s, e);
    total += words;
    if (words <= o.max_tokens) {
      units.push_back(Unit{s, e, words, true});
      continue;
    }
    const std::uint32_t pieces = (words + o.target_tokens - 1) / o.target_tokens;
    const std::uint32_t per_piece = (words + pieces - 1) / pieces;
    std::uint32_t piece_start = s, piece_words = 0;
    bool in_word = false;
    for (std::uint32_t k = s; k < e; ++k) {
      bool ws = is_ws(text[k]);
      if (!ws && !in_word) {
        if (piece_words == per_piece) {
          std::uint32_t pe = k;
          trim_span(text, piece_start, pe);
          units.push_back(Unit{piece_start, pe, piece_words, false});
          piece_start = k;
          piece_words = 0;
        }
        ++piece_words;
      }
      in_word = !ws;
    }
    units.push_back(Unit{piece_start, e, piece_words, false});
  }
  return total;
}

}  // namespace

std::vector<ChunkSpan> chunk_text(const LoadedDocument& doc, const ChunkerOptions& options) {
  RAGFT_CHECK(options.target_tokens > 0 && options.overlap_tokens < options.target_tokens &&
              options.max_tokens >= options.target_tokens);
  std::string_view text = doc.text;
  RAGFT_CHECK(text.size() <= UINT32_MAX);
  const auto n = static_cast<std::uint32_t>(text.size());
  std::vector<ChunkSpan> out;

  // Section boundaries: the text start and each heading start.
  std::vector<std::uint32_t> bounds;
  bounds.push_back(0);
  for (std::uint32_t h : doc.heading_starts) {
    if (h > 0 && h < n) bounds.push_back(h);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  bounds.push_back(n);
  std::vector<std::uint32_t> headings = doc.heading_starts;
  std::sort(headings.begin(), headings.end());
  std::vector<bool> is_heading_section(bounds.size(), false);
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    is_heading_section[i] = std::binary_search(headings.begin(), headings.end(), bounds[i]);
  }

  Packer packer(text, options, out);
  std::vector<Unit> units;
  for (std::size_t sec = 0; sec + 1 < bounds.size(); ++sec) {
    const std::uint32_t sec_start = bounds[sec], sec_end = bounds[sec + 1];
    std::vector<Span> paras = split_paragraphs(text.substr(sec_start, sec_end - sec_start));
    bool first = true;
    for (std::size_t i = 0; i < paras.size() || i == 0; ++i) {
      std::uint32_t s = i == 0 ? sec_start : sec_start + paras[i].start;
      std::uint32_t e = i + 1 < paras.size() ? sec_start + paras[i + 1].start : sec_end;
      if (!trim_span(text, s, e)) continue;
      units.clear();
      std::uint32_t words = paragraph_units(text, s, e, options, units);
      if (!units.empty()) packer.add_paragraph(units, words, first && is_heading_section[sec]);
      first = false;
    }
    packer.end_section();
  }

  // Char offsets (starts and ends are each ascending) and pages.
  std::uint32_t start_byte = 0, end_byte = 0;
  std::int64_t start_chars = 0, end_chars = 0;
  for (ChunkSpan& c : out) {
    start_chars += static_cast<std::int64_t>(count_code_points(text, start_byte, c.byte_start));
    end_chars += static_cast<std::int64_t>(count_code_points(text, end_byte, c.byte_end));
    start_byte = c.byte_start;
    end_byte = c.byte_end;
    c.char_start = start_chars;
    c.char_end = end_chars;
    if (!doc.page_starts.empty()) {
      auto it = std::upper_bound(doc.page_starts.begin(), doc.page_starts.end(), c.byte_start);
      c.page = std::max<int>(1, static_cast<int>(it - doc.page_starts.begin()));
    }
  }
  return out;
}

}  // namespace ragft
