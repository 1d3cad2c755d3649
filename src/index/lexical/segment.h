// One immutable segment file of the lexical index: chunk ids, lengths, access classes, a sorted
// term dictionary and block-compressed postings with per-block maxima (format:
// docs/formats/lexical-index.md). Internal to src/index/lexical.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/types.h"

namespace ragft::lexical {

inline constexpr char kSegmentMagic[8] = {'R', 'G', 'F', 'T', 'S', 'E', 'G', '\0'};
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::uint32_t kBlockSize = 128;

// Fixed-size header at offset 0. All offsets are absolute byte offsets into the file.
struct SegmentHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t n_docs;
  std::uint64_t n_terms;
  std::uint64_t total_len;      // sum of document lengths
  std::uint64_t off_ids;        // u32[n_docs], ascending chunk ids
  std::uint64_t off_lens;       // u32[n_docs]
  std::uint64_t off_classes;    // u32[n_docs], access-class ids (manifest table)
  std::uint64_t off_term_offs;  // u32[n_terms + 1] into the term blob
  std::uint64_t off_term_blob;  // concatenated term bytes, sorted
  std::uint64_t off_term_info;  // TermInfo[n_terms]
  std::uint64_t off_postings;   // posting lists; TermInfo::post_off is relative to this
  std::uint64_t file_size;      // total size including the 8-byte checksum footer
};
static_assert(sizeof(SegmentHeader) == 96);

struct TermInfo {
  std::uint64_t post_off;  // relative to off_postings, 4-aligned
  std::uint32_t df;        // documents in this segment containing the term
  std::uint32_t n_blocks;  // ceil(df / 128)
};
static_assert(sizeof(TermInfo) == 16);

// Per block of up to 128 postings; query-time-independent maxima for BlockMax-WAND.
struct BlockMeta {
  std::uint32_t last_doc;  // segment-local doc number of the block's last posting
  std::uint32_t data_off;  // offset of the block's data from the start of the term's postings
  std::uint32_t max_tf;    // largest tf in the block
  std::uint32_t min_len;   // smallest document length in the block
};
static_assert(sizeof(BlockMeta) == 16);

// Builds a segment file in memory. Terms must be added in strictly ascending byte order; docs
// are segment-local numbers (ascending within a term), tfs >= 1.
class SegmentWriter {
 public:
  SegmentWriter(std::vector<ChunkId> ids, std::vector<std::uint32_t> lens,
                std::vector<std::uint32_t> classes);
  void add_term(std::string_view term, const std::uint32_t* docs, const std::uint32_t* tfs,
                std::size_t n);
  // Returns the complete file contents (with checksum).
  std::string finish();

 private:
  std::vector<ChunkId> ids_;
  std::vector<std::uint32_t> lens_;
  std::vector<std::uint32_t> classes_;
  std::vector<std::uint32_t> term_offs_{0};
  std::string term_blob_;
  std::vector<TermInfo> infos_;
  std::string postings_;
  std::uint64_t total_len_ = 0;
  std::vector<std::uint32_t> scratch_;
};

// A read-only, memory-mapped segment. Movable.
class Segment {
 public:
  // Maps and verifies `path` (magic, version, size, checksum, section bounds) -> kCorrupt.
  static Result<Segment> open(const std::filesystem::path& path);

  std::uint32_t n_docs() const { return h_.n_docs; }
  std::uint64_t n_terms() const { return h_.n_terms; }
  std::uint64_t total_len() const { return h_.total_len; }
  std::uint64_t file_size() const { return h_.file_size; }
  const std::uint32_t* ids() const { return ids_; }
  const std::uint32_t* lens() const { return lens_; }
  const std::uint32_t* classes() const { return classes_; }

  std::string_view term(std::uint64_t i) const {
    return {blob_ + term_offs_[i], static_cast<std::size_t>(term_offs_[i + 1] - term_offs_[i])};
  }
  const TermInfo& info(std::uint64_t i) const { return infos_[i]; }
  // Index of `term` in the dictionary, if present (binary search).
  std::optional<std::uint64_t> find_term(std::string_view term) const;
  // Local doc number of `id`, if present.
  std::optional<std::uint32_t> find_id(ChunkId id) const;

  const BlockMeta* metas(const TermInfo& ti) const {
    return reinterpret_cast<const BlockMeta*>(postings_ + ti.post_off);
  }
  // Decodes block `b` of a term into docs/tfs (up to 128 each); returns the posting count.
  std::uint32_t decode_block(const TermInfo& ti, std::uint32_t b, std::uint32_t* docs,
                             std::uint32_t* tfs) const;

 private:
  MappedFile file_;
  SegmentHeader h_{};
  const std::uint32_t* ids_ = nullptr;
  const std::uint32_t* lens_ = nullptr;
  const std::uint32_t* classes_ = nullptr;
  const std::uint32_t* term_offs_ = nullptr;
  const char* blob_ = nullptr;
  const TermInfo* infos_ = nullptr;
  const char* postings_ = nullptr;
};

}  // namespace ragft::lexical
