// API keys of `ragft serve`: made by `ragft key create`, stored hashed in the workspace's store
// (store.h: ApiKeyRecord, table api_keys), checked on every request by ApiKeyAuthenticator.
//
// A key is "rk_" followed by 64 lowercase hex digits (32 bytes from getrandom). It is shown once,
// when it is created, and never stored: the store keeps its lookup prefix (the first 16 hex
// digits after "rk_", which only say which row to check, not secret), a random 16-byte salt and
// SHA-256(salt || key). A key maps to a tenant, optionally a principal (whose groups come from the
// store's principals table at each search, so `ragft principal add` takes effect at once) and an
// admin flag (carried in the Identity; no route needs it yet).
//
// Checking a request: parse "Authorization: Bearer <key>", find the lookup prefix in an in-memory
// map of the valid keys, hash once, compare the digests in constant time. A missing header, a
// malformed, unknown, wrong or revoked key all fail alike (kInvalidArgument: the server answers
// 401) and the messages never say whether a key or its prefix exists. An unknown prefix is
// hashed against a dummy entry, so it costs the same as a wrong key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "serve/identity.h"
#include "store/store.h"

namespace ragft::serve {

inline constexpr std::string_view kApiKeyPrefix = "rk_";

struct ApiKeySpec {
  std::string name;                      // a label ("" allowed)
  std::string tenant = "default";        // non-empty
  std::optional<std::string> principal;  // nullopt: the tenant's owner; else it must exist
  bool admin = false;
};

struct CreatedApiKey {
  std::string key;      // the only copy of the key: show it once
  ApiKeyRecord record;  // as stored (id, lookup, salt, hash, created)
};

// Makes a random key for `spec` and stores its hash. An empty tenant or principal ->
// kInvalidArgument; a principal not in the tenant's principals table -> kNotFound saying how to
// add it; no randomness from the OS -> kIo.
Result<CreatedApiKey> create_api_key(Store& store, const ApiKeySpec& spec);

// Lowercase hex of SHA-256(bytes of `salt_hex` decoded || key). A salt that is not hex ->
// kInvalidArgument.
Result<std::string> hash_api_key(std::string_view salt_hex, std::string_view key);

struct ApiKeyAuthOptions {
  // The valid keys are re-read from the store when the cached copy is older than this, so a
  // key created or revoked by `ragft key` takes effect within it. 0: re-read on every request.
  std::chrono::milliseconds refresh{1000};
};

// Thread-safe. Holds its own connection to the store (used under a mutex, only to re-read the
// keys); a request between refreshes costs a mutex, a map lookup and one SHA-256.
class ApiKeyAuthenticator final : public Authenticator {
 public:
  // Opens the store at `store_path` (it must exist: else kNotFound naming it) and reads the keys.
  static Result<std::unique_ptr<ApiKeyAuthenticator>> open(const std::filesystem::path& store_path,
                                                           ApiKeyAuthOptions options = {});
  ~ApiKeyAuthenticator() override;

  // The key's identity: {tenant, principal, admin}. Failures as above; a store that cannot be
  // re-read -> kIo (the server answers 500: it fails closed, never with stale keys).
  Result<Identity> authenticate(const RequestMeta& request) const override;

  // Re-reads the keys now.
  Status reload() const;
  // Valid (not revoked) keys in the cached copy.
  std::size_t valid_keys() const;

 private:
  struct Snapshot;
  ApiKeyAuthenticator(Store store, ApiKeyAuthOptions options);
  Status reload_locked() const;  // mu_ held
  Result<std::shared_ptr<const Snapshot>> current() const;

  ApiKeyAuthOptions options_;
  mutable std::mutex mu_;
  mutable Store store_;
  mutable std::shared_ptr<const Snapshot> snapshot_;
  mutable std::chrono::steady_clock::time_point loaded_at_;
};

}  // namespace ragft::serve
