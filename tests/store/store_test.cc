#include "store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ragft {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/ragft_store_test_XXXXXX";
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

NewDocument make_doc(const std::string& ext_id, const std::string& hash,
                     const std::string& text = "hello world") {
  NewDocument d;
  d.ext_id = ext_id;
  d.source = "/data/" + ext_id + ".txt";
  d.format = "txt";
  d.title = "Title " + ext_id;
  d.text = text;
  d.content_hash = hash;
  d.source_mtime_ns = 1000;
  d.source_size = static_cast<std::int64_t>(text.size());
  return d;
}

NewChunk make_chunk(int ordinal, const std::string& text, std::uint64_t simhash = 0) {
  NewChunk c;
  c.ordinal = ordinal;
  c.char_start = 0;
  c.char_end = static_cast<std::int64_t>(text.size());
  c.text = text;
  c.simhash = simhash;
  return c;
}

// Runs one SQL statement on the file directly (for tampering), returning the first column of
// the first row as text ("" when none).
std::string raw_sql(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string out;
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  fs::path db_path() const { return dir_.path() / "store.db"; }
  Store open_store() {
    auto s = Store::open(db_path());
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return std::move(s).value();
  }
  TempDir dir_;
};

TEST_F(StoreTest, CreatesSchemaAndReopens) {
  {
    Store s = open_store();
    auto st = s.stats();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->documents, 0);
    EXPECT_EQ(st->chunks, 0);
    EXPECT_EQ(st->last_seq, 0);
    auto r = s.upsert(make_doc("a", "h1"), {make_chunk(0, "hello world")});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(s.path(), db_path());
  }
  EXPECT_EQ(raw_sql(db_path(), "PRAGMA application_id"), std::to_string(0x52414746));
  EXPECT_EQ(raw_sql(db_path(), "PRAGMA user_version"), "3");
  EXPECT_EQ(raw_sql(db_path(), "PRAGMA journal_mode"), "wal");
  Store s = open_store();
  auto d = s.find("default", "a");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->has_value());
  EXPECT_EQ((*d)->title, "Title a");
  EXPECT_EQ((*d)->text, "hello world");
  EXPECT_EQ((*d)->version, 1);
  auto st = s.stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->documents, 1);
  EXPECT_EQ(st->chunks, 1);
  EXPECT_EQ(st->last_seq, 1);
}

TEST_F(StoreTest, EmptyExistingFileGetsSchema) {
  std::ofstream(db_path()).close();
  ASSERT_TRUE(fs::exists(db_path()));
  Store s = open_store();
  auto r = s.upsert(make_doc("a", "h1"), {});
  EXPECT_TRUE(r.ok()) << r.error().to_string();
}

TEST_F(StoreTest, RandomBytesAreCorrupt) {
  {
    std::ofstream f(db_path(), std::ios::binary);
    std::string junk;
    std::uint32_t x = 12345;
    for (int i = 0; i < 4096; ++i) {
      x = x * 1103515245u + 12345u;
      junk.push_back(static_cast<char>(x >> 24));
    }
    f << junk;
  }
  auto s = Store::open(db_path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(s.error().message.find(db_path().string()), std::string::npos) << s.error().message;
}

TEST_F(StoreTest, SmallTextFileIsCorrupt) {
  std::ofstream(db_path()) << "not a database\n";
  auto s = Store::open(db_path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorrupt);
}

TEST_F(StoreTest, ForeignSqliteDatabaseIsCorrupt) {
  raw_sql(db_path(), "CREATE TABLE other(x INTEGER)");
  auto s = Store::open(db_path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(s.error().message.find(db_path().string()), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("not a ragft store"), std::string::npos) << s.error().message;
}

TEST_F(StoreTest, NewerSchemaVersionIsUnsupported) {
  { Store s = open_store(); }
  raw_sql(db_path(), "PRAGMA user_version=4");
  auto s = Store::open(db_path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);
}

TEST_F(StoreTest, VersionOneStoreIsUpgradedInPlace) {
  {
    Store s = open_store();
    ASSERT_TRUE(s.upsert(make_doc("a", "h1"), {make_chunk(0, "hello world")}).ok());
  }
  // What a version 1 store looks like: no embedding tables.
  raw_sql(db_path(), "DROP TABLE embeddings");
  raw_sql(db_path(), "DROP TABLE embedding_models");
  raw_sql(db_path(), "DROP TABLE api_keys");
  raw_sql(db_path(), "PRAGMA user_version=1");
  Store s = open_store();
  EXPECT_EQ(raw_sql(db_path(), "PRAGMA user_version"), "3");
  auto d = s.find("default", "a");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->has_value());
  std::vector<float> v = {1, 2};
  EXPECT_TRUE(s.put_embeddings("m", 2, {"h"}, v.data()).ok());
  EXPECT_TRUE(s.list_api_keys().ok());
}

TEST_F(StoreTest, VersionTwoStoreGetsTheApiKeyTable) {
  { Store s = open_store(); }
  raw_sql(db_path(), "DROP TABLE api_keys");
  raw_sql(db_path(), "PRAGMA user_version=2");
  Store s = open_store();
  EXPECT_EQ(raw_sql(db_path(), "PRAGMA user_version"), "3");
  auto listed = s.list_api_keys();
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  EXPECT_TRUE(listed->empty());
}

TEST_F(StoreTest, ApiKeysAddListRevoke) {
  Store s = open_store();
  ApiKeyRecord k;
  k.name = "ci";
  k.tenant = "acme";
  k.principal = "bob";
  k.admin = true;
  k.lookup = "0123456789abcdef";
  k.salt = "00ff";
  k.hash = "abcd";
  auto id = s.add_api_key(k);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  k.lookup = "fedcba9876543210";
  k.principal.reset();
  k.admin = false;
  auto id2 = s.add_api_key(k);
  ASSERT_TRUE(id2.ok());
  EXPECT_GT(*id2, *id);
  // The same lookup twice is refused (the store keeps it unique).
  EXPECT_FALSE(s.add_api_key(k).ok());
  k.tenant = "";
  auto empty = s.add_api_key(k);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);

  auto listed = s.list_api_keys();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  const ApiKeyRecord& a = (*listed)[0];
  EXPECT_EQ(a.id, *id);
  EXPECT_EQ(a.name, "ci");
  EXPECT_EQ(a.tenant, "acme");
  EXPECT_EQ(a.principal, std::optional<std::string>("bob"));
  EXPECT_TRUE(a.admin);
  EXPECT_EQ(a.lookup, "0123456789abcdef");
  EXPECT_EQ(a.salt, "00ff");
  EXPECT_EQ(a.hash, "abcd");
  EXPECT_GT(a.created_unix_ms, 0);
  EXPECT_FALSE(a.revoked_unix_ms.has_value());
  EXPECT_FALSE((*listed)[1].principal.has_value());
  EXPECT_FALSE((*listed)[1].admin);

  auto revoked = s.revoke_api_key(*id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(*revoked);
  auto again = s.revoke_api_key(*id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // already revoked: nothing changed
  auto unknown = s.revoke_api_key(9999);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
  listed = s.list_api_keys();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE((*listed)[0].revoked_unix_ms.has_value());
  EXPECT_FALSE((*listed)[1].revoked_unix_ms.has_value());
}

TEST_F(StoreTest, EmbeddingCacheIsKeyedByModelAndTextHash) {
  Store s = open_store();
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(s.put_embeddings("m1", 3, {"h1", "h2"}, a.data()).ok());
  std::vector<float> b = {-1, -2, -3};
  ASSERT_TRUE(s.put_embeddings("m2", 3, {"h1"}, b.data()).ok());

  std::vector<float> out;
  std::vector<bool> found;
  ASSERT_TRUE(s.get_embeddings("m1", 3, {"h2", "h3", "h1"}, out, found).ok());
  EXPECT_EQ(found, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(out, (std::vector<float>{4, 5, 6, 0, 0, 0, 1, 2, 3}));
  ASSERT_TRUE(s.get_embeddings("m2", 3, {"h1", "h2"}, out, found).ok());
  EXPECT_EQ(found, (std::vector<bool>{true, false}));
  EXPECT_EQ(out[0], -1);
  ASSERT_TRUE(s.get_embeddings("unknown", 3, {"h1"}, out, found).ok());
  EXPECT_EQ(found, (std::vector<bool>{false}));

  // Replacing a vector; another dimension for the same model is refused.
  std::vector<float> c = {7, 8, 9};
  ASSERT_TRUE(s.put_embeddings("m1", 3, {"h1"}, c.data()).ok());
  ASSERT_TRUE(s.get_embeddings("m1", 3, {"h1"}, out, found).ok());
  EXPECT_EQ(out, (std::vector<float>{7, 8, 9}));
  auto bad = s.get_embeddings("m1", 4, {"h1"}, out, found);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(s.put_embeddings("m1", 2, {"h9"}, c.data()).ok());

  auto n = s.forget_embeddings("m1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  ASSERT_TRUE(s.get_embeddings("m1", 3, {"h1", "h2"}, out, found).ok());
  EXPECT_EQ(found, (std::vector<bool>{false, false}));
  ASSERT_TRUE(s.get_embeddings("m2", 3, {"h1"}, out, found).ok());
  EXPECT_EQ(found, (std::vector<bool>{true}));
}

TEST_F(StoreTest, MissingDirectoryIsIo) {
  auto s = Store::open(dir_.path() / "no" / "such" / "dir" / "store.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
}

TEST_F(StoreTest, UpsertAddedUnchangedChanged) {
  Store s = open_store();
  auto r1 = s.upsert(make_doc("a", "h1"), {make_chunk(0, "one"), make_chunk(1, "two")});
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->outcome, UpsertOutcome::kAdded);
  EXPECT_EQ(r1->seq, 1);
  auto old_chunks = s.chunks_of(r1->id);
  ASSERT_TRUE(old_chunks.ok());
  ASSERT_EQ(old_chunks->size(), 2u);
  EXPECT_EQ((*old_chunks)[0].text, "one");
  EXPECT_EQ((*old_chunks)[1].text, "two");
  EXPECT_EQ((*old_chunks)[0].doc_id, r1->id);

  // Same hash/title/acl/metadata: unchanged, even with a newer mtime; nothing written.
  NewDocument same = make_doc("a", "h1");
  same.source_mtime_ns = 999'999;
  same.metadata_json = " { } ";  // same object, different spelling
  auto r2 = s.upsert(same, {make_chunk(0, "different chunk")});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcome, UpsertOutcome::kUnchanged);
  EXPECT_EQ(r2->id, r1->id);
  EXPECT_EQ(r2->seq, 0);
  auto d = s.get(r1->id);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->source_mtime_ns, 1000);
  EXPECT_EQ((*d)->version, 1);
  EXPECT_EQ(*s.last_seq(), 1);
  EXPECT_EQ(s.chunks_of(r1->id)->size(), 2u);

  // touch() updates only mtime/size.
  ASSERT_TRUE(s.touch(r1->id, 999'999, 77).ok());
  d = s.get(r1->id);
  EXPECT_EQ((*d)->source_mtime_ns, 999'999);
  EXPECT_EQ((*d)->source_size, 77);
  EXPECT_EQ(*s.last_seq(), 1);
  auto missing_touch = s.touch(12345, 1, 1);
  ASSERT_FALSE(missing_touch.ok());
  EXPECT_EQ(missing_touch.error().code, ErrorCode::kNotFound);
  // touch_batch(): one transaction; unknown ids are skipped and not counted; no change-log entry.
  auto touched = s.touch_batch({{r1->id, 123, 45}, {12345, 1, 1}});
  ASSERT_TRUE(touched.ok());
  EXPECT_EQ(*touched, 1u);
  d = s.get(r1->id);
  EXPECT_EQ((*d)->source_mtime_ns, 123);
  EXPECT_EQ((*d)->source_size, 45);
  EXPECT_EQ(*s.last_seq(), 1);
  EXPECT_EQ(*s.touch_batch({}), 0u);

  // Changed content: version 2, fresh chunk ids, old chunks gone.
  auto r3 = s.upsert(make_doc("a", "h2", "new text"), {make_chunk(0, "three")});
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->outcome, UpsertOutcome::kChanged);
  EXPECT_EQ(r3->id, r1->id);
  EXPECT_EQ(r3->seq, 2);
  d = s.get(r1->id);
  EXPECT_EQ((*d)->version, 2);
  EXPECT_EQ((*d)->text, "new text");
  EXPECT_EQ((*d)->content_hash, "h2");
  auto new_chunks = s.chunks_of(r1->id);
  ASSERT_EQ(new_chunks->size(), 1u);
  EXPECT_EQ((*new_chunks)[0].text, "three");
  EXPECT_GT((*new_chunks)[0].id, (*old_chunks)[1].id);
  for (const auto& c : *old_chunks) {
    auto gc = s.get_chunk(c.id);
    ASSERT_TRUE(gc.ok());
    EXPECT_FALSE(gc->has_value()) << "old chunk " << c.id << " still present";
  }

  // A title, acl or metadata change alone is a change too.
  NewDocument titled = make_doc("a", "h2", "new text");
  titled.title = "Other";
  EXPECT_EQ(s.upsert(titled, {})->outcome, UpsertOutcome::kChanged);
  titled.acl = {"staff"};
  EXPECT_EQ(s.upsert(titled, {})->outcome, UpsertOutcome::kChanged);
  titled.metadata_json = R"({"lang":"en"})";
  EXPECT_EQ(s.upsert(titled, {})->outcome, UpsertOutcome::kChanged);
  EXPECT_EQ(s.upsert(titled, {})->outcome, UpsertOutcome::kUnchanged);
  EXPECT_EQ((*s.get(r1->id))->version, 5);
}

TEST_F(StoreTest, StoresAllFields) {
  Store s = open_store();
  NewDocument d = make_doc("p.pdf", "hp");
  d.tenant = "acme";
  d.format = "pdf";
  d.acl = {"sales", "eng", "sales"};
  d.metadata_json = R"({"b": "2", "a": "1"})";
  d.page_starts = {0, 120, 4000};
  NewChunk c = make_chunk(3, "chunk text");
  c.char_start = 5;
  c.char_end = 15;
  c.page = 2;
  c.simhash = 0xFFFF'0000'1234'5678ull;  // high bit set: stored as a negative int64
  auto r = s.upsert(d, {c});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  auto got = s.find("acme", "p.pdf");
  ASSERT_TRUE(got.ok() && got->has_value());
  const DocumentRecord& rec = **got;
  EXPECT_EQ(rec.tenant, "acme");
  EXPECT_EQ(rec.format, "pdf");
  EXPECT_EQ(rec.source, "/data/p.pdf.txt");
  EXPECT_EQ(rec.acl, (std::vector<std::string>{"eng", "sales"}));  // sorted, deduplicated
  EXPECT_EQ(rec.metadata_json, R"({"a":"1","b":"2"})");              // canonical form
  EXPECT_EQ(rec.page_starts, (std::vector<std::int64_t>{0, 120, 4000}));
  EXPECT_FALSE(s.find("default", "p.pdf")->has_value());
  auto chunks = s.chunks_of(rec.id);
  ASSERT_EQ(chunks->size(), 1u);
  const ChunkRecord& cr = (*chunks)[0];
  EXPECT_EQ(cr.ordinal, 3);
  EXPECT_EQ(cr.char_start, 5);
  EXPECT_EQ(cr.char_end, 15);
  EXPECT_EQ(cr.page, 2);
  EXPECT_EQ(cr.simhash, 0xFFFF'0000'1234'5678ull);
  EXPECT_FALSE(cr.near_duplicate_of.has_value());
}

TEST_F(StoreTest, ChangelogOrderAndRemove) {
  Store s = open_store();
  auto a = s.upsert(make_doc("a", "1"), {make_chunk(0, "x")});
  auto b = s.upsert(make_doc("b", "1"), {make_chunk(0, "y")});
  auto a2 = s.upsert(make_doc("a", "2"), {make_chunk(0, "z")});
  ASSERT_TRUE(a.ok() && b.ok() && a2.ok());
  auto removed = s.remove("default", "b");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  auto again = s.remove("default", "b");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_FALSE(*s.remove("other-tenant", "a"));

  auto ch = s.changes_since(0);
  ASSERT_TRUE(ch.ok());
  ASSERT_EQ(ch->size(), 4u);
  const std::vector<std::pair<ChangeOp, DocId>> want = {
      {ChangeOp::kUpsert, a->id}, {ChangeOp::kUpsert, b->id},
      {ChangeOp::kUpsert, a->id}, {ChangeOp::kDelete, b->id}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*ch)[i].seq, static_cast<Seq>(i + 1));
    EXPECT_EQ((*ch)[i].op, want[i].first);
    EXPECT_EQ((*ch)[i].doc_id, want[i].second);
  }
  auto tail = s.changes_since(2);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].seq, 3);
  auto limited = s.changes_since(0, 1);
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].seq, 1);
  EXPECT_TRUE(s.changes_since(4)->empty());
  EXPECT_EQ(*s.last_seq(), 4);

  // Each change lists the chunk ids it deleted: none for first inserts, a's first chunk when a
  // changed, b's chunk when b was removed.
  EXPECT_TRUE((*ch)[0].removed_chunks.empty());
  EXPECT_TRUE((*ch)[1].removed_chunks.empty());
  ASSERT_EQ((*ch)[2].removed_chunks.size(), 1u);
  ASSERT_EQ((*ch)[3].removed_chunks.size(), 1u);
  EXPECT_EQ((*ch)[2].removed_chunks[0], 1u);  // chunk ids 1 (a), 2 (b), 3 (a again)
  EXPECT_EQ((*ch)[3].removed_chunks[0], 2u);

  // The removed document and its chunks are gone; a consumer sees nullopt.
  EXPECT_FALSE(s.get(b->id)->has_value());
  EXPECT_TRUE(s.chunks_of(b->id)->empty());
  EXPECT_TRUE(s.chunk_access_of(b->id)->empty());
  auto st = s.stats();
  EXPECT_EQ(st->documents, 1);
  EXPECT_EQ(st->chunks, 1);

  // A re-added document gets a new id (ids are never reused).
  auto b2 = s.upsert(make_doc("b", "1"), {});
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ(b2->outcome, UpsertOutcome::kAdded);
  EXPECT_GT(b2->id, b->id);
  EXPECT_EQ(b2->seq, 5);
}

TEST_F(StoreTest, BatchIsAllOrNothing) {
  Store s = open_store();
  ASSERT_TRUE(s.upsert(make_doc("existing", "1"), {make_chunk(0, "e")}).ok());
  std::vector<std::pair<NewDocument, std::vector<NewChunk>>> batch;
  batch.push_back({make_doc("existing", "2"), {make_chunk(0, "e2")}});
  batch.push_back({make_doc("good", "1"), {make_chunk(0, "g")}});
  NewDocument bad = make_doc("doc-bad", "1");
  bad.metadata_json = R"({"lang": "en")";  // unterminated
  batch.push_back({bad, {make_chunk(0, "b")}});
  auto r = s.upsert_batch(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("doc-bad"), std::string::npos) << r.error().message;

  auto st = s.stats();
  EXPECT_EQ(st->documents, 1);
  EXPECT_EQ(st->chunks, 1);
  EXPECT_EQ(st->last_seq, 1);
  EXPECT_FALSE(s.find("default", "good")->has_value());
  auto existing = s.find("default", "existing");
  EXPECT_EQ((*existing)->version, 1);
  EXPECT_EQ((*existing)->content_hash, "1");

  // The store is still usable after the rollback.
  batch.pop_back();
  auto ok = s.upsert_batch(batch);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].outcome, UpsertOutcome::kChanged);
  EXPECT_EQ((*ok)[1].outcome, UpsertOutcome::kAdded);
  EXPECT_EQ((*ok)[0].seq, 2);
  EXPECT_EQ((*ok)[1].seq, 3);
}

TEST_F(StoreTest, InvalidDocumentsAreRejected) {
  Store s = open_store();
  NewDocument not_object = make_doc("arr", "1");
  not_object.metadata_json = "[1, 2]";
  auto r = s.upsert(not_object, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("\"arr\""), std::string::npos) << r.error().message;

  auto empty_id = s.upsert(make_doc("", "1"), {});
  ASSERT_FALSE(empty_id.ok());
  EXPECT_EQ(empty_id.error().code, ErrorCode::kInvalidArgument);

  NewChunk backwards = make_chunk(0, "x");
  backwards.char_start = 10;
  backwards.char_end = 5;
  auto bad_range = s.upsert(make_doc("c", "1"), {backwards});
  ASSERT_FALSE(bad_range.ok());
  EXPECT_EQ(bad_range.error().code, ErrorCode::kInvalidArgument);

  NewDocument bad_utf8 = make_doc("u", "1");
  bad_utf8.acl = {std::string("\xff\xfe")};
  auto bad_acl = s.upsert(bad_utf8, {});
  ASSERT_FALSE(bad_acl.ok());
  EXPECT_EQ(bad_acl.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.stats()->documents, 0);
  EXPECT_EQ(*s.last_seq(), 0);
}

TEST_F(StoreTest, BatchOfThousand) {
  Store s = open_store();
  std::vector<std::pair<NewDocument, std::vector<NewChunk>>> batch;
  for (int i = 0; i < 1000; ++i) {
    std::string id = fmt::format("doc-{}", i);
    // Distinct simhashes spread over the bands so the near-duplicate search has work to do.
    std::uint64_t h = (static_cast<std::uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ull;
    batch.push_back({make_doc(id, "h" + id, "text " + id), {make_chunk(0, "text " + id, h)}});
  }
  auto r = s.upsert_batch(batch);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1000u);
  for (std::size_t i = 0; i < r->size(); ++i) {
    EXPECT_EQ((*r)[i].seq, static_cast<Seq>(i + 1));
    EXPECT_EQ((*r)[i].outcome, UpsertOutcome::kAdded);
  }
  EXPECT_EQ(s.stats()->chunks, 1000);
}

TEST_F(StoreTest, NearDuplicates) {
  Store s = open_store();
  const std::uint64_t h = 0x1234'5678'9ABC'DEF0ull;
  auto a = s.upsert(make_doc("a", "1"), {make_chunk(0, "base", h)});
  ASSERT_TRUE(a.ok());
  ChunkId base_id = (*s.chunks_of(a->id))[0].id;

  // 2 bits differ (both in band 0; bands 1-3 shared): linked.
  auto b = s.upsert(make_doc("b", "1"), {make_chunk(0, "near", h ^ 0b101)});
  // 5 bits differ (all in band 0; bands 1-3 shared) from base, 7 from b: not linked.
  auto c = s.upsert(make_doc("c", "1"), {make_chunk(0, "far", h ^ (0b11111ull << 8))});
  // 3 bits, one in each of bands 0, 1 and 2 (band 3 shared): linked.
  std::uint64_t three = h ^ (1ull << 3) ^ (1ull << 20) ^ (1ull << 40);
  auto d = s.upsert(make_doc("d", "1"), {make_chunk(0, "near3", three)});
  // Same sketch, other tenant: not linked.
  NewDocument other = make_doc("e", "1");
  other.tenant = "other";
  auto e = s.upsert(other, {make_chunk(0, "other tenant", h)});
  // simhash 0: never linked, never a candidate.
  auto z1 = s.upsert(make_doc("z1", "1"), {make_chunk(0, "short")});
  auto z2 = s.upsert(make_doc("z2", "1"), {make_chunk(0, "short")});
  ASSERT_TRUE(b.ok() && c.ok() && d.ok() && e.ok() && z1.ok() && z2.ok());

  EXPECT_EQ((*s.chunks_of(b->id))[0].near_duplicate_of, std::optional<ChunkId>(base_id));
  EXPECT_FALSE((*s.chunks_of(c->id))[0].near_duplicate_of.has_value());
  EXPECT_EQ((*s.chunks_of(d->id))[0].near_duplicate_of, std::optional<ChunkId>(base_id));
  EXPECT_FALSE((*s.chunks_of(e->id))[0].near_duplicate_of.has_value());
  EXPECT_FALSE((*s.chunks_of(z2->id))[0].near_duplicate_of.has_value());

  // Within one upsert: the second chunk repeats the first.
  const std::uint64_t g = 0x0F0F'0F0F'0F0F'0F0Full;
  auto f = s.upsert(make_doc("f", "1"), {make_chunk(0, "first", g), make_chunk(1, "second", g ^ 1)});
  ASSERT_TRUE(f.ok());
  auto fc = *s.chunks_of(f->id);
  EXPECT_FALSE(fc[0].near_duplicate_of.has_value());
  EXPECT_EQ(fc[1].near_duplicate_of, std::optional<ChunkId>(fc[0].id));

  // Several candidates (base: 1 bit away, b: 1 bit away): the lowest id is recorded.
  auto m = s.upsert(make_doc("m", "1"), {make_chunk(0, "multi", h ^ 0b1)});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*s.chunks_of(m->id))[0].near_duplicate_of, std::optional<ChunkId>(base_id));

  // A caller-set link is kept as given.
  NewChunk given = make_chunk(0, "given", 0xAAAA'AAAA'AAAA'AAAAull);
  given.near_duplicate_of = 4242;
  auto gdoc = s.upsert(make_doc("g", "1"), {given});
  ASSERT_TRUE(gdoc.ok());
  EXPECT_EQ((*s.chunks_of(gdoc->id))[0].near_duplicate_of, std::optional<ChunkId>(4242));

  // Linked: b, d, f#1, m, g.
  EXPECT_EQ(s.stats()->near_duplicate_chunks, 5);
}

TEST_F(StoreTest, ChangedDocumentDoesNotLinkToItsOldChunks) {
  Store s = open_store();
  const std::uint64_t h = 0xDEAD'BEEF'0000'1111ull;
  auto a = s.upsert(make_doc("a", "1"), {make_chunk(0, "v1", h)});
  auto a2 = s.upsert(make_doc("a", "2"), {make_chunk(0, "v2", h ^ 1)});
  ASSERT_TRUE(a.ok() && a2.ok());
  EXPECT_FALSE((*s.chunks_of(a->id))[0].near_duplicate_of.has_value());
  EXPECT_EQ(s.stats()->near_duplicate_chunks, 0);
}

TEST_F(StoreTest, MetadataFilter) {
  Store s = open_store();
  NewDocument en = make_doc("en", "1");
  en.metadata_json = R"({"lang": "en", "x.y": "dot", "a\"b": "quote"})";
  NewDocument de = make_doc("de", "1");
  de.metadata_json = R"({"lang": "de"})";
  NewDocument num = make_doc("num", "1");
  num.metadata_json = R"({"lang": 5})";
  auto r_en = s.upsert(en, {make_chunk(0, "a"), make_chunk(1, "b")});
  auto r_de = s.upsert(de, {make_chunk(0, "c")});
  auto r_num = s.upsert(num, {make_chunk(0, "d")});
  ASSERT_TRUE(r_en.ok() && r_de.ok() && r_num.ok());
  auto en_chunks = *s.chunks_of(r_en->id);

  auto got = s.chunks_with_metadata("lang", "en");
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(*got, (std::vector<ChunkId>{en_chunks[0].id, en_chunks[1].id}));
  EXPECT_EQ(*s.chunks_with_metadata("lang", "de"),
            (std::vector<ChunkId>{(*s.chunks_of(r_de->id))[0].id}));
  EXPECT_TRUE(s.chunks_with_metadata("lang", "5")->empty());  // numbers are not strings
  EXPECT_TRUE(s.chunks_with_metadata("lang", "fr")->empty());
  EXPECT_TRUE(s.chunks_with_metadata("missing", "en")->empty());
  EXPECT_EQ(s.chunks_with_metadata("x.y", "dot")->size(), 2u);
  EXPECT_EQ(s.chunks_with_metadata("a\"b", "quote")->size(), 2u);
  EXPECT_TRUE(s.chunks_with_metadata("x", "dot")->empty());
}

TEST_F(StoreTest, Principals) {
  Store s = open_store();
  Principal alice{"alice", "default", {"sales", "eng"}};
  ASSERT_TRUE(s.put_principal(alice).ok());
  auto got = s.get_principal("default", "alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->name, "alice");
  EXPECT_EQ((*got)->tenant, "default");
  EXPECT_EQ((*got)->groups, (std::vector<std::string>{"eng", "sales"}));
  EXPECT_FALSE(s.get_principal("acme", "alice")->has_value());
  EXPECT_FALSE(s.get_principal("default", "bob")->has_value());

  alice.groups = {"hr"};
  ASSERT_TRUE(s.put_principal(alice).ok());
  EXPECT_EQ((*s.get_principal("default", "alice"))->groups, (std::vector<std::string>{"hr"}));

  auto bad = s.put_principal(Principal{"", "default", {}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(StoreTest, ChunkAccessAndForEachChunk) {
  Store s = open_store();
  NewDocument a = make_doc("a", "1");
  a.acl = {"sales"};
  NewDocument b = make_doc("b", "1");
  b.tenant = "acme";
  auto ra = s.upsert(a, {make_chunk(0, "a0"), make_chunk(1, "a1")});
  auto rb = s.upsert(b, {make_chunk(0, "b0")});
  // Re-upsert a: its chunks get ids after b's.
  a.content_hash = "2";
  auto ra2 = s.upsert(a, {make_chunk(0, "a0'"), make_chunk(1, "a1'")});
  ASSERT_TRUE(ra.ok() && rb.ok() && ra2.ok());

  auto acc = s.chunk_access_of(ra->id);
  ASSERT_TRUE(acc.ok());
  ASSERT_EQ(acc->size(), 2u);
  for (const auto& x : *acc) {
    EXPECT_EQ(x.doc_id, ra->id);
    EXPECT_EQ(x.tenant, "default");
    EXPECT_EQ(x.acl, (std::vector<std::string>{"sales"}));
  }
  EXPECT_LT((*acc)[0].id, (*acc)[1].id);

  std::vector<ChunkId> ids;
  std::vector<std::string> texts, tenants;
  Status st = s.for_each_chunk([&](const ChunkRecord& c, const ChunkAccess& access) -> Status {
    EXPECT_EQ(c.id, access.id);
    EXPECT_EQ(c.doc_id, access.doc_id);
    ids.push_back(c.id);
    texts.push_back(c.text);
    tenants.push_back(access.tenant);
    // Re-entrant reads are allowed inside the callback.
    auto doc = s.get(c.doc_id);
    EXPECT_TRUE(doc.ok() && doc->has_value());
    EXPECT_EQ((*doc)->acl, access.acl);
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(texts, (std::vector<std::string>{"b0", "a0'", "a1'"}));
  EXPECT_EQ(tenants, (std::vector<std::string>{"acme", "default", "default"}));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  // An error from the callback stops the walk and comes back as is.
  int calls = 0;
  Status stopped = s.for_each_chunk([&](const ChunkRecord&, const ChunkAccess&) -> Status {
    ++calls;
    return make_error(ErrorCode::kCancelled, "stop");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(calls, 1);

  // Nested walks (same cached statement) work.
  int nested = 0;
  ASSERT_TRUE(s.for_each_chunk([&](const ChunkRecord&, const ChunkAccess&) -> Status {
                 return s.for_each_chunk([&](const ChunkRecord&, const ChunkAccess&) -> Status {
                   ++nested;
                   return ok_status();
                 });
               }).ok());
  EXPECT_EQ(nested, 9);
}

// What a search joins its hits with: every field as get_chunk() and get() read it, aligned with
// the ids asked for (order, repeats, missing ids and deleted chunks included).
TEST_F(StoreTest, ChunksWithDocumentsAreAlignedWithTheIds) {
  Store s = open_store();
  auto a = s.upsert(make_doc("a", "h1", "alpha text"), {make_chunk(0, "alpha one"), make_chunk(1, "alpha two")});
  ASSERT_TRUE(a.ok());
  NewDocument bd = make_doc("b", "h1", "beta \"quoted\" text");
  bd.title = "B \"title\"";
  auto b = s.upsert(bd, {make_chunk(0, "beta one")});
  ASSERT_TRUE(b.ok());
  auto a_chunks = s.chunks_of(a->id);
  auto b_chunks = s.chunks_of(b->id);
  ASSERT_TRUE(a_chunks.ok() && b_chunks.ok());
  ASSERT_EQ(a_chunks->size(), 2u);
  ASSERT_EQ(b_chunks->size(), 1u);
  const ChunkId a0 = (*a_chunks)[0].id, a1 = (*a_chunks)[1].id, b0 = (*b_chunks)[0].id;
  const ChunkId missing = b0 + 1000;

  const std::vector<ChunkId> ids = {b0, missing, a1, a0, b0};
  auto rows = s.get_chunks_with_documents(ids);
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == missing) {
      EXPECT_FALSE((*rows)[i].has_value()) << i;
      continue;
    }
    ASSERT_TRUE((*rows)[i].has_value()) << i;
    const Store::ChunkWithDocument& row = *(*rows)[i];
    auto chunk = s.get_chunk(ids[i]);
    ASSERT_TRUE(chunk.ok() && chunk->has_value());
    EXPECT_EQ(row.chunk.id, (*chunk)->id);
    EXPECT_EQ(row.chunk.doc_id, (*chunk)->doc_id);
    EXPECT_EQ(row.chunk.ordinal, (*chunk)->ordinal);
    EXPECT_EQ(row.chunk.char_start, (*chunk)->char_start);
    EXPECT_EQ(row.chunk.char_end, (*chunk)->char_end);
    EXPECT_EQ(row.chunk.page, (*chunk)->page);
    EXPECT_EQ(row.chunk.text, (*chunk)->text);
    EXPECT_EQ(row.chunk.simhash, (*chunk)->simhash);
    EXPECT_EQ(row.chunk.near_duplicate_of, (*chunk)->near_duplicate_of);
    auto doc = s.get(row.chunk.doc_id);
    ASSERT_TRUE(doc.ok() && doc->has_value());
    EXPECT_EQ(row.ext_id, (*doc)->ext_id);
    EXPECT_EQ(row.title, (*doc)->title);
    EXPECT_EQ(row.source, (*doc)->source);
  }
  EXPECT_EQ((*rows)[0]->title, "B \"title\"");
  EXPECT_EQ((*rows)[2]->chunk.text, "alpha two");
  EXPECT_EQ((*rows)[3]->ext_id, "a");

  // A changed document's old chunks are gone; no ids, no rows.
  ASSERT_TRUE(s.upsert(make_doc("a", "h2", "alpha new"), {make_chunk(0, "alpha three")}).ok());
  rows = s.get_chunks_with_documents({a0, b0, a1});
  ASSERT_TRUE(rows.ok());
  EXPECT_FALSE((*rows)[0].has_value());
  EXPECT_TRUE((*rows)[1].has_value());
  EXPECT_FALSE((*rows)[2].has_value());
  rows = s.get_chunks_with_documents({});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(StoreTest, ListSources) {
  Store s = open_store();
  NewDocument a = make_doc("a", "ha");
  a.source = "/data/100%_x/a.txt";
  NewDocument b = make_doc("b", "hb");
  b.source = "/data/other/b.txt";
  NewDocument c = make_doc("c", "hc");
  c.source = "/data/100ab_x/c.txt";  // would match a LIKE '100%_x' pattern
  NewDocument t = make_doc("t", "ht");
  t.tenant = "acme";
  ASSERT_TRUE(s.upsert(a, {}).ok() && s.upsert(b, {}).ok() && s.upsert(c, {}).ok() &&
              s.upsert(t, {}).ok());
  auto all = s.list_sources("default");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  auto pref = s.list_sources("default", "/data/100%_x/");
  ASSERT_EQ(pref->size(), 1u);
  EXPECT_EQ((*pref)[0].ext_id, "a");
  EXPECT_EQ((*pref)[0].content_hash, "ha");
  EXPECT_EQ((*pref)[0].mtime_ns, 1000);
  EXPECT_EQ((*pref)[0].source, "/data/100%_x/a.txt");
  EXPECT_EQ(s.list_sources("acme")->size(), 1u);
}

TEST_F(StoreTest, ChunkIdsMustFitInUint32) {
  Store s = open_store();
  ASSERT_TRUE(s.upsert(make_doc("first", "1"), {make_chunk(0, "x")}).ok());
  raw_sql(db_path(), "UPDATE sqlite_sequence SET seq = 4294967294 WHERE name = 'chunks'");
  auto r = s.upsert(make_doc("big", "1"), {make_chunk(0, "a"), make_chunk(1, "b")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_FALSE(s.find("default", "big")->has_value());
  EXPECT_EQ(*s.last_seq(), 1);
  auto one = s.upsert(make_doc("big", "1"), {make_chunk(0, "a")});
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ((*s.chunks_of(one->id))[0].id, 4294967295u);
}

TEST_F(StoreTest, SqliteErrorMidUpsertRollsBackAndNamesTheDocument) {
  Store s = open_store();
  ASSERT_TRUE(s.upsert(make_doc("doc-6", "1"), {make_chunk(0, "x")}).ok());
  raw_sql(db_path(),
          "CREATE TRIGGER fail_chunk BEFORE INSERT ON chunks WHEN NEW.text = 'boom' "
          "BEGIN SELECT RAISE(ABORT, 'chunk rejected by trigger'); END");
  auto r = s.upsert(make_doc("doc-7", "1"), {make_chunk(0, "fine"), make_chunk(1, "boom")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_NE(r.error().message.find("upsert \"doc-7\": chunk rejected by trigger"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(s.find("default", "doc-7")->has_value());
  auto st = s.stats();
  EXPECT_EQ(st->documents, 1);
  EXPECT_EQ(st->chunks, 1);
  EXPECT_EQ(st->last_seq, 1);
  // A changed document that fails keeps its old version and chunks.
  auto r6 = s.upsert(make_doc("doc-6", "2"), {make_chunk(0, "boom")});
  ASSERT_FALSE(r6.ok());
  auto d6 = s.find("default", "doc-6");
  EXPECT_EQ((*d6)->version, 1);
  EXPECT_EQ((*s.chunks_of((*d6)->id))[0].text, "x");
  EXPECT_TRUE(s.upsert(make_doc("doc-8", "1"), {make_chunk(0, "fine")}).ok());
}

TEST_F(StoreTest, TamperedRowIsCorrupt) {
  Store s = open_store();
  auto r = s.upsert(make_doc("a", "1"), {});
  ASSERT_TRUE(r.ok());
  raw_sql(db_path(), "UPDATE documents SET acl_json = 'nope'");
  auto d = s.get(r->id);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kCorrupt);
}

TEST_F(StoreTest, TwoConnectionsSeeEachOther) {
  Store w = open_store();
  Store r = open_store();
  ASSERT_TRUE(w.upsert(make_doc("a", "1"), {make_chunk(0, "x")}).ok());
  EXPECT_TRUE(r.find("default", "a")->has_value());
  EXPECT_EQ(*r.last_seq(), 1);
  Store moved = std::move(r);
  EXPECT_EQ(moved.stats()->documents, 1);
}

TEST_F(StoreTest, AcknowledgedUpsertsSurviveKill) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto s = Store::open(db_path());
    if (!s.ok()) _exit(2);
    for (int i = 0;; ++i) {
      std::string id = fmt::format("k{}", i);
      auto r = s->upsert(make_doc(id, "h"), {make_chunk(0, "chunk " + id)});
      if (!r.ok()) _exit(3);
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(4);
      if (i == 20) kill(getpid(), SIGKILL);
    }
  }
  close(fds[1]);
  int last_acked = -1, v = 0;
  while (read(fds[0], &v, sizeof v) == sizeof v) last_acked = v;
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_EQ(last_acked, 20);
  Store s = open_store();
  for (int i = 0; i <= last_acked; ++i) {
    auto d = s.find("default", fmt::format("k{}", i));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->has_value()) << "acknowledged k" << i << " lost";
  }
  EXPECT_EQ(*s.last_seq(), 21);
  EXPECT_TRUE(s.upsert(make_doc("after", "1"), {}).ok());
}

}  // namespace
}  // namespace ragft
