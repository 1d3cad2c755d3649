#include "index/lexical/manifest.h"

#include <cstring>

#include "core/hash.h"
#include "index/lexical/byte_io.h"

namespace ragft::lexical {

namespace {

void seal(std::string& out) {
  const std::uint64_t h = hash64(out);
  out.append(reinterpret_cast<const char*>(&h), 8);
}

Error corrupt(std::string_view where, std::string_view what) {
  return make_error(ErrorCode::kCorrupt,
                    "lexical index file {} is damaged ({}); delete the index directory to rebuild it",
                    where, what);
}

// Checks magic, version and the trailing checksum; returns the body reader positioned after the
// version field.
Result<std::string_view> unseal(std::string_view data, const char* magic, std::uint32_t version,
                                std::string_view where) {
  if (data.size() < 20) return corrupt(where, "truncated");
  if (std::memcmp(data.data(), magic, 8) != 0) return corrupt(where, "bad magic");
  std::uint32_t v;
  std::memcpy(&v, data.data() + 8, 4);
  if (v != version) return corrupt(where, fmt::format("unsupported version {}", v));
  std::uint64_t stored;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  if (stored != hash64(data.substr(0, data.size() - 8))) return corrupt(where, "checksum mismatch");
  return data.substr(12, data.size() - 20);
}

}  // namespace

std::string segment_file_name(std::uint64_t gen) { return fmt::format("seg_{:06}.seg", gen); }
std::string deletes_file_name(std::uint64_t gen, std::uint64_t del_gen) {
  return fmt::format("seg_{:06}_{:06}.del", gen, del_gen);
}

std::string encode_manifest(const Manifest& m) {
  std::string out;
  ByteWriter w(out);
  w.put_bytes(std::string_view(kManifestMagic, 8));
  w.put<std::uint32_t>(kManifestVersion);
  w.put<std::int64_t>(m.applied_seq);
  w.put<std::uint64_t>(m.next_gen);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(m.classes.size()));
  for (const auto& c : m.classes) {
    w.put_str(c.tenant);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(c.acl.size()));
    for (const auto& g : c.acl) w.put_str(g);
  }
  w.put<std::uint32_t>(static_cast<std::uint32_t>(m.segments.size()));
  for (const auto& s : m.segments) {
    w.put<std::uint64_t>(s.gen);
    w.put<std::uint32_t>(s.n_docs);
    w.put<std::uint32_t>(s.n_deleted);
    w.put<std::uint64_t>(s.del_gen);
  }
  seal(out);
  return out;
}

Result<Manifest> decode_manifest(std::string_view data, std::string_view where) {
  RAGFT_TRY(auto body, unseal(data, kManifestMagic, kManifestVersion, where));
  ByteReader r(body);
  Manifest m;
  m.applied_seq = r.get<std::int64_t>();
  m.next_gen = r.get<std::uint64_t>();
  const auto n_classes = r.get<std::uint32_t>();
  if (n_classes > r.remaining()) return corrupt(where, "class count");
  m.classes.resize(n_classes);
  for (auto& c : m.classes) {
    c.tenant = r.get_str();
    const auto n = r.get<std::uint32_t>();
    if (!r.ok() || n > r.remaining()) return corrupt(where, "acl count");
    c.acl.resize(n);
    for (auto& g : c.acl) g = r.get_str();
  }
  const auto n_segs = r.get<std::uint32_t>();
  if (!r.ok() || n_segs > r.remaining()) return corrupt(where, "segment count");
  m.segments.resize(n_segs);
  for (auto& s : m.segments) {
    s.gen = r.get<std::uint64_t>();
    s.n_docs = r.get<std::uint32_t>();
    s.n_deleted = r.get<std::uint32_t>();
    s.del_gen = r.get<std::uint64_t>();
  }
  if (!r.ok() || r.remaining() != 0) return corrupt(where, "bad length");
  return m;
}

std::string encode_deletes(std::uint64_t seg_gen, std::uint32_t n_docs,
                           const std::vector<std::uint64_t>& bits) {
  std::string out;
  ByteWriter w(out);
  w.put_bytes(std::string_view(kDeletesMagic, 8));
  w.put<std::uint32_t>(kDeletesVersion);
  w.put<std::uint64_t>(seg_gen);
  w.put<std::uint32_t>(n_docs);
  for (auto word : bits) w.put<std::uint64_t>(word);
  seal(out);
  return out;
}

Result<std::vector<std::uint64_t>> decode_deletes(std::string_view data, std::uint64_t seg_gen,
                                                  std::uint32_t n_docs, std::string_view where) {
  RAGFT_TRY(auto body, unseal(data, kDeletesMagic, kDeletesVersion, where));
  ByteReader r(body);
  const auto gen = r.get<std::uint64_t>();
  const auto n = r.get<std::uint32_t>();
  if (!r.ok() || gen != seg_gen || n != n_docs) return corrupt(where, "does not match its segment");
  const std::size_t words = (std::size_t{n} + 63) / 64;
  if (r.remaining() != words * 8) return corrupt(where, "bad length");
  std::vector<std::uint64_t> bits(words);
  for (auto& word : bits) word = r.get<std::uint64_t>();
  return bits;
}

}  // namespace ragft::lexical
