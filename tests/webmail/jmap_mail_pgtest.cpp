// The RFC 8621 mail methods against a real PostgreSQL, called as JMAP core calls them (the
// registry's handlers with JSON arguments shaped like the RFC's examples), and checked against
// what IMAP sees through MailboxStore: one state for both protocols.
#include <gmock/gmock.h>

#include "../store/store_fixture.hpp"
#include "jmap/method.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::testing {
namespace {

using jmap::Json;
using store::testing::sample_message;

class JmapMailTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    jmap::register_mail_methods(registry_);
    account_ = add_account("an@xa.gov.vn");
    ctx_ = context(account_);
  }

  jmap::RequestContext context(const store::Account& a) {
    jmap::RequestContext c;
    c.account_id = a.id;
    c.account_id_string = "A" + std::to_string(a.id);
    c.address = a.address;
    c.db = db_;
    c.registry = &registry_;
    return c;
  }

  static awaitable<Json> invoke(jmap::MethodHandler h, Json args, jmap::RequestContext* ctx) {
    try {
      co_return co_await h(args, *ctx);
    } catch (const jmap::MethodError& e) {
      co_return Json{{"error", e.type}, {"description", e.description}};
    }
  }

  // Calls a method with accountId filled in; a method error comes back as {"error": type}.
  Json call(const std::string& method, Json args, jmap::RequestContext* ctx = nullptr) {
    ctx = ctx ? ctx : &ctx_;
    ctx->read_state.reset();  // each call is a request of its own
    if (!args.contains("accountId")) args["accountId"] = ctx->account_id_string;
    const auto* entry = registry_.find(method);
    EXPECT_NE(entry, nullptr) << method;
    if (!entry) return Json();
    return run(invoke(entry->handler, std::move(args), ctx));
  }

  std::string mailbox_id(const std::string& name) {
    return "M" + std::to_string(mailbox(account_.id, name).id);
  }
  std::string email_id(const store::AppendResult& r) { return "E" + std::to_string(r.message_id); }

  store::Flags imap_flags(const std::string& mailbox_name, store::Uid uid) {
    auto m = mailbox(account_.id, mailbox_name);
    auto e = run(store().list_entries(account_.id, m.id, {{uid, uid}}));
    EXPECT_TRUE(e.ok() && e->size() == 1);
    return e.ok() && e->size() == 1 ? e->front().flags : store::Flags{};
  }
  std::size_t imap_count(const std::string& mailbox_name) {
    return mailbox(account_.id, mailbox_name).messages;
  }

  jmap::MethodRegistry registry_;
  store::Account account_;
  jmap::RequestContext ctx_;
};

const char* kMultipart =
    "From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBC?= <b@tinh.gov.vn>\r\n"
    "To: an@xa.gov.vn, \"Trần C\" <c@xa.gov.vn>\r\n"
    "Cc: Nhóm: d@xa.gov.vn;\r\n"
    "Subject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n_kh=E1=BA=A9n?=\r\n"
    "Date: Tue, 04 Mar 2025 09:15:00 +0700\r\n"
    "Message-ID: <cv1@tinh.gov.vn>\r\n"
    "References: <a@x> <b@y>\r\n"
    "X-Priority: 1\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "--XX\r\n"
    "Content-Type: multipart/alternative; boundary=\"YY\"\r\n"
    "\r\n"
    "--YY\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "K=C3=ADnh g=E1=BB=ADi c=C3=A1c x=C3=A3.\r\n"
    "--YY\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>K\xC3\xADnh g\xE1\xBB\xADi <b>c\xC3\xA1\x63</b> x\xC3\xA3.</p>\r\n"
    "--YY--\r\n"
    "--XX\r\n"
    "Content-Type: application/pdf; name=\"cv.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"cv.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--XX--\r\n";

TEST_F(JmapMailTest, MailboxGetShowsRolesCountsAndRights) {
  auto inbox = mailbox(account_.id, "INBOX");
  append(account_.id, inbox.id, sample_message(1));
  append(account_.id, inbox.id, sample_message(2), {store::kSeen, {}});
  auto r = call("Mailbox/get", {{"ids", {mailbox_id("INBOX")}}});
  ASSERT_EQ(r["list"].size(), 1u) << r.dump();
  const Json expected = {{"id", mailbox_id("INBOX")},
                         {"name", "INBOX"},
                         {"parentId", nullptr},
                         {"role", "inbox"},
                         {"sortOrder", 0},
                         {"totalEmails", 2},
                         {"unreadEmails", 1},
                         {"totalThreads", 2},
                         {"unreadThreads", 1},
                         {"myRights",
                          {{"mayReadItems", true},
                           {"mayAddItems", true},
                           {"mayRemoveItems", true},
                           {"maySetSeen", true},
                           {"maySetKeywords", true},
                           {"mayCreateChild", true},
                           {"mayRename", false},
                           {"mayDelete", false},
                           {"maySubmit", true}}},
                         {"isSubscribed", true}};
  EXPECT_EQ(r["list"][0], expected);
  EXPECT_EQ(r["notFound"], Json::array());
  EXPECT_EQ(r["state"], std::to_string(qi("SELECT modseq FROM accounts WHERE id = " +
                                          std::to_string(account_.id))));
  auto all = call("Mailbox/get", {{"ids", nullptr}, {"properties", {"name", "role"}}});
  std::set<std::string> roles;
  for (const auto& m : all["list"]) {
    EXPECT_EQ(m.size(), 3u);  // id, name, role
    roles.insert(m["role"].get<std::string>());
  }
  EXPECT_EQ(roles, (std::set<std::string>{"inbox", "sent", "drafts", "trash", "junk", "archive"}));
  EXPECT_EQ(call("Mailbox/get", {{"ids", {"M999999"}}})["notFound"], Json({"M999999"}));
  EXPECT_EQ(call("Mailbox/get", {{"accountId", "A0"}})["error"], "accountNotFound");
}

TEST_F(JmapMailTest, MailboxQueryFiltersAndSorts) {
  auto r = call("Mailbox/query", {{"filter", {{"role", "sent"}}}});
  EXPECT_EQ(r["ids"], Json({mailbox_id("Sent")}));
  r = call("Mailbox/query", {{"filter", {{"hasAnyRole", true}}},
                             {"sort", {{{"property", "name"}, {"isAscending", true}}}},
                             {"calculateTotal", true}});
  EXPECT_EQ(r["ids"], Json({mailbox_id("Archive"), mailbox_id("Drafts"), mailbox_id("INBOX"),
                            mailbox_id("Junk"), mailbox_id("Sent"), mailbox_id("Trash")}));
  EXPECT_EQ(r["total"], 6);
  EXPECT_EQ(call("Mailbox/query", {{"filter", {{"colour", "red"}}}})["error"], "unsupportedFilter");
  EXPECT_EQ(call("Mailbox/query", {{"sort", {{{"property", "totalEmails"}}}}})["error"],
            "unsupportedSort");
}

TEST_F(JmapMailTest, MailboxSetCreatesRenamesDestroysAndChangesReportsIt) {
  const std::string s0 = call("Mailbox/get", {{"ids", Json::array()}})["state"];
  auto r = call("Mailbox/set", {{"create",
                                 {{"k1", {{"name", "Công văn"}, {"parentId", nullptr}}},
                                  {"k2", {{"name", "Đến"}, {"parentId", "#k1"}}}}}});
  ASSERT_TRUE(r["created"].contains("k1")) << r.dump();
  ASSERT_TRUE(r["created"].contains("k2")) << r.dump();
  const std::string k1 = r["created"]["k1"]["id"], k2 = r["created"]["k2"]["id"];
  EXPECT_EQ(mailbox(account_.id, "Công văn/Đến").id, std::stoll(k2.substr(1)));
  auto got = call("Mailbox/get", {{"ids", {k2}}, {"properties", {"name", "parentId"}}});
  EXPECT_EQ(got["list"][0], Json({{"id", k2}, {"name", "Đến"}, {"parentId", k1}}));

  auto ch = call("Mailbox/changes", {{"sinceState", s0}});
  EXPECT_EQ(ch["created"], Json({k1, k2}));
  EXPECT_EQ(ch["oldState"], s0);
  EXPECT_EQ(ch["hasMoreChanges"], false);

  // A mailbox with a child cannot go; one with mail only with onDestroyRemoveEmails.
  r = call("Mailbox/set", {{"destroy", {k1}}});
  EXPECT_EQ(r["notDestroyed"][k1]["type"], "mailboxHasChild");
  append(account_.id, std::stoll(k2.substr(1)), sample_message(5));
  r = call("Mailbox/set", {{"destroy", {k2}}});
  EXPECT_EQ(r["notDestroyed"][k2]["type"], "mailboxHasEmail");
  r = call("Mailbox/set", {{"update", {{k1, {{"name", "Lưu trữ"}}}}}});
  EXPECT_EQ(r["updated"], Json({{k1, nullptr}})) << r.dump();
  EXPECT_EQ(mailbox(account_.id, "Lưu trữ/Đến").id, std::stoll(k2.substr(1)));
  const std::string s1 = r["newState"];
  r = call("Mailbox/set", {{"destroy", {k2}}, {"onDestroyRemoveEmails", true}});
  EXPECT_EQ(r["destroyed"], Json({k2})) << r.dump();
  ch = call("Mailbox/changes", {{"sinceState", s1}});
  EXPECT_EQ(ch["destroyed"], Json({k2}));
  EXPECT_EQ(call("Mailbox/set",
                 {{"destroy", {mailbox_id("INBOX")}}})["notDestroyed"][mailbox_id("INBOX")]["type"],
            "forbidden");
  EXPECT_EQ(call("Mailbox/changes", {{"sinceState", "999999"}})["error"], "cannotCalculateChanges");
  EXPECT_EQ(call("Mailbox/changes", {{"sinceState", "x"}})["error"], "cannotCalculateChanges");
}

TEST_F(JmapMailTest, EmailGetReadsHeadersBodiesAndAttachments) {
  auto a = append(account_.id, mailbox(account_.id, "INBOX").id, kMultipart,
                  {store::kFlagged, {"Urgent"}});
  const std::string id = email_id(a);
  auto r = call("Email/get", {{"ids", {id}},
                              {"properties",
                               {"threadId", "mailboxIds", "keywords", "from", "to", "cc", "subject",
                                "sentAt", "messageId", "references", "inReplyTo", "hasAttachment",
                                "preview", "textBody", "htmlBody", "attachments", "bodyValues",
                                "header:X-Priority:asText", "header:Cc:asGroupedAddresses"}},
                              {"fetchTextBodyValues", true},
                              {"bodyProperties", {"partId", "type", "name", "disposition"}}});
  ASSERT_EQ(r["list"].size(), 1u) << r.dump();
  const Json& e = r["list"][0];
  EXPECT_EQ(e["id"], id);
  EXPECT_EQ(e["threadId"], "T" + std::to_string(a.message_id));
  EXPECT_EQ(e["mailboxIds"], Json({{mailbox_id("INBOX"), true}}));
  EXPECT_EQ(e["keywords"], Json({{"$flagged", true}, {"urgent", true}}));
  EXPECT_EQ(e["from"], Json::parse(R"([{"name":"Nguyễn Văn B","email":"b@tinh.gov.vn"}])"));
  EXPECT_EQ(
      e["to"],
      Json::parse(
          R"([{"name":null,"email":"an@xa.gov.vn"},{"name":"Trần C","email":"c@xa.gov.vn"}])"));
  EXPECT_EQ(e["cc"], Json::parse(R"([{"name":null,"email":"d@xa.gov.vn"}])"));
  EXPECT_EQ(e["header:Cc:asGroupedAddresses"],
            Json::parse(R"([{"name":"Nhóm","addresses":[{"name":null,"email":"d@xa.gov.vn"}]}])"));
  EXPECT_EQ(e["subject"], "Công văn khẩn");
  EXPECT_EQ(e["sentAt"], "2025-03-04T09:15:00+07:00");
  EXPECT_EQ(e["messageId"], Json({"cv1@tinh.gov.vn"}));
  EXPECT_EQ(e["references"], Json({"a@x", "b@y"}));
  EXPECT_EQ(e["inReplyTo"], nullptr);
  EXPECT_EQ(e["header:X-Priority:asText"], "1");
  EXPECT_EQ(e["hasAttachment"], true);
  EXPECT_EQ(e["preview"], "Kính gửi các xã.");
  EXPECT_EQ(
      e["textBody"],
      Json::parse(R"([{"partId":"1.1","type":"text/plain","name":null,"disposition":null}])"));
  EXPECT_EQ(e["htmlBody"],
            Json::parse(R"([{"partId":"1.2","type":"text/html","name":null,"disposition":null}])"));
  EXPECT_EQ(
      e["attachments"],
      Json::parse(
          R"([{"partId":"2","type":"application/pdf","name":"cv.pdf","disposition":"attachment"}])"));
  EXPECT_EQ(
      e["bodyValues"],
      Json::parse(
          R"({"1.1":{"value":"Kính gửi các xã.","isEncodingProblem":false,"isTruncated":false}})"));

  // maxBodyValueBytes cuts on a character boundary ("K" + "í" is 3 bytes; 2 keeps only "K").
  r = call("Email/get", {{"ids", {id}},
                         {"properties", {"bodyValues"}},
                         {"fetchHTMLBodyValues", true},
                         {"maxBodyValueBytes", 2}});
  EXPECT_EQ(r["list"][0]["bodyValues"],
            Json::parse(R"({"1.2":{"value":"<p","isEncodingProblem":false,"isTruncated":true}})"));
  r = call("Email/get", {{"ids", {id}},
                         {"properties", {"bodyValues"}},
                         {"fetchTextBodyValues", true},
                         {"maxBodyValueBytes", 2}});
  EXPECT_EQ(r["list"][0]["bodyValues"]["1.1"]["value"], "K");

  // The attachment's blob is its decoded bytes; the Email's blob the raw message.
  r = call("Email/get", {{"ids", {id, "E999999", "junk"}}, {"properties", {"blobId", "size"}}});
  EXPECT_EQ(r["list"][0]["blobId"], "G" + q("SELECT encode(blob_sha256, 'hex') FROM messages "
                                            "WHERE id = " +
                                            std::to_string(a.message_id)));
  auto whole = run(jmap::read_blob(r["list"][0]["blobId"], ctx_));
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->data, kMultipart);
  auto pdf = run(jmap::read_blob("B" + std::to_string(a.message_id) + "_2", ctx_));
  ASSERT_TRUE(pdf.has_value());
  EXPECT_EQ(pdf->data, "%PDF-1.4\n");
  EXPECT_EQ(pdf->type, "application/pdf");
  EXPECT_FALSE(run(jmap::read_blob("B" + std::to_string(a.message_id) + "_9", ctx_)).has_value());
  EXPECT_EQ(r["list"][0]["size"], std::string(kMultipart).size());
  EXPECT_EQ(r["notFound"], Json({"E999999", "junk"}));
  EXPECT_EQ(call("Email/get", {{"ids", {id}}, {"properties", {"nope"}}})["error"],
            "invalidArguments");
}

// A message list's previews are computed once from the start of each message and cached in
// messages.preview; a message whose text comes after a big attachment is read whole for it.
TEST_F(JmapMailTest, PreviewsAreCachedAndFoundAfterABigAttachment) {
  const std::string late =
      "From: a@x.vn\r\nSubject: late\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      std::string(40 * 1024, 'x') +
      "\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVăn bản sau tệp.\r\n--b--\r\n";
  const auto inbox = mailbox(account_.id, "INBOX").id;
  auto a = append(account_.id, inbox, kMultipart, {});
  auto b = append(account_.id, inbox, late, {});
  const auto preview_of = [&](const store::AppendResult& x) {
    return q("SELECT coalesce(preview, 'NULL') FROM messages WHERE id = " +
             std::to_string(x.message_id));
  };
  EXPECT_EQ(preview_of(a), "NULL");
  auto r = call("Email/get",
                {{"ids", {email_id(a), email_id(b)}}, {"properties", {"preview", "subject"}}});
  ASSERT_EQ(r["list"].size(), 2u) << r.dump();
  EXPECT_EQ(r["list"][0]["preview"], "Kính gửi các xã.");
  EXPECT_EQ(r["list"][1]["preview"], "Văn bản sau tệp.");
  EXPECT_EQ(r["list"][1]["subject"], "late");
  EXPECT_EQ(preview_of(a), "Kính gửi các xã.");
  EXPECT_EQ(preview_of(b), "Văn bản sau tệp.");
  // The cache is what the next Email/get answers from.
  q("UPDATE messages SET preview = 'cached' WHERE id = " + std::to_string(a.message_id) +
    " RETURNING id");
  r = call("Email/get", {{"ids", {email_id(a)}}, {"properties", {"preview"}}});
  EXPECT_EQ(r["list"][0]["preview"], "cached");
}

TEST_F(JmapMailTest, OneMessageInTwoMailboxesIsOneEmail) {
  auto inbox = mailbox(account_.id, "INBOX");
  auto archive = mailbox(account_.id, "Archive");
  auto a = append(account_.id, inbox.id, sample_message(1));
  ASSERT_TRUE(run(store().copy(account_.id, inbox.id, {{a.uid, a.uid}}, archive.id)).ok());
  auto q = call("Email/query", {{"calculateTotal", true}});
  EXPECT_EQ(q["ids"], Json({email_id(a)}));
  EXPECT_EQ(q["total"], 1);
  auto r = call("Email/get", {{"ids", {email_id(a)}}, {"properties", {"mailboxIds"}}});
  EXPECT_EQ(r["list"][0]["mailboxIds"],
            Json({{mailbox_id("INBOX"), true}, {mailbox_id("Archive"), true}}));
}

TEST_F(JmapMailTest, EmailQueryFiltersSortsAndPages) {
  auto inbox = mailbox(account_.id, "INBOX").id;
  std::vector<store::AppendResult> m;
  for (int i = 0; i < 5; ++i) {
    store::AppendRequest req;
    req.raw = std::make_shared<const std::string>(sample_message(i, 200 + 100 * i));
    req.internal_date = 1700000000 + i * 60;
    req.flags = i % 2 ? store::Flags{store::kSeen, {}} : store::Flags{};
    auto r = run(store().append(account_.id, inbox, std::move(req)));
    ASSERT_TRUE(r.ok());
    m.push_back(*r);
  }
  auto att = append(account_.id, mailbox(account_.id, "Archive").id, kMultipart);
  auto ids = [&](std::initializer_list<int> idx) {
    Json j = Json::array();
    for (int i : idx) j.push_back(email_id(m[static_cast<std::size_t>(i)]));
    return j;
  };
  const Json in_inbox = {{"inMailbox", mailbox_id("INBOX")}};
  auto q = call("Email/query", {{"filter", in_inbox},
                                {"sort", {{{"property", "receivedAt"}, {"isAscending", false}}}}});
  EXPECT_EQ(q["ids"], ids({4, 3, 2, 1, 0}));
  EXPECT_EQ(q["position"], 0);
  EXPECT_EQ(q["canCalculateChanges"], true);  // Email/queryChanges can follow it
  q = call(
      "Email/query",
      {{"filter", {{"operator", "AND"}, {"conditions", {in_inbox, {{"notKeyword", "$seen"}}}}}},
       {"sort", {{{"property", "receivedAt"}, {"isAscending", true}}}}});
  EXPECT_EQ(q["ids"], ids({0, 2, 4}));
  q = call("Email/query",
           {{"filter", {{"hasKeyword", "$seen"}}}, {"sort", {{{"property", "size"}}}}});
  EXPECT_EQ(q["ids"], ids({1, 3}));
  q = call("Email/query", {{"filter", {{"operator", "NOT"}, {"conditions", {in_inbox}}}}});
  EXPECT_EQ(q["ids"], Json({email_id(att)}));
  q = call("Email/query", {{"filter", {{"hasAttachment", true}}}});
  EXPECT_EQ(q["ids"], Json({email_id(att)}));
  q = call("Email/query", {{"filter", {{"inMailboxOtherThan", {mailbox_id("Archive")}}}},
                           {"position", 1},
                           {"limit", 2},
                           {"calculateTotal", true}});
  EXPECT_EQ(q["ids"], ids({3, 2}));
  EXPECT_EQ(q["total"], 5);
  q = call("Email/query",
           {{"anchor", email_id(m[2])}, {"anchorOffset", -1}, {"limit", 2}, {"filter", in_inbox}});
  EXPECT_EQ(q["ids"], ids({3, 2}));
  EXPECT_EQ(q["position"], 1);
  q = call("Email/query", {{"filter", {{"subject", "số 3"}}}});
  EXPECT_EQ(q["ids"], ids({3}));
  q = call("Email/query", {{"filter", {{"from", "Nguyễn Văn B"}}}});
  EXPECT_EQ(q["ids"], Json({email_id(att)}));
  q = call("Email/query", {{"filter", {{"body", "Nội dung số 4"}}}});
  EXPECT_EQ(q["ids"], ids({4}));
  q = call("Email/query", {{"filter", {{"text", "tinh.gov.vn"}}}});
  EXPECT_EQ(q["ids"], Json({email_id(att)}));
  q = call("Email/query", {{"filter", {{"header", {"X-Priority", "1"}}}}});
  EXPECT_EQ(q["ids"], Json({email_id(att)}));
  q = call("Email/query", {{"filter", {{"header", {"Message-ID", "m2@"}}}}});
  EXPECT_EQ(q["ids"], ids({2}));
  q = call("Email/query", {{"filter", {{"before", "2023-11-14T22:15:00Z"}}}});
  EXPECT_EQ(q["ids"], ids({1, 0}));
  EXPECT_EQ(call("Email/query", {{"filter", {{"inThread", "T1"}}}})["error"], "unsupportedFilter");
  EXPECT_EQ(call("Email/query", {{"anchor", "E999999"}})["error"], "anchorNotFound");
  // Email/queryChanges answers from the change log (tests/integration/jmap_query_changes_itest.py),
  // except for states the account never had and text filters.
  EXPECT_EQ(call("Email/queryChanges", {{"sinceQueryState", "99999999"}})["error"],
            "cannotCalculateChanges");
  EXPECT_EQ(
      call("Email/queryChanges", {{"sinceQueryState", "1"}, {"filter", {{"text", "a"}}}})["error"],
      "cannotCalculateChanges");
  EXPECT_TRUE(call("Email/queryChanges", {{"sinceQueryState", "1"}})["removed"].is_array());
}

// The webmail's list (inMailbox alone, newest first, a page) is read in index order (migration
// 0025); it must give what the general query gives: dates out of UID order (an import), a message
// twice in the mailbox (IMAP COPY into the same mailbox: one Email), pages and the total.
TEST_F(JmapMailTest, NewestFirstPageOfOneMailboxIsTheGeneralQuerysPage) {
  auto inbox = mailbox(account_.id, "INBOX").id;
  const int dates[] = {5, 1, 4, 2, 3, 3};  // minutes; two share a date
  std::vector<store::AppendResult> m;
  for (int i = 0; i < 6; ++i) {
    store::AppendRequest req;
    req.raw = std::make_shared<const std::string>(sample_message(i));
    req.internal_date = 1700000000 + dates[i] * 60;
    auto r = run(store().append(account_.id, inbox, std::move(req)));
    ASSERT_TRUE(r.ok());
    m.push_back(*r);
  }
  ASSERT_TRUE(run(store().copy(account_.id, inbox, {{m[1].uid, m[1].uid}}, inbox)).ok());
  const Json in_inbox = {{"inMailbox", mailbox_id("INBOX")}};
  const Json general = {{"operator", "AND"}, {"conditions", {in_inbox}}};  // not the fast path
  const Json newest = {{{"property", "receivedAt"}, {"isAscending", false}}};
  const Json want = {email_id(m[0]), email_id(m[2]), email_id(m[5]),
                     email_id(m[4]), email_id(m[3]), email_id(m[1])};
  for (const Json& filter : {in_inbox, general}) {
    auto q = call("Email/query", {{"filter", filter}, {"sort", newest}, {"calculateTotal", true}});
    EXPECT_EQ(q["ids"], want) << filter.dump();
    EXPECT_EQ(q["total"], 6) << filter.dump();
    q = call("Email/query", {{"filter", filter},
                             {"position", 2},
                             {"limit", 3},
                             {"calculateTotal", true}});  // no sort: receivedAt desc
    EXPECT_EQ(q["ids"], Json({want[2], want[3], want[4]})) << filter.dump();
    EXPECT_EQ(q["total"], 6) << filter.dump();
    q = call("Email/query", {{"filter", filter}, {"position", 10}, {"calculateTotal", true}});
    EXPECT_EQ(q["ids"], Json::array()) << filter.dump();
    EXPECT_EQ(q["total"], 6) << filter.dump();
  }
  // The fast path's total is kept by the mailbox's HIGHESTMODSEQ: a new message, a second copy
  // of one (the same Email) and an expunge each give the count of that moment.
  auto total = [&] {
    return call("Email/query",
                {{"filter", in_inbox}, {"limit", 2}, {"calculateTotal", true}})["total"];
  };
  EXPECT_EQ(total(), 6);
  auto seventh = append(account_.id, inbox, sample_message(6));
  EXPECT_EQ(total(), 7);
  ASSERT_TRUE(run(store().copy(account_.id, inbox, {{seventh.uid, seventh.uid}}, inbox)).ok());
  EXPECT_EQ(total(), 7);
  ASSERT_TRUE(run(store().set_flags(account_.id, inbox, {{m[0].uid, m[0].uid}}, store::FlagOp::add,
                                    {store::kDeleted, {}}))
                  .ok());
  ASSERT_TRUE(run(store().expunge(account_.id, inbox)).ok());
  EXPECT_EQ(total(), 6);
}

// Header properties are kept per message once computed (HeaderPropertyCache): asked again, in
// another order, with other properties beside them, each message still answers its own values,
// and another account still gets notFound for the same ids.
TEST_F(JmapMailTest, HeaderPropertiesFromTheCacheAreEachMessagesOwn) {
  auto inbox = mailbox(account_.id, "INBOX").id;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const std::string raw = "From: Người " + std::to_string(i) + " <p" + std::to_string(i) +
                            "@xa.gov.vn>\r\nTo: an@xa.gov.vn\r\nSubject: Tin số " +
                            std::to_string(i) + "\r\nX-Ref: r" + std::to_string(i) +
                            "\r\nMessage-ID: <c" + std::to_string(i) + "@xa.gov.vn>\r\n\r\nx\r\n";
    ids.push_back(email_id(append(account_.id, inbox, raw)));
  }
  const Json list = {"subject", "from", "messageId", "keywords"};
  auto first = call("Email/get", {{"ids", ids}, {"properties", list}});
  ASSERT_EQ(first["list"].size(), 3u) << first.dump();
  auto again =
      call("Email/get", {{"ids", {ids[2], ids[0], ids[1]}},
                         {"properties", {"subject", "from", "header:X-Ref:asText", "size"}}});
  ASSERT_EQ(again["list"].size(), 3u) << again.dump();
  for (int k = 0; k < 3; ++k) {
    const Json& e = again["list"][k];
    const int i = (k + 2) % 3;  // asked in the order 2, 0, 1
    EXPECT_EQ(e["id"], ids[i]);
    EXPECT_EQ(e["subject"], "Tin số " + std::to_string(i));
    EXPECT_EQ(e["from"][0]["email"], "p" + std::to_string(i) + "@xa.gov.vn");
    EXPECT_EQ(e["header:X-Ref:asText"], "r" + std::to_string(i));
    EXPECT_TRUE(e.contains("size"));
    EXPECT_FALSE(e.contains("messageId"));  // only what was asked
  }
  auto third = call("Email/get", {{"ids", ids}, {"properties", list}});
  EXPECT_EQ(third["list"], first["list"]);
  auto chi = add_account("chi@xa.gov.vn");
  auto other_ctx = context(chi);
  auto other = call("Email/get", {{"ids", ids}, {"properties", list}}, &other_ctx);
  EXPECT_EQ(other["list"], Json::array());
  EXPECT_EQ(other["notFound"].size(), 3u);
}

TEST_F(JmapMailTest, ThreadsAndCollapseThreads) {
  auto inbox = mailbox(account_.id, "INBOX").id;
  auto first = append(account_.id, inbox, sample_message(7));
  store::Delivery d;
  d.raw = std::make_shared<const std::string>(
      "From: c@xa.gov.vn\r\nTo: an@xa.gov.vn\r\nSubject: Re: x\r\nMessage-ID: <r1@xa.gov.vn>\r\n"
      "In-Reply-To: <m7@example.gov.vn>\r\n\r\nĐã nhận.\r\n");
  d.local = {{account_.id, std::nullopt}};
  auto reply = run(store().deliver(std::move(d)));
  ASSERT_TRUE(reply.ok());
  auto other = append(account_.id, inbox, sample_message(8));
  const std::string thread = "T" + std::to_string(first.message_id);
  auto t = call("Thread/get", {{"ids", {thread, "T999999"}}});
  EXPECT_EQ(t["list"], Json::parse(R"([{"id":")" + thread + R"(","emailIds":[")" + email_id(first) +
                                   R"(","E)" + std::to_string(reply->message_id) + R"("]}])"));
  EXPECT_EQ(t["notFound"], Json({"T999999"}));
  auto q = call("Email/query", {{"collapseThreads", true}});
  EXPECT_EQ(q["ids"], Json({email_id(other), "E" + std::to_string(reply->message_id)}));
  auto all = call("Email/query", {{"filter", {{"someInThreadHaveKeyword", "$seen"}}}});
  EXPECT_EQ(all["ids"], Json::array());
  ASSERT_TRUE(run(store().set_flags(account_.id, inbox, {{first.uid, first.uid}},
                                    store::FlagOp::add, {store::kSeen, {}}))
                  .ok());
  all = call("Email/query", {{"filter", {{"someInThreadHaveKeyword", "$seen"}}}});
  EXPECT_EQ(all["ids"], Json({"E" + std::to_string(reply->message_id), email_id(first)}));
  all = call("Email/query", {{"filter", {{"allInThreadHaveKeyword", "$seen"}}}});
  EXPECT_EQ(all["ids"], Json::array());
}

TEST_F(JmapMailTest, EmailSetKeywordsAndMailboxesAreWhatImapSees) {
  auto inbox = mailbox(account_.id, "INBOX");
  auto a = append(account_.id, inbox.id, sample_message(1), {0, {"Old"}});
  const std::string id = email_id(a);
  const std::string s0 = call("Email/get", {{"ids", Json::array()}})["state"];

  auto r = call("Email/set",
                {{"update", {{id, {{"keywords/$seen", true}, {"keywords/$flagged", true}}}}}});
  EXPECT_EQ(r["updated"], Json({{id, nullptr}})) << r.dump();
  EXPECT_EQ(imap_flags("INBOX", a.uid), (store::Flags{store::kSeen | store::kFlagged, {"Old"}}));
  auto ch = call("Email/changes", {{"sinceState", s0}});
  EXPECT_EQ(ch["updated"], Json({id}));
  EXPECT_EQ(ch["created"], Json::array());
  EXPECT_EQ(ch["newState"], r["newState"]);

  r = call("Email/set",
           {{"update", {{id, {{"keywords", {{"$answered", true}, {"projekt", true}}}}}}}});
  EXPECT_EQ(imap_flags("INBOX", a.uid), (store::Flags{store::kAnswered, {"projekt"}}));
  r = call("Email/set", {{"update", {{id, {{"keywords/$answered", nullptr}}}}}});
  EXPECT_EQ(imap_flags("INBOX", a.uid), (store::Flags{0, {"projekt"}}));

  // Moving: the same Email, now in Archive; IMAP sees the entry leave INBOX.
  const std::string s1 = call("Email/get", {{"ids", Json::array()}})["state"];
  r = call("Email/set", {{"update", {{id, {{"mailboxIds", {{mailbox_id("Archive"), true}}}}}}}});
  EXPECT_EQ(r["updated"], Json({{id, nullptr}})) << r.dump();
  EXPECT_EQ(imap_count("INBOX"), 0u);
  EXPECT_EQ(imap_count("Archive"), 1u);
  auto g = call("Email/get", {{"ids", {id}}, {"properties", {"mailboxIds", "keywords"}}});
  EXPECT_EQ(g["list"][0], Json({{"id", id},
                                {"mailboxIds", {{mailbox_id("Archive"), true}}},
                                {"keywords", {{"projekt", true}}}}));
  ch = call("Email/changes", {{"sinceState", s1}});
  EXPECT_EQ(ch["updated"], Json({id}));
  auto mch = call("Mailbox/changes", {{"sinceState", s1}});
  EXPECT_EQ(mch["updated"], Json({mailbox_id("INBOX"), mailbox_id("Archive")}));
  EXPECT_EQ(mch["updatedProperties"],
            Json({"totalEmails", "unreadEmails", "totalThreads", "unreadThreads"}));

  // Patch: add a second mailbox, then remove the first.
  r = call("Email/set", {{"update", {{id, {{"mailboxIds/" + mailbox_id("INBOX"), true}}}}}});
  EXPECT_EQ(imap_count("INBOX"), 1u);
  EXPECT_EQ(imap_count("Archive"), 1u);
  r = call("Email/set", {{"update", {{id, {{"mailboxIds/" + mailbox_id("Archive"), nullptr}}}}}});
  EXPECT_EQ(imap_count("Archive"), 0u);
  EXPECT_EQ(imap_count("INBOX"), 1u);

  r = call("Email/set",
           {{"update",
             {{id, {{"mailboxIds", Json::object()}}}, {"E999999", {{"keywords/$seen", true}}}}}});
  EXPECT_EQ(r["notUpdated"][id]["type"], "invalidProperties");
  EXPECT_EQ(r["notUpdated"]["E999999"]["type"], "notFound");
  r = call("Email/set", {{"update", {{id, {{"subject", "x"}}}}}});
  EXPECT_EQ(r["notUpdated"][id]["properties"], Json({"subject"}));

  // Destroy: gone from every mailbox, reported destroyed.
  const std::string s2 = call("Email/get", {{"ids", Json::array()}})["state"];
  r = call("Email/set", {{"destroy", {id}}});
  EXPECT_EQ(r["destroyed"], Json({id}));
  EXPECT_EQ(imap_count("INBOX"), 0u);
  ch = call("Email/changes", {{"sinceState", s2}});
  EXPECT_EQ(ch["destroyed"], Json({id}));
  EXPECT_EQ(ch["updated"], Json::array());
  EXPECT_EQ(call("Email/set", {{"ifInState", "1"}})["error"], "stateMismatch");
}

TEST_F(JmapMailTest, EmailChangesCreatedAndPaged) {
  auto inbox = mailbox(account_.id, "INBOX").id;
  const std::string s0 = call("Email/get", {{"ids", Json::array()}})["state"];
  auto a = append(account_.id, inbox, sample_message(1));
  auto b = append(account_.id, inbox, sample_message(2));
  auto ch = call("Email/changes", {{"sinceState", s0}, {"maxChanges", 1}});
  EXPECT_EQ(ch["created"], Json({email_id(a)}));
  EXPECT_EQ(ch["hasMoreChanges"], true);
  ch = call("Email/changes", {{"sinceState", ch["newState"]}, {"maxChanges", 1}});
  EXPECT_EQ(ch["created"], Json({email_id(b)}));
  EXPECT_EQ(ch["hasMoreChanges"], false);
  auto t = call("Thread/changes", {{"sinceState", s0}});
  EXPECT_EQ(t["created"],
            Json({"T" + std::to_string(a.message_id), "T" + std::to_string(b.message_id)}));
}

// Past the pruned change log (database.change_log_keep) a state cannot be followed: the client
// is told to start over, never given an incomplete list; a state after the horizon still is.
TEST_F(JmapMailTest, ChangesFromBeforeThePrunedLogCannotBeCalculated) {
  auto inbox = mailbox(account_.id, "INBOX").id;
  const std::string s0 = call("Email/get", {{"ids", Json::array()}})["state"];
  auto a = append(account_.id, inbox, sample_message(1));
  const std::string s1 = call("Email/get", {{"ids", Json::array()}})["state"];
  EXPECT_GT(qi("SELECT govmail_prune_change_log('0 seconds', 100000)"), 0);
  auto b = append(account_.id, inbox, sample_message(2));
  for (const char* method : {"Email/changes", "Mailbox/changes", "Thread/changes"})
    EXPECT_EQ(call(method, {{"sinceState", s0}})["error"], "cannotCalculateChanges") << method;
  auto ch = call("Email/changes", {{"sinceState", s1}});
  EXPECT_EQ(ch["created"], Json({email_id(b)})) << ch.dump();
  EXPECT_NE(email_id(a), email_id(b));
}

TEST_F(JmapMailTest, EmailCreateImportAndParse) {
  const std::string drafts = mailbox_id("Drafts");
  auto r = call("Email/set",
                {{"create",
                  {{"d1",
                    {{"mailboxIds", {{drafts, true}}},
                     {"keywords", {{"$draft", true}}},
                     {"from", {{{"name", "Nguyễn An"}, {"email", "an@xa.gov.vn"}}}},
                     {"to", {{{"name", "Chi"}, {"email", "chi@xa.gov.vn"}}}},
                     {"subject", "Báo cáo tháng"},
                     {"bodyValues", {{"t", {{"value", "Kính gửi chị.\r\nBáo cáo đính kèm."}}}}},
                     {"textBody", {{{"partId", "t"}, {"type", "text/plain"}}}}}}}}});
  ASSERT_TRUE(r["created"].contains("d1")) << r.dump();
  const std::string id = r["created"]["d1"]["id"];
  const std::string created_blob = r["created"]["d1"]["blobId"];
  EXPECT_EQ(created_blob,
            "G" + q("SELECT encode(blob_sha256, 'hex') FROM messages WHERE id = " + id.substr(1)));
  EXPECT_EQ(imap_count("Drafts"), 1u);
  auto g = call("Email/get",
                {{"ids", {id}}, {"properties", {"subject", "from", "to", "keywords", "preview"}}});
  EXPECT_EQ(g["list"][0], Json({{"id", id},
                                {"subject", "Báo cáo tháng"},
                                {"from", {{{"name", "Nguyễn An"}, {"email", "an@xa.gov.vn"}}}},
                                {"to", {{{"name", "Chi"}, {"email", "chi@xa.gov.vn"}}}},
                                {"keywords", {{"$draft", true}}},
                                {"preview", "Kính gửi chị. Báo cáo đính kèm."}}));
  EXPECT_EQ(imap_flags("Drafts", 1), (store::Flags{store::kDraft, {}}));
  r = call("Email/set", {{"create", {{"bad", {{"mailboxIds", {{"M999999", true}}}}}}}});
  EXPECT_EQ(r["notCreated"]["bad"]["type"], "invalidProperties");

  // Import the draft's raw message (its blob) into the Archive: a second, separate Email.
  const std::string blob = created_blob;
  r = call("Email/import",
           {{"emails",
             {{"i1",
               {{"blobId", blob},
                {"mailboxIds", {{mailbox_id("Archive"), true}}},
                {"keywords", {{"$seen", true}}},
                {"receivedAt", "2025-01-02T03:04:05Z"}}},
              {"i2", {{"blobId", "B999999"}, {"mailboxIds", {{mailbox_id("Archive"), true}}}}}}}});
  ASSERT_TRUE(r["created"].contains("i1")) << r.dump();
  EXPECT_EQ(r["notCreated"]["i2"]["type"], "blobNotFound");
  const std::string imported = r["created"]["i1"]["id"];
  EXPECT_NE(imported, id);
  g = call("Email/get",
           {{"ids", {imported}}, {"properties", {"subject", "receivedAt", "keywords"}}});
  EXPECT_EQ(g["list"][0]["subject"], "Báo cáo tháng");
  EXPECT_EQ(g["list"][0]["receivedAt"], "2025-01-02T03:04:05Z");
  EXPECT_EQ(g["list"][0]["keywords"], Json({{"$seen", true}}));

  auto p = call("Email/parse", {{"blobIds", {blob, "B999999"}}, {"properties", {"subject", "to"}}});
  EXPECT_EQ(p["parsed"][blob], Json({{"subject", "Báo cáo tháng"},
                                     {"to", {{{"name", "Chi"}, {"email", "chi@xa.gov.vn"}}}},
                                     {"blobId", blob}}));
  EXPECT_EQ(p["notFound"], Json({"B999999"}));
  EXPECT_EQ(call("Email/copy", {{"fromAccountId", ctx_.account_id_string}})["error"],
            "invalidArguments");
  EXPECT_EQ(call("Email/copy", {{"fromAccountId", "A0"}})["error"], "fromAccountNotFound");
}

TEST_F(JmapMailTest, SubmissionDeliversThroughTheStoreAndMovesTheDraft) {
  auto chi = add_account("chi@xa.gov.vn");
  const std::string drafts = mailbox_id("Drafts"), sent = mailbox_id("Sent");
  auto r = call("Email/set", {{"create",
                               {{"d1",
                                 {{"mailboxIds", {{drafts, true}}},
                                  {"keywords", {{"$draft", true}}},
                                  {"from", {{{"email", "an@xa.gov.vn"}}}},
                                  {"to", {{{"email", "chi@xa.gov.vn"}}}},
                                  {"bcc", {{{"email", "remote@other.example"}}}},
                                  {"subject", "Giấy mời"},
                                  {"bodyValues", {{"t", {{"value", "Mời họp."}}}}},
                                  {"textBody", {{{"partId", "t"}}}}}}}}});
  ASSERT_TRUE(r["created"].contains("d1")) << r.dump();
  auto s =
      call("EmailSubmission/set",
           {{"create",
             {{"s1", {{"emailId", "#d1"}, {"identityId", "I" + std::to_string(account_.id)}}}}},
            {"onSuccessUpdateEmail",
             {{"#s1",
               {{"mailboxIds/" + drafts, nullptr},
                {"mailboxIds/" + sent, true},
                {"keywords/$draft", nullptr}}}}}});
  ASSERT_TRUE(s["created"].contains("s1")) << s.dump();
  EXPECT_EQ(s["created"]["s1"]["undoStatus"], "final");
  ASSERT_EQ(ctx_.extra_responses.size(), 1u);
  EXPECT_EQ(ctx_.extra_responses[0].first, "Email/set");
  EXPECT_EQ(ctx_.extra_responses[0].second["updated"], Json({{r["created"]["d1"]["id"], nullptr}}));
  EXPECT_EQ(imap_count("Drafts"), 0u);
  EXPECT_EQ(imap_count("Sent"), 1u);
  EXPECT_EQ(imap_flags("Sent", 1), store::Flags{});
  // Chi received it, without the Bcc header; the remote Bcc recipient is queued.
  auto chi_inbox = mailbox(chi.id, "INBOX");
  ASSERT_EQ(chi_inbox.messages, 1u);
  auto got = run(store().list_entries_with_raws(chi.id, chi_inbox.id, {{1, 1}}, 1 << 20));
  ASSERT_TRUE(got.ok() && got->size() == 1 && got->front().raw);
  EXPECT_EQ(got->front().raw->find("Bcc:"), std::string::npos);
  EXPECT_NE(got->front().raw->find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(qi("SELECT count(*) FROM outbound_recipients WHERE address = 'remote@other.example'"),
            1);
  auto sg = call("EmailSubmission/get", {{"ids", nullptr}});
  ASSERT_EQ(sg["list"].size(), 1u);
  EXPECT_EQ(
      sg["list"][0]["envelope"]["rcptTo"],
      Json::parse(
          R"([{"email":"chi@xa.gov.vn","parameters":null},{"email":"remote@other.example","parameters":null}])"));
  EXPECT_EQ(sg["list"][0]["envelope"]["mailFrom"]["email"], "an@xa.gov.vn");

  // A From: that is not the account's is refused, as on port 587; nothing is delivered.
  r = call("Email/set", {{"create",
                          {{"d2",
                            {{"mailboxIds", {{drafts, true}}},
                             {"from", {{{"email", "boss@xa.gov.vn"}}}},
                             {"to", {{{"email", "chi@xa.gov.vn"}}}}}}}}});
  s = call("EmailSubmission/set", {{"create",
                                    {{"s2",
                                      {{"emailId", r["created"]["d2"]["id"]},
                                       {"identityId", "I" + std::to_string(account_.id)}}}}}});
  EXPECT_EQ(s["notCreated"]["s2"]["type"], "forbiddenFrom") << s.dump();
  // An unknown address in a local domain is an invalid recipient.
  r = call("Email/set", {{"create",
                          {{"d3",
                            {{"mailboxIds", {{drafts, true}}},
                             {"from", {{{"email", "an@xa.gov.vn"}}}},
                             {"to", {{{"email", "nobody@xa.gov.vn"}}}}}}}}});
  s = call("EmailSubmission/set", {{"create",
                                    {{"s3",
                                      {{"emailId", r["created"]["d3"]["id"]},
                                       {"identityId", "I" + std::to_string(account_.id)}}}}}});
  EXPECT_EQ(s["notCreated"]["s3"],
            Json({{"type", "invalidRecipients"}, {"invalidRecipients", {"nobody@xa.gov.vn"}}}));
  EXPECT_EQ(mailbox(chi.id, "INBOX").messages, 1u);
}

TEST_F(JmapMailTest, TheDirectoryIsEachDatabasesOwn) {
  auto names = [](const Json& r) {
    std::vector<std::string> out;
    for (const auto& e : r["list"]) out.push_back(e["email"]);
    return out;
  };
  EXPECT_THAT(names(call("Directory/query", {{"text", "vinhnq"}})), ::testing::IsEmpty());
  add_account("vinhnq@xa.gov.vn");
  // The same database: the copy read a moment ago (reloaded once a minute).
  EXPECT_THAT(names(call("Directory/query", {{"text", "vinhnq"}})), ::testing::IsEmpty());
  // Another database the process opens has a copy of its own, read now.
  auto other = context(account_);
  other.db = open_db();
  EXPECT_THAT(names(call("Directory/query", {{"text", "vinhnq"}}, &other)),
              ::testing::ElementsAre("vinhnq@xa.gov.vn"));
}

TEST_F(JmapMailTest, IdentityVacationAndSnippets) {
  auto id = call("Identity/get", {{"ids", nullptr}});
  EXPECT_EQ(
      id["list"],
      Json::parse(
          R"([{"id":"I)" + std::to_string(account_.id) +
          R"(","name":"Test","email":"an@xa.gov.vn","replyTo":null,"bcc":null,"textSignature":"","htmlSignature":"","mayDelete":false}])"));
  auto v = call("VacationResponse/get", {{"ids", nullptr}});
  EXPECT_EQ(
      v["list"],
      Json::parse(
          R"([{"id":"singleton","isEnabled":false,"fromDate":null,"toDate":null,"subject":null,"textBody":null,"htmlBody":null}])"));
  auto s = call("VacationResponse/set", {{"update",
                                          {{"singleton",
                                            {{"isEnabled", true},
                                             {"subject", "Nghỉ phép"},
                                             {"textBody", "Tôi nghỉ phép đến thứ Hai."},
                                             {"toDate", "2030-01-01T00:00:00Z"}}}}}});
  EXPECT_EQ(s["updated"], Json({{"singleton", nullptr}})) << s.dump();
  v = call("VacationResponse/get", {{"ids", {"singleton"}}});
  EXPECT_EQ(v["list"][0]["isEnabled"], true);
  EXPECT_EQ(v["list"][0]["toDate"], "2030-01-01T00:00:00Z");
  EXPECT_EQ(call("VacationResponse/set",
                 {{"create", {{"x", Json::object()}}}})["notCreated"]["x"]["type"],
            "singleton");
  // Once per sender per period.
  auto first = run(db_->mail().claim_vacation_reply(account_.id, "b@tinh.gov.vn", 7 * 86400));
  auto again = run(db_->mail().claim_vacation_reply(account_.id, "b@tinh.gov.vn", 7 * 86400));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_TRUE(first->has_value());
  EXPECT_FALSE(again->has_value());

  auto a = append(account_.id, mailbox(account_.id, "INBOX").id, kMultipart);
  auto sn = call("SearchSnippet/get", {{"emailIds", {email_id(a)}}, {"filter", {{"text", "văn"}}}});
  EXPECT_EQ(sn["list"][0]["subject"], "Công <mark>văn</mark> khẩn");
}

}  // namespace
}  // namespace govmail::webmail::testing
