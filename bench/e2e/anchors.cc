// anchors: reference BM25 figures from two established engines (SQLite FTS5 and Xapian 1.4) on
// a BEIR dataset, scored with ragft's evaluate module. Prints one JSON line per engine on
// stdout; progress and errors go to stderr. See bench/e2e/README.md.
//
//   anchors --corpus corpus.jsonl.gz --queries queries.jsonl --qrels qrels/test.tsv
//           [--engine fts5|xapian|both] [--repeat 3] [--k 100] [--run-out PREFIX]
//
// Every query with judgments runs single-threaded; each search call is timed with
// std::chrono::steady_clock, `--repeat` times, and all samples go into the percentiles. Metrics
// come from the first repetition (the engines are deterministic).
#include <sqlite3.h>
#include <xapian.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/result.h"
#include "evaluate/latency.h"
#include "evaluate/metrics.h"
#include "evaluate/trec.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ragft::ErrorCode;
using ragft::make_error;
using ragft::Result;
using ragft::Status;

struct Doc {
  std::string id;
  std::string title;
  std::string text;
};

struct Options {
  fs::path corpus, queries, qrels;
  std::string engine = "both";
  int repeat = 3;
  int k = 100;
  std::string run_out;  // when set, writes PREFIX.<engine>.run in TREC format
};

// Reads a BEIR corpus.jsonl(.gz); zlib reads plain files too.
Result<std::vector<Doc>> read_corpus(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return make_error(ErrorCode::kNotFound, "cannot open corpus {}", path.string());
  }
  std::vector<Doc> docs;
  std::string buf, line;
  char chunk[1 << 16];
  std::size_t line_no = 0;
  auto handle = [&](std::string_view l) -> Status {
    ++line_no;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") == std::string_view::npos) return ragft::ok_status();
    try {
      auto j = nlohmann::json::parse(l);
      Doc d;
      const auto& id = j.at("_id");
      d.id = id.is_string() ? id.get<std::string>() : id.dump();
      if (auto t = j.find("title"); t != j.end() && t->is_string()) d.title = t->get<std::string>();
      d.text = j.at("text").get<std::string>();
      docs.push_back(std::move(d));
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path.string(), line_no, e.what());
    }
    return ragft::ok_status();
  };
  for (;;) {
    int n = gzread(f, chunk, sizeof chunk);
    if (n < 0) {
      gzclose(f);
      return make_error(ErrorCode::kCorrupt, "{}: gzip read failed", path.string());
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
      Status st = handle(std::string_view(buf).substr(start, nl - start));
      if (!st.ok()) {
        gzclose(f);
        return st.take_error();
      }
      start = nl + 1;
    }
    buf.erase(0, start);
  }
  gzclose(f);
  if (!buf.empty()) RAGFT_TRY_STATUS(handle(buf));
  return docs;
}

// The measured part of one engine: build once, then search many times.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  virtual std::string config() const = 0;
  virtual Status build(const std::vector<Doc>& docs) = 0;
  // Top-k (doc id, score), best first. This whole call is what gets timed.
  virtual Result<std::vector<ragft::RunEntry>> search(const std::string& text, int k) = 0;
};

// ---- SQLite FTS5 ----------------------------------------------------------------------------

class Fts5Engine : public Engine {
 public:
  ~Fts5Engine() override {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    if (db_ != nullptr) sqlite3_close(db_);
  }
  std::string name() const override { return "fts5"; }
  std::string config() const override {
    return fmt::format("fts5:bm25(k1=1.2,b=0.75),tokenize=porter unicode61,query=or,sqlite={}",
                       sqlite3_libversion());
  }

  Status build(const std::vector<Doc>& docs) override {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) return err("open");
    RAGFT_TRY_STATUS(exec(
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, "
        "tokenize='porter unicode61')"));
    RAGFT_TRY_STATUS(exec("BEGIN"));
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(db_, "INSERT INTO docs(id, title, text) VALUES (?, ?, ?)", -1, &ins,
                           nullptr) != SQLITE_OK) {
      return err("prepare insert");
    }
    for (const auto& d : docs) {
      sqlite3_bind_text(ins, 1, d.id.data(), static_cast<int>(d.id.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, d.title.data(), static_cast<int>(d.title.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 3, d.text.data(), static_cast<int>(d.text.size()), SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) {
        sqlite3_finalize(ins);
        return err("insert");
      }
      sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    RAGFT_TRY_STATUS(exec("COMMIT"));
    if (sqlite3_prepare_v2(db_,
                           "SELECT id, bm25(docs) FROM docs WHERE docs MATCH ? "
                           "ORDER BY bm25(docs) LIMIT ?",
                           -1, &stmt_, nullptr) != SQLITE_OK) {
      return err("prepare query");
    }
    return ragft::ok_status();
  }

  Result<std::vector<ragft::RunEntry>> search(const std::string& text, int k) override {
    std::string match = to_match(text);
    std::vector<ragft::RunEntry> out;
    if (match.empty()) return out;
    sqlite3_reset(stmt_);
    sqlite3_bind_text(stmt_, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt_, 2, k);
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
      const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, 0));
      double bm25 = sqlite3_column_double(stmt_, 1);
      out.push_back({id != nullptr ? id : "", -bm25});  // FTS5 bm25() is negated: lower is better
    }
    if (rc != SQLITE_DONE) return err(fmt::format("query '{}'", match));
    return out;
  }

  // The query's alphanumeric tokens (runs of ASCII letters/digits or non-ASCII bytes), each
  // double-quoted so no word is read as FTS5 syntax, joined with OR.
  static std::string to_match(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    auto word_byte = [](unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; };
    while (i < text.size()) {
      while (i < text.size() && !word_byte(static_cast<unsigned char>(text[i]))) ++i;
      std::size_t j = i;
      while (j < text.size() && word_byte(static_cast<unsigned char>(text[j]))) ++j;
      if (j > i) {
        if (!out.empty()) out += " OR ";
        out += '"';
        out.append(text.substr(i, j - i));
        out += '"';
      }
      i = j;
    }
    return out;
  }

 private:
  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      Status st = make_error(ErrorCode::kInternal, "sqlite: {}: {}", sql, msg ? msg : "?");
      sqlite3_free(msg);
      return st;
    }
    return ragft::ok_status();
  }
  ragft::Error err(const std::string& what) const {
    return make_error(ErrorCode::kInternal, "sqlite {}: {}", what, sqlite3_errmsg(db_));
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// ---- Xapian 1.4 ---------------------------------------------------------------------------

class XapianEngine : public Engine {
 public:
  XapianEngine() : stem_("english") {}
  ~XapianEngine() override {
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
  std::string name() const override { return "xapian"; }
  std::string config() const override {
    return fmt::format(
        "xapian:bm25(k1=0.9,k2=0,k3=1,b=0.4,min_normlen=0.5),stem=english,stem_some,op=or,"
        "backend=glass,version={}",
        Xapian::version_string());
  }

  Status build(const std::vector<Doc>& docs) override {
    try {
      dir_ = fs::temp_directory_path() /
             fmt::format("ragft_anchors_xapian_{}", static_cast<long>(::getpid()));
      fs::remove_all(dir_);
      Xapian::WritableDatabase wdb(dir_.string(), Xapian::DB_CREATE_OR_OVERWRITE);
      Xapian::TermGenerator tg;
      tg.set_stemmer(stem_);
      tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
      for (const auto& d : docs) {
        Xapian::Document doc;
        tg.set_document(doc);
        tg.index_text(d.title);
        tg.increase_termpos();
        tg.index_text(d.text);
        doc.set_data(d.id);
        wdb.add_document(doc);
      }
      wdb.commit();
      wdb.close();
      db_ = Xapian::Database(dir_.string());
      enquire_ = std::make_unique<Xapian::Enquire>(db_);
      enquire_->set_weighting_scheme(Xapian::BM25Weight(0.9, 0, 1, 0.4, 0.5));
      parser_.set_stemmer(stem_);
      parser_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
      parser_.set_default_op(Xapian::Query::OP_OR);
      parser_.set_database(db_);
    } catch (const Xapian::Error& e) {
      return make_error(ErrorCode::kInternal, "xapian index: {}", e.get_description());
    }
    return ragft::ok_status();
  }

  Result<std::vector<ragft::RunEntry>> search(const std::string& text, int k) override {
    std::vector<ragft::RunEntry> out;
    try {
      Xapian::Query q;
      try {
        q = parser_.parse_query(text);
      } catch (const Xapian::QueryParserError&) {
        q = parser_.parse_query(text, 0);  // no operators: plain words
      }
      enquire_->set_query(q);
      Xapian::MSet mset = enquire_->get_mset(0, static_cast<Xapian::doccount>(k));
      out.reserve(mset.size());
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        out.push_back({it.get_document().get_data(), it.get_weight()});
      }
    } catch (const Xapian::Error& e) {
      return make_error(ErrorCode::kInternal, "xapian query: {}", e.get_description());
    }
    return out;
  }

 private:
  Xapian::Stem stem_;
  fs::path dir_;
  Xapian::Database db_;
  std::unique_ptr<Xapian::Enquire> enquire_;
  Xapian::QueryParser parser_;
};

double round_to(double v, int digits) {
  double m = std::pow(10.0, digits);
  return std::round(v * m) / m;
}

Status run_engine(Engine& engine, const std::vector<Doc>& docs,
                  const std::vector<ragft::QueryRecord>& queries, const ragft::Qrels& qrels,
                  const Options& opt) {
  std::fprintf(stderr, "anchors: %s: indexing %zu docs\n", engine.name().c_str(), docs.size());
  auto t0 = Clock::now();
  RAGFT_TRY_STATUS(engine.build(docs));
  double index_s = std::chrono::duration<double>(Clock::now() - t0).count();

  ragft::Run run;
  std::vector<double> samples_ms;
  samples_ms.reserve(queries.size() * static_cast<std::size_t>(opt.repeat));
  for (int rep = 0; rep < opt.repeat; ++rep) {
    for (const auto& q : queries) {
      auto start = Clock::now();
      auto hits = engine.search(q.text, opt.k);
      auto end = Clock::now();
      if (!hits.ok()) return hits.take_error();
      samples_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
      if (rep == 0) run[q.id] = std::move(hits).value();
    }
  }
  ragft::EvalResult eval = ragft::evaluate(run, qrels);

  if (!opt.run_out.empty()) {
    std::ofstream f(opt.run_out + "." + engine.name() + ".run");
    ragft::write_run(f, run, engine.name());
  }

  nlohmann::ordered_json j;
  j["engine"] = engine.name();
  j["config"] = engine.config();
  for (std::size_t m = 0; m < eval.metrics.size(); ++m) {
    j[eval.metrics[m].label()] = round_to(eval.mean[m], 4);
  }
  j["p50_ms"] = round_to(ragft::percentile(samples_ms, 0.50), 3);
  j["p95_ms"] = round_to(ragft::percentile(samples_ms, 0.95), 3);
  j["p99_ms"] = round_to(ragft::percentile(samples_ms, 0.99), 3);
  j["index_s"] = round_to(index_s, 3);
  j["queries"] = eval.queries;
  j["docs"] = docs.size();
  j["repeat"] = opt.repeat;
  j["samples"] = samples_ms.size();
  std::cout << j.dump() << std::endl;
  return ragft::ok_status();
}

int usage(const char* msg) {
  std::fprintf(stderr,
               "anchors: %s\nusage: anchors --corpus C --queries Q --qrels R "
               "[--engine fts5|xapian|both] [--repeat 3] [--k 100] [--run-out PREFIX]\n",
               msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") return usage("BM25 anchor figures");
    if (a != "--corpus" && a != "--queries" && a != "--qrels" && a != "--engine" &&
        a != "--repeat" && a != "--k" && a != "--run-out") {
      return usage(fmt::format("unknown argument '{}'", a).c_str());
    }
    if ((v = value()) == nullptr) return usage(fmt::format("{} needs a value", a).c_str());
    if (a == "--corpus") opt.corpus = v;
    else if (a == "--queries") opt.queries = v;
    else if (a == "--qrels") opt.qrels = v;
    else if (a == "--engine") opt.engine = v;
    else if (a == "--run-out") opt.run_out = v;
    else {
      char* endp = nullptr;
      long n = std::strtol(v, &endp, 10);
      if (*endp != '\0' || n <= 0 || n > 1000000) {
        return usage(fmt::format("{} must be a positive integer, got '{}'", a, v).c_str());
      }
      (a == "--repeat" ? opt.repeat : opt.k) = static_cast<int>(n);
    }
  }
  if (opt.corpus.empty() || opt.queries.empty() || opt.qrels.empty()) {
    return usage("--corpus, --queries and --qrels are required");
  }
  if (opt.engine != "fts5" && opt.engine != "xapian" && opt.engine != "both") {
    return usage("--engine must be fts5, xapian or both");
  }

  auto docs = read_corpus(opt.corpus);
  auto all_queries = ragft::read_queries(opt.queries);
  auto qrels = ragft::read_qrels(opt.qrels);
  for (const ragft::Error* e : {docs.ok() ? nullptr : &docs.error(),
                                all_queries.ok() ? nullptr : &all_queries.error(),
                                qrels.ok() ? nullptr : &qrels.error()}) {
    if (e != nullptr) {
      std::fprintf(stderr, "anchors: %s\n", e->to_string().c_str());
      return 1;
    }
  }
  // Test queries: those with judgments.
  std::vector<ragft::QueryRecord> queries;
  for (auto& q : *all_queries) {
    if (qrels->count(q.id) != 0) queries.push_back(std::move(q));
  }
  std::fprintf(stderr, "anchors: %zu docs, %zu judged queries\n", docs->size(), queries.size());

  std::vector<std::unique_ptr<Engine>> engines;
  if (opt.engine != "xapian") engines.push_back(std::make_unique<Fts5Engine>());
  if (opt.engine != "fts5") engines.push_back(std::make_unique<XapianEngine>());
  for (auto& e : engines) {
    Status st = run_engine(*e, *docs, queries, *qrels, opt);
    if (!st.ok()) {
      std::fprintf(stderr, "anchors: %s: %s\n", e->name().c_str(), st.error().to_string().c_str());
      return 1;
    }
  }
  return 0;
}
