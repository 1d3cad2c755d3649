// ragft: build RAG and fine-tuning on your data, measure both, and run the winner.
#include <cstdlib>

#include "apps/ragft/cli.h"
#include "core/log.h"

int main(int argc, char** argv) {
  ragft::log::init_from_env();
  CLI::App app{"ragft: should you use RAG or fine-tuning? Build both on your data, measure, decide, run the winner."};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand: `ragft search q --json`
  ragft::cli::Globals g;
  const char* env_data = std::getenv("RAGFT_DATA");
  g.data_dir = env_data ? env_data : ".ragft";
  app.add_option("--data", g.data_dir, "Workspace directory (store + index); env RAGFT_DATA")
      ->capture_default_str();
  app.add_flag("--json", g.json, "Print machine-readable JSON on stdout");
  app.add_option("--bm25", g.bm25_config, "BM25 parameters (query time; the index is unchanged)")->capture_default_str();
  app.add_option("--analyzer", g.analyzer_config,
                 "Analyzer config, e.g. analyzer:lang=english,stop=snowball (fixed per workspace)");
  int exit_code = 0;
  ragft::cli::register_index(app, g, exit_code);
  ragft::cli::register_search(app, g, exit_code);
  ragft::cli::register_ask(app, g, exit_code);
  ragft::cli::register_eval(app, g, exit_code);
  ragft::cli::register_principal(app, g, exit_code);
  ragft::cli::register_stats(app, g, exit_code);
  ragft::cli::register_train(app, g, exit_code);
  ragft::cli::register_predict(app, g, exit_code);
  ragft::cli::register_decide(app, g, exit_code);
  ragft::cli::register_profile(app, g, exit_code);
  ragft::cli::register_raft(app, g, exit_code);
  ragft::cli::register_generate(app, g, exit_code);
  ragft::cli::register_serve(app, g, exit_code);
  ragft::cli::register_key(app, g, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
