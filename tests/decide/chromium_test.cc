// Loads the rendered HTML reports in headless Chromium: the DOM Chromium builds must hold every
// chart with its data marks, and a screenshot must show a painted page (not blank, with the
// highlight colour of the recommendation). Skipped when no Chromium is installed.
//
// Set RAGFT_TEST_ARTIFACTS=DIR to keep the HTML, the dumped DOM and the screenshots.
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/chromium.h"
#include "decide/report_html.h"
#include "decide/report_test_util.h"

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::chart;
using testing::count_class;
using testing::external_reference;
using testing::load_fixture;
using ragft::testing::Chromium;
using ragft::testing::Command;
using ragft::testing::find_chromium;
using ragft::testing::read_text_file;
using ragft::testing::shell_quote;

constexpr std::uint8_t kHighlightRgb[3] = {0xd9, 0x48, 0x0f};  // render::kHighlight

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  out << data;
}

// -- PNG ------------------------------------------------------------------------------------

struct Image {
  std::uint32_t width = 0, height = 0;
  unsigned channels = 0;             // 3 (RGB) or 4 (RGBA)
  std::vector<std::uint8_t> pixels;  // rows top to bottom, width * channels bytes each
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

// Decodes an 8-bit RGB/RGBA non-interlaced PNG; "" on success, else what is wrong.
std::string decode_png(const std::string& png, Image& img) {
  static const std::string kSignature("\x89PNG\r\n\x1a\n", 8);
  if (png.size() < 8 || png.compare(0, 8, kSignature) != 0) return "bad signature";
  std::string idat;
  bool have_header = false, have_end = false;
  for (std::size_t at = 8; at + 12 <= png.size() && !have_end;) {
    std::uint32_t len = be32(png, at);
    if (at + 12 + len > png.size()) return "truncated chunk";
    std::string type = png.substr(at + 4, 4);
    std::string data = png.substr(at + 8, len);
    uLong crc = ::crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), static_cast<uInt>(len + 4));
    if (crc != be32(png, at + 8 + len)) return "bad CRC in " + type;
    if (type == "IHDR") {
      if (at != 8 || len != 13) return "IHDR not first or wrong size";
      img.width = be32(data, 0);
      img.height = be32(data, 4);
      auto depth = std::uint8_t(data[8]), colour = std::uint8_t(data[9]), interlace = std::uint8_t(data[12]);
      if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0) {
        return "unsupported: depth " + std::to_string(depth) + ", colour type " + std::to_string(colour) +
               ", interlace " + std::to_string(interlace);
      }
      img.channels = colour == 6 ? 4 : 3;
      have_header = true;
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      have_end = true;
    }
    at += 12 + len;
  }
  if (!have_header || !have_end) return "missing IHDR or IEND";
  if (img.width == 0 || img.height == 0 || img.width > 20000 || img.height > 20000) return "implausible size";
  std::size_t stride = std::size_t(img.width) * img.channels;
  std::vector<std::uint8_t> raw(std::size_t(img.height) * (stride + 1));
  uLongf raw_len = raw.size();
  if (::uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK) {
    return "inflate failed";
  }
  if (raw_len != raw.size()) return "wrong decompressed size";
  img.pixels.assign(std::size_t(img.height) * stride, 0);
  const std::size_t bpp = img.channels;
  for (std::size_t y = 0; y < img.height; ++y) {
    std::uint8_t filter = raw[y * (stride + 1)];
    const std::uint8_t* in = &raw[y * (stride + 1) + 1];
    std::uint8_t* cur = &img.pixels[y * stride];
    const std::uint8_t* prev = y > 0 ? &img.pixels[(y - 1) * stride] : nullptr;
    for (std::size_t i = 0; i < stride; ++i) {
      int a = i >= bpp ? cur[i - bpp] : 0;
      int b = prev ? prev[i] : 0;
      int c = prev && i >= bpp ? prev[i - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return "bad filter type " + std::to_string(filter);
      }
      cur[i] = std::uint8_t(in[i] + pred);
    }
  }
  return {};
}

struct PixelStats {
  std::size_t distinct = 0, non_white = 0, highlight = 0, highlight_below = 0;
};

// `below`: highlight pixels counted separately from this row down (the charts, past the header).
PixelStats pixel_stats(const Image& img, std::uint32_t below) {
  PixelStats s;
  std::set<std::uint32_t> colours;
  for (std::uint32_t y = 0; y < img.height; ++y) {
    for (std::uint32_t x = 0; x < img.width; ++x) {
      const std::uint8_t* p = &img.pixels[(std::size_t(y) * img.width + x) * img.channels];
      colours.insert((std::uint32_t(p[0]) << 16) | (std::uint32_t(p[1]) << 8) | p[2]);
      if (p[0] < 250 || p[1] < 250 || p[2] < 250) ++s.non_white;
      bool hl = true;
      for (int k = 0; k < 3; ++k) hl = hl && std::abs(int(p[k]) - int(kHighlightRgb[k])) <= 6;
      if (hl) {
        ++s.highlight;
        if (y >= below) ++s.highlight_below;
      }
    }
  }
  s.distinct = colours.size();
  return s;
}

// -- the test -------------------------------------------------------------------------------

class ChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    browser_ = find_chromium();
    if (browser_.empty()) GTEST_SKIP() << ragft::testing::kNoChromium;
    std::string tmpl = (fs::temp_directory_path() / "ragft_chromium_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    chromium_ = std::make_unique<Chromium>(browser_, dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // Runs Chromium on `html_path` with `flags`; each call gets a fresh profile directory.
  Command chromium(const fs::path& html_path, const std::string& flags) {
    Command r = chromium_->run("file://" + fs::absolute(html_path).string(), flags);
    if (r.exit_code != 0) ADD_FAILURE() << "chromium exited " << r.exit_code << ": " << chromium_->log();
    return r;
  }

  void check_report(const json& r, const std::string& name);

  std::string browser_;
  fs::path dir_;
  std::unique_ptr<Chromium> chromium_;
};

std::size_t count_if_number(const json& r, const char* a, const char* b) {
  std::size_t n = 0;
  for (const auto& arm : r["arms"]) n += arm.contains(a) && arm[a].is_object() && arm[a][b].is_number() ? 1 : 0;
  return n;
}

void ChromiumTest::check_report(const json& r, const std::string& name) {
  std::string html = render_html(r);
  ASSERT_EQ(external_reference(html), "");
  fs::path page = dir_ / (name + ".html");
  write_file(page, html);

  // 1. The DOM Chromium parsed: every chart present, not empty, with its marks.
  Command dom = chromium(page, "--dump-dom");
  ASSERT_EQ(dom.exit_code, 0);
  ASSERT_NE(dom.out.find("</html>"), std::string::npos) << dom.out.substr(0, 500);
  EXPECT_EQ(dom.out.find("<script"), std::string::npos);
  EXPECT_NE(dom.out.find("<div class=\"decision\">"), std::string::npos);

  std::size_t arms = r["arms"].size();
  std::string ql = chart(dom.out, "chart-quality-latency");
  ASSERT_FALSE(ql.empty());
  EXPECT_NE(ql.find("<title id=\"chart-quality-latency-title\">"), std::string::npos);
  EXPECT_EQ(count_class(ql, {"point"}), arms);  // the fixtures have positive latencies throughout
  EXPECT_EQ(count_class(ql, {"whisker"}), arms);
  EXPECT_EQ(count_class(ql, {"point", "recommended"}), 1u);
  EXPECT_GE(count_class(ql, {"tick"}), 4u);

  std::string cost = chart(dom.out, "chart-cost");
  ASSERT_FALSE(cost.empty());
  EXPECT_EQ(count_class(cost, {"bar", "cost-build"}), count_if_number(r, "build", "seconds"));
  EXPECT_EQ(count_class(cost, {"bar", "cost-peak"}), count_if_number(r, "build", "peak_mb"));
  EXPECT_EQ(count_class(cost, {"bar", "cost-disk"}), count_if_number(r, "build", "disk_bytes"));
  EXPECT_EQ(count_class(cost, {"bar", "recommended"}), 3u);

  std::size_t fresh = r["freshness"]["arms"].size();
  std::string fr = chart(dom.out, "chart-freshness");
  ASSERT_FALSE(fr.empty());
  EXPECT_EQ(count_class(fr, {"bar", "fresh-before"}), fresh);
  EXPECT_EQ(count_class(fr, {"bar", "fresh-after"}), fresh);
  EXPECT_EQ(count_class(fr, {"whisker"}), 2 * fresh);
  EXPECT_EQ(count_class(fr, {"bar", "fresh-time"}), fresh);

  std::string fc = chart(dom.out, "chart-flowchart");
  ASSERT_FALSE(fc.empty());
  const json& path = r["recommendation"]["path"];
  EXPECT_EQ(count_class(fc, {"node"}), r["flowchart"]["nodes"].size());
  EXPECT_EQ(count_class(fc, {"node", "on-path"}), path.size());
  EXPECT_EQ(count_class(fc, {"edge"}), r["flowchart"]["edges"].size());
  EXPECT_EQ(count_class(fc, {"edge", "on-path"}), path.size() - 1);
  for (const auto& id : path) {
    EXPECT_NE(fc.find("<g class=\"node on-path\" data-id=\"" + id.get<std::string>() + "\""), std::string::npos) << id;
  }

  std::size_t bins = 0;
  for (const auto& b : r["profile"]["corpus"]["doc_tokens"]["histogram"]) bins += b["count"].get<double>() > 0;
  EXPECT_EQ(count_class(chart(dom.out, "chart-doc-length"), {"bar", "hist"}), bins);
  const json& labeled = r["profile"]["labeled"];
  std::string labels = chart(dom.out, "chart-labels");
  if (labeled.is_object()) {
    EXPECT_EQ(count_class(labels, {"bar", "label"}), labeled["label_counts"].size());
  } else {
    EXPECT_TRUE(labels.empty());
  }

  // 2. The painted page.
  fs::path shot = dir_ / (name + ".png");
  Command s = chromium(page, "--hide-scrollbars --window-size=1280,2400 --screenshot=" + shell_quote(shot.string()));
  ASSERT_EQ(s.exit_code, 0);
  ASSERT_TRUE(fs::exists(shot));
  Image img;
  ASSERT_EQ(decode_png(read_text_file(shot), img), "");
  EXPECT_EQ(img.width, 1280u);
  EXPECT_EQ(img.height, 2400u);
  PixelStats st = pixel_stats(img, 600);
  std::size_t total = std::size_t(img.width) * img.height;
  EXPECT_GT(st.distinct, 64u) << "too few colours: blank or unstyled page";
  EXPECT_GT(st.non_white, total / 20) << "mostly white: nothing painted";
  EXPECT_GT(st.highlight, 20000u) << "the decision banner is not painted in the highlight colour";
  EXPECT_GT(st.highlight_below, 5000u) << "no highlighted flowchart path or recommended marks below the header";

  if (const char* keep = std::getenv("RAGFT_TEST_ARTIFACTS"); keep && *keep) {
    fs::create_directories(keep);
    fs::copy_file(shot, fs::path(keep) / shot.filename(), fs::copy_options::overwrite_existing);
    fs::copy_file(page, fs::path(keep) / page.filename(), fs::copy_options::overwrite_existing);
    write_file(fs::path(keep) / (name + ".dom.html"), dom.out);
  }
}

TEST_F(ChromiumTest, ClassificationReport) {
  check_report(load_fixture("report_classification.json"), "classification");
}

TEST_F(ChromiumTest, RetrievalReport) { check_report(load_fixture("report_retrieval.json"), "retrieval"); }

TEST(ChromiumPngTest, RejectsGarbage) {
  Image img;
  EXPECT_EQ(decode_png("not a png", img), "bad signature");
  EXPECT_EQ(decode_png(std::string("\x89PNG\r\n\x1a\n", 8), img), "missing IHDR or IEND");
}

}  // namespace
}  // namespace ragft::decide
