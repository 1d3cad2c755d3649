// The extraction bake-off: not built yet (see bakeoff.h for what it will run).
#include "decide/bakeoff.h"

namespace ragft::decide {

Result<Bakeoff> run_extraction_bakeoff(const Project&, const BakeoffOptions&) {
  return make_error(ErrorCode::kUnsupported,
                    "task: extraction has no bake-off yet; run `ragft train extract --contender all` to compare the "
                    "kNN and neural taggers, or remove data: to get the requirements-only plan");
}

}  // namespace ragft::decide
