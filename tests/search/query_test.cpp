// Query translation and substring pieces, against a real Xapian database in a temporary
// directory (documents built by the indexer's own make_document).
#include <gtest/gtest.h>
#include <unistd.h>
#include <xapian.h>

#include <filesystem>

#include "search/src/query.hpp"
#include "search/src/terms.hpp"

namespace govmail::search {
namespace {

using terms::Piece;
using K = Piece::Kind;

TEST(SubstringPieces, EdgesAreOpenInsideWords) {
  EXPECT_EQ(terms::substring_pieces("ông"), (std::vector<Piece>{{"ong", K::infix, "ông"}}));
  EXPECT_EQ(terms::substring_pieces("công văn số"),
            (std::vector<Piece>{
                {"cong", K::suffix, "công"}, {"van", K::exact, "văn"}, {"so", K::prefix, "số"}}));
  EXPECT_EQ(terms::substring_pieces(" VĂN "), (std::vector<Piece>{{"van", K::exact, "văn"}}));
  EXPECT_EQ(terms::substring_pieces("123/UBND"),
            (std::vector<Piece>{{"123", K::suffix, "123"}, {"ubnd", K::prefix, "ubnd"}}));
  EXPECT_TRUE(terms::substring_pieces(" - ").empty());
  EXPECT_EQ(terms::substring_pieces(std::string(80, 'a'))[0].kind, K::skip);
}

TEST(PlanNeedle, ExactOnlyForWordsAndSingleSpaces) {
  auto exact = [](std::string_view n) { return terms::plan_needle(n).exact; };
  EXPECT_TRUE(exact("de nghi"));
  EXPECT_TRUE(exact("ĐỀ NGHỊ"));
  EXPECT_TRUE(terms::plan_needle("đề nghị").cased);
  EXPECT_FALSE(terms::plan_needle("de nghi").cased);
  EXPECT_TRUE(exact("số 12"));
  EXPECT_TRUE(exact("Nguye\xcc\x82\xcc\x83n"));  // NFD input: its NFC fold
  EXPECT_TRUE(exact("so số"));        // through the cased words: "so" is not "số" there
  EXPECT_TRUE(exact("123/UBND-VP"));  // one punctuation character between words
  EXPECT_EQ(terms::plan_needle("45/QĐ-UBND").separators, (std::vector<char>{'\0', '/', '-'}));
  EXPECT_FALSE(exact("de  nghi"));
  EXPECT_FALSE(exact("de\tnghi"));
  EXPECT_FALSE(exact("123 / UBND"));
  EXPECT_FALSE(exact(" nghi"));
  EXPECT_FALSE(exact("nghi,"));
  EXPECT_FALSE(exact("straße"));              // not ASCII, no marks: left to verification
  EXPECT_FALSE(exact(std::string(64, 'a')));  // as long as the index cuts words
  EXPECT_TRUE(exact(std::string(63, 'a')));
}

std::string envelope(const std::string& subject, const std::string& from_name) {
  return R"({"subject":{"decoded":")" + subject + R"("},"from":[{"name_decoded":")" + from_name +
         R"(","mailbox":"vinh","host":"hanoi.gov.vn"}]})";
}

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gm-query-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    Xapian::WritableDatabase db(dir_.string(), Xapian::DB_CREATE_OR_OPEN);
    add(db, 1, "Công văn số 123/UBND-VP", "Nguyễn Quang Vinh",
        "Đề nghị các đơn vị báo cáo hòa giải");
    add(db, 2, "Cong van so 45", "Tran Van B", "de nghi gui bao cao thuy loi");
    add(db, 3, "Kế hoạch công tác", "Lê Thị C", "Kính gửi: công ty; số 123 và UBND, VP khác");
    add(db, 4, "Thủy lợi", "Phạm D", "hoà giải thuỷ lợi. Côn Đảo");
    db.commit();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void add(Xapian::WritableDatabase& db, store::MessageId id, const std::string& subject,
           const std::string& from, const std::string& body) {
    terms::DocInput in;
    in.account = 7;
    in.message = id;
    in.envelope_json = envelope(subject, from);
    in.header_block = "Subject: x\r\n\r\n";
    in.body = body;
    db.replace_document(terms::unique_term(7, id), terms::make_document(in));
  }

  // Message ids in rank order; -1 for an error.
  std::vector<long> run(std::string_view text, QueryLimits lim = {}) {
    auto q = translate_query(text, lim);
    if (!q) return {-1};
    Xapian::Database db(dir_.string());
    Xapian::Enquire enq(db);
    enq.set_query(*q);
    std::vector<long> out;
    try {
      auto mset = enq.get_mset(0, 100);
      for (auto it = mset.begin(); it != mset.end(); ++it)
        out.push_back(terms::message_of(it.get_document()));
    } catch (const Xapian::WildcardError&) {
      return {-2};
    }
    return out;
  }
  static std::vector<long> sorted(std::vector<long> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  std::filesystem::path dir_;
};

TEST_F(QueryTest, UnaccentedFindsBothAccentedRanksExactFirst) {
  EXPECT_EQ(sorted(run("cong van")), (std::vector<long>{1, 2}));
  EXPECT_EQ(sorted(run("cong")), (std::vector<long>{1, 2, 3}));
  auto accented = run("\"công văn\"");
  ASSERT_EQ(sorted(accented), (std::vector<long>{1, 2}));
  EXPECT_EQ(accented.front(), 1);  // exactly accented text first
  EXPECT_EQ(run("đề nghị").front(), 1);
  EXPECT_EQ(sorted(run("de nghi")), (std::vector<long>{1, 2}));
}

TEST_F(QueryTest, ToneMarkPlacementAndNfd) {
  // hòa (doc 1) and hoà (doc 4): both exact; thủy/thuỷ likewise.
  auto hoa = run("hòa");
  EXPECT_EQ(sorted(hoa), (std::vector<long>{1, 4}));
  EXPECT_EQ(sorted(run("thủy")), (std::vector<long>{2, 4}));
  EXPECT_EQ(run("thủy").front(), 4);
  EXPECT_EQ(sorted(run("Nguye\xcc\x82\xcc\x83n")), (std::vector<long>{1}));  // NFD query
}

TEST_F(QueryTest, EitherTonePlacementRanksAboveTheUnaccented) {
  {
    Xapian::WritableDatabase db(dir_.string(), Xapian::DB_OPEN);
    add(db, 5, "Tin", "Vo E", "hoa giai");
    db.commit();
  }
  // doc 1 has "hòa giải", doc 4 "hoà giải" (old and new placement), doc 5 "hoa giai".
  for (const char* q : {"hòa", "hoà", "\"hoà giải\""}) {
    auto hits = run(q);
    EXPECT_EQ(sorted(hits), (std::vector<long>{1, 4, 5})) << q;
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits.back(), 5) << q;  // the unaccented text last
  }
}

TEST_F(QueryTest, PhrasePrefixFieldAndDocumentNumber) {
  EXPECT_EQ(run("\"gui bao cao\""), (std::vector<long>{2}));
  EXPECT_EQ(sorted(run("côn*")), (std::vector<long>{1, 2, 3, 4}));  // cong..., con dao
  EXPECT_EQ(sorted(run("subject:thuy")), (std::vector<long>{4}));
  EXPECT_EQ(sorted(run("from:nguyen")), (std::vector<long>{1}));
  EXPECT_EQ(sorted(run("from:vinh@hanoi.gov.vn")), (std::vector<long>{1, 2, 3, 4}));
  // 123/UBND-VP whole: doc 3 has the same words apart, not as the number.
  EXPECT_EQ(run("123/UBND-VP"), (std::vector<long>{1}));
}

TEST_F(QueryTest, BadQueriesAreRefused) {
  EXPECT_EQ(run("\"unclosed"), (std::vector<long>{-1}));
  EXPECT_EQ(run("*"), (std::vector<long>{-1}));
  EXPECT_EQ(run(std::string(5000, 'a')), (std::vector<long>{-1}));
  std::string many;
  for (int i = 0; i < 100; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(run(many), (std::vector<long>{-1}));
  QueryLimits narrow;
  narrow.max_wildcard = 1;
  EXPECT_EQ(run("c*", narrow), (std::vector<long>{-2}));  // cong, con, cao, cac... > 1
}

TEST(StoredText, KeepsTheBodyFoldedOnce) {
  Xapian::Document d;
  terms::set_texts(d, "Subject: a\r\n\r\n", "Body\n12");
  auto t = terms::stored_texts(d);
  EXPECT_EQ(t.header_block, "Subject: a\r\n\r\n");
  EXPECT_TRUE(t.folded);
  EXPECT_TRUE(t.body_ascii);
  EXPECT_EQ(t.body_cased, "body\n12");
  EXPECT_EQ(t.body_plain, "");
  Xapian::Document e;
  terms::set_texts(e, "S: b\r\n\r\n", "CÔNG văn Đến\n");
  auto v = terms::stored_texts(e);
  EXPECT_EQ(v.header_block, "S: b\r\n\r\n");
  EXPECT_FALSE(v.body_ascii);
  EXPECT_EQ(v.body_cased, "công văn đến\n");
  EXPECT_EQ(v.body_plain, "cong van den\n");
  EXPECT_TRUE(v.body.empty());
}

TEST(StoredText, ReadsDocumentsOfAnOlderIndex) {  // data: "<header bytes>\n" header, body
  Xapian::Document d;
  d.set_data("14\nSubject: a\r\n\r\nbody\n12");
  auto t = terms::stored_texts(d);
  EXPECT_FALSE(t.folded);
  EXPECT_EQ(t.header_block, "Subject: a\r\n\r\n");
  EXPECT_EQ(t.body, "body\n12");
}

}  // namespace
}  // namespace govmail::search
