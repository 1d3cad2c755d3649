#include "embed/embedder.h"

#include <cmath>

namespace ragft {

void l2_normalize_rows(float* rows, std::size_t n, int dim) {
  for (std::size_t i = 0; i < n; ++i) {
    float* r = rows + i * static_cast<std::size_t>(dim);
    double s = 0;
    for (int j = 0; j < dim; ++j) s += static_cast<double>(r[j]) * r[j];
    if (s <= 0) continue;
    const auto inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int j = 0; j < dim; ++j) r[j] *= inv;
  }
}

}  // namespace ragft
