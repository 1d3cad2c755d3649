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

// A config value as a number within [lo, hi] (the whole value, no trailing characters); else
// kInvalidArgument "<kind> option <key>=\"<value>\" must be ...".
Result<long long> config_int(std::string_view kind, std::string_view key, std::string_view value, long long lo,
                             long long hi);
Result<double> config_double(std::string_view kind, std::string_view key, std::string_view value, double lo,
                             double hi);

// A config that ends with a nested config holding commas itself, e.g.
// "sif:dim=100,analyzer:lang=english,stop=none": splits it at ",<nested>:" (or "<kind>:<nested>:")
// into the head ("sif:dim=100") and the nested config ("analyzer:lang=english,stop=none"; empty
// when absent). `nested` is the nested kind without the colon.
struct NestedConfig {
  std::string_view head;
  std::string_view nested;
};
NestedConfig split_nested_config(std::string_view config, std::string_view nested);

}  // namespace ragft
