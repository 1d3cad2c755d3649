#include "generate/answer.h"

#include <fmt/format.h>

namespace ragft {

std::string Answer::text() const {
  if (abstained) return abstain_reason;
  std::string out;
  for (const AnswerSentence& s : sentences) {
    if (!out.empty()) out += ' ';
    out += s.text;
    for (int n : s.citations) out += fmt::format(" [{}]", n);
  }
  return out;
}

}  // namespace ragft
