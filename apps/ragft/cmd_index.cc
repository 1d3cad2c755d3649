// ragft index PATH...: sync files into the store, then bring the index up to date.
#include <cstdio>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "ingest/sync.h"

namespace ragft::cli {

namespace {
struct IndexArgs {
  std::vector<std::string> paths;
  std::string tenant = "default";
  std::string acl;
  std::vector<std::string> include, exclude;
  bool prune = false;
  bool acks = false;
  bool retrain_embedder = false;
  std::string chunk = ChunkerOptions{}.to_config();
  std::string csv_id = "id", csv_text = "text", csv_title = "title";
};

int run_index(const Globals& g, const IndexArgs& a) {
  auto ws = open_workspace(g);
  if (!ws.ok()) return report(ws.error());
  SyncOptions o;
  o.tenant = a.tenant;
  o.acl = split_list(a.acl);
  o.include = a.include;
  o.exclude = a.exclude;
  o.prune = a.prune;
  auto chunker = ChunkerOptions::parse(a.chunk);
  if (!chunker.ok()) return report(chunker.error());
  o.chunker = *chunker;
  o.load.csv_id_column = a.csv_id;
  o.load.csv_text_column = a.csv_text;
  o.load.csv_title_column = a.csv_title;
  if (stderr_is_tty()) {
    o.on_progress = [](const SyncProgress& p) { progress_bar(p.files_done, p.files_total, p.seconds, "files"); };
  }
  if (a.acks) {
    // For scripts and crash tests: each line names a document that is durable in the store.
    o.on_committed = [](const std::vector<std::string>& ids) {
      for (const auto& id : ids) fmt::print("ack {}\n", id);
      std::fflush(stdout);
    };
  }
  std::vector<std::filesystem::path> paths(a.paths.begin(), a.paths.end());
  auto summary = sync_paths(ws->store(), paths, o);
  progress_done();
  if (!summary.ok()) return report(summary.error());
  auto caught = ws->catch_up();
  progress_done();
  if (!caught.ok()) return report(caught.error());
  if (a.retrain_embedder) {
    Status retrained = ws->retrain_dense_embedder();
    if (!retrained.ok()) return report(retrained.error());
    caught = ws->last_catch_up();
  }
  auto age = ws->dense_model_age();
  if (!age.ok()) return report(age.error());
  // The dense index is loaded when the catch-up had dense work; --json reports its vector count,
  // so it loads it otherwise too.
  Result<DenseIndex*> dense = ws->dense();
  if (g.json) dense = ws->load_dense();
  if (!dense.ok()) return report(dense.error());
  const SyncSummary& s = *summary;
  const CatchUpSummary& c = *caught;
  if (g.json) {
    nlohmann::json j = {{"added", s.added},         {"changed", s.changed},   {"unchanged", s.unchanged},
                        {"removed", s.removed},     {"failed", s.failed},     {"skipped", s.skipped},
                        {"files", s.files},         {"bytes_read", s.bytes_read},
                        {"sync_seconds", s.seconds}, {"failures", s.failures},
                        {"index", {{"chunks_added", c.chunks_added}, {"chunks_removed", c.chunks_removed},
                                   {"seconds", c.seconds}, {"rebuilt", c.rebuilt}}},
                        {"dense", *dense == nullptr
                                      ? nlohmann::json(nullptr)
                                      : nlohmann::json{{"config", (*dense)->config()},
                                                       {"vectors", (*dense)->vectors().size()},
                                                       {"embedded", c.dense_embedded},
                                                       {"cache_hits", c.dense_cache_hits},
                                                       {"seconds", c.dense_seconds},
                                                       {"trained_on", age->trained_on ? nlohmann::json(*age->trained_on)
                                                                                      : nlohmann::json(nullptr)},
                                                       {"stale_model", age->stale}}},
                        {"chunker", o.chunker.to_config()}};
    fmt::print("{}\n", j.dump());
  }
  fmt::print(stderr,
             "indexed: {} added, {} changed, {} unchanged, {} removed, {} failed ({} files, {} skipped) "
             "in {:.2f}s; index +{} -{} chunks in {:.2f}s\n",
             s.added, s.changed, s.unchanged, s.removed, s.failed, s.files, s.skipped, s.seconds,
             c.chunks_added, c.chunks_removed, c.seconds);
  if (*dense != nullptr && c.dense_changes > 0) {
    fmt::print(stderr, "dense: {} chunks embedded, {} from the cache, {} vectors ({}) in {:.2f}s\n", c.dense_embedded,
               c.dense_cache_hits, (*dense)->vectors().size(), (*dense)->config(), c.dense_seconds);
  }
  if (age->stale) {
    fmt::print(stderr,
               "warning: the dense embedder was trained on {} chunks; the corpus now has {}. Later documents use "
               "its vocabulary as it was: retrain with `ragft index --retrain-embedder` (re-embeds every chunk)\n",
               *age->trained_on, age->chunks_now);
  }
  return 0;
}
}  // namespace

void register_index(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<IndexArgs>();
  CLI::App* cmd = app.add_subcommand(
      "index", "Add files and directories (txt, md, html, pdf, jsonl[.gz], csv) to the workspace; "
               "unchanged files are skipped, changed ones re-indexed");
  cmd->add_option("paths", a->paths, "Files or directories (recursive)")->required();
  cmd->add_option("--tenant", a->tenant, "Tenant the documents belong to")->capture_default_str();
  cmd->add_option("--acl", a->acl, "Comma-separated groups allowed to read these documents "
                                   "(default: everyone in the tenant)");
  cmd->add_option("--include", a->include, "Only files matching this glob (repeatable)")->allow_extra_args(false);
  cmd->add_option("--exclude", a->exclude, "Skip files matching this glob (repeatable)")->allow_extra_args(false);
  cmd->add_flag("--prune", a->prune, "Remove documents whose files (or records) disappeared");
  cmd->add_option("--chunk", a->chunk, "Chunker config")->capture_default_str();
  cmd->add_option("--csv-id", a->csv_id, "CSV id column")->capture_default_str();
  cmd->add_option("--csv-text", a->csv_text, "CSV text column")->capture_default_str();
  cmd->add_option("--csv-title", a->csv_title, "CSV title column")->capture_default_str();
  add_dense_options(cmd, g);
  cmd->add_flag("--retrain-embedder", a->retrain_embedder,
                "Train the dense index's ict/sif embedder again on the corpus as it is now, and re-embed every chunk");
  cmd->add_flag("--acks", a->acks, "Print 'ack ID' on stdout as each document becomes durable");
  cmd->callback([&g, &exit_code, a] { exit_code = run_index(g, *a); });
}

}  // namespace ragft::cli
