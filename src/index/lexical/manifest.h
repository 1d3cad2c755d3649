// The lexical index MANIFEST (the commit point) and per-segment deletion files
// (docs/formats/lexical-index.md). Internal to src/index/lexical.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "index/access.h"

namespace ragft::lexical {

inline constexpr char kManifestMagic[8] = {'R', 'G', 'F', 'T', 'M', 'A', 'N', '\0'};
inline constexpr std::uint32_t kManifestVersion = 1;
inline constexpr char kDeletesMagic[8] = {'R', 'G', 'F', 'T', 'D', 'E', 'L', '\0'};
inline constexpr std::uint32_t kDeletesVersion = 1;

using ragft::AccessClass;

struct SegmentEntry {
  std::uint64_t gen = 0;        // file seg_<gen>.seg
  std::uint32_t n_docs = 0;
  std::uint32_t n_deleted = 0;
  std::uint64_t del_gen = 0;    // file seg_<gen>_<del_gen>.del; 0: no deletions
};

struct Manifest {
  Seq applied_seq = 0;
  std::uint64_t next_gen = 1;  // next unused file generation
  std::vector<AccessClass> classes;
  std::vector<SegmentEntry> segments;
};

std::string encode_manifest(const Manifest& m);
// `where` names the file in error messages. Damage -> kCorrupt.
Result<Manifest> decode_manifest(std::string_view data, std::string_view where);

// Deletion bitset of one segment: bit i set = local doc i deleted.
std::string encode_deletes(std::uint64_t seg_gen, std::uint32_t n_docs,
                           const std::vector<std::uint64_t>& bits);
Result<std::vector<std::uint64_t>> decode_deletes(std::string_view data, std::uint64_t seg_gen,
                                                  std::uint32_t n_docs, std::string_view where);

std::string segment_file_name(std::uint64_t gen);
std::string deletes_file_name(std::uint64_t gen, std::uint64_t del_gen);
inline constexpr const char* kManifestName = "MANIFEST";

}  // namespace ragft::lexical
