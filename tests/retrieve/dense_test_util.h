// Helpers shared by the dense-index tests: a temporary directory and one-chunk documents.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/check.h"
#include "store/store.h"

namespace ragft::testing_dense {

// A small SIF model: trains in well under a second on these corpora, deterministic (1 thread).
inline constexpr const char* kEmbedder = "sif:dim=16,epochs=2,mincount=1,bucket=2000,threads=1";

inline std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_dense_XXXXXX").string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

struct TempDir {
  std::filesystem::path path = temp_dir();
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Adds or replaces document `id` with one chunk holding `text`, titled "title of <id>".
inline Status put(Store& store, const std::string& id, const std::string& text, std::vector<std::string> acl = {},
                  const std::string& tenant = "default") {
  NewDocument d;
  d.ext_id = id;
  d.tenant = tenant;
  d.source = "mem:" + id;
  d.format = "txt";
  d.title = "title of " + id;
  d.text = text;
  d.acl = std::move(acl);
  d.content_hash = std::to_string(std::hash<std::string>{}(text + d.title + tenant));
  NewChunk c;
  c.char_end = static_cast<std::int64_t>(text.size());
  c.text = text;
  auto r = store.upsert(d, {c});
  if (!r.ok()) return r.take_error();
  return ok_status();
}

inline const std::vector<std::string> kTexts = {
    "red apples grow on tall trees in the orchard",
    "the river floods the valley every spring",
    "proteins fold into stable three dimensional shapes",
    "a cat sleeps on the warm windowsill all afternoon",
    "stock markets fell sharply after the announcement",
    "vaccines train the immune system to recognise viruses",
    "the orchestra played a quiet symphony at night",
    "glaciers retreat as global temperatures rise",
};

}  // namespace ragft::testing_dense
