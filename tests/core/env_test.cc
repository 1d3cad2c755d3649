#include "core/env.h"

#include <filesystem>
#include <string>
#include <utility>

#include <unistd.h>

#include <gtest/gtest.h>

namespace ragft {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("ragft_core_env_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(EnvTest, ReadMissingFileIsNotFound) {
  Result<std::string> r = Env::posix().read_file(dir_ / "nope.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("nope.txt"), std::string::npos);
}

TEST_F(EnvTest, WriteThenRead) {
  Env& env = Env::posix();
  fs::path p = dir_ / "a.bin";
  std::string data("hello\0world\n", 12);  // embedded NUL survives
  ASSERT_TRUE(env.write_file_atomic(p, data).ok());
  Result<std::string> r = env.read_file(p);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, data);
}

TEST_F(EnvTest, WriteEmptyAndLargeFiles) {
  Env& env = Env::posix();
  ASSERT_TRUE(env.write_file_atomic(dir_ / "empty", "").ok());
  Result<std::string> e = env.read_file(dir_ / "empty");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());

  // Larger than the 64 KiB read buffer, so read_file must loop.
  std::string big(200000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  ASSERT_TRUE(env.write_file_atomic(dir_ / "big", big).ok());
  Result<std::string> b = env.read_file(dir_ / "big");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, big);
}

TEST_F(EnvTest, OverwriteReplacesAndLeavesNoTmp) {
  Env& env = Env::posix();
  fs::path p = dir_ / "m.json";
  ASSERT_TRUE(env.write_file_atomic(p, "first version, longer").ok());
  ASSERT_TRUE(env.write_file_atomic(p, "v2").ok());
  Result<std::string> r = env.read_file(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v2");
  EXPECT_FALSE(fs::exists(dir_ / "m.json.tmp"));
  int entries = 0;
  for (const auto& ent : fs::directory_iterator(dir_)) {
    (void)ent;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(EnvTest, WriteIntoMissingDirectoryIsIo) {
  Status s = Env::posix().write_file_atomic(dir_ / "no_such_dir" / "x", "data");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_FALSE(fs::exists(dir_ / "no_such_dir"));
}

TEST_F(EnvTest, CreateDirs) {
  Env& env = Env::posix();
  fs::path nested = dir_ / "a" / "b" / "c";
  ASSERT_TRUE(env.create_dirs(nested).ok());
  EXPECT_TRUE(fs::is_directory(nested));
  EXPECT_TRUE(env.create_dirs(nested).ok());  // already there: fine
  ASSERT_TRUE(env.write_file_atomic(nested / "f", "x").ok());
  Result<std::string> r = env.read_file(nested / "f");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "x");
}

TEST_F(EnvTest, CreateDirsUnderAFileIsIo) {
  Env& env = Env::posix();
  ASSERT_TRUE(env.write_file_atomic(dir_ / "file", "x").ok());
  Status s = env.create_dirs(dir_ / "file" / "sub");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
}

TEST_F(EnvTest, RemoveFile) {
  Env& env = Env::posix();
  fs::path p = dir_ / "gone";
  ASSERT_TRUE(env.write_file_atomic(p, "x").ok());
  ASSERT_TRUE(env.remove_file(p).ok());
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(env.remove_file(p).ok());  // missing: still ok
  EXPECT_TRUE(env.remove_file(dir_ / "never_existed").ok());
  Result<std::string> r = env.read_file(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(EnvTest, AppendAtTheCommittedLength) {
  Env& env = Env::posix();
  fs::path p = dir_ / "log";
  ASSERT_TRUE(env.append_file(p, 0, "abc").ok());  // creates
  ASSERT_TRUE(env.append_file(p, 3, "def").ok());
  EXPECT_EQ(*env.read_file(p), "abcdef");
  // A tail past the committed length (a torn append) is cut before writing.
  ASSERT_TRUE(env.append_file(p, 4, "XY").ok());
  EXPECT_EQ(*env.read_file(p), "abcdXY");
  ASSERT_TRUE(env.append_file(p, 0, "").ok());
  EXPECT_EQ(*env.read_file(p), "");
  // A file shorter than its committed length has lost data.
  Status s = env.append_file(p, 10, "z");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorrupt);
  Status missing_dir = env.append_file(dir_ / "no" / "log", 0, "x");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.error().code, ErrorCode::kIo);
}

TEST_F(EnvTest, FaultEnvTearsAFailedAppend) {
  FaultEnv env(2);
  fs::path p = dir_ / "log";
  ASSERT_TRUE(env.append_file(p, 0, "committed").ok());
  Status s = env.append_file(p, 9, "0123456789");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_EQ(*env.read_file(p), "committed01234");  // half of it reached the file
  EXPECT_EQ(env.writes(), 2);
}

TEST_F(EnvTest, FaultEnvZeroNeverFails) {
  FaultEnv env(0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(env.write_file_atomic(dir_ / "f", std::to_string(i)).ok()) << i;
  }
  EXPECT_EQ(env.writes(), 5);
  Result<std::string> r = env.read_file(dir_ / "f");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "4");
}

TEST_F(EnvTest, FaultEnvFailsFromNthWrite) {
  FaultEnv env(3);
  fs::path p = dir_ / "state";
  ASSERT_TRUE(env.write_file_atomic(p, "v0").ok());
  ASSERT_TRUE(env.write_file_atomic(p, "v1").ok());
  Status s = env.write_file_atomic(p, "v2");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  // Every later write fails too.
  Status s4 = env.write_file_atomic(p, "v3");
  ASSERT_FALSE(s4.ok());
  EXPECT_EQ(s4.error().code, ErrorCode::kIo);
  Status other = env.write_file_atomic(dir_ / "other", "x");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kIo);
  EXPECT_EQ(env.writes(), 5);
  // The last good contents survive and no temp file is left behind.
  Result<std::string> r = env.read_file(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v1");
  EXPECT_FALSE(fs::exists(dir_ / "state.tmp"));
  EXPECT_FALSE(fs::exists(dir_ / "other"));
  // Reads and removes are not affected by the fault.
  EXPECT_TRUE(env.remove_file(p).ok());
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(EnvTest, FaultEnvFirstWriteFails) {
  FaultEnv env(1);
  Status s = env.write_file_atomic(dir_ / "f", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_FALSE(fs::exists(dir_ / "f"));
  EXPECT_EQ(env.writes(), 1);
}

TEST_F(EnvTest, FaultEnvUsableThroughBaseReference) {
  FaultEnv fault(2);
  Env& env = fault;
  fs::path p = dir_ / "f";
  ASSERT_TRUE(env.write_file_atomic(p, "v1").ok());
  Status s = env.write_file_atomic(p, "v2");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  Result<std::string> r = env.read_file(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v1");
}

TEST_F(EnvTest, MappedFileEmpty) {
  ASSERT_TRUE(Env::posix().write_file_atomic(dir_ / "empty", "").ok());
  Result<MappedFile> m = MappedFile::open(dir_ / "empty");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->size(), 0u);
  EXPECT_TRUE(m->view().empty());
}

TEST_F(EnvTest, MappedFileContents) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += std::to_string(i) + ",";
  ASSERT_TRUE(Env::posix().write_file_atomic(dir_ / "f", data).ok());
  Result<MappedFile> m = MappedFile::open(dir_ / "f");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->size(), data.size());
  ASSERT_NE(m->data(), nullptr);
  EXPECT_EQ(m->view(), data);
}

TEST_F(EnvTest, MappedFileMissingIsNotFound) {
  Result<MappedFile> m = MappedFile::open(dir_ / "missing");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
}

TEST_F(EnvTest, MappedFileDefaultIsEmpty) {
  MappedFile m;
  EXPECT_EQ(m.data(), nullptr);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.view().empty());
}

TEST_F(EnvTest, MappedFileMoveConstruction) {
  ASSERT_TRUE(Env::posix().write_file_atomic(dir_ / "f", "abcdef").ok());
  Result<MappedFile> r = MappedFile::open(dir_ / "f");
  ASSERT_TRUE(r.ok());
  MappedFile a = std::move(r).value();
  const char* ptr = a.data();
  MappedFile b(std::move(a));
  EXPECT_EQ(b.data(), ptr);
  EXPECT_EQ(b.view(), "abcdef");
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(a.size(), 0u);
}

TEST_F(EnvTest, MappedFileMoveAssignment) {
  Env& env = Env::posix();
  ASSERT_TRUE(env.write_file_atomic(dir_ / "one", "first").ok());
  ASSERT_TRUE(env.write_file_atomic(dir_ / "two", "second file").ok());
  Result<MappedFile> r1 = MappedFile::open(dir_ / "one");
  Result<MappedFile> r2 = MappedFile::open(dir_ / "two");
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(r2.ok());
  MappedFile a = std::move(r1).value();
  MappedFile b = std::move(r2).value();
  a = std::move(b);  // a's old mapping is released, b's is taken over
  EXPECT_EQ(a.view(), "second file");
  EXPECT_EQ(b.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.size(), 0u);

  MappedFile& self = a;
  a = std::move(self);  // self-move keeps the mapping
  EXPECT_EQ(a.view(), "second file");

  b = std::move(a);  // into an empty one
  EXPECT_EQ(b.view(), "second file");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move)
}

TEST_F(EnvTest, MappedFileOutlivesUnlink) {
  Env& env = Env::posix();
  ASSERT_TRUE(env.write_file_atomic(dir_ / "f", "still here").ok());
  Result<MappedFile> m = MappedFile::open(dir_ / "f");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(env.remove_file(dir_ / "f").ok());
  EXPECT_EQ(m->view(), "still here");
}

}  // namespace
}  // namespace ragft
