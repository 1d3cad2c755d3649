// ragft decide: RAG, fine-tuning, or both? Bake-off on the project's data, recommendation with
// evidence, terminal summary + JSON + self-contained HTML report. `--interactive` asks the
// framework's questions and writes the project file first.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "decide/decide.h"
#include "decide/project.h"
#include "decide/questionnaire.h"
#include "decide/report_html.h"
#include "decide/report_text.h"

namespace ragft::cli {

namespace fs = std::filesystem;

namespace {

struct DecideArgs {
  std::string project;
  bool interactive = false;
  std::string write = "project.yaml";
  bool force = false;
  std::string out = "ragft-report";
  std::string cache;
  bool no_cache = false;
};

Status write_text(const fs::path& p, const std::string& text) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return make_error(ErrorCode::kIo, "cannot write {}", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot write {}: {}", p.string(), ec.message());
  return ok_status();
}

int run_decide(const Globals& g, const DecideArgs& a) {
  decide::Project project;
  if (a.interactive) {
    fs::path target = a.write;
    if (fs::exists(target) && !a.force) {
      return report(make_error(ErrorCode::kInvalidArgument, "{} exists; pass --write FILE or --force to replace it",
                               target.string()));
    }
    fs::path base = fs::absolute(target).parent_path();
    auto p = decide::run_questionnaire({std::cin, std::cerr}, base);
    if (!p.ok()) return report(p.error());
    Status s = write_text(target, decide::to_yaml(*p, base));
    if (!s.ok()) return report(s.error());
    fmt::print(stderr, "wrote {}\n", target.string());
    auto loaded = decide::load_project(target);  // what the next run will read
    if (!loaded.ok()) return report(loaded.error());
    project = std::move(*loaded);
  } else {
    if (a.project.empty()) {
      return report(make_error(ErrorCode::kInvalidArgument, "give a project file (ragft decide project.yaml) or "
                                                            "--interactive to write one"));
    }
    auto p = decide::load_project(a.project);
    if (!p.ok()) return report(p.error());
    project = std::move(*p);
  }

  decide::DecideOptions o;
  o.cache_dir = a.cache;
  o.use_cache = !a.no_cache;
  o.log = [](const std::string& line) {
    progress_done();
    fmt::print(stderr, "{}\n", line);
  };
  auto result = decide::decide(project, o);
  if (!result.ok()) return report(result.error());
  const nlohmann::json& rep = *result;

  fs::path out = a.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return report(make_error(ErrorCode::kIo, "cannot create {}: {}", out.string(), ec.message()));
  Status s = write_text(out / "report.json", rep.dump(2) + "\n");
  if (s.ok()) s = write_text(out / "report.html", decide::render_html(rep));
  if (!s.ok()) return report(s.error());
  if (g.json) {
    fmt::print("{}\n", rep.dump());
  } else {
    fmt::print("{}", decide::render_text(rep, ::isatty(STDOUT_FILENO) == 1));
    fmt::print("\nreport: {} and {}\n", (out / "report.html").string(), (out / "report.json").string());
  }
  return 0;
}

}  // namespace

void register_decide(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<DecideArgs>();
  CLI::App* cmd = app.add_subcommand(
      "decide", "RAG, fine-tuning, or both? Build each on the project's data, measure, recommend with evidence");
  cmd->add_option("project", a->project, "Project file (YAML or JSON; docs/decide.md)");
  cmd->add_flag("--interactive", a->interactive, "Ask the framework's questions, write the project file, then decide");
  cmd->add_option("--write", a->write, "With --interactive: the project file to write")->capture_default_str();
  cmd->add_flag("--force", a->force, "With --interactive: replace an existing project file");
  cmd->add_option("--out", a->out, "Directory for report.html and report.json")->capture_default_str();
  cmd->add_option("--cache", a->cache, "Cache of finished arms (default: .ragft-decide beside the project file)");
  cmd->add_flag("--no-cache", a->no_cache, "Rerun every arm (results are still cached for the next run)");
  cmd->callback([&g, &exit_code, a] { exit_code = run_decide(g, *a); });
}

}  // namespace ragft::cli
