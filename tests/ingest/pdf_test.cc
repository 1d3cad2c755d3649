// PDF loading against PDFs written by a small generator (correct xref offsets computed here).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/utf8.h"
#include "ingest/chunker.h"
#include "ingest/loader.h"
#include "test_util.h"

namespace ragft {
namespace {

using ::testing::HasSubstr;
using testing_ingest::ScratchDir;

struct PdfSpec {
  // Each page: lines of ASCII text (no parentheses or backslashes).
  std::vector<std::vector<std::string>> pages;
  std::string title;      // Info /Title when not empty
  std::string encrypt;    // extra trailer entries, e.g. an /Encrypt reference
  std::string extra_obj;  // an extra object body appended as the last object
};

// A minimal valid PDF 1.4: catalog, page tree, Helvetica font, one content stream per page,
// optional Info dictionary; xref offsets computed from the bytes written.
std::string make_pdf(const PdfSpec& spec) {
  std::vector<std::string> objs;  // object bodies; object number = index + 1
  const int n_pages = static_cast<int>(spec.pages.size());
  // 1 catalog, 2 pages, 3 font, then (page, content) pairs, then info, then extra.
  std::string kids;
  for (int i = 0; i < n_pages; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n_pages) + " >>");
  objs.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (int i = 0; i < n_pages; ++i) {
    std::string content = "BT /F1 12 Tf 72 720 Td 16 TL\n";
    for (const std::string& line : spec.pages[i]) content += "(" + line + ") Tj T*\n";
    content += "ET\n";
    objs.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
        ">> /Contents " +
        std::to_string(5 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                   "endstream");
  }
  int info = 0;
  if (!spec.title.empty()) {
    objs.push_back("<< /Title (" + spec.title + ") /Producer (ragft test) >>");
    info = static_cast<int>(objs.size());
  }
  if (!spec.extra_obj.empty()) objs.push_back(spec.extra_obj);

  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R";
  if (info > 0) out += " /Info " + std::to_string(info) + " 0 R";
  out += spec.encrypt;
  out += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

PdfSpec two_pages() {
  PdfSpec spec;
  spec.pages = {{"Alpha page one begins here.", "Second line of page one."},
                {"Beta page two text.", "It ends the document."}};
  spec.title = "Test Document";
  return spec;
}

TEST(Pdf, TwoPagesWithPageStartsAndTitle) {
  ScratchDir dir;
  auto r = load_file(dir.write("two.pdf", make_pdf(two_pages())));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  const LoadedDocument& d = r->documents[0];
  EXPECT_EQ(d.title, "Test Document");
  EXPECT_TRUE(is_valid_utf8(d.text));
  ASSERT_EQ(d.page_starts.size(), 2u);
  EXPECT_EQ(d.page_starts[0], 0u);
  const std::string page1 = d.text.substr(0, d.page_starts[1]);
  const std::string page2 = d.text.substr(d.page_starts[1]);
  EXPECT_THAT(page1, HasSubstr("Alpha page one begins here."));
  EXPECT_THAT(page1, HasSubstr("Second line of page one."));
  EXPECT_THAT(page1, ::testing::EndsWith("\n\n"));
  EXPECT_EQ(page2.rfind("Beta page two text.", 0), 0u) << page2;
  EXPECT_THAT(page2, HasSubstr("It ends the document."));
  EXPECT_EQ(page1.find("Beta"), std::string::npos);
}

TEST(Pdf, ChunkPagesAreOneBased) {
  auto r = load_bytes(make_pdf(two_pages()), Format::kPdf, "two.pdf");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const LoadedDocument& d = r->documents[0];
  ChunkerOptions o;
  o.target_tokens = 6;  // each page holds 9 words: forces several chunks per page
  o.overlap_tokens = 0;
  o.max_tokens = 9;
  auto chunks = chunk_text(d, o);
  ASSERT_GE(chunks.size(), 3u);
  bool saw1 = false, saw2 = false;
  for (const ChunkSpan& c : chunks) {
    int expected = c.byte_start >= d.page_starts[1] ? 2 : 1;
    EXPECT_EQ(c.page, expected) << c.byte_start;
    saw1 |= c.page == 1;
    saw2 |= c.page == 2;
  }
  EXPECT_TRUE(saw1 && saw2);
}

TEST(Pdf, TruncatedIsCorrupt) {
  ScratchDir dir;
  std::string pdf = make_pdf(two_pages());
  auto r = load_file(dir.write("cut.pdf", pdf.substr(0, pdf.size() / 2)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(r.error().message, HasSubstr("cut.pdf"));
}

TEST(Pdf, NotAPdfIsCorrupt) {
  auto r = load_bytes("hello, I am text", Format::kPdf, "fake.pdf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(r.error().message, HasSubstr("fake.pdf"));
}

TEST(Pdf, ZeroPagesIsCorrupt) {
  PdfSpec spec;  // a page tree with no kids
  auto r = load_bytes(make_pdf(spec), Format::kPdf, "nopages.pdf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
}

TEST(Pdf, PasswordProtectedIsUnsupported) {
  // Standard security handler whose /U entry no password matches: the empty user password
  // fails, so the document opens locked.
  PdfSpec spec = two_pages();
  const std::string k32(64, 'A');  // 32 bytes as hex
  spec.extra_obj =
      "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <" + k32 + "> /U <" + k32 + "> >>";
  const int encrypt_obj = 3 + 2 * 2 + 1 /*info*/ + 1;
  spec.encrypt = " /Encrypt " + std::to_string(encrypt_obj) +
                 " 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]";
  auto r = load_bytes(make_pdf(spec), Format::kPdf, "locked.pdf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported) << r.error().to_string();
  EXPECT_THAT(r.error().message, HasSubstr("encrypted"));
}

TEST(Pdf, NoTextIsUnsupported) {
  PdfSpec spec;
  spec.pages = {{}, {}};  // pages with empty content streams (like a scan without OCR)
  auto r = load_bytes(make_pdf(spec), Format::kPdf, "scan.pdf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

TEST(Pdf, EmptyPageKeepsPageNumbering) {
  PdfSpec spec;
  spec.pages = {{"First page words."}, {}, {"Third page words."}};
  auto r = load_bytes(make_pdf(spec), Format::kPdf, "gap.pdf");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const LoadedDocument& d = r->documents[0];
  ASSERT_EQ(d.page_starts.size(), 3u);
  EXPECT_EQ(d.text.substr(d.page_starts[2]).rfind("Third page words.", 0), 0u) << d.text;
  ChunkerOptions o;
  o.target_tokens = 3;
  o.overlap_tokens = 0;
  o.max_tokens = 3;
  auto chunks = chunk_text(d, o);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].page, 1);
  EXPECT_EQ(chunks[1].page, 3);
}

}  // namespace
}  // namespace ragft
