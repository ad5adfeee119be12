// RFC 5256 base subject and THREAD algorithms, as pure functions (imap/src/threading.cpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "imap/src/sort_keys.hpp"
#include "imap/src/text_match.hpp"
#include "imap/src/threading.hpp"

namespace govmail::imap {
namespace {

TEST(BaseSubject, Rfc5256Section2_1) {
  struct Case {
    const char* in;
    const char* base;
    bool reply;
  } cases[] = {
      {"Hello", "hello", false},
      {"Re: Hello", "hello", true},
      {"RE: [Fwd: Báo cáo]", "báo cáo", true},
      {"[list] Re: Re[2]: topic (fwd)", "topic", true},
      {"[list] topic", "topic", false},
      {"[only-blob]", "[only-blob]", false},
      {"Fwd: Re:  a\t b  ", "a b", true},
      {"Fw: x", "x", true},
      {"re [2]: x", "x", true},
      {"Report: x", "report: x", false},
      {"Reply to all", "reply to all", false},
      {"Re:", "", true},
      {"   ", "", false},
      {"[Fwd: Re: x] (fwd)", "x", true},
      {"[a][b] [c] Re: [d] x", "x", true},
      {"[a[b] x", "[a[b] x", false},  // no "[" inside a blob: nothing to remove
      {"CÔNG VĂN số 12", "công văn số 12", false},
      {"Re: CÔNG VĂN", "công văn", true},
  };
  for (const auto& c : cases) {
    auto b = extract_base_subject(c.in);
    EXPECT_EQ(b.text, c.base) << c.in;
    EXPECT_EQ(b.reply, c.reply) << c.in;
  }
}

// SORT (SUBJECT) compares base subjects by i;unicode-casemap (RFC 5051): titlecase, so letters
// ("A".."Z") sort before "[" and "_"; ties stay in sequence order. The subjects of imaptest's
// sort-subject.mbox, whose expected order Dovecot gives.
TEST(BaseSubject, SortOrderIsUnicodeCasemapOfTheBaseSubject) {
  const std::vector<std::string> subjects = {
      "a",     "C", "b", "_", "[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b (a)", "Re: [FWD: c]",
      "[xyz]", ""};
  std::vector<std::size_t> order(subjects.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key = [&](std::size_t i) { return casemap_key(extract_base_subject(subjects[i]).text); };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return key(x) < key(y); });
  std::string seqs;
  for (auto i : order) seqs += std::to_string(i + 1) + " ";
  EXPECT_EQ(seqs, "9 1 3 5 6 2 7 8 4 ");
  EXPECT_EQ(casemap_key("đào Ánh"), "\u0110A\u0300O A\u0301NH");
}

// Hostile subjects cost linear time: long runs of blobs, of "Re:", of nested "[Fwd: ...]".
TEST(BaseSubject, LinearTimeOnHostileSubjects) {
  std::string blobs, res, fwd;
  for (int i = 0; i < 200000; ++i) blobs += "[x]";
  for (int i = 0; i < 200000; ++i) res += "Re: ";
  for (int i = 0; i < 100000; ++i) fwd += "[Fwd: ";
  fwd += "a" + std::string(100000, ']');
  EXPECT_EQ(extract_base_subject(blobs).text, "[x]");
  EXPECT_EQ(extract_base_subject(blobs + " y").text, "y");
  EXPECT_EQ(extract_base_subject(res + "y").text, "y");
  EXPECT_EQ(extract_base_subject(blobs + " Re: y").text, "y");
  auto f = extract_base_subject(fwd);
  EXPECT_EQ(f.text, "a");
  EXPECT_TRUE(f.reply);
}

ThreadMessage msg(std::uint32_t n, std::string id, std::vector<std::string> refs = {},
                  std::string subject = "", std::int64_t date = -1) {
  if (subject.empty()) subject = "subject " + std::to_string(n);  // distinct: no grouping
  return {n, date < 0 ? n * 100 : date, std::move(subject), std::move(id), std::move(refs)};
}

TEST(ThreadReferences, Rfc5256ExampleShape) {
  // (2)(3 6 (4 23)(44 7 96)): 6 answers 3; 4 and 44 answer 6; 23 answers 4; 7 and 96 follow 44.
  std::vector<ThreadMessage> m = {
      msg(2, "m2"),
      msg(3, "m3"),
      msg(4, "m4", {"m3", "m6"}),
      msg(6, "m6", {"m3"}),
      msg(7, "m7", {"m3", "m6", "m44"}),
      msg(23, "m23", {"m3", "m6", "m4"}),
      msg(44, "m44", {"m3", "m6"}),
      msg(96, "m96", {"m3", "m6", "m44", "m7"}),
  };
  EXPECT_EQ(thread_references(m), "(2)(3 6 (4 23)(44 7 96))");
}

TEST(ThreadReferences, MissingParentsBecomeDummies) {
  // Two answers to a message not in the mailbox: a dummy root with two children.
  EXPECT_EQ(thread_references({msg(1, "a", {"gone"}), msg(2, "b", {"gone"})}), "((1)(2))");
  // One answer: the dummy at the top has one child, which takes its place.
  EXPECT_EQ(thread_references({msg(1, "a", {"gone"})}), "(1)");
  // A missing message in the middle of a chain: its child is promoted under the grandparent.
  EXPECT_EQ(thread_references({msg(1, "a"), msg(3, "c", {"a", "missing"})}), "(1 3)");
  // A dummy chain with nothing at the end disappears.
  EXPECT_EQ(thread_references({msg(1, "a", {"x", "y", "z"})}), "(1)");
}

TEST(ThreadReferences, LinksFromReferencesAreKeptAndLoopsRefused) {
  // Truncated References of message 4 do not move b away from a.
  EXPECT_EQ(thread_references(
                {msg(1, "a"), msg(2, "b", {"a"}), msg(3, "c", {"b"}), msg(4, "d", {"other", "b"})}),
            "(1 2 (3)(4))");
  // Each names the other as parent: the first link made stands, no message is lost.
  EXPECT_EQ(thread_references({msg(1, "a", {"b"}), msg(2, "b", {"a"})}), "(2 1)");
  // A message that references itself.
  EXPECT_EQ(thread_references({msg(1, "a", {"a"})}), "(1)");
  // A message's own last reference replaces the parent another message's References gave it.
  EXPECT_EQ(
      thread_references({msg(1, "p"), msg(2, "q"), msg(3, "x", {"p", "c"}), msg(4, "c", {"q"})}),
      "(1)(2 4 3)");
}

// Step 1.B breaks the parent that another message's References gave (1.A) before it links the
// last reference, and leaves it broken when that link would make a loop.
TEST(ThreadReferences, StepOneBBreaksTheOldParentEvenWhenTheNewLinkWouldLoop) {
  // 2 names a then c: a -> c -> 2. 3 (c) names 2, its own child: no parent for c, and not a.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "", 300), msg(2, "b", {"a", "c"}, "", 100),
                               msg(3, "c", {"b"}, "", 200)}),
            "(3 2)(1)");
  // The same with c's References naming a first: 1.A may not move b, 1.B may not loop.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "", 300), msg(2, "b", {"a", "c"}, "", 100),
                               msg(3, "c", {"a", "b"}, "", 200)}),
            "(3 2)(1)");
  // imaptest's thread.mbox: 1.A makes c the parent of a, 1.B a the parent of b; c's own last
  // reference (b) would loop, so c heads the thread.
  EXPECT_EQ(thread_references({msg(1, "a@b", {}, "", 300), msg(2, "b@b", {"c@b", "a@b"}, "", 100),
                               msg(3, "c@b", {"b@b"}, "", 200)}),
            "(3 1 2)");
  // ... and with a expunged, the dummy a is pruned and b is promoted under c.
  EXPECT_EQ(
      thread_references({msg(1, "b@b", {"c@b", "a@b"}, "", 100), msg(2, "c@b", {"b@b"}, "", 200)}),
      "(2 1)");
}

TEST(ThreadReferences, MissingAndDuplicateMessageIds) {
  EXPECT_EQ(thread_references({msg(1, ""), msg(2, "")}), "(1)(2)");
  // A duplicate id is a message of its own; answers go to the first.
  EXPECT_EQ(thread_references({msg(1, "a"), msg(2, "a"), msg(3, "r", {"a"})}), "(1 3)(2)");
  // Ids compare case-sensitively.
  EXPECT_EQ(thread_references({msg(1, "A@x"), msg(2, "r", {"a@x"})}), "(1)(2)");
}

TEST(ThreadReferences, RootsAndSiblingsBySentDateThenMailboxOrder) {
  EXPECT_EQ(thread_references({msg(1, "a", {}, "", 500), msg(2, "b", {}, "", 100),
                               msg(3, "c", {"a"}, "", 400), msg(4, "d", {"a"}, "", 300)}),
            "(2)(1 (4)(3))");
  EXPECT_EQ(thread_references({msg(2, "a", {}, "", 7), msg(1, "b", {}, "", 7)}), "(1)(2)");
  // A dummy sorts by its first child's date.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "", 300), msg(2, "b", {"gone"}, "", 200),
                               msg(3, "c", {"gone"}, "", 100)}),
            "((3)(2))(1)");
}

TEST(ThreadReferences, RootsGroupedByBaseSubject) {
  // A reply without References joins the thread of its original.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "Hello"), msg(2, "b", {}, "Re: hello")}), "(1 2)");
  // The original is found even when the reply is older.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "Re: Hello", 100), msg(2, "b", {}, "Hello", 200)}),
            "(2 1)");
  // Two originals with one subject: a dummy holds both.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "Hi"), msg(2, "b", {}, "Hi")}), "((1)(2))");
  // A dummy thread takes a lone message of its subject as a sibling of its children.
  EXPECT_EQ(thread_references({msg(1, "a", {"gone"}, "Re: Báo cáo"),
                               msg(2, "b", {"gone"}, "Re: Báo cáo"), msg(3, "c", {}, "BÁO CÁO")}),
            "((1)(2)(3))");
  // Two dummies with one subject merge their children.
  EXPECT_EQ(thread_references({msg(1, "a", {"g1"}, "x"), msg(2, "b", {"g1"}, "x"),
                               msg(3, "c", {"g2"}, "Re: x"), msg(4, "d", {"g2"}, "Re: x")}),
            "((1)(2)(3)(4))");
  // Empty subjects are never grouped.
  EXPECT_EQ(thread_references({msg(1, "a", {}, "Re:"), msg(2, "b", {}, "Re:")}), "(1)(2)");
}

// A thread as deep as a large mailbox, from senders' References: no recursion, no quadratic
// loop checks when messages arrive in order.
TEST(ThreadReferences, DeepChainsNeedNoStack) {
  constexpr std::uint32_t kDepth = 200000;
  std::vector<ThreadMessage> m;
  m.reserve(kDepth);
  for (std::uint32_t i = 1; i <= kDepth; ++i) {
    std::vector<std::string> refs;
    if (i > 1) refs.push_back("m" + std::to_string(i - 1));
    m.push_back(msg(i, "m" + std::to_string(i), std::move(refs)));
  }
  auto out = thread_references(m);
  EXPECT_EQ(out.substr(0, 8), "(1 2 3 4");
  EXPECT_EQ(out.substr(out.size() - 14), "199999 200000)");
  EXPECT_EQ(std::count(out.begin(), out.end(), '('), 1);
  // Every message answering the first one: one level, 200,000 siblings.
  for (std::uint32_t i = 1; i < kDepth; ++i) m[i].references = {"m1"};
  out = thread_references(m);
  EXPECT_EQ(out.substr(0, 9), "(1 (2)(3)");
  EXPECT_EQ(std::count(out.begin(), out.end(), '('), kDepth);
}

TEST(ThreadReferences, EmptyInput) {
  EXPECT_EQ(thread_references({}), "");
}

TEST(ThreadOrderedSubject, Rfc5256) {
  std::vector<ThreadMessage> m = {msg(1, "", {}, "Báo cáo", 200), msg(2, "", {}, "Họp", 100),
                                  msg(3, "", {}, "Re: Báo cáo", 300),
                                  msg(4, "", {}, "RE: [Fwd: BÁO CÁO]", 250),
                                  msg(5, "", {}, "Họp (fwd)", 50)};
  // Threads by the date of their first message; children of the first by date.
  EXPECT_EQ(thread_orderedsubject(m), "(5 2)(1 (4)(3))");
  EXPECT_EQ(thread_orderedsubject({}), "");
}

TEST(MessageIds, FromHeaders) {
  EXPECT_EQ(message_ids("References: <a@b> <c@d>\r\n\t<e\r\n @f>\r\n"),
            (std::vector<std::string>{"a@b", "c@d", "e@f"}));
  EXPECT_EQ(message_ids("<a@b> (comment) junk <> <x@y"), (std::vector<std::string>{"a@b"}));
  // Quoting is normalised away (RFC 5256 4): both spellings are one Message ID.
  EXPECT_EQ(message_ids("<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com> <01KF8JCEOCBS0045PS@xxx.yyy.com>"),
            (std::vector<std::string>{"01KF8JCEOCBS0045PS@xxx.yyy.com",
                                      "01KF8JCEOCBS0045PS@xxx.yyy.com"}));
  EXPECT_EQ(message_ids("<\"a>b\\\"c\"@x>"), (std::vector<std::string>{"a>b\"c@x"}));
}

}  // namespace
}  // namespace govmail::imap
