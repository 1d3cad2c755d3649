#include "retrieve/chunk_terms_cache.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "core/hash.h"
#include "core/utf8.h"

namespace ragft {

std::uint64_t chunk_text_hash(std::string_view text) { return hash64(text, 0x6368756e6b746578ULL); }
std::uint64_t chunk_term_hash(std::string_view term) { return hash64(term, 0x7465726d68617368ULL); }

namespace {
struct TermHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
}  // namespace

ChunkTerms ChunkTerms::analyse(Analyzer& analyzer, std::string_view text) {
  ChunkTerms out;
  out.text_hash = chunk_text_hash(text);
  out.text_bytes = text.size();
  std::unordered_map<std::string, std::uint32_t, TermHash, std::equal_to<>> index;
  CharOffsetCursor cursor(text);
  analyzer.for_each_token(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end) {
    auto it = index.find(term);
    if (it == index.end()) {
      it = index.emplace(std::string(term), static_cast<std::uint32_t>(out.terms.size())).first;
      out.terms.emplace_back(term);
    }
    const auto char_start = static_cast<std::uint32_t>(cursor.to_char(start));
    const auto char_end = static_cast<std::uint32_t>(cursor.to_char(end));
    out.words.push_back({start, end, char_start, char_end, it->second});
  });
  out.words.shrink_to_fit();
  out.by_hash.reserve(out.terms.size());
  for (std::uint32_t i = 0; i < out.terms.size(); ++i) out.by_hash.emplace_back(chunk_term_hash(out.terms[i]), i);
  std::sort(out.by_hash.begin(), out.by_hash.end());
  return out;
}

std::int64_t ChunkTerms::find_term(std::string_view term, std::uint64_t h) const {
  auto it = std::lower_bound(by_hash.begin(), by_hash.end(), std::pair<std::uint64_t, std::uint32_t>{h, 0});
  for (; it != by_hash.end() && it->first == h; ++it) {
    if (terms[it->second] == term) return it->second;
  }
  return -1;
}

std::size_t ChunkTerms::memory_bytes() const {
  std::size_t n = sizeof(ChunkTerms) + words.capacity() * sizeof(Word) + terms.capacity() * sizeof(std::string) +
                  by_hash.capacity() * sizeof(by_hash[0]);
  for (const std::string& t : terms) {
    if (t.capacity() > 15) n += t.capacity() + 1;  // beyond the small-string buffer
  }
  return n + 64;  // the map node and control block, roughly
}

ChunkTermsCache::ChunkTermsCache(std::size_t max_bytes)
    : max_bytes_(max_bytes), shards_(std::make_unique<Shard[]>(kShards)) {}

std::shared_ptr<const ChunkTerms> ChunkTermsCache::find(ChunkId id, std::string_view text) const {
  Shard& s = shard(id);
  std::shared_ptr<const ChunkTerms> found;
  {
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(id);
    if (it != s.entries.end()) found = it->second;
  }
  if (found && found->text_bytes == text.size() && found->text_hash == chunk_text_hash(text)) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return found;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void ChunkTermsCache::insert(ChunkId id, std::shared_ptr<const ChunkTerms> terms) {
  const std::size_t share = max_bytes_ / kShards;
  const std::size_t size = terms->memory_bytes();
  if (size > share) return;
  Shard& s = shard(id);
  std::lock_guard lock(s.mu);
  auto [it, added] = s.entries.try_emplace(id, terms);
  if (!added) {
    if (it->second->text_hash == terms->text_hash && it->second->text_bytes == terms->text_bytes) {
      return;  // another thread analysed the same text first
    }
    s.bytes -= it->second->memory_bytes();
    it->second = std::move(terms);
  }
  s.bytes += size;
  s.order.push_back(id);
  while (s.bytes > share && !s.order.empty()) {
    const ChunkId oldest = s.order.front();
    s.order.pop_front();
    auto old = s.entries.find(oldest);
    if (old == s.entries.end()) continue;
    s.bytes -= old->second->memory_bytes();
    s.entries.erase(old);
  }
}

ChunkTermsCache::Stats ChunkTermsCache::stats() const {
  Stats st;
  st.hits = hits_.load(std::memory_order_relaxed);
  st.misses = misses_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    st.entries += shards_[i].entries.size();
    st.bytes += shards_[i].bytes;
  }
  return st;
}

}  // namespace ragft
