// Reading mbox files and Maildir trees for `govmail admin import-mail`.
#include "admin/mail_import.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace govmail::admin {
namespace {

std::vector<ImportedMessage> split(std::string_view mbox, std::size_t chunk = 1 << 20,
                                   std::size_t max_bytes = 1 << 20, MboxSplitter* out = nullptr) {
  MboxSplitter local(max_bytes);
  MboxSplitter& s = out ? *out : local;
  std::vector<ImportedMessage> msgs;
  for (std::size_t i = 0; i < mbox.size(); i += chunk) {
    s.feed(mbox.substr(i, chunk));
    while (auto m = s.take()) msgs.push_back(std::move(*m));
  }
  s.finish();
  while (auto m = s.take()) msgs.push_back(std::move(*m));
  return msgs;
}

constexpr std::string_view kMbox =
    "From a@x.test Mon Nov  2 10:00:00 2026\n"
    "From: a@x.test\nSubject: one\nStatus: RO\nX-Status: AF\n\n"
    "body\n>From the start\n>>From twice\nFrom: not a separator inside a line? no: kept\n\n"
    "From b@x.test Tue Nov  3 11:30:15 2026\n"
    "Subject: two\r\n\r\nline\r\n";

TEST(MboxSplitter, SplitsOnSeparatorsUnquotesAndMakesCrlf) {
  // "From:" (with a colon) is a header-looking body line, not a separator ("From " is).
  auto msgs = split(kMbox);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].raw,
            "From: a@x.test\r\nSubject: one\r\nStatus: RO\r\nX-Status: AF\r\n\r\n"
            "body\r\nFrom the start\r\n>From twice\r\nFrom: not a separator inside a line? no: "
            "kept\r\n");
  EXPECT_EQ(msgs[1].raw, "Subject: two\r\n\r\nline\r\n");
  EXPECT_EQ(msgs[0].folder, "INBOX");
}

TEST(MboxSplitter, TheSameWhateverTheChunkSize) {
  auto whole = split(kMbox);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) {
    auto parts = split(kMbox, chunk);
    ASSERT_EQ(parts.size(), whole.size()) << chunk;
    for (std::size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(parts[i].raw, whole[i].raw) << chunk;
  }
}

TEST(MboxSplitter, StatusHeadersGiveFlags) {
  auto msgs = split(kMbox);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].flags.system, store::kSeen | store::kAnswered | store::kFlagged);
  EXPECT_EQ(msgs[1].flags.system, 0);
}

TEST(MboxSplitter, FromLineDateIsTheInternalDate) {
  auto msgs = split(kMbox);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].internal_date, 1793613600);  // 2026-11-02 10:00:00 UTC
  EXPECT_EQ(msgs[1].internal_date, 1793705415);  // 2026-11-03 11:30:15 UTC
  EXPECT_EQ(mbox_from_line_date("From x Sat Jan  3 01:05 +0700 2026"), 1767402300);
  EXPECT_EQ(mbox_from_line_date("From MAILER-DAEMON Fri Jul  8 12:08:34 2011"), 1310126914);
  EXPECT_EQ(mbox_from_line_date("From x no date here"), std::nullopt);
  EXPECT_EQ(mbox_from_line_date("From x Mon Foo 2 10:00:00 2026"), std::nullopt);
  EXPECT_EQ(mbox_from_line_date("From x Mon Nov 99 10:00:00 2026"), std::nullopt);
}

TEST(MboxSplitter, BytesBeforeTheFirstSeparatorAreNotMail) {
  auto msgs = split("garbage\nmore\nFrom x Mon Nov  2 10:00:00 2026\nSubject: s\n\nb\n");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].raw, "Subject: s\r\n\r\nb\r\n");
  MboxSplitter s(100);
  EXPECT_TRUE(split("not an mbox at all\n", 1 << 20, 100, &s).empty());
  EXPECT_FALSE(s.saw_separator());
}

TEST(MboxSplitter, AMessageOverTheLimitIsSkippedAndNamed) {
  std::string big = "From x Mon Nov  2 10:00:00 2026\nSubject: big\n\n" + std::string(500, 'x') +
                    "\n" + std::string(500, 'y') +
                    "\nFrom x Mon Nov  2 10:00:00 2026\nSubject: small\n\nok\n";
  MboxSplitter s(300);
  auto msgs = split(big, 17, 300, &s);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].raw, "Subject: small\r\n\r\nok\r\n");
  EXPECT_EQ(s.too_big, 1u);
  ASSERT_EQ(s.skipped_lines.size(), 1u);
  EXPECT_EQ(s.skipped_lines[0], 1u);
}

TEST(Maildir, FlagsFromTheInfoPart) {
  EXPECT_EQ(maildir_flags("1700000000.M1P2.host:2,FRS").system,
            store::kFlagged | store::kAnswered | store::kSeen);
  EXPECT_EQ(maildir_flags("1700000000.M1P2.host:2,DT").system, store::kDraft | store::kDeleted);
  EXPECT_EQ(maildir_flags("1700000000.M1P2.host:2,a").system, 0);
  EXPECT_EQ(maildir_flags("1700000000.M1P2.host").system, 0);
}

TEST(Maildir, FolderNames) {
  EXPECT_EQ(maildir_folder(""), "INBOX");
  EXPECT_EQ(maildir_folder(".Sent"), "Sent");
  EXPECT_EQ(maildir_folder(".Công văn.2025"), "Công văn/2025");
  EXPECT_EQ(maildir_folder("cur"), std::nullopt);
  EXPECT_EQ(maildir_folder(".."), std::nullopt);
  EXPECT_EQ(maildir_folder(".a..b"), std::nullopt);
  EXPECT_EQ(maildir_folder(".a."), std::nullopt);
}

TEST(Maildir, ToCrlf) {
  EXPECT_EQ(to_crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
  EXPECT_EQ(to_crlf("\n"), "\r\n");
  EXPECT_EQ(to_crlf("lone\rcr"), "lone\rcr");
}

TEST(Maildir, ScanFindsInboxAndFoldersInOrder) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("maildir-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (auto d : {"", ".Sent", ".A.B", ".notmaildir"})
    for (auto sub : {"cur", "new", "tmp"})
      if (std::string(d) != ".notmaildir" || std::string(sub) == "tmp")
        fs::create_directories(root / d / sub);
  auto touch = [](const fs::path& p) { std::ofstream(p) << "Subject: x\n\nx\n"; };
  touch(root / "new" / "2.M1.h");
  touch(root / "cur" / "1.M1.h:2,S");
  touch(root / "tmp" / "3.M1.h");  // being delivered: not a message yet
  touch(root / ".Sent" / "cur" / "5.M1.h:2,RS");
  touch(root / ".A.B" / "new" / "4.M1.h");
  auto files = scan_maildir(root);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].folder, "A/B");
  EXPECT_EQ(files[1].folder, "INBOX");
  EXPECT_EQ(files[1].path.filename(), "1.M1.h:2,S");
  EXPECT_EQ(files[1].flags.system, store::kSeen);
  EXPECT_EQ(files[2].path.filename(), "2.M1.h");
  EXPECT_EQ(files[3].folder, "Sent");
  EXPECT_EQ(files[3].flags.system, store::kSeen | store::kAnswered);
  fs::remove_all(root);
}

}  // namespace
}  // namespace govmail::admin
