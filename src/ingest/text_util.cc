// Text helpers shared by the format parsers.
#include "ingest/formats.h"

namespace ragft::ingest_internal {

std::string normalize_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t cr = s.find('\r', pos);
    if (cr == std::string_view::npos) {
      out.append(s.substr(pos));
      break;
    }
    out.append(s.substr(pos, cr - pos));
    out.push_back('\n');
    pos = cr + 1;
    if (pos < s.size() && s[pos] == '\n') ++pos;
  }
  return out;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (!is_space(c)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool ParagraphWriter::add(std::string_view paragraph, bool is_heading) {
  paragraph = trim(paragraph);
  if (paragraph.empty()) return false;
  if (!text_.empty()) text_ += "\n\n";
  if (is_heading) heading_starts_.push_back(static_cast<std::uint32_t>(text_.size()));
  text_.append(paragraph);
  return true;
}

}  // namespace ragft::ingest_internal
