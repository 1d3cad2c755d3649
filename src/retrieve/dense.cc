#include "retrieve/dense.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/log.h"
#include "retrieve/dense_log.h"

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

// state.json, either layout. Version 1 (before the delta log): {"embedder", "model_id",
// "vectors", "applied_seq", "file"}. Version 2: {"format": 2, "embedder", "model_id", "vectors",
// "seq", "generation", "base", "log_bytes"}; the log is delta-<generation>.log.
struct DenseState {
  std::string embedder, model_id, vectors;
  Seq seq = 0;
  std::uint64_t generation = 0;
  std::string base;
  std::uint64_t log_bytes = 0;
};

namespace {
// A file name state.json may refer to: a plain name in the index directory.
bool plain_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

Result<DenseState> parse_state(std::string_view text, const fs::path& file) {
  auto damaged = [&file](std::string_view what) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", file.string(), what);
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return damaged("not a JSON object");
  DenseState st;
  for (auto [key, out] : {std::pair{"embedder", &st.embedder}, {"model_id", &st.model_id}, {"vectors", &st.vectors}}) {
    if (!j.contains(key) || !j[key].is_string()) return damaged(fmt::format("\"{}\" is missing", key));
    *out = j[key].get<std::string>();
  }
  const bool v2 = j.contains("format");
  if (v2 && (!j["format"].is_number_unsigned() || j["format"].get<std::uint64_t>() != 2)) {
    return damaged("unknown \"format\" (written by a newer ragft?)");
  }
  const char* seq_key = v2 ? "seq" : "applied_seq";
  const char* base_key = v2 ? "base" : "file";
  if (!j.contains(seq_key) || !j[seq_key].is_number_unsigned()) return damaged(fmt::format("bad \"{}\"", seq_key));
  st.seq = static_cast<Seq>(j[seq_key].get<std::uint64_t>());
  if (!j.contains(base_key) || !j[base_key].is_string() || !plain_name(j[base_key].get<std::string>())) {
    return damaged(fmt::format("bad \"{}\"", base_key));
  }
  st.base = j[base_key].get<std::string>();
  if (v2) {
    if (!j.contains("generation") || !j["generation"].is_number_unsigned() || !j.contains("log_bytes") ||
        !j["log_bytes"].is_number_unsigned()) {
      return damaged("bad \"generation\" or \"log_bytes\"");
    }
    st.generation = j["generation"].get<std::uint64_t>();
    st.log_bytes = j["log_bytes"].get<std::uint64_t>();
  }
  return st;
}

std::string log_name(std::uint64_t generation) { return fmt::format("delta-{}.log", generation); }
}  // namespace

Result<std::optional<Seq>> DenseIndex::recorded_seq(const fs::path& dir, const DenseOptions& options, Env& env) {
  auto text = env.read_file(dir / kStateFile);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) return std::optional<Seq>();
    return text.take_error();
  }
  auto st = parse_state(*text, dir / kStateFile);
  if (!st.ok()) return std::optional<Seq>();
  RAGFT_TRY(std::string embedder, canonical_embedder_config(options.embedder));
  auto recorded = VectorIndexOptions::parse(st->vectors);
  if (embedder != st->embedder || !recorded.ok()) return std::optional<Seq>();
  auto wanted = vector_options(options.vectors, recorded->dim);
  if (!wanted.ok() || wanted->to_config() != st->vectors) return std::optional<Seq>();
  return std::optional<Seq>(st->seq);
}

Result<DenseIndex> DenseIndex::open(const fs::path& dir, const DenseOptions& options, EmbedderContext context,
                                    Env& env) {
  RAGFT_TRY_STATUS(env.create_dirs(dir));
  DenseIndex d;
  d.dir_ = dir;
  d.env_ = &env;
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

  auto state_text = env.read_file(dir / kStateFile);
  if (state_text.ok()) {
    auto state = parse_state(*state_text, dir / kStateFile);
    if (!state.ok()) {
      log::warn("event=dense_rebuild reason=\"{}\"", state.error().message);
    } else if (state->embedder != d.options_.embedder || state->model_id != d.embedder_->model_id() ||
               state->vectors != d.options_.vectors) {
      log::info("event=dense_rebuild reason=\"embedder or vectors config changed\" embedder={}", d.options_.embedder);
    } else if (Status loaded = d.load_state(*state); !loaded.ok()) {
      log::warn("event=dense_rebuild reason=\"{}\"", loaded.error().message);
    } else {
      d.state_text_ = std::move(*state_text);
    }
  } else if (state_text.error().code != ErrorCode::kNotFound) {
    return state_text.take_error();
  }
  if (d.state_text_.empty()) {
    // Start afresh. The first save compacts into the generation after any left in the
    // directory, so it never overwrites a file an older state.json names; the old ones are
    // deleted once the new state is committed.
    d.generation_ = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      std::uint64_t gen = 0;
      for (auto [prefix, suffix] : {std::pair<std::string_view, std::string_view>{"base-", ".vec"}, {"delta-", ".log"}}) {
        if (!name.starts_with(prefix) || !name.ends_with(suffix)) continue;
        const std::string_view digits =
            std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size());
        std::from_chars(digits.data(), digits.data() + digits.size(), gen);
      }
      d.generation_ = std::max(d.generation_, gen);
    }
    RAGFT_TRY(VectorIndex fresh, VectorIndex::create(vo));
    d.vectors_ = std::make_unique<VectorIndex>(std::move(fresh));
    d.applied_seq_ = 0;
    d.replayed_ = 0;
    d.base_file_.clear();
    d.log_bytes_ = 0;
    d.must_compact_ = true;
  }
  return d;
}

Status DenseIndex::load_state(const DenseState& st) {
  RAGFT_TRY(VectorIndex loaded, VectorIndex::load(dir_ / st.base, *env_));
  if (loaded.options().to_config() != st.vectors) {
    return make_error(ErrorCode::kCorrupt, "{} holds a {} index, but state.json says {}", (dir_ / st.base).string(),
                      loaded.options().to_config(), st.vectors);
  }
  vectors_ = std::make_unique<VectorIndex>(std::move(loaded));
  generation_ = st.generation;
  base_file_ = st.base;
  std::error_code ec;
  base_bytes_ = fs::file_size(dir_ / st.base, ec);
  if (ec) base_bytes_ = 0;
  applied_seq_ = st.seq;
  log_bytes_ = 0;
  if (st.log_bytes > 0) {
    RAGFT_TRY(std::string log, env_->read_file(dir_ / log_file()));
    RAGFT_TRY_STATUS(replay(log, 0, st.log_bytes, st.seq));
  }
  log_bytes_ = st.log_bytes;
  must_compact_ = false;
  unsaved_.clear();
  return ok_status();
}

Status DenseIndex::replay(std::string_view log, std::uint64_t from, std::uint64_t to, Seq expect_last) {
  Seq last = applied_seq_;
  std::size_t records = 0;
  RAGFT_TRY_STATUS(read_dense_log(log, from, to, generation_, vectors_->options().dim, dir_ / log_file(),
                                  [&](DenseLogRecord& r) -> Status {
                                    RAGFT_TRY_STATUS(vectors_->remove(r.removed));
                                    RAGFT_TRY_STATUS(vectors_->add(r.added, r.vectors.data(), r.attrs));
                                    last = r.seq;
                                    ++records;
                                    return ok_status();
                                  }));
  if (records > 0 && last != expect_last) {
    return make_error(ErrorCode::kCorrupt, "{}: the last record applies sequence {} but state.json says {}",
                      (dir_ / log_file()).string(), last, expect_last);
  }
  replayed_ += records;
  return ok_status();
}

std::string DenseIndex::log_file() const { return log_name(generation_); }

bool DenseIndex::log_too_big(std::uint64_t bytes) const {
  const double limit = std::max(static_cast<double>(options_.compact_min_bytes),
                                options_.compact_ratio * static_cast<double>(base_bytes_));
  return static_cast<double>(bytes) > limit;
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
  DenseLogRecord record;
  record.seq = seq;
  record.removed = std::move(pending_removals_);
  pending_removals_.clear();
  RAGFT_TRY_STATUS(vectors_->remove(record.removed));
  const std::string model = embedder_->model_id();
  const int dim = embedder_->dim();
  const std::size_t d = static_cast<std::size_t>(dim);
  // All of a commit's vectors go to the index in one add (an IVF index trains on its first).
  std::vector<ChunkId>& ids = record.added;
  std::vector<ChunkAttrs>& attrs = record.attrs;
  std::vector<float>& all = record.vectors;
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
  // The log record replays exactly these calls. Once the log is bound to be compacted, records
  // are not kept: the base file written by save() will hold everything.
  if (!must_compact_) {
    append_dense_log_record(record, dim, unsaved_);
    const std::uint64_t header = log_bytes_ == 0 ? dense_log_header(generation_, dim).size() : 0;
    if (base_file_.empty() || log_too_big(log_bytes_ + header + unsaved_.size())) {
      must_compact_ = true;
      std::string().swap(unsaved_);
    }
  }
  return ok_status();
}

Status DenseIndex::write_state(std::uint64_t generation, const std::string& base, std::uint64_t log_bytes) {
  nlohmann::json state = {{"format", 2},
                          {"embedder", options_.embedder},
                          {"model_id", embedder_->model_id()},
                          {"vectors", options_.vectors},
                          {"seq", applied_seq_},
                          {"generation", generation},
                          {"base", base},
                          {"log_bytes", log_bytes}};
  std::string text = state.dump(1) + "\n";
  RAGFT_TRY_STATUS(env_->write_file_atomic(dir_ / kStateFile, text));
  state_text_ = std::move(text);
  return ok_status();
}

Status DenseIndex::write_base() {
  const std::uint64_t generation = generation_ + 1;
  const std::string base = fmt::format("base-{}.vec", generation);
  RAGFT_TRY_STATUS(vectors_->save(dir_ / base, *env_));
  RAGFT_TRY_STATUS(write_state(generation, base, 0));
  generation_ = generation;
  base_file_ = base;
  std::error_code ec;
  base_bytes_ = fs::file_size(dir_ / base, ec);
  if (ec) base_bytes_ = 0;
  log_bytes_ = 0;
  std::string().swap(unsaved_);
  must_compact_ = false;
  ++compactions_;
  // Files of earlier generations (and of the layout before the log) are no longer referenced.
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours = (name.starts_with("vectors-") && name.ends_with(".vec")) ||
                      (name.starts_with("base-") && name.ends_with(".vec")) ||
                      (name.starts_with("delta-") && name.ends_with(".log"));
    if (ours && name != base) fs::remove(entry.path(), ec);
  }
  return ok_status();
}

Status DenseIndex::save() {
  const int dim = vectors_->options().dim;
  const std::uint64_t header = log_bytes_ == 0 ? dense_log_header(generation_, dim).size() : 0;
  if (must_compact_ || base_file_.empty() || log_too_big(log_bytes_ + header + unsaved_.size())) return write_base();
  std::uint64_t committed = log_bytes_;
  if (!unsaved_.empty()) {
    std::string bytes = log_bytes_ == 0 ? dense_log_header(generation_, dim) : std::string();
    bytes += unsaved_;
    RAGFT_TRY_STATUS(env_->append_file(dir_ / log_file(), log_bytes_, bytes));
    committed += bytes.size();
  }
  RAGFT_TRY_STATUS(write_state(generation_, base_file_, committed));
  log_bytes_ = committed;
  std::string().swap(unsaved_);
  return ok_status();
}

Status DenseIndex::compact() {
  if (!base_file_.empty() && !must_compact_ && log_bytes_ == 0 && unsaved_.empty()) return ok_status();
  return write_base();
}

Result<bool> DenseIndex::follow_disk() {
  auto text = env_->read_file(dir_ / kStateFile);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) return false;
    return text.take_error();
  }
  if (*text == state_text_) return true;
  auto st = parse_state(*text, dir_ / kStateFile);
  if (!st.ok()) return false;
  const bool appended_only = st->embedder == options_.embedder && st->model_id == embedder_->model_id() &&
                             st->vectors == options_.vectors && st->generation == generation_ &&
                             st->base == base_file_ && st->log_bytes >= log_bytes_ && st->seq >= applied_seq_ &&
                             pending_.empty() && pending_removals_.empty() && unsaved_.empty() && !must_compact_;
  if (!appended_only) return false;
  if (st->log_bytes > log_bytes_) {
    auto log = env_->read_file(dir_ / log_file());
    if (!log.ok()) return false;
    if (Status s = replay(*log, log_bytes_, st->log_bytes, st->seq); !s.ok()) {
      log::warn("event=dense_reload reason=\"{}\"", s.error().message);
      return false;
    }
  } else if (st->seq != applied_seq_) {
    return false;
  }
  applied_seq_ = st->seq;
  log_bytes_ = st->log_bytes;
  state_text_ = std::move(*text);
  return true;
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
