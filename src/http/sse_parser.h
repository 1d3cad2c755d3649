// Incremental parser of a text/event-stream body (server-sent events, as the WHATWG HTML
// standard defines them), the format of streamed OpenAI-compatible responses:
//
//   : keep-alive                      <- a comment, ignored
//   data: {"choices":[...]}           <- an event's data
//                                     <- a blank line ends (dispatches) the event
//   data: [DONE]
//
// - Bytes may arrive split anywhere, including inside a CRLF or a multi-byte character.
// - Lines end with LF, CRLF or CR. A UTF-8 byte-order mark at the very start is skipped.
// - "field:value" with one optional space after the colon; a line without a colon is a field
//   with an empty value. The "data" lines of an event are joined with '\n'; "event" sets the
//   event's type; "id", "retry" and unknown fields are ignored.
// - An event is dispatched at a blank line when it has a "data" line (else it is dropped);
//   at the end of the stream, finish() also dispatches an unterminated last event (the standard
//   drops it; servers that close without the final blank line are common enough to allow it).
// - An event or a line longer than max_event_bytes makes feed() fail (overflowed()).
// Not thread-safe; one parser per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ragft {

struct SseEvent {
  std::string type;  // the "event:" value; "" when none was given (the standard's "message")
  std::string data;  // the "data:" lines joined with '\n'
};

class SseParser {
 public:
  // Returns false to stop parsing (feed()/finish() then return false at once).
  using Handler = std::function<bool(const SseEvent&)>;

  explicit SseParser(std::size_t max_event_bytes = std::size_t{16} << 20) : max_event_bytes_(max_event_bytes) {}

  // Parses the next bytes, calling `on_event` for each event they complete, in order. false when
  // `on_event` returned false or the event limit was exceeded; the parser must then be reset()
  // before reuse.
  bool feed(std::string_view bytes, const Handler& on_event);
  // The stream ended: a partial last line counts as a line and an event without its final
  // blank line is dispatched. Same return as feed().
  bool finish(const Handler& on_event);
  // Back to the state of a new parser.
  void reset();

  bool overflowed() const { return overflowed_; }

 private:
  bool line(const Handler& on_event);      // processes line_
  bool dispatch(const Handler& on_event);  // dispatches the pending event, if any

  std::size_t max_event_bytes_;
  std::string line_;         // the current, unterminated line
  SseEvent event_;           // the pending event
  bool has_data_ = false;    // event_ has a data line
  bool after_cr_ = false;    // the last byte was a CR (a following LF belongs to it)
  bool first_line_ = true;   // for the byte-order mark
  bool overflowed_ = false;
};

}  // namespace ragft
