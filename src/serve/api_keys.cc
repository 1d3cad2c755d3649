#include "serve/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "core/log.h"

namespace ragft::serve {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kLookupHexDigits = 16;
using Digest = std::array<unsigned char, 32>;

Status random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kIo, "getrandom failed: {}", std::strerror(errno));
    }
    got += static_cast<std::size_t>(r);
  }
  return ok_status();
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// SHA-256(salt || key); false only if OpenSSL fails.
bool digest_of(std::string_view salt, std::string_view key, Digest& out) {
  std::string data;
  data.reserve(salt.size() + key.size());
  data.append(salt).append(key);
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 && len == out.size();
}

// "rk_" + 64 lowercase hex digits.
bool well_formed(std::string_view key) {
  if (key.size() != kApiKeyPrefix.size() + 2 * kKeyBytes || !key.starts_with(kApiKeyPrefix)) return false;
  for (char c : key.substr(kApiKeyPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Error unauthorized() {
  // The same words for a malformed, unknown, wrong or revoked key.
  return make_error(ErrorCode::kInvalidArgument,
                    "invalid API key: send a valid key as \"Authorization: Bearer rk_...\" (keys are made with "
                    "`ragft key create`)");
}

}  // namespace

Result<std::string> hash_api_key(std::string_view salt_hex, std::string_view key) {
  auto salt = from_hex(salt_hex);
  if (!salt) return make_error(ErrorCode::kInvalidArgument, "API key salt \"{}\" is not hex", salt_hex);
  Digest d;
  if (!digest_of(*salt, key, d)) return make_error(ErrorCode::kInternal, "SHA-256 failed (OpenSSL)");
  return to_hex(d.data(), d.size());
}

Result<CreatedApiKey> create_api_key(Store& store, const ApiKeySpec& spec) {
  if (spec.tenant.empty()) return make_error(ErrorCode::kInvalidArgument, "API key: tenant must be non-empty");
  if (spec.principal) {
    if (spec.principal->empty()) return make_error(ErrorCode::kInvalidArgument, "API key: principal is empty");
    RAGFT_TRY(std::optional<Principal> p, store.get_principal(spec.tenant, *spec.principal));
    if (!p) {
      return make_error(ErrorCode::kNotFound,
                        "API key: no principal \"{}\" in tenant \"{}\"; add it first with `ragft principal add {} "
                        "--tenant {} --groups ...`",
                        *spec.principal, spec.tenant, *spec.principal, spec.tenant);
    }
  }
  std::array<unsigned char, kKeyBytes> secret{};
  std::array<unsigned char, kSaltBytes> salt{};
  RAGFT_TRY_STATUS(random_bytes(secret.data(), secret.size()));
  RAGFT_TRY_STATUS(random_bytes(salt.data(), salt.size()));
  CreatedApiKey out;
  out.key = std::string(kApiKeyPrefix) + to_hex(secret.data(), secret.size());
  ApiKeyRecord& r = out.record;
  r.name = spec.name;
  r.tenant = spec.tenant;
  r.principal = spec.principal;
  r.admin = spec.admin;
  r.lookup = out.key.substr(kApiKeyPrefix.size(), kLookupHexDigits);
  r.salt = to_hex(salt.data(), salt.size());
  RAGFT_TRY(r.hash, hash_api_key(r.salt, out.key));
  RAGFT_TRY(r.id, store.add_api_key(r));
  // created_unix_ms as stored.
  RAGFT_TRY(std::vector<ApiKeyRecord> all, store.list_api_keys());
  for (const auto& k : all) {
    if (k.id == r.id) r.created_unix_ms = k.created_unix_ms;
  }
  return out;
}

struct ApiKeyAuthenticator::Snapshot {
  struct Entry {
    std::string salt;  // raw bytes
    Digest digest{};
    Identity identity;
  };
  std::unordered_map<std::string, Entry> by_lookup;  // valid keys only
  Entry dummy;  // hashed against when the lookup is unknown
};

ApiKeyAuthenticator::ApiKeyAuthenticator(Store store, ApiKeyAuthOptions options)
    : options_(options), store_(std::move(store)) {}

ApiKeyAuthenticator::~ApiKeyAuthenticator() = default;

Result<std::unique_ptr<ApiKeyAuthenticator>> ApiKeyAuthenticator::open(const std::filesystem::path& store_path,
                                                                        ApiKeyAuthOptions options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(store_path, ec)) {
    return make_error(ErrorCode::kNotFound, "API keys: no store at {}", store_path.string());
  }
  if (options.refresh.count() < 0) {
    return make_error(ErrorCode::kInvalidArgument, "API keys: refresh must be >= 0 ms");
  }
  RAGFT_TRY(Store store, Store::open(store_path));
  std::unique_ptr<ApiKeyAuthenticator> out(new ApiKeyAuthenticator(std::move(store), options));
  RAGFT_TRY_STATUS(out->reload());
  return out;
}

Status ApiKeyAuthenticator::reload() const {
  std::lock_guard lock(mu_);
  return reload_locked();
}

Status ApiKeyAuthenticator::reload_locked() const {
  RAGFT_TRY(std::vector<ApiKeyRecord> keys, store_.list_api_keys());
  auto snap = std::make_shared<Snapshot>();
  for (const auto& k : keys) {
    if (k.revoked_unix_ms) continue;
    Snapshot::Entry e;
    auto salt = from_hex(k.salt);
    auto digest = from_hex(k.hash);
    if (!salt || !digest || digest->size() != e.digest.size()) {
      return make_error(ErrorCode::kCorrupt, "API key {}: stored salt or hash is not a hex SHA-256 ({})", k.id,
                        store_.path().string());
    }
    e.salt = std::move(*salt);
    std::memcpy(e.digest.data(), digest->data(), e.digest.size());
    e.identity.tenant = k.tenant;
    e.identity.principal = k.principal;
    e.identity.admin = k.admin;
    e.identity.key_id = k.lookup;
    snap->by_lookup.emplace(k.lookup, std::move(e));
  }
  snap->dummy.salt = std::string(kSaltBytes, '\0');
  snapshot_ = std::move(snap);
  loaded_at_ = std::chrono::steady_clock::now();
  return ok_status();
}

Result<std::shared_ptr<const ApiKeyAuthenticator::Snapshot>> ApiKeyAuthenticator::current() const {
  std::lock_guard lock(mu_);
  if (std::chrono::steady_clock::now() - loaded_at_ >= options_.refresh) {
    Status s = reload_locked();
    if (!s.ok()) {
      log::error("event=api_keys_reload_failed error=\"{}\"", s.error().to_string());
      return make_error(ErrorCode::kIo, "the API keys could not be read");
    }
  }
  return snapshot_;
}

std::size_t ApiKeyAuthenticator::valid_keys() const {
  std::lock_guard lock(mu_);
  return snapshot_ ? snapshot_->by_lookup.size() : 0;
}

Result<Identity> ApiKeyAuthenticator::authenticate(const RequestMeta& request) const {
  std::string_view header = request.authorization;
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  if (header.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "missing API key: send \"Authorization: Bearer rk_...\" (keys are made with `ragft key create`)");
  }
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                  [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b); })) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the Authorization header must be \"Bearer rk_...\" (keys are made with `ragft key create`)");
  }
  std::string_view key = header.substr(kBearer.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  RAGFT_TRY(std::shared_ptr<const Snapshot> snap, current());
  if (!well_formed(key)) return unauthorized();
  const auto it = snap->by_lookup.find(std::string(key.substr(kApiKeyPrefix.size(), kLookupHexDigits)));
  const Snapshot::Entry& entry = it == snap->by_lookup.end() ? snap->dummy : it->second;
  Digest d;
  if (!digest_of(entry.salt, key, d)) return make_error(ErrorCode::kInternal, "SHA-256 failed (OpenSSL)");
  const bool match = CRYPTO_memcmp(d.data(), entry.digest.data(), d.size()) == 0;
  if (!match || it == snap->by_lookup.end()) return unauthorized();
  return entry.identity;
}

}  // namespace ragft::serve
