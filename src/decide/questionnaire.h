// `ragft decide --interactive`: the framework's questions asked one by one on a text stream,
// answered into a Project that to_yaml() can save.
//
// Order: project name, task, data paths (an empty answer to the first data question skips data:
// the requirements-only path), then each requirement in the framework's order (need, change,
// citations, latency_p95_ms, wrong_answer_cost, sensitivity, acls, deadline_weeks,
// style_consistency, labeled_examples, quality_target). Every question shows its default in
// [brackets]; an empty answer accepts it, "?" prints the question's help, and a bad answer is
// re-asked with what is expected. Answers are trimmed; choices are case-insensitive; yes/no
// questions take y, yes, true, n, no, false; numbers take "none" (or "unknown") where a question
// allows no value.
#pragma once

#include <filesystem>
#include <iosfwd>

#include "core/result.h"
#include "decide/project.h"

namespace ragft::decide {

// Where the questions go and the answers come from (the CLI passes std::cin and std::cerr).
struct QuestionnaireIo {
  std::istream& in;
  std::ostream& out;
};

// Runs the questionnaire. Answers given become Source::kAnswered; an empty answer (accepting the
// default) keeps Source::kDefault. Data paths are resolved against `base_dir` (made absolute, as
// load_project() does) and must exist: a missing one is re-asked. The bake-off settings keep
// their defaults. End of input before the last answer -> kInvalidArgument "input ended before
// the questionnaire was finished" (the caller writes nothing). Project::file stays empty.
Result<Project> run_questionnaire(QuestionnaireIo io, const std::filesystem::path& base_dir);

}  // namespace ragft::decide
