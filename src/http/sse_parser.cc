#include "http/sse_parser.h"

namespace ragft {

bool SseParser::feed(std::string_view bytes, const Handler& on_event) {
  while (!bytes.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes.front() == '\n') {  // the LF of a CRLF split across feeds (or not)
        bytes.remove_prefix(1);
        continue;
      }
    }
    const std::size_t end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(bytes);
      if (line_.size() + event_.data.size() > max_event_bytes_) {
        overflowed_ = true;
        return false;
      }
      return true;
    }
    line_.append(bytes.substr(0, end));
    after_cr_ = bytes[end] == '\r';
    bytes.remove_prefix(end + 1);
    if (!line(on_event)) return false;
  }
  return true;
}

bool SseParser::finish(const Handler& on_event) {
  if (!line_.empty() && !line(on_event)) return false;
  return dispatch(on_event);
}

void SseParser::reset() {
  line_.clear();
  event_ = {};
  has_data_ = false;
  after_cr_ = false;
  first_line_ = true;
  overflowed_ = false;
}

bool SseParser::line(const Handler& on_event) {
  std::string_view l = line_;
  if (first_line_) {
    first_line_ = false;
    if (l.starts_with("\xEF\xBB\xBF")) l.remove_prefix(3);
  }
  bool ok = true;
  if (l.empty()) {
    ok = dispatch(on_event);
  } else if (l.front() != ':') {  // ':' starts a comment
    const std::size_t colon = l.find(':');
    const std::string_view field = l.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (field == "data") {
      if (has_data_) event_.data += '\n';
      event_.data.append(value);
      has_data_ = true;
      if (event_.data.size() > max_event_bytes_) {
        overflowed_ = true;
        ok = false;
      }
    } else if (field == "event") {
      event_.type.assign(value);
    }
  }
  line_.clear();
  return ok;
}

bool SseParser::dispatch(const Handler& on_event) {
  if (!has_data_) {
    event_.type.clear();
    return true;
  }
  const bool go_on = on_event(event_);
  event_.type.clear();
  event_.data.clear();
  has_data_ = false;
  return go_on;
}

}  // namespace ragft
