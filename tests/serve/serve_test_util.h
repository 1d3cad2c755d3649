// Shared helpers of the server tests: fresh temporary directories, and workspaces of one-chunk
// documents.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/result.h"
#include "core/utf8.h"
#include "store/store.h"

namespace ragft::serve::testing {

// A new, empty directory under the system temp dir, named `<prefix>XXXXXX` (mkdtemp: unique even
// across concurrent test processes). The caller removes it. Fails the process (CHECK) if it cannot
// be made: a test cannot run without it.
inline std::filesystem::path temp_dir(std::string_view prefix = "ragft_serve_") {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

struct TestDoc {
  std::string id, tenant, title, text;
  std::vector<std::string> acl;  // groups admitted; empty: everyone in the tenant
  std::string metadata = "{}";   // a JSON object of strings
};

// Stores each document as one chunk spanning its whole text (source "mem:<id>").
inline Status put_docs(Store& store, const std::vector<TestDoc>& docs) {
  for (const TestDoc& d : docs) {
    NewDocument nd;
    nd.ext_id = d.id;
    nd.tenant = d.tenant;
    nd.source = "mem:" + d.id;
    nd.format = "txt";
    nd.title = d.title;
    nd.text = d.text;
    nd.acl = d.acl;
    nd.metadata_json = d.metadata;
    nd.content_hash = d.id;
    NewChunk c;
    c.char_end = static_cast<std::int64_t>(char_offset(d.text, d.text.size()));
    c.text = d.text;
    auto stored = store.upsert(nd, {c});
    if (!stored.ok()) return stored.error();
  }
  return ok_status();
}

}  // namespace ragft::serve::testing
