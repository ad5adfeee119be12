// The archive's pure logic: the canonical hashes against values PostgreSQL computed with
// migration 0017's govmail_journal_canon / govmail_audit_canon (so the two implementations
// cannot drift apart unnoticed), signatures, and the search matcher's Vietnamese folding.
#include "admin/archive.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ar = govmail::admin::archive;

namespace {

std::string hex(std::string_view h) {
  return *ar::from_hex(h);
}

// INSERT INTO archive_journal (direction, envelope_from, recipients, auth_user, client_ip,
//   blob_sha256, size, subject, from_address, message_id_hdr)
// VALUES ('in','a@b',ARRAY['c@d','é@x'],'','1.2.3.4',sha256('x'),1,'Công văn','a@b','<m>')
// on an empty journal gave these (journal.3, seq 1).
govmail::store::JournalEntry sql_row() {
  govmail::store::JournalEntry e;
  e.chain = "journal.3";
  e.seq = 1;
  e.at_us = 1796385117005954;
  e.direction = "in";
  e.envelope_from = "a@b";
  e.recipients = {"c@d", "é@x"};
  e.client_ip = "1.2.3.4";
  e.blob_sha256 = hex("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
  e.size = 1;
  e.subject = "Công văn";
  e.from_address = "a@b";
  e.message_id_hdr = "<m>";
  e.prev_hash = std::string(32, '\0');
  return e;
}

TEST(ArchiveHash, JournalMatchesPostgres) {
  EXPECT_EQ(ar::to_hex(ar::journal_hash(sql_row())),
            "c638160bc1265f3400ee9d4ae8272132528382303f04f80af71dd8ac92dc9a73");
}

TEST(ArchiveHash, EveryFieldCounts) {
  const std::string base = ar::journal_hash(sql_row());
  auto changed = [&](auto edit) {
    auto e = sql_row();
    edit(e);
    return ar::journal_hash(e) != base;
  };
  EXPECT_TRUE(changed([](auto& e) { e.recipients.pop_back(); }));
  EXPECT_TRUE(changed([](auto& e) { e.recipients = {"c@dé@x"}; }));  // no ambiguity by joining
  EXPECT_TRUE(changed([](auto& e) { e.at_us += 1; }));
  EXPECT_TRUE(changed([](auto& e) { e.auth_user = "x"; }));
  EXPECT_TRUE(changed([](auto& e) { e.blob_sha256[0] ^= 1; }));
  EXPECT_TRUE(changed([](auto& e) { e.prev_hash[31] = 1; }));
  EXPECT_FALSE(changed([](auto& e) { e.seq = 7; }));  // order is carried by the links
}

// The same INSERT after migration 0027 ("GMJ2": the trigger computed the content hash with
// govmail_journal_content, as it does for any insert that brings none) gave journal.29, seq 1,
// these times and hashes. A delivery computes the content hash in C++
// (store::journal_content_canon); verify recomputes it from the row.
govmail::store::JournalEntry sql_row_v2() {
  auto e = sql_row();
  e.chain = "journal.29";
  e.at_us = 1796433509127630;
  e.content_hash = hex("47d48fa259de8a2b1692971fcdcb6b991f40cd8417dfc398b59623f83bd1a215");
  return e;
}

TEST(ArchiveHash, ContentHashMatchesPostgres) {
  const auto e = sql_row_v2();
  EXPECT_EQ(ar::journal_content_hash(e), e.content_hash);
  EXPECT_EQ(ar::to_hex(ar::journal_hash(e)),
            "691398ab37a121ed15dfef5484c66c8bcb9e77d0fc77f5609d0ea6b1bd394734");
}

TEST(ArchiveHash, EveryFieldCountsInTheContentHash) {
  const std::string base = ar::journal_hash(sql_row_v2());
  auto changed = [&](auto edit) {
    auto e = sql_row_v2();
    edit(e);
    return ar::journal_hash(e) != base;
  };
  EXPECT_TRUE(changed([](auto& e) { e.recipients.pop_back(); }));
  EXPECT_TRUE(changed([](auto& e) { e.recipients = {"c@dé@x"}; }));
  EXPECT_TRUE(changed([](auto& e) { e.chain = "journal.3"; }));
  EXPECT_TRUE(changed([](auto& e) { e.at_us += 1; }));
  EXPECT_TRUE(changed([](auto& e) { e.subject = "Cong van"; }));
  EXPECT_TRUE(changed([](auto& e) { e.size = 2; }));
  EXPECT_TRUE(changed([](auto& e) { e.prev_hash[31] = 1; }));
  // The link uses the content hash recomputed from the row (verify also compares the stored one).
  EXPECT_FALSE(changed([](auto& e) { e.content_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](auto& e) { e.content_hash.clear(); }));  // read as GMJ1: no match
  EXPECT_FALSE(changed([](auto& e) { e.seq = 7; }));
}

TEST(ArchiveHash, AuditMatchesPostgres) {
  govmail::store::AuditRecord a;
  a.at_us = 1796385117018075;
  a.actor = "me";
  a.source = "cli";
  a.action = "x";
  a.prev_hash = std::string(32, '\0');
  EXPECT_EQ(ar::to_hex(ar::audit_hash(a)),
            "b02c736ec2866c6f09f8e34a92f06f3e27a3d0a54f1f7ec95ac7a15f784d2732");
  a.ok = false;
  EXPECT_NE(ar::to_hex(ar::audit_hash(a)),
            "b02c736ec2866c6f09f8e34a92f06f3e27a3d0a54f1f7ec95ac7a15f784d2732");
}

TEST(ArchiveKey, CreatedOnceSignsAndVerifies) {
  const auto dir = std::filesystem::temp_directory_path() / "govmail-archive-key-test";
  std::filesystem::remove_all(dir);
  std::string error;
  auto key = ar::load_or_create_key(dir / "k", error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(std::filesystem::status(dir / "k").permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  auto again = ar::load_or_create_key(dir / "k", error);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key, key->public_key);
  govmail::store::Checkpoint c{0, "journal.0", 42, std::string(32, 'h'), 1000, key->public_key, {}};
  const auto sig = ar::sign(*key, ar::checkpoint_message(c));
  EXPECT_TRUE(ar::signature_ok(key->public_key, ar::checkpoint_message(c), sig));
  c.seq = 43;
  EXPECT_FALSE(ar::signature_ok(key->public_key, ar::checkpoint_message(c), sig));
  std::filesystem::remove_all(dir);
}

TEST(ArchiveSearch, VietnameseFolding) {
  const auto hay = ar::fold_for_search("Công văn KHẨN về phòng chống bão; Đề nghị triển khai");
  EXPECT_TRUE(ar::text_matches(hay, "cong van khan"));
  EXPECT_TRUE(ar::text_matches(hay, "Công Văn"));
  EXPECT_TRUE(ar::text_matches(hay, "de nghi"));
  EXPECT_TRUE(ar::text_matches(hay, "co\xcc\x82ng"));  // NFD input
  EXPECT_FALSE(ar::text_matches(hay, "cong van mat"));
  EXPECT_FALSE(ar::text_matches(hay, "   "));  // no words: no match
}

TEST(ArchiveHex, RoundTripAndRejects) {
  EXPECT_EQ(ar::to_hex(*ar::from_hex("00ff10Ab")), "00ff10ab");
  EXPECT_FALSE(ar::from_hex("abc"));
  EXPECT_FALSE(ar::from_hex("zz"));
}

// FIPS 180-2's test vectors; the two-part form is the hash of the concatenation (the chain
// links hash prev_hash || canonical form).
TEST(ArchiveSha256, KnownVectorsAndTwoParts) {
  EXPECT_EQ(ar::to_hex(ar::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ar::to_hex(ar::sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ar::sha256("ab", "c"), ar::sha256("abc"));
  EXPECT_NE(ar::sha256("ab", "d"), ar::sha256("abc"));
}

}  // namespace
