// EmailSubmission/get and /set (RFC 8621 7). A submission takes the stored Email, applies the
// checks SMTP submission applies (every From:/Sender: mailbox and the envelope sender must be
// the account's: Directory::may_send_as; a group's send policy; unknown local recipients
// refused), removes Bcc, and hands the message to MailboxStore::deliver: local recipients get
// their entries and remote ones the outbound queue, in one transaction, as a message submitted
// on port 587 does (smtp/src/deliver.cpp). DKIM signing happens in the outbound queue workers.
#include <algorithm>
#include <set>

#include "core/ascii.hpp"
#include "core/config.hpp"
#include "mail/common.hpp"
#include "mail/email.hpp"
#include "mail/message_build.hpp"
#include "mail/message_view.hpp"
#include "mail/register.hpp"
#include "store/address.hpp"
#include "store/admin_store.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "store/journal.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"
#include "store/vacation.hpp"

namespace govmail::webmail::mail {
namespace {

struct Refused {
  Json error;
};

std::string domain_of(const std::string& a) {
  auto at = a.rfind('@');
  return at == std::string::npos ? "" : a.substr(at + 1);
}

awaitable<std::string> submissions_state(RequestContext& ctx) {
  auto all = ok_or_throw(co_await ctx.db->mail().submissions(ctx.account_id, {}));
  co_return std::to_string(all.empty() ? 0 : all.back().id);
}

Json submission_json(const store::EmailSubmissionRecord& s) {
  return Json{{"id", id_string('S', s.id)},
              {"identityId", s.identity_id},
              {"emailId", id_string('E', s.email_id)},
              {"threadId", id_string('T', s.thread_id)},
              {"envelope", Json::parse(s.envelope_json)},
              {"sendAt", utc_date(s.send_at)},
              {"undoStatus", "final"},
              {"deliveryStatus", nullptr},
              {"dsnBlobIds", Json::array()},
              {"mdnBlobIds", Json::array()}};
}

awaitable<Json> submission_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids = ids_argument(args);
  std::vector<std::int64_t> wanted;
  if (ids)
    for (const auto& i : *ids)
      if (auto id = parse_id('S', i)) wanted.push_back(*id);
  auto all = ok_or_throw(co_await ctx.db->mail().submissions(ctx.account_id, {}));
  Json list = Json::array(), not_found = Json::array();
  if (!ids) {
    for (const auto& s : all) list.push_back(submission_json(s));
  } else {
    for (const auto& i : *ids) {
      auto id = parse_id('S', i);
      auto it = std::find_if(all.begin(), all.end(), [&](auto& s) { return id && s.id == *id; });
      if (it == all.end())
        not_found.push_back(i);
      else
        list.push_back(submission_json(*it));
    }
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", std::to_string(all.empty() ? 0 : all.back().id)},
                 {"list", list},
                 {"notFound", not_found}};
}

// EmailSubmission/changes: submissions are never updated nor destroyed (undoStatus "final";
// destroy answers forbidden) and their ids grow, so the state is the newest id and the
// changes since a state are the submissions created after it.
awaitable<Json> submission_changes(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto since_it = args.find("sinceState");
  const auto since = since_it == args.end() ? std::nullopt : parse_state(*since_it);
  std::size_t max_changes = SIZE_MAX;
  if (auto m = uint_arg(args, "maxChanges")) {
    if (*m == 0) throw MethodError{"invalidArguments", "maxChanges must be a positive integer"};
    max_changes = *m;
  }
  auto all = ok_or_throw(co_await ctx.db->mail().submissions(ctx.account_id, {}));
  const std::int64_t now = all.empty() ? 0 : all.back().id;
  if (!since || static_cast<std::int64_t>(*since) > now)
    throw MethodError{"cannotCalculateChanges", "Unknown state: resynchronise"};
  Json created = Json::array();
  std::int64_t last = static_cast<std::int64_t>(*since);
  bool more = false;
  for (const auto& sub : all) {
    if (sub.id <= last) continue;
    if (created.size() == max_changes) {
      more = true;
      break;
    }
    created.push_back(id_string('S', sub.id));
    last = sub.id;
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", std::to_string(*since)},
                 {"newState", std::to_string(more ? last : now)},
                 {"hasMoreChanges", more},
                 {"created", created},
                 {"updated", Json::array()},
                 {"destroyed", Json::array()}};
}

bool submission_matches(const store::EmailSubmissionRecord& s, const Json& f) {
  if (f.contains("operator")) {
    const auto& cs = f.at("conditions");
    const auto one = [&](const Json& c) { return submission_matches(s, c); };
    if (f["operator"] == "AND") return std::all_of(cs.begin(), cs.end(), one);
    if (f["operator"] == "OR") return std::any_of(cs.begin(), cs.end(), one);
    return std::none_of(cs.begin(), cs.end(), one);
  }
  const auto listed = [](const Json& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  for (const auto& [k, v] : f.items()) {
    if (k == "identityIds" && !listed(v, s.identity_id)) return false;
    if (k == "emailIds" && !listed(v, id_string('E', s.email_id))) return false;
    if (k == "threadIds" && !listed(v, id_string('T', s.thread_id))) return false;
    if (k == "undoStatus" && v != "final") return false;
    if (k == "before" && !(s.send_at < *parse_utc_date(v.get<std::string>()))) return false;
    if (k == "after" && !(s.send_at >= *parse_utc_date(v.get<std::string>()))) return false;
  }
  return true;
}

void check_submission_filter(const Json& f, int depth = 0) {
  if (!f.is_object() || depth > 16) throw MethodError{"invalidArguments", "Bad filter"};
  if (f.contains("operator")) {
    const auto& op = f["operator"];
    if ((op != "AND" && op != "OR" && op != "NOT") || !f.contains("conditions") ||
        !f["conditions"].is_array())
      throw MethodError{"unsupportedFilter", "Bad filter operator"};
    for (const auto& c : f["conditions"]) check_submission_filter(c, depth + 1);
    return;
  }
  for (const auto& [k, v] : f.items()) {
    const bool ids = k == "identityIds" || k == "emailIds" || k == "threadIds";
    const bool date = k == "before" || k == "after";
    if (!ids && !date && k != "undoStatus")
      throw MethodError{"unsupportedFilter", "Unsupported filter: " + k.substr(0, 60)};
    if (ids && (!v.is_array() ||
                !std::all_of(v.begin(), v.end(), [](const Json& i) { return i.is_string(); })))
      throw MethodError{"invalidArguments", k + " must be a list of ids"};
    if (date && (!v.is_string() || !parse_utc_date(v.get<std::string>())))
      throw MethodError{"invalidArguments", k + " must be a UTCDate"};
    if (k == "undoStatus" && !v.is_string())
      throw MethodError{"invalidArguments", "undoStatus must be a string"};
  }
}

// EmailSubmission/query (RFC 8621 7.3): filter identityIds, emailIds, threadIds, undoStatus,
// before, after (sendAt); sort emailId, threadId, sentAt (= sendAt); position, limit, total.
awaitable<Json> submission_query(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const Json filter = args.value("filter", Json());
  if (!filter.is_null()) check_submission_filter(filter);
  auto all = ok_or_throw(co_await ctx.db->mail().submissions(ctx.account_id, {}));
  std::vector<const store::EmailSubmissionRecord*> hits;
  for (const auto& sub : all)
    if (filter.is_null() || submission_matches(sub, filter)) hits.push_back(&sub);
  for (const auto& key : args.value("sort", Json::array())) {
    const std::string p = key.value("property", "");
    if (p != "emailId" && p != "threadId" && p != "sentAt")
      throw MethodError{"unsupportedSort", "Sort by " + p.substr(0, 60) + " is not supported"};
  }
  // The last key first, each stable: the first key decides.
  const Json sort = args.value("sort", Json::array());
  for (auto it = sort.rbegin(); it != sort.rend(); ++it) {
    const std::string p = (*it)["property"];
    const bool asc = it->value("isAscending", true);
    std::stable_sort(hits.begin(), hits.end(), [&](auto* a, auto* b) {
      const auto ka = p == "emailId" ? a->email_id : p == "threadId" ? a->thread_id : a->send_at;
      const auto kb = p == "emailId" ? b->email_id : p == "threadId" ? b->thread_id : b->send_at;
      return asc ? ka < kb : ka > kb;
    });
  }
  std::int64_t position = args.value("position", std::int64_t{0});
  const auto total = static_cast<std::int64_t>(hits.size());
  if (position < 0) position = std::max<std::int64_t>(0, total + position);
  std::size_t limit = hits.size();
  if (auto l = uint_arg(args, "limit")) limit = *l;
  Json ids = Json::array();
  for (auto i = position; i < total && ids.size() < limit; ++i)
    ids.push_back(id_string('S', hits[static_cast<std::size_t>(i)]->id));
  Json out{{"accountId", ctx.account_id_string},
           {"queryState", std::to_string(all.empty() ? 0 : all.back().id)},
           {"canCalculateChanges", false},
           {"position", std::min(position, total)},
           {"ids", ids}};
  if (args.value("calculateTotal", false)) out["total"] = total;
  co_return out;
}

// May the account send to this group (the SMTP RCPT rule, smtp/src/commands/rcpt.cpp)?
awaitable<bool> may_send_to_group(RequestContext& ctx, const store::RecipientResolution& res,
                                  const std::string& group) {
  using store::SendPolicy;
  switch (res.send_policy) {
    case SendPolicy::anyone:
      co_return true;
    case SendPolicy::same_domain:
      co_return !res.domain.empty() && domain_of(ctx.address) == res.domain;
    case SendPolicy::members:
      co_return std::any_of(res.accounts.begin(), res.accounts.end(),
                            [&](const auto& a) { return a.id == ctx.account_id; });
    default:
      co_return ok_or_throw(co_await ctx.db->directory().may_send_as(ctx.account_id, group));
  }
}

awaitable<void> check_sender(RequestContext& ctx, const std::vector<HeaderField>& headers,
                             const std::string& mail_from) {
  auto& dir = ctx.db->directory();
  std::vector<std::string> claimed{core::ascii_lower(mail_from)};
  int from_fields = 0;
  for (const auto& h : headers) {
    const auto n = core::ascii_lower(h.name);
    if (n != "from" && n != "sender") continue;
    from_fields += n == "from";
    auto list = store::parse_address_list(h.raw);
    if (!list.valid) throw Refused{set_error("invalidEmail", n + ": is not a valid address list")};
    for (const auto& a : list.items)
      if (a.mailbox && a.host) claimed.push_back(core::ascii_lower(store::addr_spec(a)));
  }
  if (from_fields != 1) throw Refused{set_error("invalidEmail", "The Email needs one From:")};
  for (const auto& a : claimed)
    if (!ok_or_throw(co_await dir.may_send_as(ctx.account_id, a)))
      throw Refused{set_error("forbiddenFrom", "Not allowed to send as " + a.substr(0, 200))};
}

struct Envelope {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
};

Envelope envelope_of(const Json& arg, const std::vector<HeaderField>& headers,
                     const std::string& identity_email) {
  Envelope e;
  if (!arg.is_null()) {
    if (!arg.is_object() || !arg.contains("mailFrom") || !arg.contains("rcptTo") ||
        !arg["rcptTo"].is_array())
      throw Refused{Json{{"type", "invalidProperties"}, {"properties", {"envelope"}}}};
    e.mail_from = arg["mailFrom"].value("email", "");
    for (const auto& r : arg["rcptTo"]) e.rcpt_to.push_back(r.value("email", ""));
    return e;
  }
  e.mail_from = identity_email;
  for (const char* h : {"To", "Cc", "Bcc"}) {
    const Json list = header_as(headers, h, "asAddresses");
    if (list.is_array())
      for (const auto& a : list) e.rcpt_to.push_back(a["email"]);
  }
  return e;
}

void add_direct(std::vector<store::VacationRecipient>& direct, const store::RecipientAccount& acc,
                const std::string& address) {
  for (auto& d : direct)
    if (d.id == acc.id) {
      d.addressed_as.push_back(address);
      return;
    }
  direct.push_back({acc.id, acc.address, {address}});
}

// The delivery of a submission; `direct` gets the local accounts an envelope address reached
// without a group (the ones whose vacation response may answer, store/vacation.hpp).
awaitable<store::Delivery> route(RequestContext& ctx, const Envelope& env,
                                 std::shared_ptr<const std::string> raw,
                                 std::vector<store::VacationRecipient>& direct) {
  store::Delivery d;
  d.raw = std::move(raw);
  d.envelope_from = env.mail_from;
  std::set<store::AccountId> local;
  std::set<std::string> remote;
  Json invalid = Json::array();
  for (const auto& r : env.rcpt_to) {
    const std::string a = core::ascii_lower(r);
    if (a.find('@') == std::string::npos || a.find_first_of(" <>\r\n") != std::string::npos) {
      invalid.push_back(r);
      continue;
    }
    auto res = co_await ctx.db->directory().resolve_recipient(a);
    if (res) {
      const bool allowed = !res->is_group || co_await may_send_to_group(ctx, *res, a);
      if (!allowed)
        throw Refused{set_error("forbiddenToSend", "Not allowed to send to " + a.substr(0, 200))};
      for (const auto& acc : res->accounts) local.insert(acc.id);
      if (!res->is_group)
        for (const auto& acc : res->accounts) add_direct(direct, acc, a);
      continue;
    }
    if (res.error() != store::StoreError::not_found) throw_store(res.error());
    auto domain = co_await ctx.db->directory().find_domain(domain_of(a));
    if (domain) {
      invalid.push_back(r);  // a local domain without that address
      continue;
    }
    remote.insert(a);
  }
  if (!invalid.empty())
    throw Refused{Json{{"type", "invalidRecipients"}, {"invalidRecipients", invalid}}};
  if (local.empty() && remote.empty())
    throw Refused{set_error("noRecipients", "The envelope has no recipient")};
  for (auto id : local) d.local.push_back({id, std::nullopt});
  for (const auto& a : remote) d.remote.push_back({a, "", ""});
  co_return d;
}

// The recipients' vacation responses, once the submission has committed (as SMTP does).
awaitable<void> send_vacation_replies(RequestContext& ctx, const Envelope& env,
                                      std::string_view message,
                                      std::vector<store::VacationRecipient> direct,
                                      std::int64_t submission_id) {
  if (direct.empty()) co_return;
  store::VacationDelivery d;
  d.sender = env.mail_from;
  d.message = message;
  d.recipients = std::move(direct);
  d.hostname = ctx.cfg ? ctx.cfg->server.hostname : "localhost";
  if (ctx.cfg) d.resend_after = ctx.cfg->smtp.vacation_resend_after;
  d.log_context = "jmap submission " + std::to_string(submission_id) + " of account " +
                  std::to_string(ctx.account_id);
  co_await store::send_vacation_replies(*ctx.db, std::move(d));
}

// The address of one of the account's identities (identity.cpp): its own ("I" + account id)
// or a live one it added ("IX" + id); nullopt for any other id.
awaitable<std::optional<std::string>> identity_address(RequestContext& ctx, const std::string& id) {
  if (id == id_string('I', ctx.account_id)) co_return ctx.address;
  if (id.rfind("IX", 0) != 0) co_return std::nullopt;
  for (const auto& x : ok_or_throw(co_await ctx.db->mail().extra_identities(ctx.account_id)))
    if (!x.destroyed_state && extra_identity_id(x.id) == id) co_return x.email;
  co_return std::nullopt;
}

// onSuccessUpdateEmail / onSuccessDestroyEmail: an implicit Email/set answered after ours.
awaitable<void> implicit_email_set(const Json& args, RequestContext& ctx,
                                   const std::map<std::string, std::string>& emails_by_submission) {
  Json update = Json::object(), destroy = Json::array();
  auto email_of = [&](const std::string& key) -> std::optional<std::string> {
    if (!key.empty() && key[0] == '#') {
      auto it = emails_by_submission.find(key.substr(1));
      if (it == emails_by_submission.end()) return std::nullopt;
      return it->second;
    }
    return std::nullopt;  // only submissions created by this call (RFC 8621 7.5 "#id")
  };
  const Json onSuccessUpdateEmail_arg = object_arg(args, "onSuccessUpdateEmail");
  for (const auto& [k, patch] : onSuccessUpdateEmail_arg.items())
    if (auto e = email_of(k)) update[*e] = patch;
  for (const auto& k : args.value("onSuccessDestroyEmail", Json::array()))
    if (auto e = email_of(k.get<std::string>())) destroy.push_back(*e);
  if (update.empty() && destroy.empty()) co_return;
  Json set_args{{"accountId", ctx.account_id_string}};
  if (!update.empty()) set_args["update"] = update;
  if (!destroy.empty()) set_args["destroy"] = destroy;
  Json result = co_await email_set(set_args, ctx);
  ctx.extra_responses.emplace_back("Email/set", std::move(result));
}

awaitable<Json> submission_set(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const std::string old_state = co_await submissions_state(ctx);
  if (auto s = args.find("ifInState"); s != args.end() && !s->is_null() && *s != old_state)
    throw MethodError{"stateMismatch", "ifInState does not match"};
  const Json create = args.value("create", Json::object());
  if (!create.is_object()) throw MethodError{"invalidArguments", "create must be an object"};
  if (create.size() > max_objects_in_set(ctx)) throw MethodError{"requestTooLarge", "Too many"};
  Json created = Json::object(), not_created = Json::object(), not_updated = Json::object(),
       not_destroyed = Json::object();
  std::map<std::string, std::string> emails_by_submission;
  for (const auto& [cid, s] : create.items()) {
    try {
      if (!s.is_object() || !s.contains("emailId") || !s["emailId"].is_string())
        throw Refused{Json{{"type", "invalidProperties"}, {"properties", {"emailId"}}}};
      const Json identity_arg = s.value("identityId", Json());
      const std::string identity =
          resolve_creation(ctx, identity_arg.is_string() ? identity_arg.get<std::string>() : "");
      const auto identity_email = co_await identity_address(ctx, identity);
      if (!identity_email)
        throw Refused{Json{{"type", "invalidProperties"}, {"properties", {"identityId"}}}};
      const std::string email_id = resolve_creation(ctx, s["emailId"].get<std::string>());
      const auto mid = parse_id('E', email_id);
      std::vector<store::EmailRecord> recs;
      if (mid) {
        std::vector<store::MessageId> ids{*mid};
        recs = ok_or_throw(
            co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::none));
      }
      if (recs.empty()) throw Refused{set_error("invalidProperties", "emailId: no such Email")};
      std::string raw = ok_or_throw(
          co_await ctx.db->mailboxes().fetch_raw(ctx.account_id, *mid, 0, std::nullopt));
      const auto headers = parse_header_block(raw);
      const Envelope env = envelope_of(s.value("envelope", Json()), headers, *identity_email);
      co_await check_sender(ctx, headers, env.mail_from);
      auto out = std::make_shared<const std::string>(without_bcc(raw));
      std::vector<store::VacationRecipient> direct;
      store::Delivery d = co_await route(ctx, env, out, direct);
      // Journaled as mail sent by this account (docs/ARCHIVE.md): every envelope recipient,
      // bcc included, the authenticated account and the client's address.
      store::JournalInfo journal;
      journal.direction = "out";
      journal.auth_user = ctx.address;
      journal.client_ip = ctx.client_ip;
      journal.recipients = env.rcpt_to;
      auto delivered =
          co_await store::deliver_journaled(ctx.db->mailboxes(), std::move(d), std::move(journal));
      if (!delivered) throw_store(delivered.error());
      Json envelope{{"mailFrom", {{"email", env.mail_from}, {"parameters", nullptr}}},
                    {"rcptTo", Json::array()}};
      for (const auto& r : env.rcpt_to)
        envelope["rcptTo"].push_back({{"email", r}, {"parameters", nullptr}});
      store::EmailSubmissionRecord rec;
      rec.email_id = *mid;
      rec.thread_id = recs.front().thread_id;
      rec.identity_id = identity;
      rec.envelope_json = envelope.dump();
      auto saved = ok_or_throw(
          co_await ctx.db->mail().add_submission(ctx.account_id, rec, delivered->outbound_id));
      ctx.created_ids[cid] = id_string('S', saved.id);
      emails_by_submission[cid] = email_id;
      created[cid] = {{"id", id_string('S', saved.id)},
                      {"threadId", id_string('T', saved.thread_id)},
                      {"sendAt", utc_date(saved.send_at)},
                      {"undoStatus", "final"}};
      co_await send_vacation_replies(ctx, env, *out, std::move(direct), saved.id);
    } catch (const Refused& r) {
      not_created[cid] = r.error;
    }
  }
  // Sent mail cannot be changed or recalled (undoStatus is always "final").
  const Json update_arg = object_arg(args, "update");
  for (const auto& [k, v] : update_arg.items())
    not_updated[k] = set_error("cannotUnsend", "The message has been sent");
  for (const auto& k : args.value("destroy", Json::array()))
    not_destroyed[k.get<std::string>()] = set_error("forbidden", "Submissions are kept");
  const std::string new_state = co_await submissions_state(ctx);
  Json out{{"accountId", ctx.account_id_string},
           {"oldState", old_state},
           {"newState", new_state},
           {"created", created.empty() ? Json() : created},
           {"updated", nullptr},
           {"destroyed", nullptr},
           {"notCreated", not_created.empty() ? Json() : not_created},
           {"notUpdated", not_updated.empty() ? Json() : not_updated},
           {"notDestroyed", not_destroyed.empty() ? Json() : not_destroyed}};
  co_await implicit_email_set(args, ctx, emails_by_submission);
  co_return out;
}

}  // namespace

void register_submission_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kSubmissionCapability);
  r.add("EmailSubmission/get", cap, guarded(submission_get));
  r.add("EmailSubmission/set", cap, guarded(submission_set));
  r.add("EmailSubmission/changes", cap, guarded(submission_changes));
  r.add("EmailSubmission/query", cap, guarded(submission_query));
}

}  // namespace govmail::webmail::mail
