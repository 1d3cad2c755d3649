// Config strings ("kind:key=value,key=value"; STYLE.md): splitting one into its items. Each
// component keeps its own keys, defaults and value checks; this is only the shared syntax.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ragft {

// The key=value items of `config`, in order. A leading "kind:" is removed, and "kind" alone has
// no items; empty items (",,") are skipped. An item without '=' -> kInvalidArgument naming
// `config` and the item.
Result<std::vector<std::pair<std::string, std::string>>> config_items(std::string_view config, std::string_view kind);

}  // namespace ragft
