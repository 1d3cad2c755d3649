// Shared by the extraction tests (tests/train and tests/train_neural).
#pragma once

#include <string>

#include "train/conll.h"
#include "train/extractor.h"

namespace ragft::testing {

// "w1/TAG w2 w3/TAG" -> a sentence (untagged words are O).
inline TaggedSentence tagged(const std::string& s) {
  TaggedSentence t;
  for (const auto& w : whitespace_tokens(s)) {
    auto slash = w.rfind('/');
    if (slash == std::string::npos || slash == 0) {
      t.tokens.push_back(w);
      t.tags.push_back("O");
    } else {
      t.tokens.push_back(w.substr(0, slash));
      t.tags.push_back(w.substr(slash + 1));
    }
  }
  return t;
}

}  // namespace ragft::testing
