// ragft principal add NAME --groups a,b: who may read what (documents admit groups via --acl).
#include <fmt/format.h>

#include "apps/ragft/cli.h"

namespace ragft::cli {

namespace {
struct PrincipalArgs {
  std::string name, groups, tenant = "default";
};

int run_add(const Globals& g, const PrincipalArgs& a) {
  auto ws = open_workspace(g);
  if (!ws.ok()) return report(ws.error());
  Principal p{a.name, a.tenant, split_list(a.groups)};
  Status st = ws->store().put_principal(p);
  if (!st.ok()) return report(st.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json({{"name", p.name}, {"tenant", p.tenant}, {"groups", p.groups}}).dump());
  } else {
    fmt::print(stderr, "principal {} (tenant {}) groups: {}\n", p.name, p.tenant, fmt::join(p.groups, ","));
  }
  return 0;
}
}  // namespace

void register_principal(CLI::App& app, Globals& g, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("principal", "Manage principals (users) and their groups");
  cmd->require_subcommand(1);
  auto a = std::make_shared<PrincipalArgs>();
  CLI::App* add = cmd->add_subcommand("add", "Create or replace a principal");
  add->add_option("name", a->name, "Principal name")->required();
  add->add_option("--groups", a->groups, "Comma-separated groups")->required();
  add->add_option("--tenant", a->tenant, "Tenant")->capture_default_str();
  add->callback([&g, &exit_code, a] { exit_code = run_add(g, *a); });
}

}  // namespace ragft::cli
