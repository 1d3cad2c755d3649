// The bundled example projects load (their data paths resolve inside the repository).
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "decide/project.h"

namespace ragft::decide {
namespace {

TEST(BundledExamples, EveryProjectFileLoads) {
  const std::filesystem::path examples = std::filesystem::path(RAGFT_SOURCE_DIR) / "examples";
  std::set<std::string> tasks;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(examples)) {
    const auto file = e.path() / "project.yaml";
    if (!std::filesystem::exists(file)) continue;
    auto p = load_project(file);
    ASSERT_TRUE(p.ok()) << file << ": " << p.error().to_string();
    EXPECT_TRUE(p->data.has_data()) << file;
    EXPECT_EQ(p->requirements.need.source, Source::kAnswered) << file;
    tasks.insert(task_type_name(p->task));
    ++n;
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(tasks, (std::set<std::string>{"retrieval", "classification", "extraction"}));
}

}  // namespace
}  // namespace ragft::decide
