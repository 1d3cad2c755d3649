// Always-on invariant checks for bugs. Never use for user input: that gets a Result error.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RAGFT_CHECK(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
