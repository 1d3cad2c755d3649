// Analyzer throughput: tokens/s of Analyzer::terms and Analyzer::analyze on English text.
// Target (ingest budget: 20k chunks/s of ~200 words on one core): >= 5M tokens/s for terms().
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "text/analyzer.h"

namespace {

// Abstract-like English with the usual noise of scientific text: numbers, hyphens, brackets,
// possessives, a few accented and typographic characters.
constexpr const char* kParagraphs[] = {
    "Alterations of the architecture of cerebral white matter in the developing human brain can "
    "affect cortical development and result in functional disabilities. A line scan "
    "diffusion-weighted magnetic resonance imaging (MRI) sequence with diffusion tensor analysis "
    "was applied to measure the apparent diffusion coefficient, to calculate relative anisotropy, "
    "and to delineate three-dimensional fiber architecture in cerebral white matter in preterm "
    "(n = 17) and full-term infants (n = 7). In the central white matter the mean apparent "
    "diffusion coefficient at 28 wk was high, 1.8 microm2/ms, and decreased toward term to 1.2 "
    "microm2/ms.",
    "Smith et al. found a 3.5-fold increase in the expression of the receptor (p < 0.05) when "
    "patients' cells were exposed to the drug for 24 hours. The effect was larger in women than "
    "in men, and it persisted after adjustment for age, body-mass index and smoking status. "
    "These findings suggest that the receptor's activity is regulated by hormonal signals, "
    "although the underlying mechanism remains unclear and warrants further investigation in "
    "larger, randomized controlled trials.",
    "We conducted a systematic review and meta-analysis of observational studies published "
    "between 1990 and 2019 that reported the association between vitamin D supplementation and "
    "the risk of fractures in older adults. Forty-two studies, including 187,000 participants, "
    "met the inclusion criteria. Pooled estimates showed no significant reduction in hip "
    "fractures (relative risk 0.96; 95% confidence interval 0.88 to 1.05), and heterogeneity "
    "between studies was moderate. Sensitivity analyses didn't change the conclusions.",
    "The na\xC3\xAFve Bayes classifier was compared with support vector machines and gradient "
    "boosted trees on a corpus of clinical notes. Using tf\xE2\x80\x93idf features, the "
    "classifiers reached accuracies between 81% and 89%; the boosted trees performed best on "
    "rare categories. Errors were concentrated in notes that mixed several conditions, which "
    "suggests that a multi-label formulation would be more appropriate for this task.",
    "Mitochondrial dysfunction is a hallmark of neurodegenerative diseases such as Alzheimer's "
    "and Parkinson's disease. Here we show that loss of the kinase impairs mitophagy in "
    "dopaminergic neurons, leading to the accumulation of damaged mitochondria and increased "
    "production of reactive oxygen species. Restoring kinase activity rescued these defects in "
    "vitro and in a mouse model, identifying a potential therapeutic target.",
};

// About `words` words of text built from the paragraphs above, in a random order.
std::string make_text(std::size_t words, unsigned seed) {
  std::mt19937 rng(seed);
  std::string text;
  std::size_t count = 0;
  constexpr std::size_t kN = sizeof(kParagraphs) / sizeof(kParagraphs[0]);
  while (count < words) {
    const char* p = kParagraphs[rng() % kN];
    text += p;
    text += "\n\n";
    for (const char* c = p; *c; ++c) count += (*c == ' ');
  }
  return text;
}

// Chunks of ~200 words, the unit the index ingests.
std::vector<std::string> make_chunks(std::size_t n) {
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < n; ++i) chunks.push_back(make_text(200, static_cast<unsigned>(i)));
  return chunks;
}

ragft::Analyzer make_analyzer(const char* config) {
  auto options = ragft::AnalyzerOptions::parse(config);
  if (!options.ok()) std::abort();
  auto a = ragft::Analyzer::create(*options);
  if (!a.ok()) std::abort();
  return std::move(a).value();
}

void BM_AnalyzerTerms(benchmark::State& state, const char* config) {
  ragft::Analyzer analyzer = make_analyzer(config);
  std::vector<std::string> chunks = make_chunks(64);
  std::vector<std::string> out;
  std::size_t tokens = 0, bytes = 0, i = 0;
  for (auto _ : state) {
    const std::string& chunk = chunks[i++ % chunks.size()];
    out.clear();
    analyzer.terms(chunk, out);
    benchmark::DoNotOptimize(out.data());
    tokens += out.size();
    bytes += chunk.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["chunks/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_AnalyzerTerms, english, "analyzer:lang=english,stop=english,maxlen=64");
BENCHMARK_CAPTURE(BM_AnalyzerTerms, no_stem, "analyzer:lang=none,stop=english,maxlen=64");

void BM_AnalyzerAnalyze(benchmark::State& state) {
  ragft::Analyzer analyzer = make_analyzer("analyzer:lang=english,stop=english,maxlen=64");
  std::vector<std::string> chunks = make_chunks(64);
  std::vector<ragft::Token> out;
  std::size_t tokens = 0, i = 0;
  for (auto _ : state) {
    out.clear();
    analyzer.analyze(chunks[i++ % chunks.size()], out);
    benchmark::DoNotOptimize(out.data());
    tokens += out.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
}
BENCHMARK(BM_AnalyzerAnalyze);

// A fresh analyzer per chunk: every distinct word is stemmed once (cold stem cache).
void BM_AnalyzerTermsColdCache(benchmark::State& state) {
  std::vector<std::string> chunks = make_chunks(8);
  std::vector<std::string> out;
  std::size_t tokens = 0, i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ragft::Analyzer analyzer = make_analyzer("analyzer:lang=english,stop=english,maxlen=64");
    state.ResumeTiming();
    out.clear();
    analyzer.terms(chunks[i++ % chunks.size()], out);
    benchmark::DoNotOptimize(out.data());
    tokens += out.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
}
BENCHMARK(BM_AnalyzerTermsColdCache);

// Non-Latin text (every word takes the utf8proc path): Russian and accented French.
void BM_AnalyzerTermsUnicode(benchmark::State& state) {
  ragft::Analyzer analyzer = make_analyzer("analyzer:lang=english,stop=english,maxlen=64");
  std::string text;
  for (int k = 0; k < 20; ++k) {
    text +=
        "\xD0\x9C\xD0\xB8\xD1\x82\xD0\xBE\xD1\x85\xD0\xBE\xD0\xBD\xD0\xB4\xD1\x80\xD0\xB8\xD0\xB8 "
        "\xD0\xB8\xD0\xB3\xD1\x80\xD0\xB0\xD1\x8E\xD1\x82 \xD1\x80\xD0\xBE\xD0\xBB\xD1\x8C "
        "\xC3\xA9tude \xC3\xA0 l\xE2\x80\x99h\xC3\xB4pital r\xC3\xA9sultats "
        "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 Stra\xC3\x9F" "e ";
  }
  std::vector<std::string> out;
  std::size_t tokens = 0;
  for (auto _ : state) {
    out.clear();
    analyzer.terms(text, out);
    benchmark::DoNotOptimize(out.data());
    tokens += out.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
}
BENCHMARK(BM_AnalyzerTermsUnicode);

}  // namespace
