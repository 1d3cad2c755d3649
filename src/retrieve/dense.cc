#include "retrieve/dense.h"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/log.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {
constexpr const char* kStateFile = "state.json";

// "flat" / "hnsw:m=16" + the embedder's dimension -> a full VectorIndexOptions config.
Result<VectorIndexOptions> vector_options(std::string_view vectors, int dim) {
  const std::string_view kind = vectors.substr(0, vectors.find(':'));
  RAGFT_TRY(auto items, config_items(vectors, kind));
  std::string config = fmt::format("{}:dim={},metric=cosine", kind, dim);
  for (const auto& [key, value] : items) {
    if (key == "dim" || key == "metric") {
      return make_error(ErrorCode::kInvalidArgument,
                        "vectors '{}': {} comes from the embedder (vectors are cosine-compared)", vectors, key);
    }
    config += fmt::format(",{}={}", key, value);
  }
  return VectorIndexOptions::parse(config);
}
}  // namespace

std::string dense_text(std::string_view title, std::string_view chunk_text) {
  std::string t;
  t.reserve(title.size() + 1 + chunk_text.size());
  t.append(title);
  if (!title.empty()) t.push_back('\n');
  t.append(chunk_text);
  return t;
}

DenseIndex::DenseIndex(DenseIndex&&) noexcept = default;
DenseIndex& DenseIndex::operator=(DenseIndex&&) noexcept = default;
DenseIndex::~DenseIndex() = default;

Result<DenseIndex> DenseIndex::open(const fs::path& dir, const DenseOptions& options, EmbedderContext context) {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  DenseIndex d;
  d.dir_ = dir;
  d.options_ = options;
  RAGFT_TRY(d.options_.embedder, canonical_embedder_config(options.embedder));
  if (context.model_dir.empty()) context.model_dir = dir / "models";
  RAGFT_TRY(d.embedder_, make_embedder(d.options_.embedder, context));
  if (d.embedder_->dim() <= 0) {
    // An endpoint that has not told its dimension yet: ask with one text.
    std::vector<float> probe;
    RAGFT_TRY_STATUS(d.embedder_->embed({"dimension probe"}, EmbedRole::kDocument, probe));
  }
  RAGFT_TRY(VectorIndexOptions vo, vector_options(options.vectors, d.embedder_->dim()));
  d.options_.vectors = vo.to_config();

  auto state_text = Env::posix().read_file(dir / kStateFile);
  if (state_text.ok()) {
    auto state = nlohmann::json::parse(*state_text, nullptr, false);
    const bool same = !state.is_discarded() && state.is_object() &&
                      state.value("embedder", "") == d.options_.embedder &&
                      state.value("model_id", "") == d.embedder_->model_id() &&
                      state.value("vectors", "") == d.options_.vectors;
    if (same && state.contains("applied_seq") && state["applied_seq"].is_number_unsigned()) {
      const std::string file = state.value("file", "");
      auto loaded = VectorIndex::load(dir / file);
      if (loaded.ok()) {
        d.vectors_ = std::make_unique<VectorIndex>(std::move(*loaded));
        d.applied_seq_ = state["applied_seq"].get<Seq>();
      } else {
        log::warn("event=dense_rebuild reason=\"{}\"", loaded.error().message);
      }
    } else if (!same) {
      log::info("event=dense_rebuild reason=\"embedder or vectors config changed\" embedder={}", d.options_.embedder);
    } else {
      log::warn("event=dense_rebuild reason=\"damaged {}\"", (dir / kStateFile).string());
    }
  } else if (state_text.error().code != ErrorCode::kNotFound) {
    return state_text.take_error();
  }
  if (!d.vectors_) {
    RAGFT_TRY(VectorIndex fresh, VectorIndex::create(vo));
    d.vectors_ = std::make_unique<VectorIndex>(std::move(fresh));
    d.applied_seq_ = 0;
  }
  return d;
}

bool DenseIndex::contains(ChunkId id) const { return vectors_->contains(id); }

void DenseIndex::add(ChunkId id, const ChunkAttrs& attrs, std::string text) {
  pending_.push_back({id, attrs, std::move(text)});
}

Status DenseIndex::remove(ChunkId id) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [id](const Pending& p) { return p.id == id; });
  if (it != pending_.end()) {
    pending_.erase(it);
    return ok_status();
  }
  if (vectors_->contains(id)) pending_removals_.push_back(id);
  return ok_status();
}

Status DenseIndex::commit(Seq seq, Store& store) {
  RAGFT_TRY_STATUS(vectors_->remove(pending_removals_));
  pending_removals_.clear();
  const std::string model = embedder_->model_id();
  const int dim = embedder_->dim();
  const std::size_t d = static_cast<std::size_t>(dim);
  // All of a commit's vectors go to the index in one add (an IVF index trains on its first).
  std::vector<ChunkId> ids;
  std::vector<ChunkAttrs> attrs;
  std::vector<float> all;
  all.reserve(pending_.size() * d);
  for (std::size_t begin = 0; begin < pending_.size(); begin += options_.batch) {
    const std::size_t end = std::min(pending_.size(), begin + options_.batch);
    std::vector<std::string> hashes;
    for (std::size_t i = begin; i < end; ++i) hashes.push_back(content_hash(pending_[i].text));
    std::vector<float> vecs;
    std::vector<bool> found;
    RAGFT_TRY_STATUS(store.get_embeddings(model, dim, hashes, vecs, found));
    std::vector<std::string> todo_texts, todo_hashes;
    std::vector<std::size_t> todo_rows;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      if (found[i]) {
        ++cache_hits_;
        continue;
      }
      todo_texts.push_back(pending_[begin + i].text);
      todo_hashes.push_back(hashes[i]);
      todo_rows.push_back(i);
    }
    if (!todo_texts.empty()) {
      std::vector<float> fresh;
      RAGFT_TRY_STATUS(embedder_->embed(todo_texts, EmbedRole::kDocument, fresh));
      if (fresh.size() != todo_texts.size() * d) {
        return make_error(ErrorCode::kInternal, "embedder {} returned {} floats for {} texts of dim {}",
                          embedder_->config(), fresh.size(), todo_texts.size(), dim);
      }
      RAGFT_TRY_STATUS(store.put_embeddings(model, dim, todo_hashes, fresh.data()));
      for (std::size_t j = 0; j < todo_rows.size(); ++j) {
        std::copy_n(fresh.data() + j * d, d, vecs.data() + todo_rows[j] * d);
      }
      embedded_ += todo_texts.size();
    }
    for (std::size_t i = begin; i < end; ++i) {
      ids.push_back(pending_[i].id);
      attrs.push_back(pending_[i].attrs);
    }
    all.insert(all.end(), vecs.begin(), vecs.end());
  }
  RAGFT_TRY_STATUS(vectors_->add(ids, all.data(), attrs));
  pending_.clear();
  applied_seq_ = seq;
  return ok_status();
}

Status DenseIndex::save() {
  const std::string file = fmt::format("vectors-{}.vec", applied_seq_);
  RAGFT_TRY_STATUS(vectors_->save(dir_ / file));
  nlohmann::json state = {{"embedder", options_.embedder},
                          {"model_id", embedder_->model_id()},
                          {"vectors", options_.vectors},
                          {"applied_seq", applied_seq_},
                          {"file", file}};
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir_ / kStateFile, state.dump(1) + "\n"));
  // Older vector files are no longer referenced.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != file && name.starts_with("vectors-") && name.ends_with(".vec")) fs::remove(entry.path(), ec);
  }
  return ok_status();
}

Result<std::vector<ScoredChunk>> DenseIndex::search(std::string_view query, std::size_t k, const FilterSpec& filter) {
  std::vector<float> q;
  RAGFT_TRY_STATUS(embedder_->embed({std::string(query)}, EmbedRole::kQuery, q));
  return search_vector(q.data(), k, filter);
}

std::vector<ScoredChunk> DenseIndex::search_vector(const float* query, std::size_t k, const FilterSpec& filter) const {
  return vectors_->search(query, k, filter);
}

std::string DenseIndex::config() const { return options_.embedder + "|" + options_.vectors; }

}  // namespace ragft
