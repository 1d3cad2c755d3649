// Prompt templates for answering from numbered sources: the RAG answerer and the RAFT training
// data builder (raft.h) render the same template, so a model fine-tuned on RAFT data sees at
// inference exactly the prompt shape it was trained on. Templates are plain text files users
// can edit (`ragft prompt` prints the default).
//
// File format: sections introduced by a line that is exactly "[name]"; lines before the first
// section starting with '#' are comments. Sections:
//   [system]   the system message (optional; may be empty)
//   [source]   how one source is written; placeholders {{n}}, {{title}}, {{text}}, {{doc_id}}
//   [user]     the user message; placeholders {{sources}} (the rendered sources, separated by a
//              blank line) and {{question}}
//   [abstain]  the exact reply that means "the sources do not answer this" (one line)
// Each section's text is taken verbatim, with its leading and trailing blank lines removed.
// Placeholders are "{{name}}"; any other name, a missing [user], [source] or [abstain], a
// repeated or unknown section -> kInvalidArgument naming the file and line.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

struct PromptSource {
  int n = 0;  // the number the answer cites as [n]
  std::string doc_id, title, text;
};

struct RenderedPrompt {
  std::string system;  // may be empty: send no system message
  std::string user;
};

class PromptTemplate {
 public:
  // The built-in template (what `ragft prompt` prints).
  static const PromptTemplate& default_template();
  static std::string default_text();
  // `origin` names the text in errors (a path, or "<default>").
  static Result<PromptTemplate> parse(std::string_view text, std::string_view origin);
  // Missing -> kNotFound; otherwise as parse().
  static Result<PromptTemplate> load(const std::filesystem::path& path);

  RenderedPrompt render(std::string_view question, const std::vector<PromptSource>& sources) const;
  const std::string& abstain_reply() const { return abstain_; }
  // The text parse() read (for reports and hashing).
  const std::string& text() const { return text_; }

 private:
  std::string text_, system_, source_, user_, abstain_;
};

}  // namespace ragft
