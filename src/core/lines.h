// LineCursor: the lines of a text in order. Line numbers count from 1, a trailing '\r' is
// stripped (CRLF files), and a final line without '\n' is still returned. No allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace ragft {

class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  // Sets `line` to the next line and returns true; false after the last line.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++line_no_;
    return true;
  }
  // Number of the line last returned by next() (0 before the first call).
  std::size_t line_no() const { return line_no_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_no_ = 0;
};

}  // namespace ragft
