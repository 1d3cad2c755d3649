#include "index/lexical/segment.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "core/hash.h"
#include "index/lexical/bitpack.h"
#include "index/lexical/byte_io.h"

namespace ragft::lexical {

SegmentWriter::SegmentWriter(std::vector<ChunkId> ids, std::vector<std::uint32_t> lens,
                             std::vector<std::uint32_t> classes)
    : ids_(std::move(ids)), lens_(std::move(lens)), classes_(std::move(classes)) {
  RAGFT_CHECK(ids_.size() == lens_.size() && ids_.size() == classes_.size());
  for (auto l : lens_) total_len_ += l;
  scratch_.resize(kBlockSize);
}

void SegmentWriter::add_term(std::string_view term, const std::uint32_t* docs,
                             const std::uint32_t* tfs, std::size_t n) {
  RAGFT_CHECK(n > 0);
  term_blob_.append(term);
  term_offs_.push_back(static_cast<std::uint32_t>(term_blob_.size()));
  while (postings_.size() % 4 != 0) postings_.push_back('\0');
  const std::size_t start = postings_.size();
  const auto n_blocks = static_cast<std::uint32_t>((n + kBlockSize - 1) / kBlockSize);
  infos_.push_back(TermInfo{start, static_cast<std::uint32_t>(n), n_blocks});
  postings_.resize(start + n_blocks * sizeof(BlockMeta));
  std::uint32_t base = 0;
  for (std::uint32_t b = 0; b < n_blocks; ++b) {
    const std::size_t lo = std::size_t{b} * kBlockSize;
    const std::size_t cnt = std::min<std::size_t>(kBlockSize, n - lo);
    BlockMeta m{};
    m.last_doc = docs[lo + cnt - 1];
    m.data_off = static_cast<std::uint32_t>(postings_.size() - start);
    m.max_tf = 0;
    m.min_len = UINT32_MAX;
    std::uint32_t maxgap = 0, maxtf = 0;
    std::uint32_t prev = base;
    for (std::size_t i = 0; i < cnt; ++i) {
      const std::uint32_t d = docs[lo + i];
      const std::uint32_t gap = d - prev;  // first: d - base; later: d - (prev_doc + 1)
      scratch_[i] = gap;
      prev = d + 1;
      maxgap = std::max(maxgap, gap);
      maxtf = std::max(maxtf, tfs[lo + i] - 1);
      m.max_tf = std::max(m.max_tf, tfs[lo + i]);
      m.min_len = std::min(m.min_len, lens_[d]);
    }
    const std::uint32_t wd = bit_width_of(maxgap), wt = bit_width_of(maxtf);
    postings_.push_back(static_cast<char>(wd));
    postings_.push_back(static_cast<char>(wt));
    pack(scratch_.data(), cnt, wd, postings_);
    for (std::size_t i = 0; i < cnt; ++i) scratch_[i] = tfs[lo + i] - 1;
    pack(scratch_.data(), cnt, wt, postings_);
    std::memcpy(postings_.data() + start + b * sizeof(BlockMeta), &m, sizeof(m));
    base = m.last_doc + 1;
  }
}

std::string SegmentWriter::finish() {
  std::string out;
  ByteWriter w(out);
  SegmentHeader h{};
  std::memcpy(h.magic, kSegmentMagic, 8);
  h.version = kSegmentVersion;
  h.n_docs = static_cast<std::uint32_t>(ids_.size());
  h.n_terms = infos_.size();
  h.total_len = total_len_;
  w.put(h);  // placeholder, rewritten below
  auto put_u32s = [&](const std::vector<std::uint32_t>& v) {
    w.align(8);
    const std::uint64_t off = w.size();
    out.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    return off;
  };
  h.off_ids = put_u32s(ids_);
  h.off_lens = put_u32s(lens_);
  h.off_classes = put_u32s(classes_);
  h.off_term_offs = put_u32s(term_offs_);
  w.align(8);
  h.off_term_blob = w.size();
  out.append(term_blob_);
  w.align(8);
  h.off_term_info = w.size();
  out.append(reinterpret_cast<const char*>(infos_.data()), infos_.size() * sizeof(TermInfo));
  w.align(8);
  h.off_postings = w.size();
  out.append(postings_);
  out.append(8, '\0');  // slack for unaligned 64-bit loads in unpack()
  w.align(8);
  h.file_size = out.size() + 8;
  std::memcpy(out.data(), &h, sizeof(h));
  w.put<std::uint64_t>(hash64(out));
  return out;
}

namespace {
Error corrupt(const std::filesystem::path& p, std::string_view what) {
  return make_error(ErrorCode::kCorrupt,
                    "lexical segment {} is damaged ({}); delete the index directory to rebuild it",
                    p.string(), what);
}
}  // namespace

Result<Segment> Segment::open(const std::filesystem::path& path) {
  auto mf = MappedFile::open(path);
  if (!mf.ok()) {
    if (mf.error().code == ErrorCode::kNotFound || mf.error().code == ErrorCode::kIo) {
      return corrupt(path, fmt::format("cannot map: {}", mf.error().message));
    }
    return mf.take_error();
  }
  Segment s;
  s.file_ = std::move(*mf);
  const char* d = s.file_.data();
  const std::size_t size = s.file_.size();
  if (size < sizeof(SegmentHeader) + 8) return corrupt(path, "truncated header");
  std::memcpy(&s.h_, d, sizeof(SegmentHeader));
  if (std::memcmp(s.h_.magic, kSegmentMagic, 8) != 0) return corrupt(path, "bad magic");
  if (s.h_.version != kSegmentVersion) {
    return corrupt(path, fmt::format("unsupported version {}", s.h_.version));
  }
  if (s.h_.file_size != size) {
    return corrupt(path, fmt::format("size {} but header says {}", size, s.h_.file_size));
  }
  std::uint64_t stored;
  std::memcpy(&stored, d + size - 8, 8);
  if (stored != hash64(std::string_view(d, size - 8))) return corrupt(path, "checksum mismatch");
  const auto& h = s.h_;
  const std::uint64_t n = h.n_docs;
  auto in = [&](std::uint64_t off, std::uint64_t len) { return off <= size - 8 && len <= size - 8 - off; };
  if (!in(h.off_ids, n * 4) || !in(h.off_lens, n * 4) || !in(h.off_classes, n * 4) ||
      !in(h.off_term_offs, (h.n_terms + 1) * 4) || !in(h.off_term_info, h.n_terms * sizeof(TermInfo)) ||
      !in(h.off_postings, 0) || !in(h.off_term_blob, 0) || h.off_ids % 8 || h.off_term_info % 8 ||
      h.off_postings % 8) {
    return corrupt(path, "section out of bounds");
  }
  s.ids_ = reinterpret_cast<const std::uint32_t*>(d + h.off_ids);
  s.lens_ = reinterpret_cast<const std::uint32_t*>(d + h.off_lens);
  s.classes_ = reinterpret_cast<const std::uint32_t*>(d + h.off_classes);
  s.term_offs_ = reinterpret_cast<const std::uint32_t*>(d + h.off_term_offs);
  s.blob_ = d + h.off_term_blob;
  s.infos_ = reinterpret_cast<const TermInfo*>(d + h.off_term_info);
  s.postings_ = d + h.off_postings;
  if (s.term_offs_[h.n_terms] > h.off_term_info - h.off_term_blob) return corrupt(path, "term blob");
  return s;
}

std::optional<std::uint64_t> Segment::find_term(std::string_view term) const {
  std::uint64_t lo = 0, hi = h_.n_terms;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (this->term(mid) < term) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < h_.n_terms && this->term(lo) == term) return lo;
  return std::nullopt;
}

std::optional<std::uint32_t> Segment::find_id(ChunkId id) const {
  const auto* end = ids_ + h_.n_docs;
  const auto* it = std::lower_bound(ids_, end, id);
  if (it == end || *it != id) return std::nullopt;
  return static_cast<std::uint32_t>(it - ids_);
}

std::uint32_t Segment::decode_block(const TermInfo& ti, std::uint32_t b, std::uint32_t* docs,
                                    std::uint32_t* tfs) const {
  const BlockMeta* m = metas(ti);
  const std::uint32_t cnt = (b + 1 < ti.n_blocks) ? kBlockSize : ti.df - b * kBlockSize;
  const char* p = postings_ + ti.post_off + m[b].data_off;
  const std::uint32_t wd = static_cast<std::uint8_t>(p[0]), wt = static_cast<std::uint8_t>(p[1]);
  p += 2;
  unpack(p, cnt, wd, docs);
  p += packed_bytes(cnt, wd);
  unpack(p, cnt, wt, tfs);
  std::uint32_t prev = (b == 0) ? 0 : m[b - 1].last_doc + 1;
  for (std::uint32_t i = 0; i < cnt; ++i) {
    prev += docs[i];
    docs[i] = prev;
    ++prev;
    tfs[i] += 1;
  }
  return cnt;
}

}  // namespace ragft::lexical
