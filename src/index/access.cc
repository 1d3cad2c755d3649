#include "index/access.h"

#include <algorithm>

namespace ragft {

namespace {
std::string class_key(std::string_view tenant, const std::vector<std::string>& sorted_acl) {
  std::string k;
  k.reserve(tenant.size() + 8 + sorted_acl.size() * 8);
  k.append(std::to_string(tenant.size())).push_back(':');
  k.append(tenant);
  for (const auto& g : sorted_acl) {
    k.append(std::to_string(g.size())).push_back(':');
    k.append(g);
  }
  return k;
}
}  // namespace

std::uint32_t AccessClasses::intern(const ChunkAttrs& attrs) {
  std::vector<std::string> acl = attrs.acl;
  std::sort(acl.begin(), acl.end());
  acl.erase(std::unique(acl.begin(), acl.end()), acl.end());
  std::string key = class_key(attrs.tenant, acl);
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(classes_.size());
  classes_.push_back(AccessClass{attrs.tenant, std::move(acl)});
  ids_.emplace(std::move(key), id);
  return id;
}

void AccessClasses::assign(std::vector<AccessClass> classes) {
  classes_ = std::move(classes);
  ids_.clear();
  for (std::uint32_t i = 0; i < classes_.size(); ++i) {
    ids_.emplace(class_key(classes_[i].tenant, classes_[i].acl), i);
  }
}

bool Admit::id_allowed(ChunkId id) const {
  return !has_allow || std::binary_search(allow.begin(), allow.end(), id);
}

Admit compile_filter(const FilterSpec& f, const std::vector<AccessClass>& classes) {
  Admit a;
  if (f.tenant || f.groups) {
    std::vector<std::string> groups;
    if (f.groups) {
      groups = *f.groups;
      std::sort(groups.begin(), groups.end());
    }
    a.class_ok.assign(std::max<std::size_t>(classes.size(), 1), 0);
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const AccessClass& ac = classes[c];
      bool ok = !f.tenant || ac.tenant == *f.tenant;
      if (ok && f.groups && !ac.acl.empty()) {
        ok = false;
        // Both sorted: linear intersection test.
        auto i = ac.acl.begin();
        auto j = groups.begin();
        while (i != ac.acl.end() && j != groups.end()) {
          if (*i < *j) {
            ++i;
          } else if (*j < *i) {
            ++j;
          } else {
            ok = true;
            break;
          }
        }
      }
      a.class_ok[c] = ok ? 1 : 0;
    }
  }
  if (f.allowlist) {
    a.has_allow = true;
    a.allow = *f.allowlist;
    std::sort(a.allow.begin(), a.allow.end());
    a.allow.erase(std::unique(a.allow.begin(), a.allow.end()), a.allow.end());
  }
  return a;
}

}  // namespace ragft
