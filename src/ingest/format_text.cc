// Plain text and Markdown (cmark) parsers.
#include <cmark.h>

#include <memory>

#include "ingest/formats.h"

namespace ragft::ingest_internal {

Result<LoadResult> load_txt(std::string_view text, std::string_view name) {
  LoadResult result;
  LoadedDocument doc;
  doc.text = std::string(text);
  result.documents.push_back(std::move(doc));
  return result;
}

namespace {

// Inline content of a block as plain text: text, code spans, link and emphasis text, image alt
// text; raw inline HTML dropped.
void append_inline(cmark_node* node, std::string& out) {
  for (cmark_node* c = cmark_node_first_child(node); c != nullptr; c = cmark_node_next(c)) {
    switch (cmark_node_get_type(c)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE: {
        const char* lit = cmark_node_get_literal(c);
        if (lit != nullptr) out += lit;
        break;
      }
      case CMARK_NODE_SOFTBREAK: out += ' '; break;
      case CMARK_NODE_LINEBREAK: out += '\n'; break;
      case CMARK_NODE_HTML_INLINE: break;
      default: append_inline(c, out); break;  // emph, strong, link, image (alt text), custom
    }
  }
}

struct MarkdownWalker {
  ParagraphWriter writer;
  std::string title;

  void block(cmark_node* node) {
    switch (cmark_node_get_type(node)) {
      case CMARK_NODE_HEADING: {
        std::string s;
        append_inline(node, s);
        if (writer.add(s, /*is_heading=*/true) && title.empty()) title = std::string(trim(s));
        break;
      }
      case CMARK_NODE_PARAGRAPH: {
        std::string s;
        append_inline(node, s);
        writer.add(s);
        break;
      }
      case CMARK_NODE_CODE_BLOCK: {
        const char* lit = cmark_node_get_literal(node);
        if (lit != nullptr) writer.add(lit);
        break;
      }
      case CMARK_NODE_HTML_BLOCK:
      case CMARK_NODE_THEMATIC_BREAK: break;
      default:  // document, block quote, list, item, custom block: recurse
        for (cmark_node* c = cmark_node_first_child(node); c != nullptr; c = cmark_node_next(c)) {
          block(c);
        }
        break;
    }
  }
};

struct NodeDeleter {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};

}  // namespace

Result<LoadResult> load_markdown(std::string_view text, std::string_view name) {
  std::unique_ptr<cmark_node, NodeDeleter> root(
      cmark_parse_document(text.data(), text.size(), CMARK_OPT_DEFAULT));
  if (!root) return make_error(ErrorCode::kInternal, "{}: markdown parser failed", name);
  MarkdownWalker walker;
  walker.block(root.get());
  if (walker.writer.text().empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: empty file (no text in the markdown)",
                      name);
  }
  LoadResult result;
  LoadedDocument doc;
  doc.title = std::move(walker.title);
  doc.text = std::move(walker.writer.text());
  doc.heading_starts = std::move(walker.writer.heading_starts());
  result.documents.push_back(std::move(doc));
  return result;
}

}  // namespace ragft::ingest_internal
