// The IMAP wire parser as tables (STYLE.md 16), fed whole and one byte at a time (STYLE.md 17).
#include <gtest/gtest.h>

#include "imap/proto.hpp"
#include "store/types.hpp"

namespace govmail::imap {
namespace {

Arg atom(std::string v) {
  return Arg{.type = Arg::Type::atom, .value = std::move(v)};
}
Arg quoted(std::string v) {
  return Arg{.type = Arg::Type::quoted, .value = std::move(v)};
}
Arg literal(std::string v) {
  return Arg{.type = Arg::Type::literal, .value = std::move(v)};
}
Arg list(std::vector<Arg> v) {
  return Arg{.type = Arg::Type::list, .list = std::move(v)};
}

// Runs the receiver over `wire`, answering nothing; collects every event (byte-at-a-time or not).
std::vector<Receiver::Event> receive(std::string_view wire, bool bytewise,
                                     ReceiverLimits limits = {}) {
  Receiver r(limits);
  std::vector<Receiver::Event> out;
  auto drain = [&] {
    for (;;) {
      auto ev = r.next();
      if (ev.kind == Receiver::Kind::need_more) return;
      out.push_back(std::move(ev));
    }
  };
  if (bytewise) {
    for (char c : wire) {
      r.feed(std::string_view(&c, 1));
      drain();
    }
  } else {
    r.feed(wire);
    drain();
  }
  return out;
}

struct CommandCase {
  std::string wire;
  Command expected;
};

TEST(ImapReceiver, ParsesCommandsWholeAndByteAtATime) {
  const std::vector<CommandCase> cases = {
      {"a1 NOOP\r\n", {"a1", "NOOP", false, {}}},
      {"a2 login user \"p\\\"w\\\\d\"\r\n",
       {"a2", "LOGIN", false, {atom("user"), quoted("p\"w\\d")}}},
      {"a3 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>)\r\n",
       {"a3",
        "FETCH",
        true,
        {atom("1:*"), list({atom("FLAGS"), atom("BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>")})}}},
      {"a4 LOGIN {4}\r\nuser {3+}\r\np w\r\n",
       {"a4", "LOGIN", false, {literal("user"), literal("p w")}}},
      {"a5 SEARCH (OR SEEN (FLAGGED)) NOT DELETED\r\n",
       {"a5",
        "SEARCH",
        false,
        {list({atom("OR"), atom("SEEN"), list({atom("FLAGGED")})}), atom("NOT"), atom("DELETED")}}},
      {"a6 LIST \"\" %\n", {"a6", "LIST", false, {quoted(""), atom("%")}}},
      {"a7 SELECT INBOX \r\n", {"a7", "SELECT", false, {atom("INBOX")}}},
      {"a8 APPEND INBOX () {0}\r\n\r\n",
       {"a8", "APPEND", false, {atom("INBOX"), list({}), literal("")}}},
      {"a9 STATUS \"Công văn đến\" (MESSAGES)\r\n",
       {"a9", "STATUS", false, {quoted("Công văn đến"), list({atom("MESSAGES")})}}},
      // Every ATOM-CHAR, ASTRING-CHAR "]" and list-char (RFC 3501 9), an unclosed '['.
      {"b1 SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n",
       {"b1", "SELECT", false, {atom("!#$&'+,-.0123456789:;<=>?@^_`|[}")}}},
      {"b2 SELECT ]a]\r\n", {"b2", "SELECT", false, {atom("]a]")}}},
      {"b3 LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*]\r\n",
       {"b3", "LIST", false, {quoted(""), atom("!#$&'+,-.0123456789:;<=>?@^_`|[}%*]")}}},
      {"b4 SELECT a[ (x)\r\n", {"b4", "SELECT", false, {atom("a["), list({atom("x")})}}},
      {"b5 CREATE \"\" {0}\r\n\r\n", {"b5", "CREATE", false, {quoted(""), literal("")}}},
      {"b6 RENAME \"a\\\\b\\\"c\" {2+}\r\n]}\r\n",
       {"b6", "RENAME", false, {quoted("a\\b\"c"), literal("]}")}}},
      {"b7 UID SEARCH UID 1:4294967295,*:7,9:*\r\n",
       {"b7", "SEARCH", true, {atom("UID"), atom("1:4294967295,*:7,9:*")}}},
  };
  for (bool bytewise : {false, true}) {
    for (const auto& c : cases) {
      auto evs = receive(c.wire, bytewise);
      std::vector<Receiver::Event> cmds;
      for (auto& e : evs)
        if (e.kind != Receiver::Kind::continuation) cmds.push_back(e);
      ASSERT_EQ(cmds.size(), 1u) << c.wire;
      ASSERT_EQ(cmds[0].kind, Receiver::Kind::command) << c.wire << " " << cmds[0].reason;
      EXPECT_EQ(cmds[0].command, c.expected) << c.wire;
    }
  }
}

TEST(ImapReceiver, SynchronisingLiteralAsksForContinuationButLiteralPlusDoesNot) {
  auto evs = receive("a LOGIN {1}\r\nu {1+}\r\np\r\n", true);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, Receiver::Kind::continuation);
  EXPECT_EQ(evs[1].kind, Receiver::Kind::command);
}

TEST(ImapReceiver, ReleaseBuffersOnlyBetweenCommands) {
  Receiver r(ReceiverLimits{});
  r.feed("a1 LOGIN " + std::string(2000, 'u') + " pw\r\na2 APPEND INBOX {3}\r\n");
  ASSERT_EQ(r.next().kind, Receiver::Kind::command);
  ASSERT_EQ(r.next().kind, Receiver::Kind::continuation);
  r.release_buffers();  // mid-command (a literal is due): nothing dropped
  r.feed("abc\r\n");
  auto ev = r.next();
  ASSERT_EQ(ev.kind, Receiver::Kind::command);
  EXPECT_EQ(ev.command.name, "APPEND");
  EXPECT_GE(r.reader().allocated(), 2000u);
  r.release_buffers();  // between commands: the 2 KB line's buffer goes
  EXPECT_LT(r.reader().allocated(), 100u);
  r.feed("a3 NOOP\r\n");
  EXPECT_EQ(r.next().command.name, "NOOP");
}

TEST(ImapReceiver, MalformedCommandsAreErrorsWithTagAndReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\r\n", "*"},
      {"a1\r\n", "a1"},
      {"a2 \"x\r\n", "a2"},
      {"a3 LOGIN \"unterminated\r\n", "a3"},
      {"a4 FETCH 1 (FLAGS\r\n", "a4"},
      {"a5 FETCH 1 FLAGS)\r\n", "a5"},
      {"a6 LOGIN  x\r\n", "a6"},
      {"* NOOP\r\n", "*"},
      {"a7 SEARCH " + std::string(40, '(') + std::string(40, ')') + "\r\n", "a7"},
  };
  for (const auto& [wire, tag] : cases) {
    auto evs = receive(wire, false);
    ASSERT_EQ(evs.size(), 1u) << wire;
    EXPECT_EQ(evs[0].kind, Receiver::Kind::error) << wire;
    EXPECT_EQ(evs[0].tag, tag) << wire;
    EXPECT_FALSE(evs[0].reason.empty());
    EXPECT_FALSE(evs[0].fatal);
  }
}

TEST(ImapReceiver, LineAndLiteralLimitsKeepTheStreamInSync) {
  ReceiverLimits lim{.line_max = 64, .literal_max = 10};
  // Too long a line: error, then the next command parses.
  auto evs = receive("a1 NOOP " + std::string(100, 'x') + "\r\na2 NOOP\r\n", false, lim);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, Receiver::Kind::error);
  EXPECT_NE(evs[0].reason.find("TOOBIG"), std::string::npos);
  EXPECT_EQ(evs[1].command.tag, "a2");
  // A synchronising literal over the limit is refused before the client sends it.
  evs = receive("a3 APPEND INBOX {11}\r\na4 NOOP\r\n", true, lim);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].tag, "a3");
  EXPECT_FALSE(evs[0].fatal);
  EXPECT_EQ(evs[1].command.tag, "a4");
  // A non-synchronising one cannot be refused without losing sync: fatal.
  evs = receive("a5 APPEND INBOX {11+}\r\n", false, lim);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(evs[0].fatal);
  // Literals add up within one command.
  evs = receive("a6 X {6+}\r\n123456 {6+}\r\n", false, lim);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(evs[0].fatal);
}

TEST(ImapSeqSet, ParsesRangesStarAndSaved) {
  EXPECT_EQ(parse_seq_set("1")->ranges, (std::vector<SeqRange>{{1, 1}}));
  EXPECT_EQ(parse_seq_set("4:2,7,9:*")->ranges,
            (std::vector<SeqRange>{{2, 4}, {7, 7}, {9, kStar}}));
  EXPECT_TRUE(parse_seq_set("$")->saved);
  for (auto bad : {"", "0", "1:", ":2", "a", "1,,2", "1:2:3", "4294967296", "01", "0:5", "5:0",
                   "1:99999999999", "**", "1,", ",1", "$,1", "-1", "+1"})
    EXPECT_FALSE(parse_seq_set(bad)) << bad;
  auto s = parse_seq_set("*:3");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->contains(3, 5));
  EXPECT_TRUE(s->contains(5, 5));
  EXPECT_FALSE(s->contains(2, 5));
}

TEST(ImapFetchAtts, SectionsPartialsAndMacros) {
  auto one = [](std::string w) {
    auto r = parse_fetch_atts(atom(std::move(w)));
    return r ? r->at(0) : FetchAtt{.kind = FetchAtt::Kind::flags, .peek = true};
  };
  auto a = one("BODY[1.2.MIME]<0.100>");
  EXPECT_EQ(a.kind, FetchAtt::Kind::body_section);
  EXPECT_EQ(a.section.part, "1.2");
  EXPECT_EQ(a.section.kind, Section::Kind::mime);
  ASSERT_TRUE(a.partial);
  EXPECT_EQ(a.partial->offset, 0u);
  EXPECT_EQ(a.partial->length, 100u);
  EXPECT_EQ(fetch_att_response_name(a), "BODY[1.2.MIME]<0>");
  a = one("body.peek[header.fields (from \"To\")]");
  EXPECT_TRUE(a.peek);
  EXPECT_EQ(a.section.fields, (std::vector<std::string>{"FROM", "TO"}));
  EXPECT_EQ(fetch_att_response_name(a), "BODY[HEADER.FIELDS (FROM TO)]");
  EXPECT_EQ(one("BODY[]").section.kind, Section::Kind::full);
  EXPECT_EQ(one("BODY[2.TEXT]").section.kind, Section::Kind::text);
  EXPECT_EQ(one("BINARY.PEEK[1]").kind, FetchAtt::Kind::binary);
  EXPECT_EQ(parse_fetch_atts(atom("FULL"))->size(), 5u);
  EXPECT_EQ(parse_fetch_atts(list({atom("UID"), atom("MODSEQ")}))->size(), 2u);
  for (auto bad : {"BODY[MIME]", "BODY[1.0]", "BODY[HEADER.FIELDS]", "BODY[]<1>", "BODY[]<0.0>",
                   "BINARY[HEADER]", "FOO", "BODY[1", "BODY[TEXT.1]"})
    EXPECT_FALSE(parse_fetch_atts(atom(bad))) << bad;
}

TEST(ImapSearch, KeysNestAndCarryValues) {
  std::vector<Arg> args = {
      atom("RETURN"),
      list({atom("MIN"), atom("COUNT")}),
      atom("CHARSET"),
      atom("utf-8"),
      atom("OR"),
      atom("UNSEEN"),
      list({atom("FROM"), quoted("Nguyễn"), atom("SINCE"), atom("1-Feb-2024")}),
      atom("NOT"),
      atom("UID"),
      atom("5:*"),
      atom("2,4"),
      atom("LARGER"),
      atom("100")};
  auto p = parse_search(args);
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE(p->esearch && p->ret_min && p->ret_count && !p->ret_all);
  EXPECT_EQ(p->charset, "UTF-8");
  ASSERT_EQ(p->key.children.size(), 4u);
  const auto& orr = p->key.children[0];
  EXPECT_EQ(orr.op, SearchKey::Op::or_);
  EXPECT_EQ(orr.children[0].op, SearchKey::Op::unflag);
  EXPECT_EQ(orr.children[0].number, store::kSeen);
  EXPECT_EQ(orr.children[1].children[0].value, "Nguyễn");
  EXPECT_EQ(orr.children[1].children[1].number, parse_date("1-Feb-2024"));
  EXPECT_EQ(p->key.children[1].children[0].op, SearchKey::Op::uidset);
  EXPECT_EQ(p->key.children[2].op, SearchKey::Op::seqset);
  EXPECT_EQ(p->key.children[3].number, 100);
  for (auto bad :
       std::vector<std::vector<Arg>>{{},
                                     {atom("FROM")},
                                     {atom("SINCE"), atom("yesterday")},
                                     {atom("OR"), atom("SEEN")},
                                     {atom("BOGUS")},
                                     {atom("RETURN"), list({atom("NOPE")}), atom("ALL")}})
    EXPECT_FALSE(parse_search(bad));
}

TEST(ImapDates, ParseAndFormat) {
  EXPECT_EQ(parse_date("1-Jan-1970"), 0);
  EXPECT_EQ(parse_date("01-feb-2024"), 1706745600);
  EXPECT_EQ(parse_date_time("17-Jul-1996 02:44:25 -0700"), 837596665);
  EXPECT_EQ(parse_date_time(" 1-Jan-1970 00:00:00 +0000"), 0);
  EXPECT_EQ(format_date_time(837596665), "17-Jul-1996 09:44:25 +0000");
  for (auto bad : {"32-Jan-2020", "1-Foo-2020", "1-Jan-20", "1/1/2020"})
    EXPECT_FALSE(parse_date(bad)) << bad;
  EXPECT_FALSE(parse_date_time("17-Jul-1996 2:44:25 -0700"));
}

TEST(ImapUtf7, VietnameseNamesRoundTrip) {
  const std::string name = "Công văn đến";
  auto enc = utf7_encode(name);
  EXPECT_EQ(enc, "C&APQ-ng v&AQM-n &AREevw-n");
  EXPECT_EQ(utf7_decode(enc), name);
  EXPECT_EQ(utf7_encode("A&B"), "A&-B");
  EXPECT_EQ(utf7_decode("A&-B"), "A&B");
  EXPECT_EQ(utf7_decode("&ZeVnLIqe-"), "日本語");
  EXPECT_EQ(utf7_encode("😀"), "&2D3eAA-");
  EXPECT_EQ(utf7_decode("&2D3eAA-"), "😀");
  for (auto bad : {"&", "&Jjo", "&AGE-", "&2D0-", "\x80", "&*-"})
    EXPECT_FALSE(utf7_decode(bad)) << bad;
}

TEST(ImapStrings, QuotingChoosesQuotedOrLiteral) {
  EXPECT_EQ(quote_string("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
  EXPECT_EQ(quote_string("x\r\ny"), "{4}\r\nx\r\ny");
  EXPECT_EQ(nstring(std::nullopt), "NIL");
  // 8-bit bytes: a literal for a client without UTF8=ACCEPT, quoted (UTF-8) for one with it.
  EXPECT_EQ(quote_string("C\u00F4ng"), "{5}\r\nC\u00F4ng");
  EXPECT_EQ(quote_string("C\u00F4ng", true), "\"C\u00F4ng\"");
  EXPECT_EQ(quote_string("\xE0", false), "{1}\r\n\xE0");
  EXPECT_EQ(nstring(std::string("Vi\u1EC7t")), "{6}\r\nVi\u1EC7t");
  EXPECT_EQ(quote_string("x\r\ny", true), "{4}\r\nx\r\ny");
}

}  // namespace
}  // namespace govmail::imap

namespace govmail::imap {
namespace {

TEST(ImapReceiver, PreauthLiteralCapUntilAuthenticated) {
  Receiver r(ReceiverLimits{.literal_max = 100000, .preauth_literal_max = 16});
  r.feed("a1 LOGIN {16}\r\n");
  EXPECT_EQ(r.next().kind, Receiver::Kind::continuation);
  r.feed("uuuuuuuuuuuuuuuu pw\r\na2 LOGIN {17}\r\n");
  EXPECT_EQ(r.next().kind, Receiver::Kind::command);
  auto ev = r.next();  // refused before any "+": the client sends nothing more of it
  ASSERT_EQ(ev.kind, Receiver::Kind::error);
  EXPECT_EQ(ev.tag, "a2");
  EXPECT_FALSE(ev.fatal);
  EXPECT_NE(ev.reason.find("imap_preauth_literal_max"), std::string::npos);
  r.feed("a3 LOGIN {17+}\r\n");
  ev = r.next();  // LITERAL+: its bytes follow regardless
  ASSERT_EQ(ev.kind, Receiver::Kind::error);
  EXPECT_TRUE(ev.fatal);
  Receiver in(ReceiverLimits{.literal_max = 100000, .preauth_literal_max = 16});
  in.authenticated();
  in.feed("a4 APPEND INBOX {5000}\r\n");
  EXPECT_EQ(in.next().kind, Receiver::Kind::continuation);
}

TEST(ImapReceiver, LiteralsHoldTheBudgetUntilTheNextCommandIsAskedFor) {
  core::ByteBudget budget(1000);
  Receiver a(ReceiverLimits{.preauth_literal_max = 100000, .budget = &budget});
  Receiver b(ReceiverLimits{.preauth_literal_max = 100000, .budget = &budget});
  a.feed("a1 APPEND INBOX {800}\r\n");
  EXPECT_EQ(a.next().kind, Receiver::Kind::continuation);
  EXPECT_EQ(budget.used(), 800u);
  b.feed("b1 APPEND INBOX {300}\r\n");
  auto ev = b.next();
  ASSERT_EQ(ev.kind, Receiver::Kind::error);
  EXPECT_TRUE(ev.no);
  EXPECT_FALSE(ev.fatal);
  EXPECT_EQ(ev.reason.rfind("[LIMIT]", 0), 0u);
  b.feed("b2 APPEND INBOX {300+}\r\n");
  ev = b.next();
  EXPECT_TRUE(ev.no && ev.fatal);  // its bytes are on the way: out of sync
  a.feed(std::string(800, 'm') + "\r\n");
  EXPECT_EQ(a.next().kind, Receiver::Kind::command);
  EXPECT_EQ(budget.used(), 800u);  // still held while the command is handled
  EXPECT_EQ(a.next().kind, Receiver::Kind::need_more);
  EXPECT_EQ(budget.used(), 0u);
  Receiver c(ReceiverLimits{.preauth_literal_max = 100000, .budget = &budget});
  c.feed("c1 APPEND INBOX {300}\r\n");
  EXPECT_EQ(c.next().kind, Receiver::Kind::continuation);
  { Receiver gone = std::move(c); }
  EXPECT_EQ(budget.used(), 0u);  // a connection that goes gives it back
}

TEST(SeqSetNormalised, ResolvesStarOrdersSortsAndMerges) {
  auto set = parse_seq_set("9:7,*,1,2:3,5:4,20:*,3");
  ASSERT_TRUE(set);
  // star = 25: "*" is 25, "20:*" is 20:25; 1,2:3,3 join to 1:3; 5:4 -> 4:5 joins them too.
  EXPECT_EQ(set->normalised(25), (std::vector<SeqRange>{{1, 5}, {7, 9}, {20, 25}}));
  // A star below a range's start reverses it ("*:3" with 2 messages is 2:3).
  EXPECT_EQ(parse_seq_set("*:3")->normalised(2), (std::vector<SeqRange>{{2, 3}}));
  EXPECT_EQ(parse_seq_set("4000000000:*")->normalised(UINT32_MAX - 1),
            (std::vector<SeqRange>{{4000000000u, UINT32_MAX - 1}}));
}

// 4294967295 is an nz-number like any other (RFC 3501 9): it names itself, never '*'.
TEST(ImapSeqSet, TheLargestNumberIsNotStar) {
  auto all = parse_seq_set("1:4294967295");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->ranges, (std::vector<SeqRange>{{1, UINT32_MAX}}));
  EXPECT_TRUE(all->contains(7, 7));
  EXPECT_EQ(all->normalised(7), (std::vector<SeqRange>{{1, UINT32_MAX}}));
  auto top = parse_seq_set("4294967295");
  ASSERT_TRUE(top);
  EXPECT_FALSE(top->contains(7, 7));  // '*' would be 7
  EXPECT_TRUE(top->contains(UINT32_MAX, 7));
  auto past = parse_seq_set("8:4294967295");  // from UIDNEXT on: nothing in use
  SeqCursor cursor(*past, 7);
  EXPECT_FALSE(cursor.contains(7));
  EXPECT_TRUE(cursor.contains(8));
  auto reversed = parse_seq_set("4294967295:8,*:2");
  EXPECT_EQ(reversed->normalised(7), (std::vector<SeqRange>{{2, UINT32_MAX}}));
}

TEST(SeqCursor, AgreesWithContainsForManyRangesAscendingAndNot) {
  // "1,3,5,...,39999": 20,000 ranges, plus overlapping and reversed ones.
  std::string text;
  for (std::uint32_t n = 1; n < 40000; n += 2) text += std::to_string(n) + ",";
  text += "100:90,39990:*,*";
  auto set = parse_seq_set(text);
  ASSERT_TRUE(set);
  const std::uint32_t star = 45000;
  SeqCursor cursor(*set, star);
  for (std::uint32_t n = 1; n <= star + 10; ++n)
    ASSERT_EQ(cursor.contains(n), set->contains(n, star)) << n;
  SeqCursor back(*set, star);  // not ascending: still right
  for (std::uint32_t n : {44000u, 3u, 4u, 95u, 96u, 2u, 39991u, 1u, 45001u, 6u})
    ASSERT_EQ(back.contains(n), set->contains(n, star)) << n;
}

TEST(SeqCursor, UidRangesMayNameMissingUids) {
  auto set = parse_seq_set("2:4,10:*");
  SeqCursor cursor(*set, 12);  // UIDs in use: 1, 5, 11, 12
  EXPECT_FALSE(cursor.contains(1));
  EXPECT_FALSE(cursor.contains(5));
  EXPECT_TRUE(cursor.contains(11));
  EXPECT_TRUE(cursor.contains(12));
}

}  // namespace
}  // namespace govmail::imap
