// ragft profile: the data profile of a decide project (corpus, labelled data, eval set).
#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "decide/bakeoff.h"
#include "decide/decide.h"
#include "decide/profile.h"
#include "decide/project.h"

namespace ragft::cli {

namespace {

struct ProfileArgs {
  std::string project;
  std::string cache;
};

std::string num(const nlohmann::json& j, const char* key, const char* f = "{}") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "—";
  if (j[key].is_number_float()) return fmt::format(fmt::runtime(f), j[key].get<double>());
  return j[key].dump();
}

void print_profile(const nlohmann::json& p) {
  const nlohmann::json& c = p["corpus"];
  if (c.is_object()) {
    fmt::print("corpus: {} documents, {} chunks, {} tokens\n", num(c, "documents"), num(c, "chunks"), num(c, "tokens"));
    fmt::print("  formats: {}\n", c.value("formats", nlohmann::json::object()).dump());
    const auto& dt = c.value("doc_tokens", nlohmann::json::object());
    fmt::print("  tokens per document: p10 {} p50 {} p90 {} max {}\n", num(dt, "p10", "{:.0f}"), num(dt, "p50", "{:.0f}"),
               num(dt, "p90", "{:.0f}"), num(dt, "max", "{:.0f}"));
    fmt::print("  near-duplicate chunks {}  boilerplate {}\n", num(c, "near_duplicate_share", "{:.3f}"),
               num(c, "boilerplate_share", "{:.3f}"));
    const auto& lang = c.value("language", nlohmann::json::object());
    fmt::print("  language {} (confidence {})\n", lang.value("name", "?"), num(lang, "confidence", "{:.2f}"));
    const auto& ch = c.value("change", nlohmann::json::object());
    fmt::print("  changes {} over {} days ({} per week)\n", num(ch, "changes"), num(ch, "span_days", "{:.1f}"),
               num(ch, "per_week", "{:.2f}"));
  }
  const nlohmann::json& l = p["labeled"];
  if (l.is_object()) {
    fmt::print("labelled: {} training examples, {} eval examples\n", num(l, "examples"), num(l, "eval_examples"));
    const nlohmann::json counts = l.value("label_counts", nlohmann::json::object());  // items() of a temporary dangles
    for (const auto& [label, n] : counts.items()) {
      fmt::print("  {:<20} {}\n", label, n.dump());
    }
    for (const char* k : {"exact_duplicates", "near_duplicates", "conflicting_labels", "leakage"}) {
      if (l.contains(k) && l[k].is_object()) fmt::print("  {:<20} {}\n", k, num(l[k], "count"));
    }
  }
  const nlohmann::json& e = p["eval"];
  if (e.is_object()) {
    fmt::print("eval: {} {}; a proportion near 0.5 is known to within ±{}\n", num(e, "items"), e.value("unit", ""),
               num(e, "ci95_half_width_at_0_5", "{:.3f}"));
  }
}

// Without a project: the corpus of the workspace (--data), whose change log holds its history.
int run_workspace_profile(const Globals& g) {
  auto ws = open_workspace(g);
  if (!ws.ok()) return report(ws.error());
  auto cp = decide::profile_corpus(ws->store());
  if (!cp.ok()) return report(cp.error());
  nlohmann::json prof = {{"corpus", cp->to_json()}, {"labeled", nullptr}, {"eval", nullptr}};
  if (g.json) {
    fmt::print("{}\n", prof.dump());
  } else {
    print_profile(prof);
  }
  return 0;
}

int run_profile(const Globals& g, const ProfileArgs& a) {
  if (a.project.empty()) return run_workspace_profile(g);
  auto p = decide::load_project(a.project);
  if (!p.ok()) return report(p.error());
  decide::DecideOptions d;
  d.cache_dir = a.cache;
  decide::BakeoffOptions o;
  o.cache_dir = decide::cache_dir_for(*p, d);
  o.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  auto prof = decide::profile_project(*p, o);
  if (!prof.ok()) return report(prof.error());
  if (g.json) {
    fmt::print("{}\n", prof->dump());
  } else {
    print_profile(*prof);
  }
  return 0;
}

}  // namespace

void register_profile(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<ProfileArgs>();
  CLI::App* cmd = app.add_subcommand(
      "profile", "Profile a decide project's data (corpus, labelled data, eval set), or without a project the "
                 "workspace's corpus (--data)");
  cmd->add_option("project", a->project, "Project file (YAML or JSON); omitted: the workspace");
  cmd->add_option("--cache", a->cache, "Cache directory (default: .ragft-decide beside the project file)");
  cmd->callback([&g, &exit_code, a] { exit_code = run_profile(g, *a); });
}

}  // namespace ragft::cli
