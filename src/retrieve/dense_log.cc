#include "retrieve/dense_log.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "core/hash.h"

namespace ragft {

namespace {

constexpr char kMagic[8] = {'R', 'G', 'F', 'T', 'D', 'L', 'G', '1'};
constexpr std::size_t kHeaderBytes = sizeof(kMagic) + 8 + 4;
constexpr std::uint64_t kHashSeed = 0x6c6f67;  // "log"

template <typename T>
void put(std::string& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void put_str(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Bounds-checked reads; after a read past the end ok is false and reads return zeros.
struct Reader {
  std::string_view in;
  std::size_t pos = 0;
  bool ok = true;

  template <typename T>
  T get() {
    T v{};
    if (!ok || in.size() - pos < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, in.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string get_str() {
    const auto n = get<std::uint32_t>();
    if (!ok || in.size() - pos < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(pos, n));
    pos += n;
    return s;
  }
  std::size_t remaining() const { return in.size() - pos; }
};

}  // namespace

std::string dense_log_header(std::uint64_t generation, int dim) {
  std::string out(kMagic, sizeof(kMagic));
  put<std::uint64_t>(out, generation);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(dim));
  return out;
}

void append_dense_log_record(const DenseLogRecord& r, int dim, std::string& out) {
  std::string payload;
  payload.reserve(32 + r.removed.size() * 8 + r.added.size() * (24 + 4 * static_cast<std::size_t>(dim)));
  put<std::int64_t>(payload, r.seq);
  put<std::uint64_t>(payload, r.removed.size());
  for (ChunkId id : r.removed) put<std::uint64_t>(payload, id);
  put<std::uint64_t>(payload, r.added.size());
  for (std::size_t i = 0; i < r.added.size(); ++i) {
    put<std::uint64_t>(payload, r.added[i]);
    put_str(payload, r.attrs[i].tenant);
    put<std::uint32_t>(payload, static_cast<std::uint32_t>(r.attrs[i].acl.size()));
    for (const auto& g : r.attrs[i].acl) put_str(payload, g);
  }
  payload.append(reinterpret_cast<const char*>(r.vectors.data()), r.vectors.size() * sizeof(float));
  put<std::uint64_t>(out, payload.size());
  put<std::uint64_t>(out, hash64(payload, kHashSeed));
  out.append(payload);
}

Status read_dense_log(std::string_view data, std::uint64_t from, std::uint64_t committed, std::uint64_t generation,
                      int dim, const std::filesystem::path& file,
                      const std::function<Status(DenseLogRecord&)>& fn) {
  auto corrupt = [&file](std::string_view what, std::uint64_t at) {
    return make_error(ErrorCode::kCorrupt, "dense delta log {} at byte {}: {} (the index is rebuilt from the store)",
                      file.string(), at, what);
  };
  if (data.size() < committed) {
    return corrupt(fmt::format("the file has {} bytes but {} are committed", data.size(), committed), data.size());
  }
  if (committed == 0) return ok_status();
  data = data.substr(0, committed);
  if (data.size() < kHeaderBytes || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("bad magic (not a ragft dense delta log)", 0);
  }
  Reader header{data.substr(sizeof(kMagic), kHeaderBytes - sizeof(kMagic))};
  const auto gen = header.get<std::uint64_t>();
  const auto log_dim = header.get<std::uint32_t>();
  if (gen != generation || log_dim != static_cast<std::uint32_t>(dim)) {
    return corrupt(fmt::format("log of generation {} dim {}, expected generation {} dim {}", gen, log_dim, generation,
                               dim),
                   0);
  }
  std::uint64_t pos = std::max<std::uint64_t>(from, kHeaderBytes);
  const std::size_t d = static_cast<std::size_t>(dim);
  Seq last_seq = std::numeric_limits<Seq>::min();
  DenseLogRecord r;
  while (pos < committed) {
    Reader frame{data.substr(pos)};
    const auto len = frame.get<std::uint64_t>();
    const auto hash = frame.get<std::uint64_t>();
    if (!frame.ok || frame.remaining() < len) return corrupt("record runs past the committed length", pos);
    const std::string_view payload = data.substr(pos + 16, len);
    if (hash64(payload, kHashSeed) != hash) return corrupt("record checksum mismatch", pos);
    Reader in{payload};
    r.seq = in.get<std::int64_t>();
    if (r.seq <= last_seq) return corrupt("record sequences do not increase", pos);
    last_seq = r.seq;
    const auto n_removed = in.get<std::uint64_t>();
    if (!in.ok || in.remaining() / 8 < n_removed) return corrupt("truncated removals", pos);
    r.removed.resize(n_removed);
    for (auto& id : r.removed) {
      const auto v = in.get<std::uint64_t>();
      if (v > std::numeric_limits<ChunkId>::max()) return corrupt("chunk id out of range", pos);
      id = static_cast<ChunkId>(v);
    }
    const auto n_added = in.get<std::uint64_t>();
    // Each added chunk takes at least 16 bytes of ids and attributes plus its vector.
    if (!in.ok || in.remaining() / (16 + 4 * d) < n_added) return corrupt("truncated additions", pos);
    r.added.resize(n_added);
    r.attrs.resize(n_added);
    for (std::size_t i = 0; i < n_added; ++i) {
      const auto v = in.get<std::uint64_t>();
      if (v > std::numeric_limits<ChunkId>::max()) return corrupt("chunk id out of range", pos);
      r.added[i] = static_cast<ChunkId>(v);
      r.attrs[i].tenant = in.get_str();
      const auto groups = in.get<std::uint32_t>();
      if (!in.ok || in.remaining() / 4 < groups) return corrupt("truncated access attributes", pos);
      r.attrs[i].acl.resize(groups);
      for (auto& g : r.attrs[i].acl) g = in.get_str();
      if (!in.ok) return corrupt("truncated access attributes", pos);
    }
    if (in.remaining() != n_added * d * sizeof(float)) return corrupt("vector bytes do not match the count", pos);
    r.vectors.resize(n_added * d);
    if (!r.vectors.empty()) std::memcpy(r.vectors.data(), payload.data() + in.pos, r.vectors.size() * sizeof(float));
    RAGFT_TRY_STATUS(fn(r));
    pos += 16 + len;
  }
  return ok_status();
}

}  // namespace ragft
