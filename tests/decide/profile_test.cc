#include "decide/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/ragft_profile_test_XXXXXX";
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

NewDocument make_doc(const std::string& ext_id, const std::string& format, const std::string& text,
                     const std::string& hash, const std::string& tenant = "default") {
  NewDocument d;
  d.ext_id = ext_id;
  d.tenant = tenant;
  d.source = "/data/" + ext_id;
  d.format = format;
  d.title = ext_id;
  d.text = text;
  d.content_hash = hash;
  return d;
}

NewChunk make_chunk(int ordinal, const std::string& text, std::uint64_t simhash = 0) {
  NewChunk c;
  c.ordinal = ordinal;
  c.char_end = static_cast<std::int64_t>(text.size());
  c.text = text;
  c.simhash = simhash;
  return c;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

constexpr std::uint64_t kSketch = 0x1234567890abcdefULL;
const std::string kFooter = "Copyright 2024 Example Corp. All rights reserved.";  // 49 chars, 7 words
// 34 words; the footer padded with spaces (trimmed before matching).
const std::string kEn1 =
    "The store opened in the spring of this year.\nIt was the first shop of its kind in the town.\n"
    "Shared line between two docs here.\nThanks\n  " + kFooter + "  \n";
// 27 words, two non-ASCII code points.
const std::string kDe1 =
    "Der Hund und die Katze sind nicht im Haus.\nAber sie werden bald mit dem Auto nach München fahren.\n"
    "Thanks\n" + kFooter;
// 38 words; the shared line twice (still only 2 documents: not boilerplate).
const std::string kEn2 =
    "The report was written for all of the members and it has been read by many of them.\n"
    "Shared line between two docs here.\nShared line between two docs here.\nThanks\n" + kFooter + "\n";

// A store with 4 current documents of the default tenant (txt x2, md, html), a deleted one, a
// document of another tenant, 6 current chunks of which one nearly repeats another, the footer
// in 3 documents, and 3 changes (two updates of "note", the delete of "gone").
class ProfileCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(dir_.path() / "store.db");
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    store_ = std::make_unique<Store>(std::move(*s));
    upsert(make_doc("en1", "txt", kEn1, "h1"), {make_chunk(0, "the store", kSketch), make_chunk(1, "town")});
    upsert(make_doc("de1", "md", kDe1, "h2"), {make_chunk(0, kDe1)});
    upsert(make_doc("en2", "html", kEn2, "h3"), {make_chunk(0, "the report", kSketch), make_chunk(1, "members")});
    upsert(make_doc("gone", "pdf", "to be deleted", "h4"), {make_chunk(0, "to be deleted")});
    upsert(make_doc("note", "txt", "one two three", "n1"), {make_chunk(0, "one two three")});
    upsert(make_doc("other", "txt", "another tenant", "o1", "acme"), {make_chunk(0, "another tenant")});
    upsert(make_doc("note", "txt", "one two three four", "n2"), {make_chunk(0, "one two three four")});
    upsert(make_doc("other", "txt", "another tenant again", "o2", "acme"), {make_chunk(0, "another")});
    upsert(make_doc("note", "txt", "one two three four", "n2"), {make_chunk(0, "one two three four")});  // unchanged
    upsert(make_doc("note", "txt", "one two three four five", "n3"), {make_chunk(0, "one two three four five")});
    auto removed = store_->remove("default", "gone");
    ASSERT_TRUE(removed.ok() && *removed);
  }

  void upsert(const NewDocument& d, const std::vector<NewChunk>& chunks) {
    auto r = store_->upsert(d, chunks);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ProfileCorpusTest, CountsAndShares) {
  auto p = profile_corpus(*store_);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->documents, 4u);
  EXPECT_EQ(p->chunks, 6u);
  EXPECT_EQ(p->tokens, 34u + 27u + 38u + 5u);
  EXPECT_EQ(p->formats, (std::map<std::string, std::size_t>{{"html", 1}, {"md", 1}, {"txt", 2}}));
  // Lengths {5, 27, 34, 38}: nearest ranks 1, 2, 4.
  EXPECT_EQ(p->doc_tokens.p10, 5);
  EXPECT_EQ(p->doc_tokens.p50, 27);
  EXPECT_EQ(p->doc_tokens.p90, 38);
  EXPECT_EQ(p->doc_tokens.max, 38);
  std::size_t binned = 0;
  for (const auto& b : p->doc_tokens.histogram) binned += b.count;
  EXPECT_EQ(binned, 4u);
  EXPECT_DOUBLE_EQ(p->near_duplicate_share, 1.0 / 6.0);
  // Only the footer is boilerplate: in 3 documents, >= 20 chars. "Thanks" is too short; the
  // shared line is in 2 documents.
  const double all = static_cast<double>(code_points(kEn1) + code_points(kDe1) + code_points(kEn2) +
                                         code_points("one two three four five"));
  EXPECT_DOUBLE_EQ(p->boilerplate_share, 3.0 * static_cast<double>(kFooter.size()) / all);
  EXPECT_EQ(p->language.code, "en");
  EXPECT_EQ(p->language.name, "english");
  EXPECT_GT(p->language.confidence, 0.5);
  EXPECT_EQ(p->change.changes, 3u);            // note updated twice, gone deleted; acme skipped
  EXPECT_EQ(p->change.documents_changed, 2u);  // note, gone
  EXPECT_GE(p->change.span_days, 0);
  EXPECT_LT(p->change.span_days, kMinHistoryDays);
  EXPECT_FALSE(p->change.per_week.has_value());  // seconds of history: no rate
  EXPECT_EQ(p->change.as_change_frequency, "");
}

TEST_F(ProfileCorpusTest, BoilerplateThresholds) {
  CorpusProfileOptions o;
  o.boilerplate_min_docs = 4;  // the footer is in only 3 documents
  auto p = profile_corpus(*store_, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->boilerplate_share, 0);
  o.boilerplate_min_docs = 2;  // now the shared line counts too (3 occurrences), "Thanks" still too short
  o.boilerplate_min_chars = 20;
  p = profile_corpus(*store_, o);
  ASSERT_TRUE(p.ok());
  const double all = static_cast<double>(code_points(kEn1) + code_points(kDe1) + code_points(kEn2) + 23);
  const double shared = 3.0 * 34;  // "Shared line between two docs here." is 34 chars
  EXPECT_DOUBLE_EQ(p->boilerplate_share, (3.0 * 49 + shared) / all);
  o.boilerplate_min_share = 0.9;  // in 90% of 4 documents: 4 documents
  p = profile_corpus(*store_, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->boilerplate_share, 0);
}

TEST_F(ProfileCorpusTest, OtherTenantAndEmptyTenant) {
  CorpusProfileOptions o;
  o.tenant = "acme";
  auto p = profile_corpus(*store_, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->documents, 1u);
  EXPECT_EQ(p->chunks, 1u);
  EXPECT_EQ(p->tokens, 3u);
  // acme's update, plus the delete of "gone" (the log has no tenant; deleted documents count).
  EXPECT_EQ(p->change.changes, 2u);
  EXPECT_EQ(p->language.code, "und");
  o.tenant = "nobody";
  p = profile_corpus(*store_, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->documents, 0u);
  EXPECT_EQ(p->chunks, 0u);
  EXPECT_EQ(p->near_duplicate_share, 0);
  EXPECT_EQ(p->boilerplate_share, 0);
  EXPECT_TRUE(p->doc_tokens.histogram.empty());
  o.histogram_bins = 0;
  p = profile_corpus(*store_, o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ProfileCorpusTest, ChangeLogCarriesTimestamps) {
  auto log = store_->changes_since(0);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 10u);  // 9 upserts that wrote (one was unchanged) + 1 delete
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto& c : *log) {
    EXPECT_GT(c.at_unix_ms, now_ms - 3'600'000);
    EXPECT_LE(c.at_unix_ms, now_ms + 1000);
  }
}

TEST_F(ProfileCorpusTest, JsonShape) {
  auto p = profile_corpus(*store_);
  ASSERT_TRUE(p.ok());
  nlohmann::json j = p->to_json();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"boilerplate_share", "change", "chunks", "doc_tokens", "documents",
                                            "formats", "language", "near_duplicate_share", "tokens"}));
  EXPECT_EQ(j["documents"], 4);
  EXPECT_EQ(j["formats"]["txt"], 2);
  EXPECT_TRUE(j["doc_tokens"]["p50"].is_number_integer());
  EXPECT_EQ(j["doc_tokens"]["p50"], 27);
  ASSERT_TRUE(j["doc_tokens"]["histogram"].is_array());
  ASSERT_FALSE(j["doc_tokens"]["histogram"].empty());
  EXPECT_EQ(j["doc_tokens"]["histogram"][0]["lo"], 0);
  EXPECT_TRUE(j["doc_tokens"]["histogram"][0].contains("hi"));
  EXPECT_TRUE(j["doc_tokens"]["histogram"][0].contains("count"));
  EXPECT_EQ(j["language"]["code"], "en");
  EXPECT_EQ(j["change"]["changes"], 3);
  EXPECT_EQ(j["change"]["documents_changed"], 2);
  EXPECT_TRUE(j["change"]["span_days"].is_number());
  EXPECT_TRUE(j["change"]["per_week"].is_null());

  CorpusProfile c;
  c.change.per_week = 2.5;
  EXPECT_EQ(c.to_json()["change"]["per_week"], 2.5);
}

// Past the 4096-document bucket the line table is pruned (lossy counting): unique lines go,
// lines well above the threshold keep exact counts.
TEST(ProfileCorpusLarge, BoilerplateSurvivesPruning) {
  TempDir dir;
  auto store = Store::open(dir.path() / "store.db");
  ASSERT_TRUE(store.ok());
  const std::string footer = "Sent from the example mailing list archive";  // 42 chars
  const std::string every_50th = "This message was flagged by the filter";  // 38 chars
  std::vector<std::pair<NewDocument, std::vector<NewChunk>>> batch;
  std::size_t all_chars = 0;
  const std::size_t n = 9000;
  for (std::size_t i = 0; i < n; ++i) {
    std::string text = "Unique body line number " + std::to_string(i) + " of the archive\n";
    if (i % 50 == 7) text += every_50th + "\n";
    text += footer;
    all_chars += text.size();
    batch.emplace_back(make_doc("d" + std::to_string(i), "eml", text, "h" + std::to_string(i)),
                       std::vector<NewChunk>{make_chunk(0, text)});
  }
  ASSERT_TRUE(store->upsert_batch(batch).ok());
  auto p = profile_corpus(*store);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->documents, n);
  EXPECT_EQ(p->formats.at("eml"), n);
  // Threshold: max(3, ceil(0.01 * 9000)) = 90 documents; the flagged line is in 180.
  const double boiler = static_cast<double>(n * footer.size() + (n / 50) * every_50th.size());
  EXPECT_DOUBLE_EQ(p->boilerplate_share, boiler / static_cast<double>(all_chars));
}

TEST(ProfileLanguage, GuessesCommonLanguages) {
  auto en = guess_language(kEn1 + kEn2);
  EXPECT_EQ(en.code, "en");
  EXPECT_EQ(en.name, "english");
  EXPECT_GT(en.confidence, 0.7);
  EXPECT_LE(en.confidence, 1.0);
  auto de = guess_language(kDe1);
  EXPECT_EQ(de.code, "de");
  EXPECT_EQ(de.name, "german");
  EXPECT_GT(de.confidence, 0.7);
  EXPECT_EQ(guess_language("Le chat est sur la table et il ne veut pas descendre dans le jardin avec les enfants.").code,
            "fr");
  EXPECT_EQ(guess_language("El perro de mi hermano es muy grande y come todos los días con las niñas en el parque.").code,
            "es");
  EXPECT_EQ(guess_language("O menino não quer ir para a escola com os amigos dele, mas a mãe diz que é importante.").code,
            "pt");
  EXPECT_EQ(guess_language("Il gatto della nonna è sulla sedia e non vuole scendere per la cena con gli altri.").code,
            "it");
  EXPECT_EQ(guess_language("De kat van mijn zus is niet in het huis, maar zij zoekt hem ook bij de buren.").code, "nl");
  EXPECT_EQ(guess_language("Katten och hunden är inte hemma, men de kommer till oss på kvällen med barnen.").code, "sv");
  EXPECT_EQ(guess_language("Он сказал, что не знает, как это было, но она уже была дома и ждала его.").code, "ru");
  // Case does not matter.
  EXPECT_EQ(guess_language("DER HUND UND DIE KATZE SIND NICHT IM HAUS").code, "de");
}

TEST(ProfileLanguage, TooFewHitsIsUndetermined) {
  for (std::string_view text : {"", "hello world", "foo bar baz qux 12345", "the cat and the dog"}) {
    auto g = guess_language(text);
    EXPECT_EQ(g.code, "und") << text;
    EXPECT_EQ(g.name, "unknown");
    EXPECT_EQ(g.confidence, 0);
  }
  EXPECT_EQ(guess_language("the cat and the dog of the house").code, "en");  // 5 hits
}

Change entry(Seq seq, ChangeOp op, DocId doc, double day) {
  Change c;
  c.seq = seq;
  c.op = op;
  c.doc_id = doc;
  c.at_unix_ms = 1'700'000'000'000 + static_cast<std::int64_t>(std::llround(day * 86'400'000.0));
  return c;
}

TEST(ProfileChange, EmptyAndInsertOnlyLogs) {
  ChangeStats empty = change_stats_from({});
  EXPECT_EQ(empty.changes, 0u);
  EXPECT_EQ(empty.span_days, 0);
  EXPECT_FALSE(empty.per_week.has_value());
  EXPECT_EQ(empty.as_change_frequency, "");
  // Inserts over 10 days: no change seen, too short to say "never".
  ChangeStats young = change_stats_from({entry(1, ChangeOp::kUpsert, 1, 0), entry(2, ChangeOp::kUpsert, 2, 10)});
  EXPECT_EQ(young.changes, 0u);
  EXPECT_DOUBLE_EQ(young.span_days, 10);
  EXPECT_FALSE(young.per_week.has_value());
  EXPECT_EQ(young.as_change_frequency, "");
  // Inserts over two years and no change: "never".
  ChangeStats old = change_stats_from({entry(1, ChangeOp::kUpsert, 1, 0), entry(2, ChangeOp::kUpsert, 2, 730)});
  EXPECT_EQ(old.changes, 0u);
  ASSERT_TRUE(old.per_week.has_value());
  EXPECT_EQ(*old.per_week, 0);
  EXPECT_EQ(old.as_change_frequency, "never");
}

TEST(ProfileChange, WeeklyUpdates) {
  std::vector<Change> log = {entry(1, ChangeOp::kUpsert, 1, 0), entry(2, ChangeOp::kUpsert, 2, 0)};
  for (int w = 1; w <= 4; ++w) log.push_back(entry(2 + w, ChangeOp::kUpsert, 1, 7.0 * w));
  ChangeStats s = change_stats_from(log);
  EXPECT_EQ(s.changes, 4u);
  EXPECT_EQ(s.documents_changed, 1u);
  EXPECT_DOUBLE_EQ(s.span_days, 28);
  ASSERT_TRUE(s.per_week.has_value());
  EXPECT_DOUBLE_EQ(*s.per_week, 1.0);
  EXPECT_EQ(s.as_change_frequency, "weekly");
}

TEST(ProfileChange, MonthlyBatchSyncIsMonthly) {
  // 100 documents inserted, then all re-upserted (a minute apart in all) on days 30, 60, 90.
  std::vector<Change> log;
  Seq seq = 0;
  for (DocId d = 1; d <= 100; ++d) log.push_back(entry(++seq, ChangeOp::kUpsert, d, 0));
  for (int m = 1; m <= 3; ++m) {
    for (DocId d = 1; d <= 100; ++d) {
      log.push_back(entry(++seq, ChangeOp::kUpsert, d, 30.0 * m + static_cast<double>(d) / (24 * 60 * 100)));
    }
  }
  ChangeStats s = change_stats_from(log);
  EXPECT_EQ(s.changes, 300u);
  EXPECT_EQ(s.documents_changed, 100u);
  EXPECT_NEAR(s.span_days, 90, 0.001);
  ASSERT_TRUE(s.per_week.has_value());
  EXPECT_NEAR(*s.per_week, 300 * 7 / 90.0, 0.01);
  EXPECT_EQ(s.as_change_frequency, "monthly");  // 3 events in 90 days, not 300
}

TEST(ProfileChange, DeletesCountAndShortSpansHaveNoRate) {
  ChangeStats s = change_stats_from({entry(1, ChangeOp::kUpsert, 7, 0), entry(2, ChangeOp::kDelete, 7, 2)});
  EXPECT_EQ(s.changes, 1u);
  EXPECT_EQ(s.documents_changed, 1u);
  ASSERT_TRUE(s.per_week.has_value());
  EXPECT_DOUBLE_EQ(*s.per_week, 3.5);
  EXPECT_EQ(s.as_change_frequency, "daily");
  // Changes within 30 minutes of the first entry: too little history for a rate.
  ChangeStats quick = change_stats_from({entry(1, ChangeOp::kUpsert, 1, 0), entry(2, ChangeOp::kUpsert, 1, 0.01),
                                         entry(3, ChangeOp::kUpsert, 1, 0.02)});
  EXPECT_EQ(quick.changes, 2u);
  EXPECT_FALSE(quick.per_week.has_value());
  EXPECT_EQ(quick.as_change_frequency, "");
  // Hourly changes over two days.
  std::vector<Change> hourly = {entry(1, ChangeOp::kUpsert, 1, 0)};
  for (int h = 1; h <= 48; ++h) hourly.push_back(entry(1 + h, ChangeOp::kUpsert, 1, h / 24.0));
  ChangeStats hs = change_stats_from(hourly);
  EXPECT_EQ(hs.changes, 48u);
  EXPECT_EQ(hs.as_change_frequency, "hourly");
}

TEST(ProfileChange, FrequencyForInterval) {
  EXPECT_EQ(change_frequency_for_interval(1.0 / 24), "hourly");
  EXPECT_EQ(change_frequency_for_interval(0.19), "hourly");
  EXPECT_EQ(change_frequency_for_interval(0.5), "daily");
  EXPECT_EQ(change_frequency_for_interval(1), "daily");
  EXPECT_EQ(change_frequency_for_interval(3), "weekly");
  EXPECT_EQ(change_frequency_for_interval(7), "weekly");
  EXPECT_EQ(change_frequency_for_interval(20), "monthly");
  EXPECT_EQ(change_frequency_for_interval(90), "monthly");
  EXPECT_EQ(change_frequency_for_interval(200), "yearly");
  EXPECT_EQ(change_frequency_for_interval(5000), "yearly");
}

TEST(ProfileLength, LogHistogramAndPercentiles) {
  // max 4096, 12 bins: edges 1, 2, 4, ..., 4096.
  LengthStats s = length_stats({0, 1, 2, 3, 100, 4096}, 12);
  EXPECT_EQ(s.p10, 0);
  EXPECT_EQ(s.p50, 2);
  EXPECT_EQ(s.p90, 4096);
  EXPECT_EQ(s.max, 4096);
  ASSERT_EQ(s.histogram.size(), 12u);
  EXPECT_EQ(s.histogram[0].lo, 0);
  EXPECT_EQ(s.histogram[0].hi, 2);
  EXPECT_EQ(s.histogram[0].count, 2u);  // 0, 1
  EXPECT_EQ(s.histogram[1].lo, 2);
  EXPECT_EQ(s.histogram[1].hi, 4);
  EXPECT_EQ(s.histogram[1].count, 2u);  // 2, 3
  EXPECT_EQ(s.histogram[6].lo, 64);
  EXPECT_EQ(s.histogram[6].count, 1u);  // 100
  EXPECT_EQ(s.histogram[11].lo, 2048);
  EXPECT_EQ(s.histogram[11].hi, 4096);
  EXPECT_EQ(s.histogram[11].count, 1u);  // max is in the last bin
}

TEST(ProfileLength, SmallMaxMergesEdges) {
  // max 5, 12 bins: edges ceil(5^(k/12)) = 1, 2, 3, 4, 5 after merging duplicates.
  LengthStats s = length_stats({2, 5}, 12);
  ASSERT_EQ(s.histogram.size(), 4u);
  EXPECT_EQ(s.histogram[1].lo, 2);
  EXPECT_EQ(s.histogram[1].count, 1u);
  EXPECT_EQ(s.histogram[3].hi, 5);
  EXPECT_EQ(s.histogram[3].count, 1u);
  LengthStats tiny = length_stats({0, 0, 1}, 12);
  ASSERT_EQ(tiny.histogram.size(), 1u);
  EXPECT_EQ(tiny.histogram[0].count, 3u);
  EXPECT_TRUE(length_stats({}, 12).histogram.empty());
}

TEST(ProfileEval, HalfWidth) {
  EvalProfile e = profile_eval(500, "questions");
  EXPECT_EQ(e.items, 500u);
  EXPECT_EQ(e.unit, "questions");
  EXPECT_NEAR(e.ci95_half_width_at_0_5, 0.0438, 0.0001);
  nlohmann::json j = e.to_json();
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["items"], 500);
  EXPECT_EQ(j["unit"], "questions");
  EXPECT_NEAR(j["ci95_half_width_at_0_5"].get<double>(), 0.0438, 0.0001);
  EvalProfile none = profile_eval(0, "queries");
  EXPECT_TRUE(std::isinf(none.ci95_half_width_at_0_5));
  EXPECT_TRUE(none.to_json()["ci95_half_width_at_0_5"].is_null());
}

}  // namespace
}  // namespace ragft::decide
