#include "ingest/loader.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "test_util.h"

namespace ragft {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing_ingest::ScratchDir;
using testing_ingest::testdata;

std::string heading_at(const LoadedDocument& d, std::size_t i) {
  std::uint32_t s = d.heading_starts.at(i);
  std::size_t e = d.text.find("\n\n", s);
  return d.text.substr(s, e == std::string::npos ? std::string::npos : e - s);
}

LoadResult load_ok(std::string_view bytes, Format f, const LoadOptions& o = {}) {
  auto r = load_bytes(bytes, f, "mem", o);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? std::move(r).value() : LoadResult{};
}

// ---- formats and detection ----

TEST(Format, DetectByExtension) {
  EXPECT_EQ(detect_format("a/b.txt"), Format::kTxt);
  EXPECT_EQ(detect_format("b.TEXT"), Format::kTxt);
  EXPECT_EQ(detect_format("b.md"), Format::kMarkdown);
  EXPECT_EQ(detect_format("b.markdown"), Format::kMarkdown);
  EXPECT_EQ(detect_format("b.htm"), Format::kHtml);
  EXPECT_EQ(detect_format("b.HTML"), Format::kHtml);
  EXPECT_EQ(detect_format("b.pdf"), Format::kPdf);
  EXPECT_EQ(detect_format("corpus.jsonl"), Format::kJsonl);
  EXPECT_EQ(detect_format("corpus.jsonl.gz"), Format::kJsonl);
  EXPECT_EQ(detect_format("corpus.ndjson"), Format::kJsonl);
  EXPECT_EQ(detect_format("t.csv"), Format::kCsv);
  EXPECT_EQ(detect_format("t.gz"), std::nullopt);
  EXPECT_EQ(detect_format("t.docx"), std::nullopt);
  EXPECT_EQ(detect_format("README"), std::nullopt);
}

TEST(Format, NamesRoundTrip) {
  for (Format f : {Format::kTxt, Format::kMarkdown, Format::kHtml, Format::kPdf, Format::kJsonl,
                   Format::kCsv}) {
    EXPECT_EQ(parse_format(format_name(f)), f);
  }
  EXPECT_EQ(parse_format("docx"), std::nullopt);
}

// ---- whole-file checks ----

TEST(LoadFile, MissingFileIsNotFound) {
  ScratchDir dir;
  auto r = load_file(dir.path() / "nope.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(r.error().message, HasSubstr("nope.txt"));
}

TEST(LoadFile, UnreadableIsIo) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.path() / "bad.txt");  // read() fails with EISDIR
  auto r = load_file(dir.path() / "bad.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_THAT(r.error().message, HasSubstr("bad.txt"));
}

TEST(LoadFile, UnknownExtensionIsUnsupported) {
  ScratchDir dir;
  auto r = load_file(dir.write("x.docx", "hello"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

TEST(LoadFile, OverSizeLimitCheckedBeforeReading) {
  ScratchDir dir;
  std::filesystem::path p = dir.path() / "huge.txt";
  int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, (1ll << 30) + 1), 0);  // sparse: costs no disk
  ::close(fd);
  auto r = load_file(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_THAT(r.error().message, HasSubstr("huge.txt"));

  LoadOptions small;
  small.max_file_bytes = 4;
  auto r2 = load_file(dir.write("five.txt", "12345"), small);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::kResourceExhausted);
  EXPECT_TRUE(load_file(dir.write("four.txt", "1234"), small).ok());
}

TEST(LoadFile, EmptyAndWhitespaceOnly) {
  ScratchDir dir;
  for (const char* name : {"e.txt", "e.md", "e.html", "e.jsonl", "e.csv", "e.pdf"}) {
    auto r = load_file(dir.write(name, ""));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << name;
    EXPECT_THAT(r.error().message, HasSubstr("empty file")) << name;
  }
  for (const char* name : {"w.txt", "w.md", "w.html", "w.jsonl", "w.csv"}) {
    auto r = load_file(dir.write(name, " \n\t\r\n  "));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << name;
    EXPECT_THAT(r.error().message, HasSubstr("empty file")) << name;
  }
  // A BOM alone is empty too.
  auto r = load_bytes("\xEF\xBB\xBF\n", Format::kTxt, "bom.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(LoadFile, BinaryContent) {
  ScratchDir dir;
  std::string bytes = "looks like text";
  bytes.push_back('\0');
  bytes += "but is not";
  for (const char* name : {"b.txt", "b.md", "b.html", "b.csv", "b.jsonl"}) {
    auto r = load_file(dir.write(name, bytes));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << name;
    EXPECT_THAT(r.error().message, HasSubstr("binary content")) << name;
  }
  // Only the first 8 KiB are sniffed.
  std::string late(9000, 'a');
  late.push_back('\0');
  EXPECT_TRUE(load_bytes(late, Format::kTxt, "late.txt").ok());
}

TEST(LoadFile, InvalidUtf8ReportsByteOffset) {
  ScratchDir dir;
  // "héllo" in Latin-1: é is the single byte 0xE9 at offset 7.
  auto r = load_file(dir.write("latin1.txt", "Hello h\xE9llo world"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("invalid UTF-8"));
  EXPECT_THAT(r.error().message, HasSubstr("offset 7"));
  EXPECT_THAT(r.error().message, HasSubstr("latin1.txt"));
  // Valid multi-byte text before the bad byte; a truncated 3-byte sequence at the end.
  auto r2 = load_bytes("caf\xC3\xA9 \xE2\x82", Format::kMarkdown, "t.md");
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, HasSubstr("offset 6"));
  // Overlong encoding and a UTF-16 surrogate are invalid too.
  EXPECT_THAT(load_bytes("ab\xC0\xAF", Format::kHtml, "o.html").error().message,
              HasSubstr("offset 2"));
  EXPECT_THAT(load_bytes("abc\xED\xA0\x80", Format::kTxt, "s.txt").error().message,
              HasSubstr("offset 3"));
}

// ---- txt ----

TEST(Txt, BomStrippedAndLineEndingsNormalised) {
  LoadResult r =
      load_ok("\xEF\xBB\xBFLine one\r\nline two\rline three\r\n\r\nNext para", Format::kTxt);
  ASSERT_EQ(r.documents.size(), 1u);
  const LoadedDocument& d = r.documents[0];
  EXPECT_EQ(d.text, "Line one\nline two\nline three\n\nNext para");
  EXPECT_EQ(d.title, "");
  EXPECT_EQ(d.ext_id, "");
  EXPECT_EQ(d.metadata_json, "{}");
  EXPECT_THAT(d.heading_starts, IsEmpty());
  EXPECT_THAT(d.page_starts, IsEmpty());
}

TEST(Txt, MultiByteTextKept) {
  LoadResult r = load_ok("Ünïcödé — 日本語 ✓\n", Format::kTxt);
  EXPECT_EQ(r.documents.at(0).text, "Ünïcödé — 日本語 ✓\n");
}

// ---- markdown ----

TEST(Markdown, StructureToPlainText) {
  auto r = load_file(testdata("guide.md"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  const LoadedDocument& d = r->documents[0];
  EXPECT_EQ(d.title, "Install Guide");
  EXPECT_EQ(d.text,
            "Install Guide\n\n"
            "Download the archive from the release page and unpack it.\n\n"
            "Build\n\n"
            "Run make in the source folder:\n\n"
            "make -j4\nmake install\n\n"
            "first item\n\n"
            "second item\n\n"
            "Quoted advice.\n\n"
            "Diagram of the build");
  ASSERT_EQ(d.heading_starts.size(), 2u);
  EXPECT_EQ(heading_at(d, 0), "Install Guide");
  EXPECT_EQ(heading_at(d, 1), "Build");
  EXPECT_THAT(d.text, Not(HasSubstr("Buy now")));
  EXPECT_THAT(d.text, Not(HasSubstr("https://")));
}

TEST(Markdown, TitleIsFirstHeadingOfAnyLevel) {
  LoadResult r =
      load_ok("Intro text.\n\n### Deep *heading*\n\nBody.\n\n# Later", Format::kMarkdown);
  const LoadedDocument& d = r.documents.at(0);
  EXPECT_EQ(d.title, "Deep heading");
  EXPECT_EQ(d.text, "Intro text.\n\nDeep heading\n\nBody.\n\nLater");
  EXPECT_THAT(d.heading_starts, ElementsAre(13u, 34u));
}

TEST(Markdown, OnlyHtmlIsEmpty) {
  auto r = load_bytes("<div>\n</div>\n", Format::kMarkdown, "x.md");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// ---- html ----

TEST(Html, VisibleTextOnly) {
  auto r = load_file(testdata("page.html"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const LoadedDocument& d = r->documents.at(0);
  EXPECT_EQ(d.title, "Café Menu");
  EXPECT_EQ(d.text,
            "Our Coffee\n\n"
            "Fresh beans, roasted & ground daily.\n\n"
            "Espresso\n\nLatte\n\n"
            "Small 2.50\n\nLarge 3.50");
  ASSERT_EQ(d.heading_starts.size(), 1u);
  EXPECT_EQ(heading_at(d, 0), "Our Coffee");
  for (const char* hidden :
       {"SECRET", "color", "Site header", "Home", "Sidebar", "Enable JS", "Copyright", "Search"}) {
    EXPECT_THAT(d.text, Not(HasSubstr(hidden)));
  }
}

TEST(Html, TitleFallsBackToFirstH1) {
  LoadResult r =
      load_ok("<p>intro</p><h2>Sub</h2><h1>Main &lt;Title&gt;</h1><p>x&nbsp;y</p>", Format::kHtml);
  const LoadedDocument& d = r.documents.at(0);
  EXPECT_EQ(d.title, "Main <Title>");
  EXPECT_EQ(d.text, "intro\n\nSub\n\nMain <Title>\n\nx y");
  EXPECT_THAT(d.heading_starts, ElementsAre(7u, 12u));
}

// Found by fuzz/ingest_html: gumbo 0.10 turns a numeric character reference past the int range
// into a lone byte, which made the document text (and title, and alt text) invalid UTF-8.
TEST(Html, OverflowingCharacterReferenceBecomesReplacementCharacter) {
  LoadResult r = load_ok(
      "<title>T &#888888888888888888810;</title><p>a &#888888888888888888810; b</p>"
      "<pre>&#888888888888888888810;</pre><p><img alt=\"&#888888888888888888810;\"></p>"
      "<p>&#99999999999; &#x110000; &#xD800;</p>",
      Format::kHtml);
  const LoadedDocument& d = r.documents.at(0);
  EXPECT_TRUE(is_valid_utf8(d.text)) << d.text;
  EXPECT_TRUE(is_valid_utf8(d.title)) << d.title;
  EXPECT_EQ(d.title, "T \uFFFD");
  EXPECT_EQ(d.text, "a \uFFFD b\n\n\uFFFD\n\n\uFFFD\n\n\uFFFD \uFFFD \uFFFD");
}

TEST(Html, NoVisibleTextIsEmpty) {
  auto r = load_bytes("<html><head><script>x()</script></head><body><nav>menu</nav></body></html>",
                      Format::kHtml, "blank.html");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("blank.html"));
}

// ---- jsonl ----

TEST(Jsonl, BeirAndRagftRecords) {
  std::string data =
      "{\"_id\": \"d1\", \"title\": \"T1\", \"text\": \"first text\", \"metadata\": {\"year\": "
      "2020, \"tags\": [\"a\"]}}\n"
      "\n"
      "{\"id\": 42, \"text\": \"second\\r\\ntext\", \"acl\": [\"alice\", \"team:x\"]}\n";
  LoadResult r = load_ok(data, Format::kJsonl);
  EXPECT_THAT(r.warnings, IsEmpty());
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[0].ext_id, "d1");
  EXPECT_EQ(r.documents[0].title, "T1");
  EXPECT_EQ(r.documents[0].text, "first text");
  auto meta = nlohmann::json::parse(r.documents[0].metadata_json);
  EXPECT_EQ(meta["year"], 2020);
  EXPECT_EQ(meta["tags"][0], "a");
  EXPECT_EQ(r.documents[1].ext_id, "42");
  EXPECT_EQ(r.documents[1].text, "second\ntext");
  EXPECT_EQ(r.documents[1].metadata_json, "{}");
  EXPECT_THAT(r.documents[1].acl, ElementsAre("alice", "team:x"));
}

TEST(Jsonl, BadLinesBecomeWarnings) {
  std::string data =
      "{\"_id\": \"a\", \"text\": \"ok\"}\n"
      "not json at all\n"
      "{\"_id\": \"b\"}\n"
      "{\"_id\": \"a\", \"text\": \"dup\"}\n"
      "{\"_id\": \"c\", \"text\": 5}\n"
      "{\"_id\": \"d\", \"text\": \"x\", \"acl\": \"alice\"}\n"
      "[1, 2]\n"
      "{\"_id\": \"e\", \"text\": \"ok \xFF too\"}\n";
  LoadResult r = load_ok(data, Format::kJsonl);
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[0].ext_id, "a");
  EXPECT_EQ(r.documents[0].text, "ok");
  EXPECT_EQ(r.documents[1].ext_id, "e");
  EXPECT_EQ(r.documents[1].text, "ok \xEF\xBF\xBD too");  // U+FFFD
  ASSERT_EQ(r.warnings.size(), 7u);
  EXPECT_THAT(r.warnings[0], HasSubstr("mem:2: not valid JSON"));
  EXPECT_THAT(r.warnings[1], HasSubstr("mem:3: missing field \"text\""));
  EXPECT_THAT(r.warnings[2], HasSubstr("mem:4: duplicate id \"a\""));
  EXPECT_THAT(r.warnings[3], HasSubstr("mem:5: field \"text\" is not a string"));
  EXPECT_THAT(r.warnings[4], HasSubstr("mem:6: field \"acl\""));
  EXPECT_THAT(r.warnings[5], HasSubstr("mem:7: not a JSON object"));
  EXPECT_THAT(r.warnings[6], HasSubstr("mem:8: invalid UTF-8"));
  for (const auto& d : r.documents) EXPECT_TRUE(is_valid_utf8(d.text));
}

TEST(Jsonl, NoValidLineIsAnError) {
  auto r = load_bytes("{\"title\": \"no text\"}\nnope\n", Format::kJsonl, "bad.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("bad.jsonl"));
  EXPECT_THAT(r.error().message, HasSubstr("bad.jsonl:1: missing field"));
}

TEST(Jsonl, MissingIdUsesLineNumber) {
  LoadResult r = load_ok("\n{\"text\": \"a\"}\n{\"text\": \"b\"}\n", Format::kJsonl);
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[0].ext_id, "2");
  EXPECT_EQ(r.documents[1].ext_id, "3");
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Jsonl, GzipReadTransparently) {
  ScratchDir dir;
  std::string plain = "{\"_id\": \"x\", \"text\": \"compressed text\"}\n";
  auto r = load_file(dir.write("c.jsonl.gz", gzip(plain)));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].text, "compressed text");
  // Two concatenated gzip members read as one stream.
  auto r2 = load_bytes(gzip(plain) + gzip("{\"_id\": \"y\", \"text\": \"more\"}\n"), Format::kJsonl,
                       "two.jsonl.gz");
  ASSERT_TRUE(r2.ok()) << r2.error().to_string();
  EXPECT_EQ(r2->documents.size(), 2u);
  // Truncated gzip is corrupt.
  std::string gz = gzip(plain);
  auto r3 = load_bytes(std::string_view(gz).substr(0, gz.size() / 2), Format::kJsonl, "t.jsonl.gz");
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, ErrorCode::kCorrupt);
  // The decompressed size counts against the limit.
  LoadOptions small;
  small.max_file_bytes = 20;
  auto r4 = load_bytes(gz, Format::kJsonl, "big.jsonl.gz", small);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, ErrorCode::kResourceExhausted);
}

TEST(Jsonl, ScifactCorpusLoads) {
  std::filesystem::path p =
      std::filesystem::path(RAGFT_SOURCE_DIR) / "data/scifact/corpus.jsonl.gz";
  if (!std::filesystem::exists(p)) GTEST_SKIP() << "no " << p;
  auto r = load_file(p);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->documents.size(), 5183u);
  EXPECT_THAT(r->warnings, IsEmpty());
  EXPECT_EQ(r->documents[0].ext_id, "4983");
  EXPECT_THAT(r->documents[0].title, HasSubstr("Microstructural development"));
}

// ---- csv ----

TEST(Csv, QuotedFieldsAndMetadata) {
  std::string data =
      "\xEF\xBB\xBFid,title,text,author\r\n"
      "1,First,\"Hello, world\",Ann\r\n"
      "2,\"Second \"\"quoted\"\"\",\"line one\r\nline two\",Bob\r\n"
      "\r\n"
      "3,Third,plain,\"\"\r\n";
  LoadResult r = load_ok(data, Format::kCsv);
  EXPECT_THAT(r.warnings, IsEmpty());
  ASSERT_EQ(r.documents.size(), 3u);
  EXPECT_EQ(r.documents[0].ext_id, "1");
  EXPECT_EQ(r.documents[0].title, "First");
  EXPECT_EQ(r.documents[0].text, "Hello, world");
  EXPECT_EQ(r.documents[0].metadata_json, "{\"author\":\"Ann\"}");
  EXPECT_EQ(r.documents[1].title, "Second \"quoted\"");
  EXPECT_EQ(r.documents[1].text, "line one\nline two");
  EXPECT_EQ(r.documents[2].metadata_json, "{\"author\":\"\"}");
}

TEST(Csv, WrongFieldCountIsWarningWithLine) {
  std::string data = "id,text\na,one\nb,two,extra\n\"c\",\"multi\nline\"\nd\ne,five\n";
  LoadResult r = load_ok(data, Format::kCsv);
  ASSERT_EQ(r.documents.size(), 3u);
  EXPECT_EQ(r.documents[2].ext_id, "e");
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0], HasSubstr("mem:3: 3 field(s), the header has 2"));
  EXPECT_THAT(r.warnings[1], HasSubstr("mem:6: 1 field(s)"));
}

TEST(Csv, MissingColumnsListAvailable) {
  auto r = load_bytes("doc,body\n1,x\n", Format::kCsv, "t.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("\"doc\", \"body\""));
  EXPECT_THAT(r.error().message, HasSubstr("t.csv"));

  LoadOptions o;
  o.csv_id_column = "doc";
  auto r2 = load_bytes("doc,body\n1,x\n", Format::kCsv, "t.csv", o);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r2.error().message, HasSubstr("text column \"text\""));

  o.csv_text_column = "body";
  LoadResult ok = load_ok("doc,body\n1,x\n", Format::kCsv, o);
  ASSERT_EQ(ok.documents.size(), 1u);
  EXPECT_EQ(ok.documents[0].text, "x");
  EXPECT_EQ(ok.documents[0].title, "");
}

TEST(Csv, EmptyIdColumnNumbersRowsAndCustomDelimiter) {
  LoadOptions o;
  o.csv_id_column = "";
  o.csv_delimiter = ';';
  LoadResult r = load_ok("text;lang\nalpha;en\nbeta, gamma;de\n", Format::kCsv, o);
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[0].ext_id, "1");
  EXPECT_EQ(r.documents[1].ext_id, "2");
  EXPECT_EQ(r.documents[1].text, "beta, gamma");
  EXPECT_EQ(r.documents[1].metadata_json, "{\"lang\":\"de\"}");
}

TEST(Csv, DuplicateIdsAndBadUtf8) {
  LoadResult r = load_ok("id,text\n1,a\n1,b\n2,caf\xE9\n", Format::kCsv);
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[1].text, "caf\xEF\xBF\xBD");
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0], HasSubstr("mem:3: duplicate id \"1\""));
  EXPECT_THAT(r.warnings[1], HasSubstr("mem:4: invalid UTF-8"));
}

TEST(Csv, HeaderOnlyIsAnError) {
  auto r = load_bytes("id,text\n", Format::kCsv, "h.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
