#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "apps/test_util.h"
#include "evaluate/conlleval.h"
#include "train/extract_test_util.h"
#include "train/extractor.h"
#include "train/knn_tagger.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using Tags = std::vector<std::string>;

std::vector<TaggedSentence> parse(const std::string& text) {
  auto d = parse_conll(text, "test");
  EXPECT_TRUE(d.ok());
  return d.ok() ? d->sentences : std::vector<TaggedSentence>{};
}

TaggedSentence sent(const std::string& s) { return testing::tagged(s); }

fs::path temp_dir(const std::string& prefix) { return testing::make_temp_dir(prefix); }

KnnTaggerOptions gaz_only(bool fold = true) {
  KnnTaggerOptions o;
  o.k = 0;
  o.use_gazetteer = true;
  o.min_count = 1;
  o.min_ratio = 0;
  o.fold_case = fold;
  return o;
}

const std::vector<TaggedSentence> kCities = {
    sent("New/B-location York/I-location City/I-location is/O big"),
    sent("New/B-location York/I-location is nice"),
    sent("York/B-location is old"),
};

TEST(KnnTaggerTest, GazetteerLongestMatchFirst) {
  auto m = KnnTagger::build(kCities, gaz_only());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  // "New York City" (3 tokens) wins over "New York" and "York".
  EXPECT_EQ((*m)->predict({"I", "love", "New", "York", "City"}), (Tags{"O", "O", "B-location", "I-location", "I-location"}));
  EXPECT_EQ((*m)->predict({"New", "York", "York"}), (Tags{"B-location", "I-location", "B-location"}));
  // Case folding: matches "new york city"; exact case does not.
  EXPECT_EQ((*m)->predict({"new", "york", "city"}), (Tags{"B-location", "I-location", "I-location"}));
  auto exact = KnnTagger::build(kCities, gaz_only(false));
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ((*exact)->predict({"new", "york", "city"}), (Tags{"O", "O", "O"}));
  EXPECT_EQ((*exact)->predict({"York"}), (Tags{"B-location"}));
  EXPECT_EQ((*m)->labels(), (Tags{"location"}));
  EXPECT_TRUE((*m)->predict({}).empty());
}

TEST(KnnTaggerTest, GazetteerFiltersByCountAndRatio) {
  // "Apple" is tagged once and occurs 4 times: ratio 1/4 = 0.25. "Google" tagged twice of 2.
  std::vector<TaggedSentence> train = {sent("Apple/B-corporation sells phones"), sent("an Apple a day"),
                                       sent("Apple pie"), sent("Apple juice"),
                                       sent("Google/B-corporation search"), sent("Google/B-corporation maps")};
  auto o = gaz_only();
  o.min_ratio = 0.3;
  auto m = KnnTagger::build(train, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->predict({"Apple", "and", "Google"}), (Tags{"O", "O", "B-corporation"}));
  o.min_ratio = 0.25;
  auto loose = KnnTagger::build(train, o);
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ((*loose)->predict({"Apple", "and", "Google"}), (Tags{"B-corporation", "O", "B-corporation"}));
  o.min_ratio = 0;
  o.min_count = 2;  // Apple was tagged once only
  auto counted = KnnTagger::build(train, o);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ((*counted)->predict({"Apple", "and", "Google"}), (Tags{"O", "O", "B-corporation"}));
}

TEST(KnnTaggerTest, ProjectionUsesTheNeighboursContext) {
  // "Jordan" is a person once and a location once: the gazetteer alone cannot tell; the nearest
  // training sentence decides.
  std::vector<TaggedSentence> train = {sent("Jordan/B-person scored thirty points in the basketball game"),
                                       sent("cheap flights to Jordan/B-location were cancelled by the airline")};
  KnnTaggerOptions o;
  o.k = 1;
  o.use_gazetteer = false;
  auto m = KnnTagger::build(train, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->predict({"Jordan", "scored", "forty", "points"}), (Tags{"B-person", "O", "O", "O"}));
  EXPECT_EQ((*m)->predict({"more", "flights", "to", "Jordan", "cancelled"}), (Tags{"O", "O", "O", "B-location", "O"}));
  // The gazetteer alone has a tie (1 person, 1 location) and takes the alphabetically first type,
  // whatever the context.
  auto gaz = KnnTagger::build(train, gaz_only());
  ASSERT_TRUE(gaz.ok());
  EXPECT_EQ((*gaz)->predict({"Jordan", "scored", "forty", "points"}), (Tags{"B-location", "O", "O", "O"}));
}

const char* kTiny =
    "Justin\tB-person\nBieber\tI-person\nsings\tO\nin\tO\nToronto\tB-location\n\n"
    "I\tO\nlove\tO\nmy\tO\niPhone\tB-product\n\n"
    "Watching\tO\nStar\tB-creative-work\nWars\tI-creative-work\ntonight\tO\n\n"
    "Microsoft\tB-corporation\nbuys\tO\nGitHub\tB-corporation\n\n"
    "the\tO\nBeatles\tB-group\nplayed\tO\nat\tO\nShea\tB-location\nStadium\tI-location\n\n"
    "Obama\tB-person\nvisited\tO\nKenya\tB-location\n\n"
    "new\tO\nsong\tO\nby\tO\nAdele\tB-person\n\n"
    "Lakers\tB-group\nwin\tO\nagain\tO\n\n"
    "reading\tO\nHarry\tB-creative-work\nPotter\tI-creative-work\nagain\tO\n\n"
    "my\tO\nSamsung\tB-corporation\nGalaxy\tB-product\nbroke\tO\n\n";

TEST(KnnTaggerTest, OverfitsTenSentences) {
  auto train = parse(kTiny);
  ASSERT_EQ(train.size(), 10u);
  KnnTaggerSelection sel;
  auto m = KnnTagger::train(train, train, &sel);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ConllevalAccumulator acc;
  for (const auto& s : train) {
    auto tags = (*m)->predict(s.tokens);
    EXPECT_EQ(tags, s.tags);
    ASSERT_TRUE(acc.add(s.tags, tags).ok());
  }
  EXPECT_DOUBLE_EQ(acc.result().overall.f1(), 1.0);
  EXPECT_DOUBLE_EQ(sel.validation_f1, 1.0);
  EXPECT_EQ(sel.validation_source, "dev");
  EXPECT_GT(sel.configs_tried, 100u);
  EXPECT_EQ((*m)->labels(), (Tags{"corporation", "creative-work", "group", "location", "person", "product"}));
  EXPECT_EQ((*m)->record().train_data_hash, conll_data_hash(train));
  EXPECT_DOUBLE_EQ((*m)->record().metrics["validation"]["f1"].get<double>(), 1.0);
  // Without a dev set, a tiny train is selected on itself.
  auto self = KnnTagger::train(train, {}, &sel);
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(sel.validation_source, "train-holdout");
}

TEST(KnnTaggerTest, SaveLoadRoundTripGivesSamePredictions) {
  std::string dir = std::string(RAGFT_SOURCE_DIR) + "/data/wnut17/";
  auto train = read_conll(dir + "wnut17train.conll");
  auto dev = read_conll(dir + "emerging.dev.conll");
  ASSERT_TRUE(train.ok() && dev.ok());
  std::vector<TaggedSentence> small(train->sentences.begin(), train->sentences.begin() + 400);
  std::vector<TaggedSentence> probe(train->sentences.begin() + 400, train->sentences.begin() + 600);
  probe.insert(probe.end(), dev->sentences.begin(), dev->sentences.begin() + 200);
  KnnTaggerOptions o;  // projection and gazetteer both on
  o.k = 5;
  auto m = KnnTagger::build(small, o);
  ASSERT_TRUE(m.ok());
  (*m)->record().metrics["note"] = "round trip";
  (*m)->record().train_seconds = 1.5;
  fs::path out = temp_dir("ragft-extract-rt-");
  ASSERT_TRUE((*m)->save(out / "model").ok());
  auto loaded = load_extractor(out / "model");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "tagger-knn");
  EXPECT_EQ((*loaded)->config(), (*m)->config());
  EXPECT_EQ((*loaded)->labels(), (*m)->labels());
  EXPECT_EQ((*loaded)->record().train_data_hash, conll_data_hash(small));
  EXPECT_DOUBLE_EQ((*loaded)->record().train_seconds, 1.5);
  EXPECT_EQ((*loaded)->record().metrics["note"], "round trip");
  std::size_t tagged = 0;
  for (const auto& s : probe) {
    auto a = (*m)->predict(s.tokens);
    EXPECT_EQ((*loaded)->predict(s.tokens), a);
    for (const auto& t : a) tagged += t != "O";
  }
  EXPECT_GT(tagged, 0u);  // the comparison covers real entity predictions
  auto manifest = read_manifest(out / "model");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->task, "extract");
  EXPECT_EQ(manifest->labels, (*m)->labels());
  // Saving a loaded model again into its own directory keeps it usable.
  ASSERT_TRUE((*loaded)->save(out / "model").ok());
  auto again = load_extractor(out / "model");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ((*again)->predict(probe[0].tokens), (*m)->predict(probe[0].tokens));
  fs::remove_all(out);
}

TEST(KnnTaggerTest, LoadErrors) {
  fs::path out = temp_dir("ragft-extract-err-");
  auto missing = load_extractor(out / "nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  ModelManifest cls;
  cls.task = "classify";
  cls.kind = "linear";
  ASSERT_TRUE(write_manifest(out / "cls", cls).ok());
  auto wrong_task = load_extractor(out / "cls");
  ASSERT_FALSE(wrong_task.ok());
  EXPECT_EQ(wrong_task.error().code, ErrorCode::kInvalidArgument);

  ModelManifest odd;
  odd.task = "extract";
  odd.kind = "tagger-unknown";
  ASSERT_TRUE(write_manifest(out / "odd", odd).ok());
  auto unknown = load_extractor(out / "odd");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported);

  auto m = KnnTagger::build(kCities, gaz_only());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->save(out / "bad").ok());
  { std::ofstream(out / "bad" / "gazetteer.jsonl") << "{\"key\": 3}\n"; }
  auto corrupt = load_extractor(out / "bad");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(corrupt.error().message.find("gazetteer.jsonl:1"), std::string::npos) << corrupt.error().message;
  fs::remove_all(out);
}

TEST(KnnTaggerTest, OptionsRoundTripAndErrors) {
  KnnTaggerOptions o;
  o.k = 20;
  o.proj_min_ratio = 0.3;
  o.use_gazetteer = false;
  o.min_count = 2;
  o.min_ratio = 0.5;
  o.fold_case = false;
  auto p = KnnTaggerOptions::parse(o.to_config());
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(*p, o);
  EXPECT_EQ(o.to_config(), "tagger-knn:k=20,proj_min_ratio=0.3,gazetteer=0,min_count=2,min_ratio=0.5,case=exact");
  auto partial = KnnTaggerOptions::parse("tagger-knn:k=3");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->k, 3u);
  EXPECT_TRUE(partial->use_gazetteer);
  for (const char* bad : {"tagger-knn:k=-1", "tagger-knn:depth=3", "tagger-knn:min_ratio=2", "tagger-knn:case=upper",
                          "tagger-knn:k", "tagger-knn:gazetteer=yes"}) {
    auto e = KnnTaggerOptions::parse(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto empty = KnnTagger::build({}, o);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

// extract_entities(): the entities of a raw line with their token and code-point spans; the
// span's text is the line's own characters (two spaces inside "New  York" kept).
TEST(ExtractEntitiesTest, SpansInCodePointsOfTheLine) {
  auto m = KnnTagger::build(kCities, gaz_only());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const std::string line = "\tÉté à  New  York\tCity, York";  // É, é, à: two bytes each
  ExtractedText t = extract_entities(**m, line);
  EXPECT_EQ(t.tokens, (Tags{"Été", "à", "New", "York", "City,", "York"}));
  EXPECT_EQ(t.tags, (*m)->predict(t.tokens));
  ASSERT_EQ(t.entities.size(), 2u);
  EXPECT_EQ(t.entities[0].type, "location");
  EXPECT_EQ(t.entities[0].token_start, 2u);
  EXPECT_EQ(t.entities[0].token_end, 4u);
  EXPECT_EQ(t.entities[0].char_start, 8u);  // \t É t é ' ' à ' ' ' ': "N" is code point 8
  EXPECT_EQ(t.entities[0].char_end, 17u);
  EXPECT_EQ(t.entities[0].text, "New  York");
  EXPECT_EQ(t.entities[1].token_start, 5u);
  EXPECT_EQ(t.entities[1].char_start, 24u);
  EXPECT_EQ(t.entities[1].char_end, 28u);
  EXPECT_EQ(t.entities[1].text, "York");
  // Same tokens and entity types as the token-level API.
  auto mentions = entity_mentions(t.tokens, t.tags);
  ASSERT_EQ(mentions.size(), t.entities.size());
  for (std::size_t i = 0; i < mentions.size(); ++i) {
    EXPECT_EQ(mentions[i].type, t.entities[i].type);
    EXPECT_EQ(mentions[i].start, t.entities[i].token_start);
    EXPECT_EQ(mentions[i].end, t.entities[i].token_end);
  }
  EXPECT_TRUE(extract_entities(**m, " \t ").entities.empty());
  EXPECT_TRUE(extract_entities(**m, "").tokens.empty());
}

}  // namespace
}  // namespace ragft
