#include "index/vector/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/check.h"
#include "core/config_string.h"

namespace ragft {

namespace {

constexpr char kMagic[8] = {'R', 'G', 'F', 'T', 'V', 'E', 'C', '2'};

Result<int> parse_int(std::string_view config, std::string_view key, std::string_view val,
                      int min) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
  if (ec != std::errc() || ptr != val.data() + val.size() || v < min) {
    return make_error(ErrorCode::kInvalidArgument,
                      "vector index config '{}': {}='{}' must be an integer >= {}", config, key,
                      val, min);
  }
  return v;
}

Status validate(const VectorIndexOptions& o) {
  if (o.kind != "flat" && o.kind != "hnsw" && o.kind != "ivf") {
    return make_error(ErrorCode::kInvalidArgument,
                      "vector index kind '{}' is unknown (use flat, hnsw or ivf)", o.kind);
  }
  if (o.nlist < 1 || o.nprobe < 1) {
    return make_error(ErrorCode::kInvalidArgument, "vector index ivf nlist={} and nprobe={} must be >= 1", o.nlist,
                      o.nprobe);
  }
  if (o.metric != "cosine" && o.metric != "ip" && o.metric != "l2") {
    return make_error(ErrorCode::kInvalidArgument,
                      "vector index metric '{}' is unknown (use cosine, ip or l2)", o.metric);
  }
  if (o.dim <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "vector index dim={} must be > 0", o.dim);
  }
  if (o.hnsw_m < 2 || o.ef_construction < 1 || o.ef_search < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "vector index hnsw m={} (>= 2), efc={} (>= 1), efs={} (>= 1) out of range",
                      o.hnsw_m, o.ef_construction, o.ef_search);
  }
  return ok_status();
}

// Admits an internal slot of the sub-index when it is not tombstoned and the caller's filter
// admits its chunk id. Runs inside FAISS's search loops.
struct SlotSelector final : faiss::IDSelector {
  const std::vector<faiss::Index::idx_t>* id_map = nullptr;
  const std::vector<std::uint8_t>* tombstones = nullptr;
  const std::function<bool(ChunkId)>* allowed = nullptr;

  bool is_member(idx_t slot) const override {
    if (slot < 0 || static_cast<std::size_t>(slot) >= id_map->size()) return false;
    if (static_cast<std::size_t>(slot) < tombstones->size() && (*tombstones)[slot]) return false;
    return !*allowed || (*allowed)(static_cast<ChunkId>((*id_map)[slot]));
  }
};

// Runs FAISS single-threaded on this thread for a scope. A single-query search is too small to
// gain from OpenMP and, with many searching threads, would oversubscribe the cores; callers
// parallelise across queries instead. The OpenMP thread count is per thread, so this is safe
// under concurrent searches.
class SerialOmpScope {
 public:
  SerialOmpScope() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SerialOmpScope() { omp_set_num_threads(saved_); }
  SerialOmpScope(const SerialOmpScope&) = delete;
  SerialOmpScope& operator=(const SerialOmpScope&) = delete;

 private:
  int saved_;
};

}  // namespace

std::string VectorIndexOptions::to_config() const {
  if (kind == "ivf") return fmt::format("ivf:dim={},metric={},nlist={},nprobe={}", dim, metric, nlist, nprobe);
  if (kind == "hnsw") {
    return fmt::format("hnsw:dim={},metric={},m={},efc={},efs={}", dim, metric, hnsw_m,
                       ef_construction, ef_search);
  }
  return fmt::format("{}:dim={},metric={}", kind, dim, metric);
}

Result<VectorIndexOptions> VectorIndexOptions::parse(std::string_view config) {
  VectorIndexOptions o;
  const std::string_view kind = config.substr(0, config.find(':'));
  if (kind != "flat" && kind != "hnsw" && kind != "ivf") {
    return make_error(ErrorCode::kInvalidArgument,
                      "vector index config '{}' must start with flat, hnsw or ivf "
                      "(e.g. hnsw:dim=384,metric=cosine,m=32)",
                      config);
  }
  o.kind = std::string(kind);
  RAGFT_TRY(auto items, config_items(config, kind));
  bool have_dim = false;
  for (const auto& [key, val] : items) {
    if (key == "dim") {
      RAGFT_TRY(o.dim, parse_int(config, key, val, 1));
      have_dim = true;
    } else if (key == "metric") {
      if (val != "cosine" && val != "ip" && val != "l2") {
        return make_error(ErrorCode::kInvalidArgument,
                          "vector index config '{}': metric '{}' is unknown (cosine, ip, l2)",
                          config, val);
      }
      o.metric = val;
    } else if (o.kind == "hnsw" && key == "m") {
      RAGFT_TRY(o.hnsw_m, parse_int(config, key, val, 2));
    } else if (o.kind == "hnsw" && key == "efc") {
      RAGFT_TRY(o.ef_construction, parse_int(config, key, val, 1));
    } else if (o.kind == "ivf" && key == "nlist") {
      RAGFT_TRY(o.nlist, parse_int(config, key, val, 1));
    } else if (o.kind == "ivf" && key == "nprobe") {
      RAGFT_TRY(o.nprobe, parse_int(config, key, val, 1));
    } else if (o.kind == "hnsw" && key == "efs") {
      RAGFT_TRY(o.ef_search, parse_int(config, key, val, 1));
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "vector index config '{}': unknown key '{}' for {}", config, key, o.kind);
    }
  }
  if (!have_dim) {
    return make_error(ErrorCode::kInvalidArgument,
                      "vector index config '{}': dim is required (e.g. {}:dim=384)", config,
                      o.kind);
  }
  return o;
}

struct VectorIndex::Impl {
  VectorIndexOptions options;
  std::unique_ptr<faiss::IndexIDMap2> map;  // owns the sub-index
  std::vector<std::uint8_t> tombstones;     // per internal slot (HNSW only), 1 = removed
  std::unordered_map<ChunkId, faiss::Index::idx_t> live;  // chunk id -> internal slot
  AccessClasses classes;
  std::unordered_map<ChunkId, std::uint32_t> class_of;  // live chunk id -> access class

  bool normalise() const { return options.metric == "cosine"; }

  void rebuild_live() {
    live.clear();
    live.reserve(map->id_map.size());
    for (std::size_t slot = 0; slot < map->id_map.size(); ++slot) {
      if (slot < tombstones.size() && tombstones[slot]) continue;
      live[static_cast<ChunkId>(map->id_map[slot])] = static_cast<faiss::Index::idx_t>(slot);
    }
  }
};

VectorIndex::VectorIndex() : impl_(std::make_unique<Impl>()) {}
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;
VectorIndex::~VectorIndex() = default;

Result<VectorIndex> VectorIndex::create(const VectorIndexOptions& options) {
  RAGFT_TRY_STATUS(validate(options));
  try {
    const faiss::MetricType metric =
        options.metric == "l2" ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    std::unique_ptr<faiss::Index> sub;
    if (options.kind == "hnsw") {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(options.dim, options.hnsw_m, metric);
      hnsw->hnsw.efConstruction = options.ef_construction;
      hnsw->hnsw.efSearch = options.ef_search;
      sub = std::move(hnsw);
    } else if (options.kind == "ivf") {
      // Untrained until the first add(), which trains the coarse quantiser on that batch.
      std::unique_ptr<faiss::Index> quantizer;
      if (metric == faiss::METRIC_L2) {
        quantizer = std::make_unique<faiss::IndexFlatL2>(options.dim);
      } else {
        quantizer = std::make_unique<faiss::IndexFlatIP>(options.dim);
      }
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), options.dim, options.nlist, metric);
      ivf->own_fields = true;
      quantizer.release();
      ivf->nprobe = options.nprobe;
      sub = std::move(ivf);
    } else if (metric == faiss::METRIC_L2) {
      sub = std::make_unique<faiss::IndexFlatL2>(options.dim);
    } else {
      sub = std::make_unique<faiss::IndexFlatIP>(options.dim);
    }
    VectorIndex index;
    index.impl_->options = options;
    index.impl_->map = std::make_unique<faiss::IndexIDMap2>(sub.get());
    index.impl_->map->own_fields = true;
    sub.release();
    return index;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, "creating vector index '{}': {}",
                      options.to_config(), e.what());
  }
}

Status VectorIndex::add(const std::vector<ChunkId>& ids, const float* vectors) {
  return add(ids, vectors, std::vector<ChunkAttrs>(ids.size()));
}

Status VectorIndex::add(const std::vector<ChunkId>& ids, const float* vectors,
                        const std::vector<ChunkAttrs>& attrs) {
  if (attrs.size() != ids.size()) {
    return make_error(ErrorCode::kInvalidArgument, "vector index add: {} ids but {} attributes",
                      ids.size(), attrs.size());
  }
  if (ids.empty()) return ok_status();
  if (vectors == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "vector index add: null vectors for {} ids",
                      ids.size());
  }
  std::unordered_set<ChunkId> batch;
  batch.reserve(ids.size());
  for (ChunkId id : ids) {
    if (impl_->live.contains(id) || !batch.insert(id).second) {
      return make_error(ErrorCode::kInvalidArgument,
                        "vector index add: chunk {} is already in the index (remove it first)",
                        id);
    }
  }
  const std::size_t dim = static_cast<std::size_t>(impl_->options.dim);
  const std::size_t n = ids.size();
  try {
    std::vector<float> normalised;
    const float* x = vectors;
    if (impl_->normalise()) {
      normalised.assign(vectors, vectors + n * dim);
      faiss::fvec_renorm_L2(dim, n, normalised.data());
      x = normalised.data();
    }
    if (!impl_->map->index->is_trained) {
      const auto nlist = static_cast<std::size_t>(impl_->options.nlist);
      if (n < nlist) {
        return make_error(ErrorCode::kInvalidArgument,
                          "vector index {}: the first add trains the {} IVF lists and needs at least that many "
                          "vectors, got {} (use fewer lists, or flat)",
                          impl_->options.to_config(), nlist, n);
      }
      impl_->map->index->train(static_cast<faiss::Index::idx_t>(n), x);
    }
    std::vector<faiss::Index::idx_t> xids(ids.begin(), ids.end());
    const auto first_slot = static_cast<faiss::Index::idx_t>(impl_->map->id_map.size());
    impl_->map->add_with_ids(static_cast<faiss::Index::idx_t>(n), x, xids.data());
    for (std::size_t i = 0; i < n; ++i) {
      impl_->live[ids[i]] = first_slot + static_cast<faiss::Index::idx_t>(i);
      impl_->class_of[ids[i]] = impl_->classes.intern(attrs[i]);
    }
    if (!impl_->tombstones.empty()) impl_->tombstones.resize(impl_->map->id_map.size(), 0);
    return ok_status();
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kResourceExhausted, "vector index add: out of memory ({} x {})",
                      n, dim);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, "vector index add: {}", e.what());
  }
}

Status VectorIndex::remove(const std::vector<ChunkId>& ids) {
  try {
    // HNSW cannot delete, and IVF deletes without renumbering what IndexIDMap2 expects: both
    // tombstone the slot instead.
    if (impl_->options.kind != "flat") {
      impl_->tombstones.resize(impl_->map->id_map.size(), 0);
      for (ChunkId id : ids) {
        auto it = impl_->live.find(id);
        if (it == impl_->live.end()) continue;
        impl_->tombstones[static_cast<std::size_t>(it->second)] = 1;
        impl_->live.erase(it);
        impl_->class_of.erase(id);
      }
      return ok_status();
    }
    std::vector<faiss::Index::idx_t> xids;
    for (ChunkId id : ids) {
      if (impl_->live.contains(id)) xids.push_back(id);
      impl_->class_of.erase(id);
    }
    if (xids.empty()) return ok_status();
    faiss::IDSelectorBatch sel(xids.size(), xids.data());
    impl_->map->remove_ids(sel);
    impl_->rebuild_live();
    return ok_status();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, "vector index remove: {}", e.what());
  }
}

std::vector<ScoredChunk> VectorIndex::search(const float* query, std::size_t k,
                                             const std::function<bool(ChunkId)>& allowed) const {
  std::vector<ScoredChunk> out;
  const faiss::IndexIDMap2& map = *impl_->map;
  if (k == 0 || impl_->live.empty()) return out;
  k = std::min(k, impl_->live.size());
  const std::size_t dim = static_cast<std::size_t>(impl_->options.dim);
  std::vector<float> q(query, query + dim);
  if (impl_->normalise()) faiss::fvec_renorm_L2(dim, 1, q.data());

  SlotSelector sel;
  sel.id_map = &map.id_map;
  sel.tombstones = &impl_->tombstones;
  sel.allowed = &allowed;
  const bool need_sel = static_cast<bool>(allowed) || !impl_->tombstones.empty();

  std::vector<float> dist(k);
  std::vector<faiss::Index::idx_t> slots(k, -1);
  const auto kk = static_cast<faiss::Index::idx_t>(k);
  SerialOmpScope serial;
  try {
    if (impl_->options.kind == "hnsw") {
      faiss::SearchParametersHNSW params;
      params.efSearch = std::max(impl_->options.ef_search, static_cast<int>(k));
      params.sel = need_sel ? &sel : nullptr;
      map.index->search(1, q.data(), kk, dist.data(), slots.data(), &params);
    } else if (impl_->options.kind == "ivf") {
      faiss::SearchParametersIVF params;
      params.nprobe = static_cast<std::size_t>(impl_->options.nprobe);
      params.sel = need_sel ? &sel : nullptr;
      map.index->search(1, q.data(), kk, dist.data(), slots.data(), &params);
    } else {
      faiss::SearchParameters params;
      params.sel = need_sel ? &sel : nullptr;
      map.index->search(1, q.data(), kk, dist.data(), slots.data(), &params);
    }
  } catch (const std::exception& e) {
    // Parameters are validated at create/load, so a FAISS failure here is a bug.
    std::fprintf(stderr, "vector index search: faiss: %s\n", e.what());
    RAGFT_CHECK(!"faiss search failed");
  }
  const bool l2 = impl_->options.metric == "l2";
  out.reserve(k);
  for (std::size_t i = 0; i < k; ++i) {
    const auto slot = slots[i];
    if (slot < 0 || static_cast<std::size_t>(slot) >= map.id_map.size()) continue;
    out.push_back({static_cast<ChunkId>(map.id_map[slot]), l2 ? -dist[i] : dist[i]});
  }
  std::sort(out.begin(), out.end(), [](const ScoredChunk& a, const ScoredChunk& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  return out;
}

std::vector<ScoredChunk> VectorIndex::search(const float* query, std::size_t k,
                                             const FilterSpec& filter) const {
  if (!filter.tenant && !filter.groups && !filter.allowlist) return search(query, k);
  const Admit admit = compile_filter(filter, impl_->classes.classes());
  const auto& class_of = impl_->class_of;
  return search(query, k, [&](ChunkId id) {
    auto it = class_of.find(id);
    return it != class_of.end() && admit.class_admitted(it->second) && admit.id_allowed(id);
  });
}

void VectorIndex::set_ef_search(int ef_search) {
  impl_->options.ef_search = std::max(1, ef_search);
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(impl_->map->index)) hnsw->hnsw.efSearch = impl_->options.ef_search;
}

std::size_t VectorIndex::size() const { return impl_->live.size(); }

bool VectorIndex::contains(ChunkId id) const { return impl_->live.contains(id); }

const VectorIndexOptions& VectorIndex::options() const { return impl_->options; }

Status VectorIndex::save(const std::filesystem::path& file, Env& env) const {
  std::string data(kMagic, sizeof(kMagic));
  auto put = [&data](const void* p, std::size_t n) {
    data.append(static_cast<const char*>(p), n);
  };
  const std::string config = impl_->options.to_config();
  const auto config_len = static_cast<std::uint32_t>(config.size());
  put(&config_len, sizeof(config_len));
  put(config.data(), config.size());
  std::vector<std::uint64_t> dead;
  for (std::size_t slot = 0; slot < impl_->tombstones.size(); ++slot) {
    if (impl_->tombstones[slot]) dead.push_back(slot);
  }
  const std::uint64_t dead_count = dead.size();
  put(&dead_count, sizeof(dead_count));
  put(dead.data(), dead.size() * sizeof(std::uint64_t));
  auto put_str = [&put](const std::string& str) {
    const auto len = static_cast<std::uint32_t>(str.size());
    put(&len, sizeof(len));
    put(str.data(), str.size());
  };
  const auto& classes = impl_->classes.classes();
  const auto class_count = static_cast<std::uint32_t>(classes.size());
  put(&class_count, sizeof(class_count));
  for (const AccessClass& c : classes) {
    put_str(c.tenant);
    const auto groups = static_cast<std::uint32_t>(c.acl.size());
    put(&groups, sizeof(groups));
    for (const auto& g : c.acl) put_str(g);
  }
  std::vector<std::pair<ChunkId, std::uint32_t>> pairs(impl_->class_of.begin(), impl_->class_of.end());
  std::sort(pairs.begin(), pairs.end());  // deterministic files
  const std::uint64_t pair_count = pairs.size();
  put(&pair_count, sizeof(pair_count));
  for (const auto& [id, cls] : pairs) {
    const std::uint64_t id64 = id;
    put(&id64, sizeof(id64));
    put(&cls, sizeof(cls));
  }
  try {
    faiss::VectorIOWriter writer;
    faiss::write_index(impl_->map.get(), &writer);
    put(writer.data.data(), writer.data.size());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, "vector index save {}: faiss: {}", file.string(),
                      e.what());
  }
  return env.write_file_atomic(file, data);
}

Result<VectorIndex> VectorIndex::load(const std::filesystem::path& file, Env& env) {
  RAGFT_TRY(std::string data, env.read_file(file));
  auto corrupt = [&file](std::string_view what) {
    return make_error(ErrorCode::kCorrupt,
                      "vector index {}: {} (rebuild the index from the store)", file.string(),
                      what);
  };
  std::size_t pos = 0;
  auto get = [&](void* p, std::size_t n) {
    if (data.size() - pos < n) return false;
    if (n == 0) return true;  // p may be the null data() of an empty vector
    std::memcpy(p, data.data() + pos, n);
    pos += n;
    return true;
  };
  char magic[sizeof(kMagic)];
  if (!get(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    return corrupt("bad magic (not a ragft vector index)");
  }
  std::uint32_t config_len = 0;
  if (!get(&config_len, sizeof(config_len)) || data.size() - pos < config_len) {
    return corrupt("truncated header");
  }
  std::string config(data.data() + pos, config_len);
  pos += config_len;
  auto options = VectorIndexOptions::parse(config);
  if (!options.ok()) return corrupt("bad config string: " + options.error().message);
  std::uint64_t dead_count = 0;
  if (!get(&dead_count, sizeof(dead_count)) ||
      (data.size() - pos) / sizeof(std::uint64_t) < dead_count) {
    return corrupt("truncated tombstones");
  }
  std::vector<std::uint64_t> dead(dead_count);
  get(dead.data(), dead_count * sizeof(std::uint64_t));
  auto get_str = [&](std::string& out) {
    std::uint32_t len = 0;
    if (!get(&len, sizeof(len)) || data.size() - pos < len) return false;
    out.assign(data.data() + pos, len);
    pos += len;
    return true;
  };
  std::uint32_t class_count = 0;
  if (!get(&class_count, sizeof(class_count)) || (data.size() - pos) / 8 < class_count) {
    return corrupt("truncated access classes");
  }
  std::vector<AccessClass> classes(class_count);
  for (AccessClass& c : classes) {
    std::uint32_t groups = 0;
    if (!get_str(c.tenant) || !get(&groups, sizeof(groups)) || (data.size() - pos) / 4 < groups) {
      return corrupt("truncated access classes");
    }
    c.acl.resize(groups);
    for (auto& g : c.acl) {
      if (!get_str(g)) return corrupt("truncated access classes");
    }
  }
  std::uint64_t pair_count = 0;
  if (!get(&pair_count, sizeof(pair_count)) || (data.size() - pos) / 12 < pair_count) {
    return corrupt("truncated chunk access classes");
  }
  std::unordered_map<ChunkId, std::uint32_t> class_of;
  class_of.reserve(pair_count);
  for (std::uint64_t i = 0; i < pair_count; ++i) {
    std::uint64_t id = 0;
    std::uint32_t cls = 0;
    get(&id, sizeof(id));
    get(&cls, sizeof(cls));
    if (cls >= class_count || id > std::numeric_limits<ChunkId>::max()) return corrupt("chunk access class out of range");
    class_of[static_cast<ChunkId>(id)] = cls;
  }

  std::unique_ptr<faiss::Index> raw;
  try {
    faiss::VectorIOReader reader;
    reader.data.assign(data.begin() + static_cast<std::ptrdiff_t>(pos), data.end());
    raw.reset(faiss::read_index(&reader));
  } catch (const std::bad_alloc&) {
    return corrupt("faiss index implausibly large");
  } catch (const std::exception& e) {
    return corrupt(std::string("faiss: ") + e.what());
  }
  auto* map = dynamic_cast<faiss::IndexIDMap2*>(raw.get());
  if (map == nullptr || map->index == nullptr) return corrupt("faiss index is not an IndexIDMap2");
  const VectorIndexOptions& o = *options;
  const faiss::MetricType metric = o.metric == "l2" ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(map->index);
  auto* ivf = dynamic_cast<faiss::IndexIVFFlat*>(map->index);
  const bool kind_ok = o.kind == "hnsw" ? hnsw != nullptr
                       : o.kind == "ivf" ? ivf != nullptr && ivf->nlist == static_cast<std::size_t>(o.nlist)
                                        : dynamic_cast<faiss::IndexFlat*>(map->index) != nullptr;
  if (!kind_ok || map->d != o.dim || map->index->metric_type != metric ||
      map->id_map.size() != static_cast<std::size_t>(map->index->ntotal)) {
    return corrupt(fmt::format("faiss index does not match its config '{}'", config));
  }
  VectorIndex index;
  index.impl_->options = o;
  raw.release();
  index.impl_->map.reset(map);
  if (hnsw != nullptr) hnsw->hnsw.efSearch = o.ef_search;
  if (ivf != nullptr) ivf->nprobe = static_cast<std::size_t>(o.nprobe);
  if (!dead.empty()) {
    index.impl_->tombstones.assign(map->id_map.size(), 0);
    for (std::uint64_t slot : dead) {
      if (slot >= map->id_map.size()) return corrupt("tombstone out of range");
      index.impl_->tombstones[slot] = 1;
    }
  }
  index.impl_->rebuild_live();
  std::size_t live_slots = map->id_map.size() - static_cast<std::size_t>(std::count(
                                                    index.impl_->tombstones.begin(),
                                                    index.impl_->tombstones.end(), 1));
  if (index.impl_->live.size() != live_slots) return corrupt("duplicate live chunk ids");
  if (class_of.size() != live_slots) return corrupt("access classes do not cover the live chunks");
  for (const auto& [id, slot] : index.impl_->live) {
    if (!class_of.contains(id)) return corrupt("a live chunk has no access class");
  }
  index.impl_->classes.assign(std::move(classes));
  index.impl_->class_of = std::move(class_of);
  return index;
}

}  // namespace ragft
