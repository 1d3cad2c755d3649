#include "index/lexical/bm25_index.h"

#include <algorithm>
#include <bit>
#include <atomic>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <sys/stat.h>

#include "core/check.h"
#include "core/log.h"
#include "index/lexical/manifest.h"
#include "index/lexical/scoring.h"
#include "index/lexical/search_tuning.h"
#include "index/lexical/segment.h"
#include "index/lexical/term_table.h"
#include "index/lexical/top_k.h"

namespace ragft {

namespace fs = std::filesystem;
using namespace lexical;  // NOLINT: internal implementation namespace

// ---------------------------------------------------------------------------------------------
// Options

std::string Bm25Options::to_config() const { return fmt::format("bm25:k1={},b={}", k1, b); }

Result<Bm25Options> Bm25Options::parse(std::string_view config) {
  Bm25Options o;
  std::string_view rest = config;
  if (rest.substr(0, 4) != "bm25") {
    return make_error(ErrorCode::kInvalidArgument,
                      "bm25 config '{}' must start with 'bm25' (e.g. bm25:k1=0.9,b=0.4)", config);
  }
  rest.remove_prefix(4);
  if (rest.empty()) return o;
  if (rest[0] != ':') {
    return make_error(ErrorCode::kInvalidArgument, "bm25 config '{}': expected ':' after 'bm25'",
                      config);
  }
  rest.remove_prefix(1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "bm25 config '{}': item '{}' is not key=value", config, item);
    }
    const std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    float v = 0;
    const auto [ptr, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
    if (ec != std::errc() || ptr != val.data() + val.size() || !std::isfinite(v)) {
      return make_error(ErrorCode::kInvalidArgument, "bm25 config '{}': '{}' is not a number",
                        config, val);
    }
    if (key == "k1") {
      if (v < 0) {
        return make_error(ErrorCode::kInvalidArgument, "bm25 config '{}': k1 must be >= 0",
                          config);
      }
      o.k1 = v;
    } else if (key == "b") {
      if (v < 0 || v > 1) {
        return make_error(ErrorCode::kInvalidArgument, "bm25 config '{}': b must be in [0, 1]",
                          config);
      }
      o.b = v;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "bm25 config '{}': unknown key '{}' (known: k1, b)", config, key);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Search tuning

namespace lexical {
namespace {
std::atomic<std::uint32_t> g_exhaustive_max_docs{SearchTuning{}.exhaustive_max_docs};
std::atomic<PrunedAlgorithm> g_algorithm{SearchTuning{}.algorithm};
}  // namespace

SearchTuning search_tuning() {
  return SearchTuning{g_exhaustive_max_docs.load(std::memory_order_relaxed),
                      g_algorithm.load(std::memory_order_relaxed)};
}
void set_search_tuning(const SearchTuning& t) {
  g_exhaustive_max_docs.store(t.exhaustive_max_docs, std::memory_order_relaxed);
  g_algorithm.store(t.algorithm, std::memory_order_relaxed);
}
}  // namespace lexical

// ---------------------------------------------------------------------------------------------
// Impl

namespace {

constexpr std::uint32_t kEnd = UINT32_MAX;
// Relative slack on upper bounds: per-term maxima and the summation order of bounds may differ
// from the exact score by a few ulps; pruning must never drop a document that could enter.
constexpr float kUbSlack = 1.0f + 1e-5f;

// Identifies a segment file's content without reading it: generations restart at 1 when an
// index directory is rebuilt, so a generation alone cannot tell a reused mapping is current.
struct FileStamp {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

std::optional<FileStamp> stamp_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                   static_cast<std::uint64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

struct LoadedSegment {
  SegmentEntry disk;
  FileStamp stamp;  // of the file when it was mapped  // as recorded in the MANIFEST (del_gen, n_deleted on disk)
  std::shared_ptr<const Segment> seg;  // shared with snapshots (Bm25Index::snapshot)
  std::vector<std::uint64_t> del;  // deleted local docs (current, in memory)
  std::uint32_t n_deleted = 0;
  bool del_dirty = false;

  bool deleted(std::uint32_t d) const { return (del[d >> 6] >> (d & 63)) & 1; }
  void set_deleted(std::uint32_t d) {
    del[d >> 6] |= std::uint64_t{1} << (d & 63);
    ++n_deleted;
    del_dirty = true;
  }
};

struct BufDoc {
  ChunkId id;
  std::uint32_t cls;
  std::uint32_t len;
  std::uint32_t n_terms;  // distinct terms
  std::uint64_t start;    // into Impl::b_tids_/b_tfs_
  bool dead;
};

// A query term after deduplication, with its global statistics.
struct PreparedTerm {
  std::string term;
  float weight = 0;
  float idfw = 0;  // idf * weight
};

}  // namespace

struct Bm25Index::Impl {
  fs::path dir;
  Bm25Options opt;
  Env* env = nullptr;
  Seq applied_seq = 0;
  std::uint64_t next_gen = 1;
  std::uint64_t manifest_size = 0;
  AccessClasses classes;
  std::vector<LoadedSegment> segs;

  // Buffered (uncommitted) chunks.
  TermTable b_terms;
  std::vector<std::uint32_t> b_term_last;  // per term id: index+1 of the last BufDoc using it
  std::vector<std::uint32_t> b_term_pos;   // per term id: slot of its tf in that doc
  std::vector<BufDoc> b_docs;
  std::vector<std::uint32_t> b_tids, b_tfs;
  std::unordered_map<ChunkId, std::uint32_t> b_index;  // live buffered id -> b_docs index

  // --- helpers -------------------------------------------------------------------------------

  std::uint64_t total_docs() const {
    std::uint64_t n = 0;
    for (const auto& s : segs) n += s.seg->n_docs();
    return n;
  }
  std::uint64_t total_len() const {
    std::uint64_t n = 0;
    for (const auto& s : segs) n += s.seg->total_len();
    return n;
  }

  Manifest make_manifest(Seq seq, const std::vector<SegmentEntry>& entries) const {
    Manifest m;
    m.applied_seq = seq;
    m.next_gen = next_gen;
    m.classes = classes.classes();
    m.segments = entries;
    return m;
  }

  Status write_manifest(const Manifest& m) {
    const std::string bytes = encode_manifest(m);
    RAGFT_TRY_STATUS(env->write_file_atomic(dir / kManifestName, bytes));
    manifest_size = bytes.size();
    return ok_status();
  }

  void remove_quietly(const fs::path& p) {
    auto st = env->remove_file(p);
    if (!st.ok()) log::warn("lexical index: could not remove {}: {}", p.string(), st.error().to_string());
  }

  // `reuse`: the same segment (same generation of the same directory) already mapped by another
  // index, or null to map and verify the file.
  Result<LoadedSegment> load_segment(const SegmentEntry& e, const LoadedSegment* reuse = nullptr) {
    const fs::path path = dir / segment_file_name(e.gen);
    LoadedSegment ls;
    ls.disk = e;
    const std::optional<FileStamp> stamp = stamp_of(path);
    if (stamp) ls.stamp = *stamp;
    if (reuse != nullptr && stamp && reuse->stamp == *stamp && reuse->seg->n_docs() == e.n_docs) {
      ls.seg = reuse->seg;
    } else {
      auto seg = Segment::open(path);
      if (!seg.ok()) return seg.take_error();
      ls.seg = std::make_shared<const Segment>(std::move(*seg));
    }
    if (ls.seg->n_docs() != e.n_docs) {
      return make_error(ErrorCode::kCorrupt,
                        "lexical segment {} holds {} chunks but the MANIFEST says {}; delete the "
                        "index directory to rebuild it",
                        path.string(), ls.seg->n_docs(), e.n_docs);
    }
    const std::uint32_t* cls = ls.seg->classes();
    for (std::uint32_t d = 0; d < ls.seg->n_docs(); ++d) {
      if (cls[d] >= classes.classes().size()) {
        return make_error(ErrorCode::kCorrupt,
                          "lexical segment {}: chunk {} has access class {} but the MANIFEST has "
                          "{}; delete the index directory to rebuild it",
                          path.string(), d, cls[d], classes.classes().size());
      }
    }
    ls.del.assign((std::size_t{e.n_docs} + 63) / 64, 0);
    if (e.del_gen != 0) {
      const fs::path dpath = dir / deletes_file_name(e.gen, e.del_gen);
      auto data = env->read_file(dpath);
      if (!data.ok()) {
        return make_error(ErrorCode::kCorrupt,
                          "lexical deletion file {} named by the MANIFEST cannot be read ({}); "
                          "delete the index directory to rebuild it",
                          dpath.string(), data.error().message);
      }
      RAGFT_TRY(ls.del, decode_deletes(*data, e.gen, e.n_docs, dpath.string()));
      std::uint64_t pop = 0;
      for (auto w : ls.del) pop += static_cast<std::uint64_t>(std::popcount(w));
      if (pop != e.n_deleted) {
        return make_error(ErrorCode::kCorrupt,
                          "lexical deletion file {} marks {} chunks but the MANIFEST says {}",
                          dpath.string(), pop, e.n_deleted);
      }
    }
    ls.n_deleted = e.n_deleted;
    return ls;
  }

  // Removes index files (segments, deletion files, temporaries) that `keep` does not name.
  void remove_unreferenced(const std::unordered_set<std::string>& keep) {
    std::error_code ec;
    for (const auto& ent : fs::directory_iterator(dir, ec)) {
      const std::string name = ent.path().filename().string();
      const bool ours = name.rfind("seg_", 0) == 0 &&
                        (name.ends_with(".seg") || name.ends_with(".del") || name.ends_with(".tmp"));
      if ((ours && !keep.count(name)) || name == std::string(kManifestName) + ".tmp") {
        remove_quietly(ent.path());
      }
    }
  }

  // Builds segment bytes from the live buffered chunks. Returns empty when none are live.
  std::string build_buffered_segment(std::uint32_t* n_docs_out) const;
  Result<std::string> build_merged_segment(const std::vector<std::size_t>& which,
                                           std::uint32_t* n_docs_out) const;

  // Search plumbing.
  std::vector<PreparedTerm> prepare(const std::vector<QueryTerm>& query) const;
  void search_segment_pruned(const LoadedSegment& ls, const std::vector<PreparedTerm>& q,
                             const ScoreParams& sp, const Admit& admit, TopK& top) const;
  void search_segment_maxscore(const LoadedSegment& ls, const std::vector<PreparedTerm>& q,
                               const ScoreParams& sp, const Admit& admit, TopK& top) const;
  void search_segment_exhaustive(const LoadedSegment& ls, const std::vector<PreparedTerm>& q,
                                 const ScoreParams& sp, const Admit& admit, TopK& top) const;
};


namespace {

// Per-segment view of an Admit: a doc passes when not deleted, its class is admitted and (with
// an allowlist) its bit is set.
struct SegAdmit {
  const LoadedSegment* ls = nullptr;
  const std::uint64_t* del = nullptr;  // null: no deletions
  const std::uint8_t* class_ok = nullptr;
  const std::uint32_t* classes = nullptr;
  std::vector<std::uint64_t> allow_bits;
  bool has_allow = false;

  SegAdmit(const LoadedSegment& s, const Admit& a) : ls(&s) {
    if (s.n_deleted > 0) del = s.del.data();
    if (!a.class_ok.empty()) {
      class_ok = a.class_ok.data();
      classes = s.seg->classes();
    }
    if (a.has_allow) {
      has_allow = true;
      allow_bits.assign((std::size_t{s.seg->n_docs()} + 63) / 64, 0);
      const std::uint32_t* ids = s.seg->ids();
      const std::uint32_t n = s.seg->n_docs();
      if (n > 0) {
        const auto lo = std::lower_bound(a.allow.begin(), a.allow.end(), ids[0]);
        const auto hi = std::upper_bound(lo, a.allow.end(), ids[n - 1]);
        for (auto it = lo; it != hi; ++it) {
          if (auto d = s.seg->find_id(*it)) allow_bits[*d >> 6] |= std::uint64_t{1} << (*d & 63);
        }
      }
    }
  }
  bool empty_allow() const {
    if (!has_allow) return false;
    for (auto w : allow_bits) {
      if (w) return false;
    }
    return true;
  }
  bool operator()(std::uint32_t d) const {
    if (del && ((del[d >> 6] >> (d & 63)) & 1)) return false;
    if (class_ok && !class_ok[classes[d]]) return false;
    if (has_allow && !((allow_bits[d >> 6] >> (d & 63)) & 1)) return false;
    return true;
  }
};

// Cursor over one term's posting list in one segment, with block-max metadata.
struct Cursor {
  const Segment* seg = nullptr;
  const TermInfo* ti = nullptr;
  const BlockMeta* metas = nullptr;
  std::uint32_t nb = 0;
  std::uint32_t blk = 0;   // decoded block
  std::uint32_t sblk = 0;  // shallow (metadata-only) block, >= blk
  std::uint32_t pos = 0, cnt = 0;
  std::uint32_t doc = kEnd;
  std::uint32_t qidx = 0;
  float idfw = 0;
  float ub = 0;                 // max over blocks of the block bound
  std::vector<float> block_ub;  // per block: term_score(idfw, max_tf, min_len)
  std::uint32_t docs[kBlockSize];
  std::uint32_t tfs[kBlockSize];

  void init(const Segment* s, const TermInfo* t, std::uint32_t q, float w, const ScoreParams& sp) {
    seg = s;
    ti = t;
    metas = s->metas(*t);
    nb = t->n_blocks;
    qidx = q;
    idfw = w;
    block_ub.resize(nb);
    ub = 0;
    for (std::uint32_t b = 0; b < nb; ++b) {
      block_ub[b] = term_score(idfw, metas[b].max_tf, metas[b].min_len, sp);
      ub = std::max(ub, block_ub[b]);
    }
    load(0);
  }
  void load(std::uint32_t b) {
    blk = b;
    if (sblk < b) sblk = b;
    cnt = seg->decode_block(*ti, b, docs, tfs);
    pos = 0;
    doc = docs[0];
  }
  void next() {
    if (++pos < cnt) {
      doc = docs[pos];
    } else if (blk + 1 < nb) {
      load(blk + 1);
    } else {
      doc = kEnd;
    }
  }
  // First block at or after `from` whose last doc >= target, or nb.
  std::uint32_t find_block(std::uint32_t from, std::uint32_t target) const {
    std::uint32_t b = from;
    // Gallop, then binary search.
    std::uint32_t step = 1;
    while (b < nb && metas[b].last_doc < target) {
      const std::uint32_t nxt = b + step;
      if (nxt >= nb || metas[nxt].last_doc >= target) {
        std::uint32_t lo = b + 1, hi = std::min(nxt, nb);
        while (lo < hi) {
          const std::uint32_t mid = lo + (hi - lo) / 2;
          if (metas[mid].last_doc < target) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        return lo;
      }
      b = nxt;
      step *= 2;
    }
    return b;
  }
  void next_geq(std::uint32_t target) {
    if (doc >= target) return;
    if (metas[blk].last_doc < target) {
      const std::uint32_t b = find_block(blk + 1, target);
      if (b >= nb) {
        doc = kEnd;
        return;
      }
      load(b);
    }
    while (docs[pos] < target) ++pos;
    doc = docs[pos];
  }
  // Bound for `target` from block metadata only; 0 when the list has no doc >= target.
  float shallow(std::uint32_t target) {
    if (sblk < blk) sblk = blk;
    if (sblk < nb && metas[sblk].last_doc < target) sblk = find_block(sblk, target);
    return sblk < nb ? block_ub[sblk] : 0.0f;
  }
  std::uint32_t shallow_end() const { return sblk < nb ? metas[sblk].last_doc : kEnd - 1; }
};

}  // namespace

std::vector<PreparedTerm> Bm25Index::Impl::prepare(const std::vector<QueryTerm>& query) const {
  std::map<std::string_view, float> merged;
  for (const auto& qt : query) merged[qt.term] += qt.weight;
  std::vector<PreparedTerm> out;
  const double n = static_cast<double>(total_docs());
  for (const auto& [term, w] : merged) {
    if (!(w > 0)) continue;  // non-positive weights contribute nothing
    std::uint64_t df = 0;
    for (const auto& s : segs) {
      if (auto t = s.seg->find_term(term)) df += s.seg->info(*t).df;
    }
    if (df == 0) continue;
    PreparedTerm p;
    p.term = std::string(term);
    p.weight = w;
    p.idfw = bm25_idf(n, static_cast<double>(df)) * w;
    out.push_back(std::move(p));
  }
  return out;
}

// One cursor per query term present in the segment (qidx = the term's index in `q`).
static std::vector<Cursor> open_cursors(const Segment& seg, const std::vector<PreparedTerm>& q, const ScoreParams& sp) {
  std::vector<Cursor> store;
  store.reserve(q.size());
  for (std::uint32_t i = 0; i < q.size(); ++i) {
    if (auto t = seg.find_term(q[i].term)) {
      store.emplace_back();
      store.back().init(&seg, &seg.info(*t), i, q[i].idfw, sp);
    }
  }
  return store;
}

void Bm25Index::Impl::search_segment_pruned(const LoadedSegment& ls,
                                            const std::vector<PreparedTerm>& q,
                                            const ScoreParams& sp, const Admit& admit_spec,
                                            TopK& top) const {
  const Segment& seg = *ls.seg;
  if (seg.n_docs() == 0) return;
  SegAdmit admit(ls, admit_spec);
  if (admit.empty_allow()) return;
  std::vector<Cursor> store = open_cursors(seg, q, sp);
  if (store.empty()) return;
  std::vector<Cursor*> cur;
  for (auto& c : store) cur.push_back(&c);
  std::vector<float> contrib(q.size(), 0.0f);
  const std::uint32_t* lens = seg.lens();
  const std::uint32_t* ids = seg.ids();
  const std::size_t n = cur.size();

  auto by_doc = [](const Cursor* a, const Cursor* b) { return a->doc < b->doc; };
  std::sort(cur.begin(), cur.end(), by_doc);
  while (true) {
    // Keep cursors sorted by current doc (insertion sort: mostly sorted already).
    for (std::size_t i = 1; i < n; ++i) {
      Cursor* c = cur[i];
      std::size_t j = i;
      while (j > 0 && cur[j - 1]->doc > c->doc) {
        cur[j] = cur[j - 1];
        --j;
      }
      cur[j] = c;
    }
    // Pivot: first prefix whose summed term bounds could reach the threshold.
    float acc = 0;
    std::size_t p = n;
    for (std::size_t i = 0; i < n && cur[i]->doc != kEnd; ++i) {
      acc += cur[i]->ub;
      if (top.may_enter(acc * kUbSlack)) {
        p = i;
        break;
      }
    }
    if (p == n) break;
    const std::uint32_t pivot = cur[p]->doc;
    while (p + 1 < n && cur[p + 1]->doc == pivot) ++p;
    // Block-max refinement.
    float bsum = 0;
    for (std::size_t i = 0; i <= p; ++i) bsum += cur[i]->shallow(pivot);
    if (top.may_enter(bsum * kUbSlack)) {
      if (!admit(pivot)) {
        for (std::size_t i = 0; i <= p; ++i) cur[i]->next_geq(pivot + 1);
      } else if (cur[0]->doc == pivot) {
        const std::uint32_t dl = lens[pivot];
        for (std::size_t i = 0; i <= p; ++i) {
          contrib[cur[i]->qidx] = term_score(cur[i]->idfw, cur[i]->tfs[cur[i]->pos], dl, sp);
        }
        float s = 0;
        for (std::size_t t = 0; t < contrib.size(); ++t) s += contrib[t];
        top.offer(s, ids[pivot]);
        for (std::size_t i = 0; i <= p; ++i) {
          contrib[cur[i]->qidx] = 0.0f;
          cur[i]->next();
        }
      } else {
        for (std::size_t i = 0; i <= p && cur[i]->doc < pivot; ++i) cur[i]->next_geq(pivot);
      }
    } else {
      // No doc in [pivot, next) can reach the threshold: every list 0..p stays within its
      // current block there and lists after p start at or after `next`.
      std::uint32_t next = kEnd;
      for (std::size_t i = 0; i <= p; ++i) next = std::min(next, cur[i]->shallow_end() + 1);
      if (p + 1 < n) next = std::min(next, cur[p + 1]->doc);
      RAGFT_CHECK(next > pivot);
      for (std::size_t i = 0; i <= p; ++i) cur[i]->next_geq(next);
    }
  }
}

void Bm25Index::Impl::search_segment_maxscore(const LoadedSegment& ls,
                                              const std::vector<PreparedTerm>& q,
                                              const ScoreParams& sp, const Admit& admit_spec,
                                              TopK& top) const {
  const Segment& seg = *ls.seg;
  if (seg.n_docs() == 0) return;
  SegAdmit admit(ls, admit_spec);
  if (admit.empty_allow()) return;
  std::vector<Cursor> store = open_cursors(seg, q, sp);
  if (store.empty()) return;
  // Lists by ascending upper bound; prefix[i] bounds a doc found only in lists 0..i.
  std::vector<Cursor*> cur;
  for (auto& c : store) cur.push_back(&c);
  std::sort(cur.begin(), cur.end(), [](const Cursor* a, const Cursor* b) { return a->ub < b->ub; });
  const std::size_t n = cur.size();
  std::vector<float> prefix(n);
  float acc = 0;
  for (std::size_t i = 0; i < n; ++i) prefix[i] = acc += cur[i]->ub;
  // Lists 0..ne-1 are non-essential: together they cannot reach the threshold.
  std::size_t ne = 0;
  auto update_ne = [&] {
    while (ne < n && !top.may_enter(prefix[ne] * kUbSlack)) ++ne;
  };
  update_ne();
  std::vector<float> contrib(q.size(), 0.0f);
  const std::uint32_t* lens = seg.lens();
  const std::uint32_t* ids = seg.ids();
  while (ne < n) {
    std::uint32_t d = kEnd;
    for (std::size_t i = ne; i < n; ++i) d = std::min(d, cur[i]->doc);
    if (d == kEnd) break;
    if (admit(d)) {
      const std::uint32_t dl = lens[d];
      float bound = 0;
      for (std::size_t i = ne; i < n; ++i) {
        if (cur[i]->doc == d) {
          const float s = term_score(cur[i]->idfw, cur[i]->tfs[cur[i]->pos], dl, sp);
          contrib[cur[i]->qidx] = s;
          bound += s;
        }
      }
      bool alive = top.may_enter((ne > 0 ? bound + prefix[ne - 1] : bound) * kUbSlack);
      if (alive && ne > 0) {
        // Block-max refinement of the non-essential lists.
        float bb = bound;
        for (std::size_t i = 0; i < ne; ++i) bb += cur[i]->shallow(d);
        alive = top.may_enter(bb * kUbSlack);
      }
      for (std::size_t i = ne; i-- > 0 && alive;) {
        Cursor* c = cur[i];
        c->next_geq(d);
        if (c->doc == d) {
          const float s = term_score(c->idfw, c->tfs[c->pos], dl, sp);
          contrib[c->qidx] = s;
          bound += s;
        }
        alive = top.may_enter((i > 0 ? bound + prefix[i - 1] : bound) * kUbSlack);
      }
      if (alive) {
        float score = 0;  // exact: query-term order, as in search_exhaustive()
        for (float c : contrib) score += c;
        top.offer(score, ids[d]);
        update_ne();
      }
      std::fill(contrib.begin(), contrib.end(), 0.0f);
    }
    for (std::size_t i = ne; i < n; ++i) {
      if (cur[i]->doc == d) cur[i]->next();
    }
  }
}

void Bm25Index::Impl::search_segment_exhaustive(const LoadedSegment& s,
                                                const std::vector<PreparedTerm>& q,
                                                const ScoreParams& sp, const Admit& admit_spec,
                                                TopK& top) const {
  std::uint32_t bd[kBlockSize], bt[kBlockSize];
  const Segment& seg = *s.seg;
  SegAdmit admit(s, admit_spec);
  if (admit.empty_allow()) return;
  std::vector<float> acc(seg.n_docs(), 0.0f);
  const std::uint32_t* lens = seg.lens();
  for (const auto& pt : q) {  // query-term order, as in the pruned paths
    auto t = seg.find_term(pt.term);
    if (!t) continue;
    const TermInfo& ti = seg.info(*t);
    for (std::uint32_t b = 0; b < ti.n_blocks; ++b) {
      const std::uint32_t c = seg.decode_block(ti, b, bd, bt);
      for (std::uint32_t i = 0; i < c; ++i) acc[bd[i]] += term_score(pt.idfw, bt[i], lens[bd[i]], sp);
    }
  }
  const std::uint32_t* ids = seg.ids();
  for (std::uint32_t d = 0; d < seg.n_docs(); ++d) {
    if (acc[d] > 0 && top.may_enter(acc[d]) && admit(d)) top.offer(acc[d], ids[d]);
  }
}

Bm25Index::Bm25Index() : impl_(std::make_unique<Impl>()) {}
Bm25Index::Bm25Index(Bm25Index&&) noexcept = default;
Bm25Index& Bm25Index::operator=(Bm25Index&&) noexcept = default;
Bm25Index::~Bm25Index() = default;

Result<Bm25Index> Bm25Index::open(const fs::path& dir, const Bm25Options& options, Env& env) {
  return open_reusing(dir, options, env, nullptr);
}

Result<Bm25Index> Bm25Index::reopen(const Bm25Index& previous) {
  const Impl& p = *previous.impl_;
  return open_reusing(p.dir, p.opt, *p.env, &previous);
}

Bm25Index Bm25Index::snapshot() const {
  const Impl& im = *impl_;
  Bm25Index idx;
  Impl& out = *idx.impl_;
  out.dir = im.dir;
  out.opt = im.opt;
  out.env = im.env;
  out.applied_seq = im.applied_seq;
  out.next_gen = im.next_gen;
  out.manifest_size = im.manifest_size;
  out.classes = im.classes;
  out.segs.reserve(im.segs.size());
  for (const LoadedSegment& s : im.segs) {
    LoadedSegment copy;
    copy.disk = s.disk;
    copy.stamp = s.stamp;
    copy.seg = s.seg;
    copy.del = s.del;
    copy.n_deleted = s.n_deleted;
    out.segs.push_back(std::move(copy));
  }
  return idx;
}

Result<Bm25Index> Bm25Index::open_reusing(const fs::path& dir, const Bm25Options& options, Env& env,
                                          const Bm25Index* previous) {
  Bm25Index idx;
  Impl& im = *idx.impl_;
  im.dir = dir;
  im.opt = options;
  im.env = &env;
  RAGFT_TRY_STATUS(env.create_dirs(dir));
  auto data = env.read_file(dir / kManifestName);
  if (!data.ok()) {
    if (data.error().code == ErrorCode::kNotFound) return idx;  // a new, empty index
    return data.take_error();
  }
  RAGFT_TRY(Manifest m, decode_manifest(*data, (dir / kManifestName).string()));
  im.manifest_size = data->size();
  im.applied_seq = m.applied_seq;
  im.next_gen = m.next_gen;
  im.classes.assign(std::move(m.classes));
  std::unordered_set<std::string> keep;
  for (const auto& e : m.segments) {
    if (e.gen >= im.next_gen || (e.del_gen != 0 && e.del_gen >= im.next_gen)) {
      return make_error(ErrorCode::kCorrupt, "lexical MANIFEST in {}: file generation {} >= {}",
                        dir.string(), e.gen, im.next_gen);
    }
    const LoadedSegment* reuse = nullptr;
    if (previous != nullptr) {
      for (const LoadedSegment& old : previous->impl_->segs) {
        if (old.disk.gen == e.gen) reuse = &old;
      }
    }
    RAGFT_TRY(LoadedSegment ls, im.load_segment(e, reuse));
    keep.insert(segment_file_name(e.gen));
    if (e.del_gen != 0) keep.insert(deletes_file_name(e.gen, e.del_gen));
    im.segs.push_back(std::move(ls));
  }
  im.remove_unreferenced(keep);
  return idx;
}

void Bm25Index::add(ChunkId id, const ChunkAttrs& attrs, const std::vector<std::string>& terms) {
  Impl& im = *impl_;
  RAGFT_CHECK(!im.b_index.count(id) && !contains(id));
  const std::uint32_t cls = im.classes.intern(attrs);
  const auto doc_no = static_cast<std::uint32_t>(im.b_docs.size()) + 1;  // 1-based marker
  const std::uint64_t start = im.b_tids.size();
  for (const auto& t : terms) {
    const std::uint32_t tid = im.b_terms.intern(t);
    if (tid >= im.b_term_last.size()) {
      im.b_term_last.resize(tid + 1, 0);
      im.b_term_pos.resize(tid + 1, 0);
    }
    if (im.b_term_last[tid] == doc_no) {
      ++im.b_tfs[im.b_term_pos[tid]];
    } else {
      im.b_term_last[tid] = doc_no;
      im.b_term_pos[tid] = static_cast<std::uint32_t>(im.b_tids.size());
      im.b_tids.push_back(tid);
      im.b_tfs.push_back(1);
    }
  }
  BufDoc bd{id, cls, static_cast<std::uint32_t>(terms.size()),
            static_cast<std::uint32_t>(im.b_tids.size() - start), start, false};
  im.b_index.emplace(id, static_cast<std::uint32_t>(im.b_docs.size()));
  im.b_docs.push_back(bd);
}

void Bm25Index::remove(ChunkId id) {
  Impl& im = *impl_;
  if (auto it = im.b_index.find(id); it != im.b_index.end()) {
    im.b_docs[it->second].dead = true;
    im.b_index.erase(it);
  }
  for (auto& s : im.segs) {
    const Segment& seg = *s.seg;
    if (seg.n_docs() == 0 || id < seg.ids()[0] || id > seg.ids()[seg.n_docs() - 1]) continue;
    if (auto d = seg.find_id(id); d && !s.deleted(*d)) s.set_deleted(*d);
  }
}

std::string Bm25Index::Impl::build_buffered_segment(std::uint32_t* n_docs_out) const {
  std::vector<std::uint32_t> order;
  for (std::uint32_t i = 0; i < b_docs.size(); ++i) {
    if (!b_docs[i].dead) order.push_back(i);
  }
  *n_docs_out = static_cast<std::uint32_t>(order.size());
  if (order.empty()) return {};
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return b_docs[a].id < b_docs[b].id; });
  const std::size_t n_terms = b_terms.size();
  std::vector<std::uint64_t> offs(n_terms + 1, 0);
  std::vector<ChunkId> ids;
  std::vector<std::uint32_t> lens, cls;
  ids.reserve(order.size());
  for (auto i : order) {
    const BufDoc& d = b_docs[i];
    ids.push_back(d.id);
    lens.push_back(d.len);
    cls.push_back(d.cls);
    for (std::uint64_t k = d.start; k < d.start + d.n_terms; ++k) ++offs[b_tids[k] + 1];
  }
  for (std::size_t t = 0; t < n_terms; ++t) offs[t + 1] += offs[t];
  std::vector<std::uint32_t> pdocs(offs[n_terms]), ptfs(offs[n_terms]);
  std::vector<std::uint64_t> fill(offs.begin(), offs.end() - 1);
  for (std::uint32_t local = 0; local < order.size(); ++local) {
    const BufDoc& d = b_docs[order[local]];
    for (std::uint64_t k = d.start; k < d.start + d.n_terms; ++k) {
      const std::uint64_t at = fill[b_tids[k]]++;
      pdocs[at] = local;
      ptfs[at] = b_tfs[k];
    }
  }
  std::vector<std::uint32_t> term_order;
  for (std::uint32_t t = 0; t < n_terms; ++t) {
    if (offs[t + 1] > offs[t]) term_order.push_back(t);
  }
  std::sort(term_order.begin(), term_order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return b_terms.str(a) < b_terms.str(b); });
  SegmentWriter w(std::move(ids), std::move(lens), std::move(cls));
  for (auto t : term_order) {
    w.add_term(b_terms.str(t), pdocs.data() + offs[t], ptfs.data() + offs[t], offs[t + 1] - offs[t]);
  }
  return w.finish();
}

Status Bm25Index::commit(Seq applied_seq) {
  Impl& im = *impl_;
  std::vector<std::string> written;  // files to remove if the commit fails
  auto fail = [&](Error e) -> Status {
    for (const auto& f : written) im.remove_quietly(im.dir / f);
    return e;
  };
  std::uint32_t new_docs = 0;
  std::string bytes = im.build_buffered_segment(&new_docs);
  std::vector<SegmentEntry> entries;
  for (const auto& s : im.segs) entries.push_back(s.disk);
  std::optional<std::uint64_t> new_gen;
  if (new_docs > 0) {
    new_gen = im.next_gen++;
    const std::string name = segment_file_name(*new_gen);
    auto st = im.env->write_file_atomic(im.dir / name, bytes);
    if (!st.ok()) return fail(st.take_error());
    written.push_back(name);
    bytes.clear();
    bytes.shrink_to_fit();
  }
  for (std::size_t i = 0; i < im.segs.size(); ++i) {
    LoadedSegment& s = im.segs[i];
    if (!s.del_dirty) continue;
    entries[i].del_gen = im.next_gen++;
    entries[i].n_deleted = s.n_deleted;
    const std::string name = deletes_file_name(s.disk.gen, entries[i].del_gen);
    auto st = im.env->write_file_atomic(im.dir / name, encode_deletes(s.disk.gen, s.seg->n_docs(), s.del));
    if (!st.ok()) return fail(st.take_error());
    written.push_back(name);
  }
  std::optional<LoadedSegment> loaded;
  if (new_gen) {
    SegmentEntry e{*new_gen, new_docs, 0, 0};
    auto ls = im.load_segment(e);
    if (!ls.ok()) return fail(ls.take_error());
    loaded = std::move(*ls);
    entries.push_back(e);
  }
  auto st = im.write_manifest(im.make_manifest(applied_seq, entries));
  if (!st.ok()) return fail(st.take_error());
  // Committed: install the new state and drop files no longer referenced.
  for (std::size_t i = 0; i < im.segs.size(); ++i) {
    LoadedSegment& s = im.segs[i];
    if (!s.del_dirty) continue;
    if (s.disk.del_gen != 0) im.remove_quietly(im.dir / deletes_file_name(s.disk.gen, s.disk.del_gen));
    s.disk = entries[i];
    s.del_dirty = false;
  }
  if (loaded) im.segs.push_back(std::move(*loaded));
  im.applied_seq = applied_seq;
  im.b_terms.clear();
  im.b_term_last.clear();
  im.b_term_pos.clear();
  im.b_docs.clear();
  im.b_tids.clear();
  im.b_tfs.clear();
  im.b_index.clear();
  return ok_status();
}

Result<std::string> Bm25Index::Impl::build_merged_segment(const std::vector<std::size_t>& which,
                                                          std::uint32_t* n_docs_out) const {
  struct Live {
    ChunkId id;
    std::uint32_t src, local;
  };
  std::vector<Live> live;
  for (std::uint32_t k = 0; k < which.size(); ++k) {
    const LoadedSegment& s = segs[which[k]];
    for (std::uint32_t d = 0; d < s.seg->n_docs(); ++d) {
      if (!s.deleted(d)) live.push_back({s.seg->ids()[d], k, d});
    }
  }
  std::sort(live.begin(), live.end(), [](const Live& a, const Live& b) { return a.id < b.id; });
  *n_docs_out = static_cast<std::uint32_t>(live.size());
  if (live.empty()) return std::string{};
  std::vector<std::vector<std::uint32_t>> remap(which.size());
  for (std::uint32_t k = 0; k < which.size(); ++k) remap[k].assign(segs[which[k]].seg->n_docs(), kEnd);
  std::vector<ChunkId> ids;
  std::vector<std::uint32_t> lens, cls;
  for (std::uint32_t i = 0; i < live.size(); ++i) {
    const Segment& seg = *segs[which[live[i].src]].seg;
    remap[live[i].src][live[i].local] = i;
    ids.push_back(live[i].id);
    lens.push_back(seg.lens()[live[i].local]);
    cls.push_back(seg.classes()[live[i].local]);
  }
  SegmentWriter w(std::move(ids), std::move(lens), std::move(cls));
  // k-way merge of the sorted dictionaries.
  using Head = std::pair<std::string_view, std::uint32_t>;  // (term, source)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<std::uint64_t> next(which.size(), 0);
  for (std::uint32_t k = 0; k < which.size(); ++k) {
    if (segs[which[k]].seg->n_terms() > 0) heads.emplace(segs[which[k]].seg->term(0), k);
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> post;  // (new doc, tf)
  std::vector<std::uint32_t> pd, pt;
  std::uint32_t bd[kBlockSize], bt[kBlockSize];
  while (!heads.empty()) {
    const std::string_view term = heads.top().first;
    post.clear();
    std::uint32_t sources = 0;
    while (!heads.empty() && heads.top().first == term) {
      const std::uint32_t k = heads.top().second;
      heads.pop();
      const Segment& seg = *segs[which[k]].seg;
      const TermInfo& ti = seg.info(next[k]);
      const std::size_t before = post.size();
      for (std::uint32_t b = 0; b < ti.n_blocks; ++b) {
        const std::uint32_t c = seg.decode_block(ti, b, bd, bt);
        for (std::uint32_t i = 0; i < c; ++i) {
          if (bd[i] >= remap[k].size()) {
            return make_error(ErrorCode::kCorrupt, "lexical segment gen {}: posting out of range",
                              segs[which[k]].disk.gen);
          }
          const std::uint32_t nd = remap[k][bd[i]];
          if (nd != kEnd) post.emplace_back(nd, bt[i]);
        }
      }
      if (post.size() > before) ++sources;
      if (++next[k] < seg.n_terms()) heads.emplace(seg.term(next[k]), k);
    }
    if (post.empty()) continue;
    // Sources are visited in segment order; with ascending chunk ids per commit the postings
    // are usually already sorted.
    if (sources > 1 && !std::is_sorted(post.begin(), post.end())) std::sort(post.begin(), post.end());
    pd.resize(post.size());
    pt.resize(post.size());
    for (std::size_t i = 0; i < post.size(); ++i) {
      pd[i] = post[i].first;
      pt[i] = post[i].second;
    }
    w.add_term(term, pd.data(), pt.data(), post.size());
  }
  return w.finish();
}

Status Bm25Index::merge(std::size_t max_segments) {
  Impl& im = *impl_;
  if (max_segments == 0) max_segments = 1;
  std::vector<std::size_t> which;
  if (im.segs.size() > max_segments) {
    std::vector<std::size_t> order(im.segs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const auto la = im.segs[a].seg->n_docs() - im.segs[a].n_deleted;
      const auto lb = im.segs[b].seg->n_docs() - im.segs[b].n_deleted;
      return la != lb ? la < lb : a < b;
    });
    which.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(im.segs.size() - max_segments + 1));
    std::sort(which.begin(), which.end());
  } else if (max_segments == 1 && im.segs.size() == 1 && im.segs[0].n_deleted > 0) {
    which.push_back(0);  // force-merge: purge deletions
  } else {
    return ok_status();
  }
  std::uint32_t n_docs = 0;
  RAGFT_TRY(std::string bytes, im.build_merged_segment(which, &n_docs));
  std::vector<SegmentEntry> entries;
  std::vector<bool> merged(im.segs.size(), false);
  for (auto i : which) merged[i] = true;
  for (std::size_t i = 0; i < im.segs.size(); ++i) {
    if (!merged[i]) entries.push_back(im.segs[i].disk);
  }
  std::optional<LoadedSegment> loaded;
  std::string written;
  if (n_docs > 0) {
    const std::uint64_t gen = im.next_gen++;
    written = segment_file_name(gen);
    RAGFT_TRY_STATUS(im.env->write_file_atomic(im.dir / written, bytes));
    bytes.clear();
    bytes.shrink_to_fit();
    SegmentEntry e{gen, n_docs, 0, 0};
    auto ls = im.load_segment(e);
    if (!ls.ok()) {
      im.remove_quietly(im.dir / written);
      return ls.take_error();
    }
    loaded = std::move(*ls);
    entries.push_back(e);
  }
  auto st = im.write_manifest(im.make_manifest(im.applied_seq, entries));
  if (!st.ok()) {
    if (!written.empty()) im.remove_quietly(im.dir / written);
    return st;
  }
  std::vector<LoadedSegment> kept;
  for (std::size_t i = 0; i < im.segs.size(); ++i) {
    LoadedSegment& s = im.segs[i];
    if (!merged[i]) {
      kept.push_back(std::move(s));
      continue;
    }
    // Unmap before unlinking (harmless on POSIX either way; a snapshot may still map it).
    const SegmentEntry disk = s.disk;
    s.seg.reset();
    im.remove_quietly(im.dir / segment_file_name(disk.gen));
    if (disk.del_gen != 0) im.remove_quietly(im.dir / deletes_file_name(disk.gen, disk.del_gen));
  }
  if (loaded) kept.push_back(std::move(*loaded));
  im.segs = std::move(kept);
  return ok_status();
}

namespace {


std::vector<ScoredChunk> to_results(TopK& top) {
  std::vector<ScoredChunk> out;
  for (const auto& c : top.take_sorted()) out.push_back(ScoredChunk{c.id, c.score});
  return out;
}

}  // namespace

std::vector<ScoredChunk> Bm25Index::search(const std::vector<QueryTerm>& query, std::size_t k,
                                           const FilterSpec& filter) const {
  const Impl& im = *impl_;
  if (k == 0 || im.segs.empty()) return {};
  const auto q = im.prepare(query);
  if (q.empty()) return {};
  const std::uint64_t n = im.total_docs();
  const ScoreParams sp = ScoreParams::make(im.opt.k1, im.opt.b,
                                           static_cast<double>(im.total_len()) / static_cast<double>(n));
  const Admit admit = compile_filter(filter, im.classes.classes());
  TopK top(k);
  const SearchTuning tuning = search_tuning();
  for (const auto& s : im.segs) {
    if (s.seg->n_docs() <= tuning.exhaustive_max_docs) {
      im.search_segment_exhaustive(s, q, sp, admit, top);
    } else if (tuning.algorithm == PrunedAlgorithm::kBlockMaxWand) {
      im.search_segment_pruned(s, q, sp, admit, top);
    } else {
      im.search_segment_maxscore(s, q, sp, admit, top);
    }
  }
  return to_results(top);
}

std::vector<ScoredChunk> Bm25Index::search_exhaustive(const std::vector<QueryTerm>& query,
                                                      std::size_t k, const FilterSpec& filter) const {
  const Impl& im = *impl_;
  if (k == 0 || im.segs.empty()) return {};
  const auto q = im.prepare(query);
  if (q.empty()) return {};
  const std::uint64_t n = im.total_docs();
  const ScoreParams sp = ScoreParams::make(im.opt.k1, im.opt.b,
                                           static_cast<double>(im.total_len()) / static_cast<double>(n));
  const Admit admit_spec = compile_filter(filter, im.classes.classes());
  TopK top(k);
  for (const auto& s : im.segs) im.search_segment_exhaustive(s, q, sp, admit_spec, top);
  return to_results(top);
}

bool Bm25Index::contains(ChunkId id) const {
  for (const auto& s : impl_->segs) {
    const Segment& seg = *s.seg;
    if (seg.n_docs() == 0 || id < seg.ids()[0] || id > seg.ids()[seg.n_docs() - 1]) continue;
    if (auto d = seg.find_id(id); d && !s.deleted(*d)) return true;
  }
  return false;
}

std::vector<ChunkId> Bm25Index::live_ids() const {
  std::vector<ChunkId> out;
  for (const auto& s : impl_->segs) {
    for (std::uint32_t d = 0; d < s.seg->n_docs(); ++d) {
      if (!s.deleted(d)) out.push_back(s.seg->ids()[d]);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

float Bm25Index::idf(const std::string& term) const {
  const std::uint64_t n = impl_->total_docs();
  if (n == 0) return 0.0f;
  std::uint64_t df = 0;
  for (const auto& s : impl_->segs) {
    if (auto t = s.seg->find_term(term)) df += s.seg->info(*t).df;
  }
  return bm25_idf(static_cast<double>(n), static_cast<double>(df));
}

Seq Bm25Index::applied_seq() const { return impl_->applied_seq; }

IndexStats Bm25Index::stats() const {
  IndexStats st;
  const Impl& im = *impl_;
  st.segments = im.segs.size();
  st.bytes_on_disk = im.manifest_size;
  for (const auto& s : im.segs) {
    st.live_chunks += s.seg->n_docs() - s.n_deleted;
    st.deleted_chunks += s.n_deleted;
    st.terms += s.seg->n_terms();
    st.bytes_on_disk += s.seg->file_size();
    if (s.disk.del_gen != 0) st.bytes_on_disk += 32 + (std::uint64_t{s.seg->n_docs()} + 63) / 64 * 8;
  }
  st.applied_seq = im.applied_seq;
  return st;
}

const Bm25Options& Bm25Index::options() const { return impl_->opt; }

}  // namespace ragft
