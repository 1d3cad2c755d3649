// What every index shares about access: the per-chunk attributes filters test, the filter a
// search carries, and the compiled form both the lexical and the vector index evaluate inside
// their search loops (never as a post-filter).
//
// Chunks are grouped into access classes, one per distinct (tenant, sorted ACL) pair, so a
// filter is compiled once per query into one admitted/rejected bit per class.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/types.h"

namespace ragft {

// What filters test, per chunk. An empty acl admits every principal of the tenant.
struct ChunkAttrs {
  std::string tenant = "default";
  std::vector<std::string> acl;
};

// Evaluated inside retrieval: a chunk that fails it is never scored into a result.
struct FilterSpec {
  std::optional<std::string> tenant;               // nullopt: any tenant
  std::optional<std::vector<std::string>> groups;  // nullopt: no ACL check (admin);
                                                   // else the principal's groups
  std::optional<std::vector<ChunkId>> allowlist;   // nullopt: all; else only these (any order)
};

struct ScoredChunk {
  ChunkId id = 0;
  float score = 0;
  friend bool operator==(const ScoredChunk&, const ScoredChunk&) = default;
};

// A (tenant, sorted ACL groups) tuple; chunks refer to it by index.
struct AccessClass {
  std::string tenant;
  std::vector<std::string> acl;  // sorted, unique; empty admits every principal of the tenant
};

// The classes of one index, interned.
class AccessClasses {
 public:
  // The class of `attrs` (its ACL sorted and deduplicated), added if new.
  std::uint32_t intern(const ChunkAttrs& attrs);
  // Replaces the table (as loaded from an index file).
  void assign(std::vector<AccessClass> classes);
  const std::vector<AccessClass>& classes() const { return classes_; }

 private:
  std::vector<AccessClass> classes_;
  std::unordered_map<std::string, std::uint32_t> ids_;
};

// A FilterSpec compiled against a class table.
struct Admit {
  std::vector<std::uint8_t> class_ok;  // empty: all classes admitted
  std::vector<ChunkId> allow;          // sorted, unique; used when has_allow
  bool has_allow = false;

  bool class_admitted(std::uint32_t cls) const { return class_ok.empty() || class_ok[cls] != 0; }
  // The allowlist test alone (binary search).
  bool id_allowed(ChunkId id) const;
};

Admit compile_filter(const FilterSpec& filter, const std::vector<AccessClass>& classes);

}  // namespace ragft
