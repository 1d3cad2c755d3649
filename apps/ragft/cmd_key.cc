// ragft key create|list|revoke: the API keys of `ragft serve` (src/serve/api_keys.h). A key is
// printed once, by create; the store keeps only a salted hash of it.
#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "serve/api_keys.h"

namespace ragft::cli {

namespace {

struct KeyArgs {
  std::string tenant = "default";
  std::string principal;
  std::string name;
  bool admin = false;
  std::int64_t id = 0;
};

// The workspace's store; a directory without one is not created.
Result<Store> open_key_store(const Globals& g) {
  const std::filesystem::path path = std::filesystem::path(g.data_dir) / "store.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return make_error(ErrorCode::kNotFound, "no workspace store at {}; index documents first (`ragft index`) or pass --data",
                      path.string());
  }
  return Store::open(path);
}

std::string iso_time(std::int64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What list and create show of a key: never the key, its lookup prefix, salt or hash.
nlohmann::json key_json(const ApiKeyRecord& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"tenant", k.tenant},
          {"principal", k.principal ? nlohmann::json(*k.principal) : nlohmann::json(nullptr)},
          {"admin", k.admin},
          {"created", iso_time(k.created_unix_ms)},
          {"revoked", k.revoked_unix_ms ? nlohmann::json(iso_time(*k.revoked_unix_ms)) : nlohmann::json(nullptr)}};
}

int run_create(const Globals& g, const KeyArgs& a) {
  auto store = open_key_store(g);
  if (!store.ok()) return report(store.error());
  serve::ApiKeySpec spec;
  spec.name = a.name;
  spec.tenant = a.tenant;
  if (!a.principal.empty()) spec.principal = a.principal;
  spec.admin = a.admin;
  auto made = serve::create_api_key(*store, spec);
  if (!made.ok()) return report(made.error());
  if (g.json) {
    nlohmann::json out = key_json(made->record);
    out["key"] = made->key;
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("{}\n", made->key);
    fmt::print(stderr, "API key {} (tenant {}, {}{}): shown once, store it now; `ragft serve` now requires a key\n",
               made->record.id, spec.tenant, spec.principal ? "principal " + *spec.principal : "the tenant's owner",
               spec.admin ? ", admin" : "");
  }
  return 0;
}

int run_list(const Globals& g) {
  auto store = open_key_store(g);
  if (!store.ok()) return report(store.error());
  auto keys = store->list_api_keys();
  if (!keys.ok()) return report(keys.error());
  if (g.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : *keys) out.push_back(key_json(k));
    fmt::print("{}\n", out.dump());
    return 0;
  }
  if (keys->empty()) fmt::print("no API keys\n");
  for (const auto& k : *keys) {
    fmt::print("{:>4}  {:<16} tenant={} principal={}{} created={}{}\n", k.id, k.name.empty() ? "-" : k.name, k.tenant,
               k.principal.value_or("-"), k.admin ? " admin" : "", iso_time(k.created_unix_ms),
               k.revoked_unix_ms ? " revoked=" + iso_time(*k.revoked_unix_ms) : "");
  }
  return 0;
}

int run_revoke(const Globals& g, const KeyArgs& a) {
  auto store = open_key_store(g);
  if (!store.ok()) return report(store.error());
  auto revoked = store->revoke_api_key(a.id);
  if (!revoked.ok()) return report(revoked.error());
  if (!*revoked) {
    auto keys = store->list_api_keys();
    if (!keys.ok()) return report(keys.error());
    const bool known = std::any_of(keys->begin(), keys->end(), [&](const ApiKeyRecord& k) { return k.id == a.id; });
    if (!known) return report(make_error(ErrorCode::kNotFound, "no API key {} (see `ragft key list`)", a.id));
  }
  if (g.json) {
    fmt::print("{}\n", nlohmann::json({{"id", a.id}, {"revoked", true}, {"already", !*revoked}}).dump());
  } else {
    fmt::print(stderr, "API key {} {}\n", a.id, *revoked ? "revoked" : "was revoked already");
  }
  return 0;
}

}  // namespace

void register_key(CLI::App& app, Globals& g, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("key", "Manage the API keys of `ragft serve` (stored hashed in the workspace)");
  cmd->require_subcommand(1);
  auto a = std::make_shared<KeyArgs>();
  CLI::App* create = cmd->add_subcommand("create", "Make a key for a tenant (and principal); prints it once");
  create->add_option("--tenant", a->tenant, "Tenant the key retrieves from")->capture_default_str();
  create->add_option("--principal", a->principal,
                     "Principal the key runs as (its groups decide what it reads; default: the tenant's owner)");
  create->add_flag("--admin", a->admin, "An admin key");
  create->add_option("--name", a->name, "A label shown by `ragft key list`");
  create->callback([&g, &exit_code, a] { exit_code = run_create(g, *a); });
  CLI::App* list = cmd->add_subcommand("list", "List the keys (never the keys themselves)");
  list->callback([&g, &exit_code] { exit_code = run_list(g); });
  CLI::App* revoke = cmd->add_subcommand("revoke", "Revoke a key by id (a running server refuses it within a second)");
  revoke->add_option("id", a->id, "Key id (see `ragft key list`)")->required();
  revoke->callback([&g, &exit_code, a] { exit_code = run_revoke(g, *a); });
}

}  // namespace ragft::cli
