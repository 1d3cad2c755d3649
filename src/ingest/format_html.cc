// HTML parser (gumbo): visible text with block structure; boilerplate elements dropped.
#include <gumbo.h>

#include "core/utf8.h"
#include "ingest/formats.h"

namespace ragft::ingest_internal {

namespace {

bool is_dropped(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_HEAD:  // <title> is read separately
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA: return true;
    default: return false;
  }
}

bool is_heading(GumboTag tag) {
  return tag == GUMBO_TAG_H1 || tag == GUMBO_TAG_H2 || tag == GUMBO_TAG_H3 || tag == GUMBO_TAG_H4 ||
         tag == GUMBO_TAG_H5 || tag == GUMBO_TAG_H6;
}

bool is_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_LEGEND: return true;
    default: return is_heading(tag);
  }
}

// A string of gumbo's output as valid UTF-8. gumbo 0.10 writes a lone byte for a numeric
// character reference past the int range ("&#888888888888888888810;") where the HTML standard
// says U+FFFD; `buf` holds the repaired copy when one is needed.
std::string_view valid_utf8(const char* s, std::string& buf) {
  std::string_view v(s);
  if (is_valid_utf8(v)) return v;
  buf = sanitize_utf8(v);
  return buf;
}

// Appends `s` to `out` with whitespace runs (ASCII and U+00A0) collapsed to one space.
void append_collapsed(std::string_view s, std::string& out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool space = is_space(c);
    if (!space && c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      space = true;
      ++i;
    }
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
}

// Text of a subtree with whitespace collapsed (for titles).
void collect_text(const GumboNode* node, std::string& out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA ||
      node->type == GUMBO_NODE_WHITESPACE) {
    std::string buf;
    append_collapsed(valid_utf8(node->v.text.text, buf), out);
    return;
  }
  if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) return;
  if (node->type == GUMBO_NODE_ELEMENT && node->v.element.tag != GUMBO_TAG_TITLE &&
      is_dropped(node->v.element.tag)) {
    return;
  }
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) {
    collect_text(static_cast<const GumboNode*>(children.data[i]), out);
  }
}

const GumboNode* find_first(const GumboNode* node, GumboTag tag) {
  if (node->type != GUMBO_NODE_ELEMENT) return nullptr;
  if (node->v.element.tag == tag) return node;
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) {
    if (const GumboNode* f = find_first(static_cast<const GumboNode*>(children.data[i]), tag)) {
      return f;
    }
  }
  return nullptr;
}

struct HtmlWalker {
  ParagraphWriter writer;
  std::string para;  // current paragraph, whitespace collapsed
  bool para_heading = false;
  std::string first_h1;
  int pre_depth = 0;
  std::string buf;  // for valid_utf8

  void flush() {
    writer.add(para, para_heading);
    para.clear();
    para_heading = false;
  }

  void text(std::string_view s) {
    if (pre_depth > 0) {
      // Keep line structure inside <pre>, but no blank lines (they would split paragraphs).
      for (char c : s) {
        if (c == '\n' && (para.empty() || para.back() == '\n')) continue;
        para.push_back(c);
      }
    } else {
      append_collapsed(s, para);
    }
  }

  void node(const GumboNode* n) {
    switch (n->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_CDATA:
      case GUMBO_NODE_WHITESPACE: text(valid_utf8(n->v.text.text, buf)); return;
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE: break;
      default: return;  // comments, document
    }
    GumboTag tag = n->v.element.tag;
    if (is_dropped(tag) || n->type == GUMBO_NODE_TEMPLATE) return;
    if (tag == GUMBO_TAG_IMG) {
      // Images are not text; alt text is, when it is there.
      const GumboAttribute* alt = gumbo_get_attribute(&n->v.element.attributes, "alt");
      if (alt != nullptr && alt->value[0] != '\0') {
        append_collapsed(" ", para);
        append_collapsed(valid_utf8(alt->value, buf), para);
        append_collapsed(" ", para);
      }
      return;
    }
    const bool block = is_block(tag);
    const bool heading = is_heading(tag);
    if (block) flush();
    if (heading) para_heading = true;
    if (tag == GUMBO_TAG_PRE) ++pre_depth;
    const GumboVector& children = n->v.element.children;
    for (unsigned i = 0; i < children.length; ++i) {
      node(static_cast<const GumboNode*>(children.data[i]));
    }
    if (tag == GUMBO_TAG_PRE) --pre_depth;
    if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH) append_collapsed(" ", para);
    if (heading && first_h1.empty() && tag == GUMBO_TAG_H1) first_h1 = std::string(trim(para));
    if (block) flush();
  }
};

}  // namespace

Result<LoadResult> load_html(std::string_view text, std::string_view name) {
  GumboOutput* output = gumbo_parse_with_options(&kGumboDefaultOptions, text.data(), text.size());
  if (output == nullptr) return make_error(ErrorCode::kInternal, "{}: HTML parser failed", name);
  HtmlWalker walker;
  walker.node(output->root);
  walker.flush();
  std::string title;
  if (const GumboNode* t = find_first(output->root, GUMBO_TAG_TITLE)) {
    collect_text(t, title);
    title = std::string(trim(title));
  }
  gumbo_destroy_output(&kGumboDefaultOptions, output);
  if (title.empty()) title = walker.first_h1;
  if (walker.writer.text().empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: empty file (no visible text in the HTML)",
                      name);
  }
  LoadResult result;
  LoadedDocument doc;
  doc.title = std::move(title);
  doc.text = std::move(walker.writer.text());
  doc.heading_starts = std::move(walker.writer.heading_starts());
  result.documents.push_back(std::move(doc));
  return result;
}

}  // namespace ragft::ingest_internal
