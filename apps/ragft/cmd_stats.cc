// ragft stats: what the workspace holds.
#include <fmt/format.h>

#include "apps/ragft/cli.h"

namespace ragft::cli {

namespace {
int run_stats(const Globals& g) {
  auto ws = open_workspace(g);
  if (!ws.ok()) return report(ws.error());
  auto s = ws->store().stats();
  if (!s.ok()) return report(s.error());
  IndexStats is = ws->index().stats();
  nlohmann::json j = {{"documents", s->documents},
                      {"chunks", s->chunks},
                      {"near_duplicate_chunks", s->near_duplicate_chunks},
                      {"store_seq", s->last_seq},
                      {"index", {{"live_chunks", is.live_chunks}, {"deleted_chunks", is.deleted_chunks},
                                 {"segments", is.segments}, {"terms", is.terms},
                                 {"bytes_on_disk", is.bytes_on_disk}, {"applied_seq", is.applied_seq}}}};
  if (g.json) {
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}\n", j.dump(2));
  }
  return 0;
}
}  // namespace

void register_stats(CLI::App& app, Globals& g, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("stats", "Counts of documents, chunks and index segments");
  cmd->callback([&g, &exit_code] { exit_code = run_stats(g); });
}

}  // namespace ragft::cli
