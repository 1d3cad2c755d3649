#include "ingest/sync.h"

#include <chrono>
#include <fnmatch.h>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/log.h"
#include "core/utf8.h"
#include "ingest/simhash.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

struct FileTask {
  fs::path path;      // absolute
  std::string rel;    // relative to the root it was found under (for globs and messages)
  bool explicit_arg;  // named on the command line (unknown format is then a failure)
};

bool glob_match(const std::vector<std::string>& globs, const std::string& rel, const std::string& name) {
  for (const auto& g : globs) {
    if (fnmatch(g.c_str(), rel.c_str(), 0) == 0 || fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

// A document plus chunks ready for the store.
using Prepared = std::pair<NewDocument, std::vector<NewChunk>>;

std::vector<NewChunk> make_chunks(const LoadedDocument& doc, const ChunkerOptions& options) {
  std::vector<NewChunk> chunks;
  int ordinal = 0;
  for (const ChunkSpan& span : chunk_text(doc, options)) {
    NewChunk c;
    c.ordinal = ordinal++;
    c.char_start = span.char_start;
    c.char_end = span.char_end;
    c.page = span.page;
    c.text = doc.text.substr(span.byte_start, span.byte_end - span.byte_start);
    c.simhash = simhash(c.text);
    chunks.push_back(std::move(c));
  }
  return chunks;
}

std::string record_hash(const LoadedDocument& d) {
  std::string key = d.title;
  key += '\0';
  key += d.text;
  key += '\0';
  key += d.metadata_json;
  for (const auto& g : d.acl) {
    key += '\0';
    key += g;
  }
  return content_hash(key);
}

}  // namespace

Result<PreparedDocument> prepare_document(LoadedDocument d, NewDocument base, const ChunkerOptions& chunker) {
  PreparedDocument out;
  out.chunks = make_chunks(d, chunker);
  if (out.chunks.empty()) return make_error(ErrorCode::kInvalidArgument, "no text to index");
  NewDocument& doc = out.doc;
  doc = std::move(base);
  if (doc.title.empty()) doc.title = d.title;
  doc.metadata_json = d.metadata_json;
  if (!d.acl.empty()) doc.acl = d.acl;
  CharOffsetCursor cursor(d.text);
  doc.page_starts.clear();
  for (std::uint32_t b : d.page_starts) doc.page_starts.push_back(static_cast<std::int64_t>(cursor.to_char(b)));
  doc.content_hash = record_hash(d);
  doc.text = std::move(d.text);
  return out;
}

namespace {

class Syncer {
 public:
  Syncer(Store& store, const SyncOptions& options) : store_(store), options_(options) {}

  Result<SyncSummary> run(const std::vector<fs::path>& paths) {
    t0_ = std::chrono::steady_clock::now();
    std::vector<FileTask> tasks;
    std::vector<fs::path> roots;
    for (const fs::path& p : paths) {
      std::error_code ec;
      fs::path abs = fs::weakly_canonical(fs::absolute(p), ec);
      if (ec || !fs::exists(abs)) {
        return make_error(ErrorCode::kNotFound, "{}: no such file or directory", p.string());
      }
      roots.push_back(abs);
      if (fs::is_directory(abs)) {
        RAGFT_TRY_STATUS(walk(abs, tasks));
      } else {
        tasks.push_back({abs, abs.filename().string(), true});
      }
    }
    RAGFT_TRY(auto existing, store_.list_sources(options_.tenant));
    for (auto& s : existing) by_source_[s.source].push_back(std::move(s));

    progress_.files_total = tasks.size();
    for (const FileTask& task : tasks) {
      RAGFT_TRY_STATUS(sync_file(task));
      ++progress_.files_done;
      report_progress(false);
    }
    RAGFT_TRY_STATUS(flush());
    if (options_.prune) RAGFT_TRY_STATUS(prune(roots));
    report_progress(true);
    summary_.seconds = elapsed();
    return summary_;
  }

 private:
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

  void report_progress(bool force) {
    if (!options_.on_progress) return;
    double now = elapsed();
    if (!force && now - last_progress_ < 0.1) return;
    last_progress_ = now;
    progress_.seconds = now;
    options_.on_progress(progress_);
  }

  Status walk(const fs::path& root, std::vector<FileTask>& tasks) {
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) return make_error(ErrorCode::kIo, "cannot list {}: {}", root.string(), ec.message());
    std::vector<FileTask> found;
    for (; it != end; it.increment(ec)) {
      if (ec) {
        fail(it->path().string(), ec.message());
        ec.clear();
        continue;
      }
      const fs::path& p = it->path();
      std::string name = p.filename().string();
      if (!name.empty() && name[0] == '.') {  // hidden files, .git, .ragft data directories
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory(ec)) continue;
      if (!it->is_regular_file(ec) && !it->is_symlink(ec)) {
        // FIFOs, sockets and devices could block or never end: never open them.
        if (detect_format(p)) fail(p.string(), "not a regular file");
        continue;
      }
      std::string rel = fs::relative(p, root, ec).string();
      if (!detect_format(p)) {
        ++summary_.skipped;
        continue;
      }
      if ((!options_.include.empty() && !glob_match(options_.include, rel, name)) ||
          glob_match(options_.exclude, rel, name)) {
        ++summary_.skipped;
        continue;
      }
      found.push_back({p, rel, false});
    }
    std::sort(found.begin(), found.end(), [](const FileTask& a, const FileTask& b) { return a.path < b.path; });
    tasks.insert(tasks.end(), found.begin(), found.end());
    return ok_status();
  }

  void fail(const std::string& what, const std::string& reason) {
    ++summary_.failed;
    std::string line = what + ": " + reason;
    log::warn("skipped {}", line);
    summary_.failures.push_back(std::move(line));
  }

  Status sync_file(const FileTask& task) {
    ++summary_.files;
    std::string source = task.path.string();
    seen_sources_.insert(source);
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
      fail(source, "cannot stat");
      return ok_status();
    }
    auto found = by_source_.find(source);
    if (found != by_source_.end() && !found->second.empty()) {
      bool same = true;
      for (const auto& s : found->second) {
        same = same && s.mtime_ns == mtime_ns(st) && s.size == static_cast<std::int64_t>(st.st_size);
      }
      if (same) {
        summary_.unchanged += found->second.size();
        return ok_status();
      }
    }
    if (!detect_format(task.path)) {
      fail(source, "unsupported format (known: txt, md, html, pdf, jsonl, jsonl.gz, csv)");
      return ok_status();
    }
    auto loaded = load_file(task.path, options_.load);
    if (!loaded.ok()) {
      fail(source, loaded.error().message);
      return ok_status();
    }
    summary_.bytes_read += static_cast<std::uint64_t>(st.st_size);
    progress_.bytes_done += static_cast<std::uint64_t>(st.st_size);
    for (const auto& w : loaded->warnings) fail(source, w);
    bool single = loaded->documents.size() == 1 && loaded->documents[0].ext_id.empty();
    std::unordered_set<std::string> ids_in_file;
    for (LoadedDocument& d : loaded->documents) {
      NewDocument base;
      base.ext_id = d.ext_id.empty() ? source : d.ext_id;
      ids_in_file.insert(base.ext_id);
      base.tenant = options_.tenant;
      base.source = source;
      base.format = format_name(*detect_format(task.path));
      base.title = !d.title.empty() || !single ? d.title : task.path.stem().string();
      base.acl = options_.acl;
      base.source_mtime_ns = mtime_ns(st);
      base.source_size = static_cast<std::int64_t>(st.st_size);
      const std::string where = single ? source : source + "#" + base.ext_id;
      auto prepared = prepare_document(std::move(d), std::move(base), options_.chunker);
      if (!prepared.ok()) {
        fail(where, prepared.error().message);
        continue;
      }
      batch_bytes_ += prepared->doc.text.size();
      batch_.emplace_back(std::move(prepared->doc), std::move(prepared->chunks));
      if (batch_.size() >= options_.batch_docs || batch_bytes_ >= options_.batch_bytes) {
        RAGFT_TRY_STATUS(flush());
      }
    }
    if (options_.prune && found != by_source_.end()) {
      for (const auto& s : found->second) {
        if (!ids_in_file.count(s.ext_id)) to_remove_.push_back(s.ext_id);
      }
    }
    return ok_status();
  }

  void count(const UpsertResult& r, const NewDocument& doc) {
    switch (r.outcome) {
      case UpsertOutcome::kAdded: ++summary_.added; break;
      case UpsertOutcome::kChanged: ++summary_.changed; break;
      case UpsertOutcome::kUnchanged: {
        ++summary_.unchanged;
        // Record the new mtime/size so the next sync skips the file without reading it (one
        // transaction per batch: a per-document commit costs an fsync each).
        touches_.push_back({r.id, doc.source_mtime_ns, doc.source_size});
        break;
      }
    }
  }

  Status flush() {
    if (batch_.empty()) return ok_status();
    std::vector<std::string> acked;
    auto results = store_.upsert_batch(batch_);
    if (results.ok()) {
      for (std::size_t i = 0; i < batch_.size(); ++i) {
        count((*results)[i], batch_[i].first);
        acked.push_back(batch_[i].first.ext_id);
      }
    } else {
      if (results.error().code == ErrorCode::kIo || results.error().code == ErrorCode::kResourceExhausted ||
          results.error().code == ErrorCode::kCorrupt) {
        return results.take_error();  // the store itself is failing: stop
      }
      // One bad document: retry one by one so the others still land.
      for (auto& [doc, chunks] : batch_) {
        auto r = store_.upsert(doc, chunks);
        if (!r.ok()) {
          fail(doc.source + (doc.ext_id == doc.source ? "" : "#" + doc.ext_id), r.error().message);
          continue;
        }
        count(*r, doc);
        acked.push_back(doc.ext_id);
      }
    }
    batch_.clear();
    batch_bytes_ = 0;
    if (!touches_.empty()) {
      auto touched = store_.touch_batch(touches_);
      if (!touched.ok()) log::warn("{}", touched.error().message);
      touches_.clear();
    }
    if (options_.on_committed && !acked.empty()) options_.on_committed(acked);
    return ok_status();
  }

  Status prune(const std::vector<fs::path>& roots) {
    for (const auto& [source, states] : by_source_) {
      if (seen_sources_.count(source)) continue;
      bool under_root = false;
      for (const fs::path& r : roots) {
        std::string rs = r.string();
        if (source == rs || (source.size() > rs.size() && source.compare(0, rs.size(), rs) == 0 &&
                             source[rs.size()] == '/')) {
          under_root = true;
        }
      }
      std::error_code ec;
      if (!under_root || fs::exists(source, ec)) continue;
      for (const auto& s : states) to_remove_.push_back(s.ext_id);
    }
    for (const std::string& ext_id : to_remove_) {
      RAGFT_TRY(bool removed, store_.remove(options_.tenant, ext_id));
      if (removed) ++summary_.removed;
    }
    return ok_status();
  }

  Store& store_;
  const SyncOptions& options_;
  SyncSummary summary_;
  SyncProgress progress_;
  std::chrono::steady_clock::time_point t0_;
  double last_progress_ = -1;
  std::unordered_map<std::string, std::vector<Store::SourceState>> by_source_;
  std::unordered_set<std::string> seen_sources_;
  std::vector<Prepared> batch_;
  std::uint64_t batch_bytes_ = 0;
  std::vector<Store::Touch> touches_;  // unchanged documents whose new mtime/size to record
  std::vector<std::string> to_remove_;
};

}  // namespace

Result<SyncSummary> sync_paths(Store& store, const std::vector<fs::path>& paths, const SyncOptions& options) {
  Syncer syncer(store, options);
  return syncer.run(paths);
}

}  // namespace ragft
