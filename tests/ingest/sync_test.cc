// Incremental sync into the store: counts, bad input isolation, change detection, prune.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/sync.h"
#include "test_util.h"

namespace ragft {
namespace {

using testing_ingest::ScratchDir;

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "docs");
    auto s = Store::open(dir_.path() / "store.db");
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    store_ = std::make_unique<Store>(std::move(s).value());
  }
  std::filesystem::path docs() const { return dir_.path() / "docs"; }
  std::filesystem::path write(const std::string& rel, std::string_view bytes) {
    std::filesystem::create_directories((docs() / rel).parent_path());
    return dir_.write("docs/" + rel, bytes);
  }
  Result<SyncSummary> sync(SyncOptions o = {}) { return sync_paths(*store_, {docs()}, o); }

  ScratchDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SyncTest, BadFilesAreCountedAndNeverStopTheBatch) {
  write("a.txt", "Alpha document about glaciers.\n");
  write("b.md", "# Beta\n\nBeta document about deserts.\n");
  write("empty.txt", "");
  write("binary.txt", std::string("abc\0def\x01\x02", 9));
  write("bad_utf8.txt", "valid start \xC3\x28 then invalid\n");
  write("truncated.pdf", "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Ty");
  write("unknown.xyz", "not a supported format, skipped\n");
  {  // over 1 GiB: sparse, costs no disk
    int fd = ::open((docs() / "huge.txt").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, (1ll << 30) + 1), 0);
    ::close(fd);
  }
  // Unreadable: a dangling link (root can read any mode, so chmod would not do).
  std::filesystem::create_symlink(docs() / "gone.txt", docs() / "dangling.txt");
  // A FIFO must never be opened (it would block).
  ASSERT_EQ(::mkfifo((docs() / "pipe.txt").c_str(), 0644), 0);

  std::vector<std::string> committed;
  SyncOptions o;
  o.on_committed = [&](const std::vector<std::string>& ids) {
    committed.insert(committed.end(), ids.begin(), ids.end());
  };
  auto r = sync(o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->added, 2u);
  EXPECT_EQ(r->failed, 7u);  // empty, binary, bad utf-8, truncated pdf, huge, dangling, fifo
  EXPECT_EQ(r->skipped, 1u);  // unknown.xyz
  EXPECT_EQ(committed.size(), 2u);
  std::string all;
  for (const auto& f : r->failures) all += f + "\n";
  for (const char* name : {"empty.txt", "binary.txt", "bad_utf8.txt", "truncated.pdf", "huge.txt",
                           "dangling.txt", "pipe.txt"}) {
    EXPECT_NE(all.find(name), std::string::npos) << name << " not reported in:\n" << all;
  }
  auto stats = store_->stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 2);
}

TEST_F(SyncTest, UnchangedChangedAndPrune) {
  write("a.txt", "Alpha document about glaciers.\n");
  write("sub/b.txt", "Beta document about deserts.\n");
  write("c.txt", "Gamma document about forests.\n");
  auto first = sync();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->added, 3u);

  auto second = sync();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->unchanged, 3u);
  EXPECT_EQ(second->bytes_read, 0u);  // size+mtime matched: nothing was read

  write("a.txt", "Alpha document about ice sheets, rewritten.\n");
  std::filesystem::remove(docs() / "c.txt");
  auto third = sync();  // without --prune nothing is removed
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->changed, 1u);
  EXPECT_EQ(third->unchanged, 1u);
  EXPECT_EQ(third->removed, 0u);
  SyncOptions prune;
  prune.prune = true;
  auto fourth = sync(prune);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->removed, 1u);
  EXPECT_EQ(store_->stats()->documents, 2);
  auto a = store_->find("default", (std::filesystem::weakly_canonical(docs() / "a.txt")).string());
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->version, 2);
  EXPECT_NE((*a)->text.find("ice sheets"), std::string::npos);
}

TEST_F(SyncTest, IncludeExcludeGlobsAndHiddenFiles) {
  write("keep.md", "# Keep\n\nKept text.\n");
  write("drop.txt", "Dropped text.\n");
  write("notes/draft.md", "# Draft\n\nDraft text.\n");
  write(".hidden/secret.md", "# Secret\n\nHidden text.\n");
  SyncOptions o;
  o.include = {"*.md"};
  o.exclude = {"notes/*"};
  auto r = sync(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->added, 1u);
  EXPECT_EQ(r->skipped, 2u);  // drop.txt (not included), notes/draft.md (excluded)
}

TEST_F(SyncTest, MissingPathIsNotFound) {
  auto r = sync_paths(*store_, {dir_.path() / "nope"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(SyncTest, JsonlRecordsKeepTheirAclAndPruneRemovesVanishedRecords) {
  write("c.jsonl",
        "{\"id\":\"1\",\"text\":\"one\",\"acl\":[\"eng\"]}\n{\"id\":\"2\",\"text\":\"two\"}\n");
  SyncOptions o;
  o.acl = {"default-group"};
  ASSERT_TRUE(sync(o).ok());
  auto one = store_->find("default", "1");
  auto two = store_->find("default", "2");
  ASSERT_TRUE(one.ok() && one->has_value() && two.ok() && two->has_value());
  EXPECT_EQ((*one)->acl, std::vector<std::string>{"eng"});
  EXPECT_EQ((*two)->acl, std::vector<std::string>{"default-group"});
  write("c.jsonl", "{\"id\":\"1\",\"text\":\"one\",\"acl\":[\"eng\"]}\n");
  o.prune = true;
  auto r = sync(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 1u);
  EXPECT_FALSE(store_->find("default", "2")->has_value());
}

}  // namespace
}  // namespace ragft
