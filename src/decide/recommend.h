// The recommendation: the framework's flowchart walked with the requirement answers and the
// bake-off's measurements. Pure functions of their inputs (no I/O), so the report can ask "what
// would change the decision" by re-running them with one answer changed.
//
// The flowchart (flowchart() returns it as nodes and edges for the renderers):
//  1. constraints — drop the arms that fail a hard requirement: p95 latency over the budget,
//     no citations when citations are required, no per-document access control when ACLs are
//     required, or an update (measured time-to-fresh) slower than a tenth of the interval at
//     which the knowledge changes.
//  2. quality — the feasible arm with the best measured quality.
//  3. data — is it clearly better than the no-knowledge baseline (paired 95% CI excludes 0) and
//     at the quality target when one is set? If not and the profile shows data problems
//     (conflicting or duplicated labels, leakage, near-duplicate or boilerplate-heavy corpus)
//     the decision is "fix the data/retrieval layer first".
//  4. tie — arms that cannot be told apart from the best (paired 95% CI of the difference
//     includes 0) are tied; a high cost of a wrong answer keeps the best point estimate,
//     otherwise the requirements' lean (knowledge -> retrieval arms, behaviour/style ->
//     fine-tuned arms) and then the simpler, faster arm win.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "decide/project.h"

namespace ragft::decide {

// Decision values: "rag", "fine_tune", "fine_tune_rag", "fix_data".
// The arm that implements a decision ("rag" -> "rag", "fine_tune" -> "fine_tuned", ...).
const char* arm_of_decision(const std::string& decision);
const char* decision_of_arm(const std::string& arm);

// The static flowchart: {"nodes": [{"id","label","kind"}], "edges": [{"from","to","label"}]}.
nlohmann::json flowchart();

// `report` holds "arms", "comparisons", "freshness", "profile" and "metric" as in
// docs/decide-design.md. Returns the "recommendation" object (decision, arm, headline, reasons,
// path, excluded, what_would_change, warnings).
nlohmann::json recommend(const Requirements& requirements, TaskType task, const nlohmann::json& report);

// The no-data path: with requirements alone, which arms to try first and what data to collect.
// Returns a "recommendation" object whose decision is the arm to try first, with
// "arms_to_try" and "collect" lists and path ending at the leaning leaf.
nlohmann::json plan_without_data(const Requirements& requirements, TaskType task);

}  // namespace ragft::decide
