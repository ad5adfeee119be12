// Email/set, Email/import, Email/copy, Email/parse (RFC 8621 4.6-4.9). Every write goes through
// MailboxStore, exactly as IMAP's: keywords are set_flags on each entry, adding a mailbox is a
// copy, removing one is \Deleted + expunge of that entry, moving is move(); so IMAP sessions see
// JMAP's changes (and the change log, the counters and the notifications) the same way.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/mail_date.hpp"
#include "core/text.hpp"
#include "mail/blob.hpp"
#include "mail/common.hpp"
#include "mail/email.hpp"
#include "mail/message_build.hpp"
#include "mail/message_view.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"
#include "store/mime.hpp"

namespace govmail::webmail::mail {
namespace {

using store::MailboxId;

struct InvalidProperty {
  std::string property;
  std::string description;
};

awaitable<std::set<MailboxId>> account_mailboxes(RequestContext& ctx) {
  std::set<MailboxId> out;
  for (const auto& m : ok_or_throw(co_await ctx.db->mailboxes().list_mailboxes(ctx.account_id)))
    out.insert(m.id);
  co_return out;
}

MailboxId mailbox_arg(const RequestContext& ctx, const std::string& raw,
                      const std::set<MailboxId>& known) {
  auto id = parse_id('M', resolve_creation(ctx, raw));
  if (!id || !known.count(*id)) throw InvalidProperty{"mailboxIds", "Unknown mailbox"};
  return *id;
}

store::UidSet one(store::Uid uid) {
  return {{uid, uid}};
}

// Removes one entry whatever its flags: \Deleted on it, then expunge of that UID only.
awaitable<void> remove_entry(RequestContext& ctx, MailboxId mailbox, store::Uid uid) {
  auto& s = ctx.db->mailboxes();
  ok_or_throw(co_await s.set_flags(ctx.account_id, mailbox, one(uid), store::FlagOp::add,
                                   store::Flags{store::kDeleted, {}}));
  ok_or_throw(co_await s.expunge(ctx.account_id, mailbox, one(uid)));
}

// Applies a keywords change to every entry of the email.
awaitable<void> apply_keywords(RequestContext& ctx, const store::EmailRecord& r,
                               const std::optional<store::Flags>& replace, const store::Flags& add,
                               const store::Flags& remove) {
  auto& s = ctx.db->mailboxes();
  for (const auto& e : r.entries) {
    if (replace) {
      store::Flags f = *replace;
      ok_or_throw(co_await s.set_flags(ctx.account_id, e.mailbox_id, one(e.uid),
                                       store::FlagOp::replace, f));
    }
    if (add.system || !add.keywords.empty())
      ok_or_throw(
          co_await s.set_flags(ctx.account_id, e.mailbox_id, one(e.uid), store::FlagOp::add, add));
    if (remove.system || !remove.keywords.empty())
      ok_or_throw(co_await s.set_flags(ctx.account_id, e.mailbox_id, one(e.uid),
                                       store::FlagOp::remove, remove));
  }
}

// Makes the email's mailboxes exactly `target` (non-empty): copies in first, then removes, so
// the message is never without an entry; one in, one out is a move.
awaitable<void> apply_mailboxes(RequestContext& ctx, const store::EmailRecord& r,
                                const std::set<MailboxId>& target) {
  auto& s = ctx.db->mailboxes();
  std::set<MailboxId> have;
  for (const auto& e : r.entries) have.insert(e.mailbox_id);
  std::vector<MailboxId> add, drop;
  for (auto m : target)
    if (!have.count(m)) add.push_back(m);
  std::vector<const store::EmailRecord::Entry*> out;
  for (const auto& e : r.entries)
    if (!target.count(e.mailbox_id)) out.push_back(&e);
  if (add.size() == 1 && out.size() == 1) {
    ok_or_throw(co_await s.move(ctx.account_id, out[0]->mailbox_id, one(out[0]->uid), add[0]));
    co_return;
  }
  const auto& src = r.entries.front();
  for (auto m : add) ok_or_throw(co_await s.copy(ctx.account_id, src.mailbox_id, one(src.uid), m));
  for (const auto* e : out) co_await remove_entry(ctx, e->mailbox_id, e->uid);
}

struct Patch {
  std::optional<store::Flags> keywords;
  store::Flags add, remove;
  std::optional<std::set<MailboxId>> mailboxes;  // full replacement
  std::set<MailboxId> mailbox_add, mailbox_remove;
};

Patch parse_patch(const RequestContext& ctx, const Json& patch, const std::set<MailboxId>& known) {
  if (!patch.is_object()) throw InvalidProperty{"", "The patch must be an object"};
  Patch p;
  for (const auto& [path, v] : patch.items()) {
    if (path == "keywords") {
      p.keywords = keywords_to_flags(v);
      if (!p.keywords) throw InvalidProperty{"keywords", "Bad keywords"};
    } else if (path.rfind("keywords/", 0) == 0) {
      const std::string k = path.substr(9);
      if (!valid_keyword(k) || !(v.is_null() || v == true))
        throw InvalidProperty{path, "Bad keyword patch"};
      auto f = keyword_flag(k);
      auto& into = v.is_null() ? p.remove : p.add;
      into.system |= f.system;
      into.keywords.insert(into.keywords.end(), f.keywords.begin(), f.keywords.end());
    } else if (path == "mailboxIds") {
      if (!v.is_object() || v.empty()) throw InvalidProperty{"mailboxIds", "At least one mailbox"};
      p.mailboxes.emplace();
      for (const auto& [id, on] : v.items()) {
        if (on != true) throw InvalidProperty{"mailboxIds", "Values must be true"};
        p.mailboxes->insert(mailbox_arg(ctx, id, known));
      }
    } else if (path.rfind("mailboxIds/", 0) == 0) {
      if (!(v.is_null() || v == true)) throw InvalidProperty{path, "Bad mailbox patch"};
      const auto m = mailbox_arg(ctx, path.substr(11), known);
      (v.is_null() ? p.mailbox_remove : p.mailbox_add).insert(m);
    } else {
      throw InvalidProperty{path, "This property cannot be changed"};
    }
  }
  if (p.keywords &&
      (p.add.system || !p.add.keywords.empty() || p.remove.system || !p.remove.keywords.empty()))
    throw InvalidProperty{"keywords", "keywords and keywords/... in one patch"};
  if (p.mailboxes && (!p.mailbox_add.empty() || !p.mailbox_remove.empty()))
    throw InvalidProperty{"mailboxIds", "mailboxIds and mailboxIds/... in one patch"};
  return p;
}

awaitable<void> apply_patch(RequestContext& ctx, store::EmailRecord r, const Patch& p) {
  if (p.keywords || p.add.system || !p.add.keywords.empty() || p.remove.system ||
      !p.remove.keywords.empty())
    co_await apply_keywords(ctx, r, p.keywords, p.add, p.remove);
  std::optional<std::set<MailboxId>> target = p.mailboxes;
  if (!target && (!p.mailbox_add.empty() || !p.mailbox_remove.empty())) {
    target.emplace();
    for (const auto& e : r.entries) target->insert(e.mailbox_id);
    for (auto m : p.mailbox_add) target->insert(m);
    for (auto m : p.mailbox_remove) target->erase(m);
  }
  if (!target) co_return;
  if (target->empty()) throw InvalidProperty{"mailboxIds", "An Email must be in a mailbox"};
  // Entries re-read: keyword changes above do not move them, but copies must carry new flags.
  std::vector<store::MessageId> ids{r.id};
  auto fresh = ok_or_throw(
      co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::none));
  if (fresh.empty()) throw InvalidProperty{"", "gone"};
  co_await apply_mailboxes(ctx, fresh.front(), *target);
}

// --- create

std::string random_token() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* k = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 24; ++i) s += k[rng() % 36];
  return s;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

std::string msg_ids(const Json& v) {
  if (!v.is_array()) throw InvalidProperty{"messageId", "Must be a list of ids"};
  std::string out;
  for (const auto& id : v) {
    if (!id.is_string() || id.get<std::string>().find_first_of("<> \r\n") != std::string::npos)
      throw InvalidProperty{"messageId", "Bad id"};
    out += (out.empty() ? "<" : " <") + id.get<std::string>() + ">";
  }
  return out;
}

awaitable<std::vector<BuildPart>> body_parts(RequestContext& ctx, const Json& email,
                                             const char* list, const char* default_type) {
  std::vector<BuildPart> out;
  if (!email.contains(list)) co_return out;
  const Json& parts = email[list];
  if (!parts.is_array()) throw InvalidProperty{list, "Must be a list"};
  const Json values = email.value("bodyValues", Json::object());
  for (const auto& p : parts) {
    if (!p.is_object()) throw InvalidProperty{list, "Bad part"};
    BuildPart b;
    b.type = p.value("type", default_type);
    const Json name = p.value("name", Json());
    if (name.is_string()) b.name = name.get<std::string>();
    const Json disp = p.value("disposition", Json());
    if (disp.is_string()) b.disposition = disp.get<std::string>();
    const Json cid = p.value("cid", Json());
    if (cid.is_string()) b.cid = cid.get<std::string>();
    if (p.contains("partId") && p["partId"].is_string()) {
      const auto id = p["partId"].get<std::string>();
      if (!values.contains(id) || !values[id].contains("value") || !values[id]["value"].is_string())
        throw InvalidProperty{"bodyValues", "No value for part " + id};
      b.data = values[id]["value"].get<std::string>();
    } else if (p.contains("blobId") && p["blobId"].is_string()) {
      auto data = co_await read_blob(ctx, resolve_creation(ctx, p["blobId"].get<std::string>()));
      if (!data) throw InvalidProperty{list, "blobNotFound"};
      b.data = std::move(*data);
      if (b.disposition.empty() && std::string(list) == "attachments") b.disposition = "attachment";
    } else {
      throw InvalidProperty{list, "A part needs partId or blobId"};
    }
    out.push_back(std::move(b));
  }
  co_return out;
}

awaitable<std::string> build_from_properties(RequestContext& ctx, const Json& e) {
  static const std::set<std::string> kAllowed = {
      "mailboxIds", "keywords",   "receivedAt", "from",     "to",          "cc",
      "bcc",        "replyTo",    "sender",     "subject",  "sentAt",      "messageId",
      "inReplyTo",  "references", "textBody",   "htmlBody", "attachments", "bodyValues"};
  for (const auto& [k, v] : e.items())
    if (!kAllowed.count(k) && k.rfind("header:", 0) != 0)
      throw InvalidProperty{k, "Not supported on create"};
  BuildInput in;
  auto addr = [&](const char* prop, const char* header) {
    if (!e.contains(prop) || e[prop].is_null()) return;
    try {
      in.headers.emplace_back(header, address_list(e[prop]));
    } catch (const std::invalid_argument&) {
      throw InvalidProperty{prop, "Bad address"};
    }
  };
  const auto now = static_cast<store::UnixTime>(std::time(nullptr));
  std::optional<store::UnixTime> sent;
  if (e.contains("sentAt") && e["sentAt"].is_string()) {
    sent = parse_utc_date(e["sentAt"].get<std::string>());
    if (!sent) throw InvalidProperty{"sentAt", "Bad date"};
  }
  in.headers.emplace_back(
      "Date", core::rfc5322_date(std::chrono::system_clock::from_time_t(sent.value_or(now))));
  addr("from", "From");
  addr("sender", "Sender");
  addr("replyTo", "Reply-To");
  addr("to", "To");
  addr("cc", "Cc");
  addr("bcc", "Bcc");
  if (e.contains("subject") && e["subject"].is_string()) {
    std::string s = e["subject"];
    if (s.find_first_of("\r\n") != std::string::npos)
      throw InvalidProperty{"subject", "Line break"};
    in.headers.emplace_back("Subject", encode_words(s));
  }
  if (e.contains("messageId") && !e["messageId"].is_null())
    in.headers.emplace_back("Message-ID", msg_ids(e["messageId"]));
  else
    in.headers.emplace_back("Message-ID",
                            "<" + random_token() + "@" + domain_of(ctx.address) + ">");
  if (e.contains("inReplyTo") && !e["inReplyTo"].is_null())
    in.headers.emplace_back("In-Reply-To", msg_ids(e["inReplyTo"]));
  if (e.contains("references") && !e["references"].is_null())
    in.headers.emplace_back("References", msg_ids(e["references"]));
  for (const auto& [k, v] : e.items()) {
    if (k.rfind("header:", 0) != 0) continue;
    const std::string name =
        k.substr(7, k.find(':', 7) == std::string::npos ? std::string::npos : k.find(':', 7) - 7);
    if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos || !v.is_string() ||
        v.get<std::string>().find_first_of("\r\n") != std::string::npos)
      throw InvalidProperty{k, "Bad header"};
    in.headers.emplace_back(name, encode_words(v.get<std::string>()));
  }
  in.text = co_await body_parts(ctx, e, "textBody", "text/plain");
  in.html = co_await body_parts(ctx, e, "htmlBody", "text/html");
  in.attachments = co_await body_parts(ctx, e, "attachments", "application/octet-stream");
  co_return build_message(in, random_token());
}

struct Stored {
  store::MessageId id = 0;
  std::int64_t thread_id = 0;
  std::uint64_t size = 0;
  std::string blob_sha256;
};

// Appends `raw` into the first mailbox and copies it into the others.
awaitable<Stored> store_message(RequestContext& ctx, std::shared_ptr<const std::string> raw,
                                const std::set<MailboxId>& mailboxes, store::Flags flags,
                                std::optional<store::UnixTime> received) {
  auto& s = ctx.db->mailboxes();
  store::AppendRequest req;
  req.raw = raw;
  req.flags = flags;
  req.internal_date = received;
  const MailboxId first = *mailboxes.begin();
  auto appended = co_await s.append(ctx.account_id, first, std::move(req));
  if (!appended) {
    if (appended.error() == store::StoreError::over_quota)
      throw InvalidProperty{"$overQuota", "Over quota"};
    throw_store(appended.error());
  }
  for (auto m : mailboxes)
    if (m != first) ok_or_throw(co_await s.copy(ctx.account_id, first, one(appended->uid), m));
  std::vector<store::MessageId> ids{appended->message_id};
  auto rec = ok_or_throw(
      co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::none));
  Stored out;
  out.id = appended->message_id;
  out.thread_id = rec.empty() ? appended->message_id : rec.front().thread_id;
  out.blob_sha256 = rec.empty() ? "" : rec.front().blob_sha256;
  out.size = raw->size();
  co_return out;
}

Json created_json(const Stored& s) {
  return Json{{"id", id_string('E', s.id)},
              {"blobId", message_blob_id(s.blob_sha256)},
              {"threadId", id_string('T', s.thread_id)},
              {"size", s.size}};
}

Json invalid(const InvalidProperty& p) {
  if (p.property == "$overQuota") return set_error("overQuota", p.description);
  if (p.property == "blobNotFound" || p.description == "blobNotFound")
    return set_error("blobNotFound", "A blob was not found");
  Json e{{"type", "invalidProperties"}, {"description", p.description}};
  if (!p.property.empty()) e["properties"] = Json::array({p.property});
  return e;
}

awaitable<std::optional<store::EmailRecord>> one_email(RequestContext& ctx,
                                                       const std::string& raw) {
  auto id = parse_id('E', resolve_creation(ctx, raw));
  if (!id) co_return std::nullopt;
  std::vector<store::MessageId> ids{*id};
  auto r = ok_or_throw(
      co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::none));
  if (r.empty()) co_return std::nullopt;
  co_return r.front();
}

std::set<MailboxId> create_mailboxes(const RequestContext& ctx, const Json& e,
                                     const std::set<MailboxId>& known) {
  if (!e.contains("mailboxIds") || !e["mailboxIds"].is_object() || e["mailboxIds"].empty())
    throw InvalidProperty{"mailboxIds", "At least one mailbox"};
  std::set<MailboxId> out;
  for (const auto& [id, on] : e["mailboxIds"].items()) {
    if (on != true) throw InvalidProperty{"mailboxIds", "Values must be true"};
    out.insert(mailbox_arg(ctx, id, known));
  }
  return out;
}

store::Flags create_flags(const Json& e) {
  if (!e.contains("keywords") || e["keywords"].is_null()) return {};
  auto f = keywords_to_flags(e["keywords"]);
  if (!f) throw InvalidProperty{"keywords", "Bad keywords"};
  return *f;
}

std::optional<store::UnixTime> received_at(const Json& e) {
  if (!e.contains("receivedAt") || e["receivedAt"].is_null()) return std::nullopt;
  auto t = e["receivedAt"].is_string() ? parse_utc_date(e["receivedAt"].get<std::string>())
                                       : std::nullopt;
  if (!t) throw InvalidProperty{"receivedAt", "Bad date"};
  return t;
}

Json null_if_empty(const Json& j) {
  return j.empty() ? Json() : j;
}

}  // namespace

awaitable<Json> email_set(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const std::string old_state = co_await current_state(ctx);
  if (auto s = args.find("ifInState"); s != args.end() && !s->is_null() && *s != old_state)
    throw MethodError{"stateMismatch", "ifInState does not match"};
  const Json create = args.value("create", Json::object());
  const Json update = args.value("update", Json::object());
  const Json destroy = args.value("destroy", Json::array());
  if (!create.is_object() || !update.is_object() || !destroy.is_array())
    throw MethodError{"invalidArguments", "create/update must be objects, destroy a list"};
  if (create.size() + update.size() + destroy.size() > max_objects_in_set(ctx))
    throw MethodError{"requestTooLarge", "Too many objects in one Email/set"};
  const auto known = co_await account_mailboxes(ctx);
  Json created = Json::object(), not_created = Json::object(), updated = Json::object(),
       not_updated = Json::object(), destroyed = Json::array(), not_destroyed = Json::object();

  for (const auto& [cid, e] : create.items()) {
    try {
      if (!e.is_object()) throw InvalidProperty{"", "Must be an object"};
      const auto boxes = create_mailboxes(ctx, e, known);
      const auto flags = create_flags(e);
      const auto received = received_at(e);
      std::string built = co_await build_from_properties(ctx, e);
      auto raw = std::make_shared<const std::string>(std::move(built));
      const Stored s = co_await store_message(ctx, raw, boxes, flags, received);
      ctx.created_ids[cid] = id_string('E', s.id);
      created[cid] = created_json(s);
    } catch (const InvalidProperty& p) {
      not_created[cid] = invalid(p);
    }
  }
  for (const auto& [raw_id, patch] : update.items()) {
    auto rec = co_await one_email(ctx, raw_id);
    if (!rec) {
      not_updated[raw_id] = set_error("notFound");
      continue;
    }
    try {
      const Patch p = parse_patch(ctx, patch, known);
      co_await apply_patch(ctx, *rec, p);
      updated[raw_id] = Json();
    } catch (const InvalidProperty& p) {
      not_updated[raw_id] = invalid(p);
    }
  }
  for (const auto& v : destroy) {
    const std::string raw_id = v.get<std::string>();
    auto rec = co_await one_email(ctx, raw_id);
    if (!rec) {
      not_destroyed[raw_id] = set_error("notFound");
      continue;
    }
    for (const auto& e : rec->entries) co_await remove_entry(ctx, e.mailbox_id, e.uid);
    destroyed.push_back(raw_id);
  }
  const std::string new_state = co_await current_state(ctx);
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", old_state},
                 {"newState", new_state},
                 {"created", null_if_empty(created)},
                 {"updated", null_if_empty(updated)},
                 {"destroyed", null_if_empty(destroyed)},
                 {"notCreated", null_if_empty(not_created)},
                 {"notUpdated", null_if_empty(not_updated)},
                 {"notDestroyed", null_if_empty(not_destroyed)}};
}

namespace {

awaitable<Json> email_import(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const std::string old_state = co_await current_state(ctx);
  if (auto s = args.find("ifInState"); s != args.end() && !s->is_null() && *s != old_state)
    throw MethodError{"stateMismatch", "ifInState does not match"};
  const Json emails = args.value("emails", Json());
  if (!emails.is_object()) throw MethodError{"invalidArguments", "emails must be an object"};
  if (emails.size() > max_objects_in_set(ctx))
    throw MethodError{"requestTooLarge", "Too many emails"};
  const auto known = co_await account_mailboxes(ctx);
  Json created = Json::object(), not_created = Json::object();
  for (const auto& [cid, e] : emails.items()) {
    try {
      if (!e.is_object() || !e.contains("blobId") || !e["blobId"].is_string())
        throw InvalidProperty{"blobId", "blobId is required"};
      const auto boxes = create_mailboxes(ctx, e, known);
      const auto flags = create_flags(e);
      const auto received = received_at(e);
      auto data = co_await read_blob(ctx, resolve_creation(ctx, e["blobId"].get<std::string>()));
      if (!data) {
        not_created[cid] = set_error("blobNotFound", "No such blob");
        continue;
      }
      auto raw = std::make_shared<const std::string>(std::move(*data));
      const Stored s = co_await store_message(ctx, raw, boxes, flags, received);
      ctx.created_ids[cid] = id_string('E', s.id);
      created[cid] = created_json(s);
    } catch (const InvalidProperty& p) {
      not_created[cid] = invalid(p);
    }
  }
  const std::string new_state = co_await current_state(ctx);
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", old_state},
                 {"newState", new_state},
                 {"created", null_if_empty(created)},
                 {"notCreated", null_if_empty(not_created)}};
}

// Only the authenticated account is served: there is no other account to copy from.
awaitable<Json> email_copy(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const Json from = args.value("fromAccountId", Json());
  if (!from.is_string()) throw MethodError{"invalidArguments", "fromAccountId is required"};
  if (from == ctx.account_id_string)
    throw MethodError{"invalidArguments", "fromAccountId must differ from accountId"};
  throw MethodError{"fromAccountNotFound", "No such account"};
  co_return Json();
}

awaitable<Json> email_parse(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const Json blob_ids = args.value("blobIds", Json());
  if (!blob_ids.is_array()) throw MethodError{"invalidArguments", "blobIds is required"};
  if (blob_ids.size() > max_objects_in_get(ctx))
    throw MethodError{"requestTooLarge", "Too many blobIds"};
  Json parsed = Json::object(), not_parsable = Json::array(), not_found = Json::array();
  for (const auto& b : blob_ids) {
    const std::string id = b.get<std::string>();
    auto data = co_await read_blob(ctx, id);
    if (!data) {
      not_found.push_back(id);
      continue;
    }
    const auto p = store::parse_message(*data);
    if (p.envelope_json.empty()) {
      not_parsable.push_back(id);
      continue;
    }
    store::EmailRecord r;
    r.size = data->size();
    r.envelope_json = p.envelope_json;
    r.bodystructure_json = p.bodystructure_json;
    Json e = email_view(r, *data, args);
    e["blobId"] = id;
    parsed[id] = e;
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"parsed", null_if_empty(parsed)},
                 {"notParsable", null_if_empty(not_parsable)},
                 {"notFound", null_if_empty(not_found)}};
}

}  // namespace

void register_email_set_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kMailCapability);
  r.add("Email/set", cap, guarded(email_set));
  r.add("Email/import", cap, guarded(email_import));
  r.add("Email/copy", cap, guarded(email_copy));
  r.add("Email/parse", cap, guarded(email_parse));
}

}  // namespace govmail::webmail::mail
