// search/archive_index.hpp on a real Xapian database in a temporary directory.
#include "search/archive_index.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace govmail::search {
namespace {

class ArchiveIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("govmail-archive-index-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ArchiveIndexTest, NoIndexIsNoAnswer) {
  EXPECT_FALSE(archive_cursor(dir_));
  EXPECT_FALSE(archive_matches(dir_, "cong van", 10));
}

TEST_F(ArchiveIndexTest, UnaccentedWordsFindAccentedTextAndEveryWordMustMatch) {
  auto w = ArchiveIndexWriter::open(dir_);
  ASSERT_TRUE(w);
  w->add({7, "journal.3", 1, "h1", "Công văn khẩn về phòng chống bão\nvanthu@so.example"});
  w->add({9, "journal.3", 2, "h2", "Giấy mời họp"});
  w->add({12, "journal.5", 1, std::string("\0:\xff", 3), "CÔNG VĂN số 12"});
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(archive_matches(dir_, "cong van", 10), (std::vector<std::int64_t>{12, 7}));
  EXPECT_EQ(archive_matches(dir_, "Công Văn khẩn", 10), (std::vector<std::int64_t>{7}));
  EXPECT_EQ(archive_matches(dir_, "moi hop", 10), (std::vector<std::int64_t>{9}));
  EXPECT_EQ(archive_matches(dir_, "cong hop", 10), (std::vector<std::int64_t>{}));
  EXPECT_EQ(archive_matches(dir_, "cong van", 1), (std::vector<std::int64_t>{12}));
  EXPECT_EQ(archive_matches(dir_, " ,.; ", 10), (std::vector<std::int64_t>{}));
  EXPECT_EQ(archive_cursor(dir_), (ArchiveCursor{{"journal.3", {2, "h2"}},
                                                 {"journal.5", {1, std::string("\0:\xff", 3)}}}));
}

TEST_F(ArchiveIndexTest, NothingIsVisibleBeforeTheCommitAndRemovalForgets) {
  auto w = ArchiveIndexWriter::open(dir_);
  ASSERT_TRUE(w);
  w->add({1, "journal.0", 1, "a", "tờ trình"});
  w->commit();
  w->add({2, "journal.0", 2, "b", "tờ trình hai"});
  EXPECT_EQ(archive_matches(dir_, "to trinh", 10), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(archive_cursor(dir_), (ArchiveCursor{{"journal.0", {1, "a"}}}));
  w->remove(1);
  w->remove(99);  // never indexed: no error
  w->set_purge_cursor(40, 1);
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(archive_matches(dir_, "to trinh", 10), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(w->purge_cursor(), (std::pair<std::int64_t, std::int64_t>{40, 1}));
  w->advance("journal.0", 5, "e");
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(archive_cursor(dir_), (ArchiveCursor{{"journal.0", {5, "e"}}}));
}

TEST_F(ArchiveIndexTest, OneWriterAtATime) {
  auto first = ArchiveIndexWriter::open(dir_);
  ASSERT_TRUE(first);
  EXPECT_FALSE(ArchiveIndexWriter::open(dir_));
  first.reset();
  EXPECT_TRUE(ArchiveIndexWriter::open(dir_));
}

}  // namespace
}  // namespace govmail::search
