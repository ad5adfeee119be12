// The RFC 5322 address-list parser shared by ENVELOPE and the SMTP From: checks: RFC 5322 3.4
// and appendix A examples, the obsolete syntax of 4.4, and the spoofing forms of issue 11.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/address.hpp"

namespace govmail::store {
namespace {

// "name|mailbox@host" per mailbox, "group:NAME" / "end" for group items.
std::vector<std::string> outline(const AddressList& list) {
  std::vector<std::string> out;
  for (const Address& a : list.items) {
    if (!a.host) {
      out.push_back(a.mailbox ? "group:" + *a.mailbox : "end");
      continue;
    }
    std::string s = a.name ? *a.name + "|" : "";
    if (a.adl) s += *a.adl + ":";
    out.push_back(s + addr_spec(a));
  }
  return out;
}

struct Case {
  const char* value;
  std::vector<std::string> want;
  bool valid;
};

void check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const AddressList list = parse_address_list(c.value);
    EXPECT_EQ(outline(list), c.want) << c.value;
    EXPECT_EQ(list.valid, c.valid) << c.value;
  }
}

TEST(AddressList, Rfc5322AppendixA) {
  check({
      // A.1.1
      {"John Doe <jdoe@machine.example>", {"John Doe|jdoe@machine.example"}, true},
      {"Mary Smith <mary@example.net>", {"Mary Smith|mary@example.net"}, true},
      // A.1.2
      {"\"Joe Q. Public\" <john.q.public@example.com>",
       {"Joe Q. Public|john.q.public@example.com"},
       true},
      {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
       {"Mary Smith|mary@x.test", "jdoe@example.org", "Who?|one@y.test"},
       true},
      {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
       {"boss@nil.test", "Giant; \"Big\" Box|sysservices@example.net"},
       true},
      // A.1.3
      {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
       {"group:A Group", "Ed Jones|c@a.test", "joe@where.test", "John|jdoe@one.test", "end"},
       true},
      {"Undisclosed recipients:;", {"group:Undisclosed recipients", "end"}, true},
      // A.5: white space and comments
      {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
       {"Pete|pete@silly.test"},
       true},
      {"A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
       "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the "
       "group)",
       {"group:A Group", "Chris Jones|c@public.example", "joe@example.org", "John|jdoe@one.test",
        "end"},
       true},
      // A.6.1 / 4.4: obsolete syntax
      {"Joe Q. Public <john.q.public@example.com>",
       {"Joe Q. Public|john.q.public@example.com"},
       true},
      {"Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
       {"Mary Smith|@node.test:mary@example.net", "jdoe@test.example"},
       true},
      {"John Doe <jdoe@machine(comment).  example>", {"John Doe|jdoe@machine.example"}, true},
      {"Mary Smith\r\n  \r\n <mary@example.net>", {"Mary Smith|mary@example.net"}, true},
  });
}

TEST(AddressList, ObsoleteAndQuotedForms) {
  check({
      {"boss @ local . gov . vn", {"boss@local.gov.vn"}, true},
      {"boss@ local.gov.vn", {"boss@local.gov.vn"}, true},
      {"boss@\r\n local.gov.vn", {"boss@local.gov.vn"}, true},
      {"\"boss\"@local.gov.vn", {"boss@local.gov.vn"}, true},
      {"\"bo\\ss\" . x @local.gov.vn", {"boss.x@local.gov.vn"}, true},
      {"bo(c)ss@local.gov.vn", {"c|boss@local.gov.vn"}, false},  // two atoms, no dot
      {"boss@loc(x)al.gov.vn", {"x|boss@local.gov.vn"}, false},
      {"<@a.test,,@b.test:u@c.test>", {"@a.test,@b.test:u@c.test"}, true},
      {"u@[192.0.2.1]", {"u@[192.0.2.1]"}, true},
      {"u@[ 192.0.2.1 ]", {"u@[192.0.2.1]"}, true},
      {"a@b.c (Nguyễn Văn A)", {"Nguyễn Văn A|a@b.c"}, true},
      {"Nguyễn Văn A <nva@bộ.gov.vn>", {"Nguyễn Văn A|nva@bộ.gov.vn"}, true},
      {"=?UTF-8?Q?boss=40local.gov.vn?= <x@evil.test>",
       {"=?UTF-8?Q?boss=40local.gov.vn?=|x@evil.test"},
       true},
  });
}

TEST(AddressList, MalformedIsFlaggedButStillRead) {
  check({
      {"boss@local.gov.vn.", {"boss@local.gov.vn."}, false},
      {"boss@local.gov.vn@evil.test", {"boss@local.gov.vn"}, false},
      {"<boss@local.gov.vn", {"boss@local.gov.vn"}, false},
      {"\"boss@local.gov.vn", {"boss@local.gov.vn"}, false},  // no domain: host ""
      {"(boss@local.gov.vn", {}, false},
      {"boss", {"boss"}, false},
      {"John Smith@x.test", {"JohnSmith@x.test"}, false},
      {"a@b.c; d@e.f", {"a@b.c", "d@e.f"}, false},
      {"g: a@b.c", {"group:g", "a@b.c", "end"}, false},
      {"g: h: a@b.c;", {"group:g", "a@b.c", "end"}, false},
      {"a@b.c >", {"a@b.c"}, false},
      {"<>", {}, false},
      {"a@\"local.gov.vn\"", {"a@local.gov.vn"}, false},
      {"a\\b@c.d", {"a"}, false},
      {"", {}, true},
      {" , ,", {}, true},
  });
}

}  // namespace
}  // namespace govmail::store
