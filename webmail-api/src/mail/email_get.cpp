// Email/get and Email/changes (RFC 8621 4.2, 4.3): one Email per message of the account, its
// mailboxIds every mailbox holding it, its keywords the IMAP flags of those entries.
#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "mail/blob.hpp"
#include "mail/changes.hpp"
#include "mail/common.hpp"
#include "mail/email.hpp"
#include "mail/message_view.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::webmail::mail {
namespace {

const std::vector<std::string> kDefaultProperties = {
    "id",        "blobId",    "threadId",   "mailboxIds", "keywords",      "size",    "receivedAt",
    "messageId", "inReplyTo", "references", "sender",     "from",          "to",      "cc",
    "bcc",       "replyTo",   "subject",    "sentAt",     "hasAttachment", "preview", "bodyValues",
    "textBody",  "htmlBody",  "attachments"};
const std::vector<std::string> kKnownProperties = [] {
  auto v = kDefaultProperties;
  v.push_back("bodyStructure");
  v.push_back("headers");
  return v;
}();
const std::vector<std::string> kDefaultBodyProperties = {
    "partId",  "blobId",      "size", "name",     "type",
    "charset", "disposition", "cid",  "language", "location"};
const std::vector<std::string> kKnownBodyProperties = [] {
  auto v = kDefaultBodyProperties;
  v.push_back("subParts");
  v.push_back("headers");
  return v;
}();

// Properties read from the raw header block.
bool needs_header(const std::string& p) {
  static const std::set<std::string> k = {"messageId", "inReplyTo", "references", "sender",
                                          "from",      "to",        "cc",         "bcc",
                                          "replyTo",   "subject",   "sentAt",     "headers"};
  return k.count(p) > 0 || p.rfind("header:", 0) == 0;
}

// Whether a property is a function of the message's bytes alone: read from the header, or
// hasAttachment (from the structure parsed at ingest).
bool immutable(const std::string& p) {
  return needs_header(p) || p == "hasAttachment";
}

// The immutable properties (from, to, subject, sentAt, header:..., hasAttachment) of stored
// messages, by message id and property. A message's bytes never change, so neither do these: a list
// loaded again (push, paging back, a second device) neither reads nor parses the headers again (the
// header read was the largest statement of a webmail page, bench/jmap PROFILE=1). Only ids that
// MailStore::emails returned for the account are looked up. Bounded: the oldest leave first.
class ImmutablePropertyCache {
 public:
  // The values of every one of `props` for `id`, or nullopt if one is missing.
  std::optional<Json> find(store::MessageId id, const std::vector<std::string>& props) {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    Json out = Json::object();
    for (const auto& p : props) {
      auto v = it->second.find(p);
      if (v == it->second.end()) return std::nullopt;
      out[p] = *v;
    }
    return out;
  }

  void keep(store::MessageId id, const Json& email, const std::vector<std::string>& props) {
    std::lock_guard lock(mutex_);
    auto [it, added] = by_id_.try_emplace(id, Json::object());
    if (added) {
      order_.push_back(id);
      if (order_.size() > kMaxMessages) {
        by_id_.erase(order_.front());
        order_.pop_front();
      }
    }
    for (const auto& p : props)
      if (email.contains(p)) it->second[p] = email[p];
  }

 private:
  static constexpr std::size_t kMaxMessages = 10000;  // ~1-2 KB each
  std::mutex mutex_;
  std::unordered_map<store::MessageId, Json> by_id_;
  std::deque<store::MessageId> order_;  // oldest first
};

ImmutablePropertyCache& immutable_property_cache() {
  static ImmutablePropertyCache cache;
  return cache;
}

struct BodyOptions {
  bool text = false, html = false, all = false;
  std::size_t max_bytes = 0;  // 0 = whole
  std::vector<std::string> props;
};

Json body_values(std::string_view raw, const Json& bs, const BodyLists& lists,
                 const BodyOptions& o) {
  Json out = Json::object();
  auto add = [&](const Json& part) {
    const std::string type = part.value("type", "");
    if (type.rfind("text/", 0) != 0 || part["partId"].is_null()) return;
    const auto id = part["partId"].get<std::string>();
    if (out.contains(id)) return;
    std::string v = part_text(raw, bs, id);
    const bool problem = v.find("\xEF\xBF\xBD") != std::string::npos;
    bool truncated = false;
    if (o.max_bytes && v.size() > o.max_bytes) {
      v = utf8_truncate(std::move(v), o.max_bytes);
      truncated = true;
    }
    out[id] = {{"value", v}, {"isEncodingProblem", problem}, {"isTruncated", truncated}};
  };
  if (o.text || o.all)
    for (const auto& p : lists.text) add(p);
  if (o.html || o.all)
    for (const auto& p : lists.html) add(p);
  if (o.all)
    for (const auto& p : lists.attachments) add(p);
  return out;
}

Json parts_json(const std::vector<Json>& parts, const std::vector<std::string>& props) {
  Json a = Json::array();
  for (const auto& p : parts) a.push_back(body_part_subset(p, props));
  return a;
}

// Writes the id and `props` of `r` into `out` (into the object being answered: building another
// and merging it copied every value once more).
void write_email(Json& out, const store::EmailRecord& r, const std::vector<std::string>& props,
                 const std::vector<HeaderField>* headers, const std::string* raw,
                 const BodyOptions& body) {
  out["id"] = id_string('E', r.id);
  // Parsed only when a property needs them (a message list needs neither once its header
  // properties are cached): parsing was the largest part of govmail's CPU per page.
  std::optional<Json> env_json, bs_json;
  auto env = [&]() -> const Json& {
    if (!env_json)
      env_json = r.envelope_json.empty() ? Json::object() : Json::parse(r.envelope_json);
    return *env_json;
  };
  auto bs = [&]() -> const Json& {
    if (!bs_json)
      bs_json = r.bodystructure_json.empty() ? Json::object() : Json::parse(r.bodystructure_json);
    return *bs_json;
  };
  std::optional<Json> structure;
  std::optional<BodyLists> lists;
  auto get_lists = [&]() -> const BodyLists& {
    if (!structure) structure = body_structure(bs(), r.id);
    if (!lists) lists = body_lists(*structure);
    return *lists;
  };
  for (const auto& p : props) {
    if (p == "id") continue;
    if (p == "blobId") {
      out[p] = message_blob_id(r.blob_sha256);
    } else if (p == "threadId") {
      out[p] = id_string('T', r.thread_id);
    } else if (p == "mailboxIds") {
      Json m = Json::object();
      for (const auto& e : r.entries) m[id_string('M', e.mailbox_id)] = true;
      out[p] = m;
    } else if (p == "keywords") {
      store::Flags f;
      for (const auto& e : r.entries) {
        f.system |= e.flags.system;
        f.keywords.insert(f.keywords.end(), e.flags.keywords.begin(), e.flags.keywords.end());
      }
      out[p] = keywords_json(f);
    } else if (p == "size") {
      out[p] = r.size;
    } else if (p == "receivedAt") {
      out[p] = utc_date(r.received_at);
    } else if (p == "messageId") {
      out[p] = header_as(*headers, "Message-ID", "asMessageIds");
    } else if (p == "inReplyTo") {
      out[p] = header_as(*headers, "In-Reply-To", "asMessageIds");
    } else if (p == "references") {
      out[p] = header_as(*headers, "References", "asMessageIds");
    } else if (p == "sender" || p == "from" || p == "to" || p == "cc" || p == "bcc" ||
               p == "replyTo") {
      const Json v = header_as(*headers, p == "replyTo" ? "Reply-To" : p, "asAddresses");
      out[p] = v;
    } else if (p == "subject") {
      out[p] = header_as(*headers, "Subject", "asText");
    } else if (p == "sentAt") {
      Json date = header_as(*headers, "Date", "asRaw");
      std::optional<std::int64_t> unix;
      const Json& e = env();
      if (e.contains("date") && e["date"].is_object() && e["date"]["unix"].is_number())
        unix = e["date"]["unix"].get<std::int64_t>();
      auto s = date.is_string() ? rfc3339_of_header_date(date.get<std::string>(), unix)
                                : std::optional<std::string>();
      out[p] = s ? Json(*s) : Json();
    } else if (p == "headers") {
      Json h = Json::array();
      for (const auto& f : *headers) h.push_back({{"name", f.name}, {"value", f.raw}});
      out[p] = h;
    } else if (p.rfind("header:", 0) == 0) {
      auto v = header_property(*headers, p);
      if (!v) throw MethodError{"invalidArguments", "Bad header property: " + p.substr(0, 100)};
      out[p] = *v;
    } else if (p == "hasAttachment") {
      out[p] = has_attachment(bs());
    } else if (p == "preview") {
      out[p] = r.preview ? *r.preview : raw ? preview(*raw, bs()) : "";
    } else if (p == "bodyStructure") {
      if (!structure) structure = body_structure(bs(), r.id);
      auto props_all = body.props;
      if (std::find(props_all.begin(), props_all.end(), "subParts") == props_all.end())
        props_all.push_back("subParts");
      out[p] = body_part_subset(*structure, props_all);
    } else if (p == "textBody") {
      out[p] = parts_json(get_lists().text, body.props);
    } else if (p == "htmlBody") {
      out[p] = parts_json(get_lists().html, body.props);
    } else if (p == "attachments") {
      out[p] = parts_json(get_lists().attachments, body.props);
    } else if (p == "bodyValues") {
      out[p] = raw ? body_values(*raw, bs(), get_lists(), body) : Json::object();
    }
  }
}

BodyOptions body_options(const Json& args) {
  BodyOptions o;
  o.text = args.value("fetchTextBodyValues", false);
  o.html = args.value("fetchHTMLBodyValues", false);
  o.all = args.value("fetchAllBodyValues", false);
  if (auto m = uint_arg(args, "maxBodyValueBytes")) {
    if (*m == 0) throw MethodError{"invalidArguments", "maxBodyValueBytes must be positive"};
    o.max_bytes = *m;
  }
  auto it = args.find("bodyProperties");
  if (it == args.end() || it->is_null()) {
    o.props = kDefaultBodyProperties;
  } else {
    if (!it->is_array()) throw MethodError{"invalidArguments", "bodyProperties must be an array"};
    for (const auto& v : *it) {
      auto p = v.get<std::string>();
      if (std::find(kKnownBodyProperties.begin(), kKnownBodyProperties.end(), p) ==
          kKnownBodyProperties.end())
        throw MethodError{"invalidArguments", "Unknown body property: " + p.substr(0, 100)};
      o.props.push_back(p);
    }
  }
  return o;
}

awaitable<std::map<store::MessageId, std::string>> fetch_raws(std::vector<store::MessageId> ids,
                                                              store::MailboxStore::RawPart part,
                                                              RequestContext& ctx) {
  std::map<store::MessageId, std::string> raws;
  for (auto& r : ok_or_throw(co_await ctx.db->mailboxes().fetch_raws(ctx.account_id, ids, part)))
    raws[r.message] = std::move(r.data);
  co_return raws;
}

// Computes the previews `records` lack into them and caches them in the store. Only the header
// and the start of each body are read (not the attachments), and only messages whose text was
// not in that prefix are read whole. The raws read are left in `raws`.
awaitable<void> compute_previews(std::vector<store::EmailRecord>& records,
                                 std::map<store::MessageId, std::string>& raws,
                                 RequestContext& ctx) {
  std::vector<store::EmailRecord*> missing;
  std::vector<store::MessageId> ids;
  for (auto& r : records)
    if (!r.preview) {
      missing.push_back(&r);
      ids.push_back(r.id);
    }
  if (missing.empty()) co_return;
  for (auto& [id, raw] : co_await fetch_raws(ids, store::MailboxStore::RawPart::preview, ctx))
    raws[id] = std::move(raw);
  std::vector<store::MessageId> short_of_text;
  std::vector<std::string> previews;
  ids.clear();
  for (auto* r : missing) {
    auto it = raws.find(r->id);
    if (it == raws.end()) continue;
    const Json bs =
        r->bodystructure_json.empty() ? Json::object() : Json::parse(r->bodystructure_json);
    std::string p = preview(it->second, bs);
    if (p.empty() && it->second.size() < r->size) {
      short_of_text.push_back(r->id);
      continue;
    }
    ids.push_back(r->id);
    previews.push_back(p);
    r->preview = std::move(p);
  }
  if (!short_of_text.empty()) {
    auto whole = co_await fetch_raws(short_of_text, store::MailboxStore::RawPart::whole, ctx);
    for (auto* r : missing) {
      auto it = whole.find(r->id);
      if (r->preview || it == whole.end()) continue;
      r->preview =
          preview(it->second, r->bodystructure_json.empty() ? Json::object()
                                                            : Json::parse(r->bodystructure_json));
      ids.push_back(r->id);
      previews.push_back(*r->preview);
      raws[r->id] = std::move(it->second);
    }
  }
  ok_or_throw(co_await ctx.db->mail().set_previews(ctx.account_id, ids, previews));
}

// The records of `wanted`, with only the documents the properties need: the JSON documents
// (their text form is the costly part of the statement) for the body properties, or for
// sentAt/hasAttachment not all known from the cache; else the cached previews alone, and the
// documents only for the messages whose preview is still to be computed.
awaitable<std::vector<store::EmailRecord>> email_records(
    RequestContext& ctx, const std::vector<store::MessageId>& wanted,
    const std::vector<std::string>& other_props, const std::vector<std::string>& fixed_props,
    bool some_uncached, bool wants_preview) {
  using Meta = store::MailStore::Meta;
  auto any = [](const std::vector<std::string>& v, std::initializer_list<const char*> names) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& p) {
      return std::any_of(names.begin(), names.end(), [&](const char* n) { return p == n; });
    });
  };
  const bool structure =
      any(other_props, {"bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"}) ||
      (some_uncached && any(fixed_props, {"sentAt", "hasAttachment"}));
  const Meta meta = structure ? Meta::all : wants_preview ? Meta::preview : Meta::none;
  auto records = ok_or_throw(co_await ctx.db->mail().emails(ctx.account_id, wanted, meta));
  if (meta != Meta::preview) co_return records;
  std::vector<store::MessageId> lacking;
  for (const auto& r : records)
    if (!r.preview) lacking.push_back(r.id);
  if (lacking.empty()) co_return records;
  auto full = ok_or_throw(co_await ctx.db->mail().emails(ctx.account_id, lacking, Meta::all));
  std::map<store::MessageId, store::EmailRecord*> by_id;
  for (auto& r : records) by_id[r.id] = &r;
  for (auto& f : full)
    if (auto it = by_id.find(f.id); it != by_id.end()) *it->second = std::move(f);
  co_return records;
}

}  // namespace

awaitable<Json> email_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto props = properties_argument(args, kKnownProperties, kDefaultProperties);
  const auto body = body_options(args);
  auto ids = ids_argument(args);
  if (!ids) throw MethodError{"requestTooLarge", "Email/get needs ids"};
  if (ids->size() > max_objects_in_get(ctx))
    throw MethodError{"requestTooLarge",
                      "Too many ids (at most " + std::to_string(max_objects_in_get(ctx)) + ")"};
  std::vector<store::MessageId> wanted;
  for (const auto& raw : *ids)
    if (auto id = parse_id('E', resolve_creation(ctx, raw))) wanted.push_back(*id);
  const bool header = std::any_of(props.begin(), props.end(), needs_header);
  const bool values = std::any_of(props.begin(), props.end(), [&](const std::string& p) {
    return p == "bodyValues" && (body.text || body.html || body.all);
  });
  const bool wants_preview = std::find(props.begin(), props.end(), "preview") != props.end();
  std::vector<std::string> fixed_props, other_props;
  for (const auto& p : props) (immutable(p) ? fixed_props : other_props).push_back(p);
  auto& cache = immutable_property_cache();
  // Immutable properties known without reading. Looked up before the store is asked (to know
  // what it must read), used only for the ids MailStore::emails returns for this account.
  std::map<store::MessageId, Json> cached;
  if (!fixed_props.empty())
    for (auto id : wanted)
      if (auto c = cache.find(id, fixed_props)) cached[id] = std::move(*c);
  auto records = co_await email_records(ctx, wanted, other_props, fixed_props,
                                        cached.size() < wanted.size(), wants_preview);
  // The state the records were read in (the oldest snapshot, if they took two), unless this
  // request has read one already; a statement of its own only when no record was found.
  if (!ctx.read_state && !records.empty()) {
    auto oldest = std::min_element(
        records.begin(), records.end(),
        [](const auto& a, const auto& b) { return a.account_modseq < b.account_modseq; });
    ctx.read_state = state_string(oldest->account_modseq);
  }
  const std::string state = co_await state_for_read(ctx);
  std::vector<store::MessageId> have, uncached;
  for (const auto& r : records) {
    have.push_back(r.id);
    if (fixed_props.empty())
      cached[r.id] = Json::object();
    else if (!cached.count(r.id) && header)
      uncached.push_back(r.id);
  }
  std::map<store::MessageId, std::string> raws;
  using Part = store::MailboxStore::RawPart;
  if (values && !records.empty()) {
    raws = co_await fetch_raws(have, Part::whole, ctx);
  } else if (!records.empty()) {
    // A message list: the headers not known yet, and the previews not cached yet.
    if (!uncached.empty()) raws = co_await fetch_raws(uncached, Part::header, ctx);
    if (wants_preview) co_await compute_previews(records, raws, ctx);
  }
  const bool whole = values || wants_preview;
  std::map<store::MessageId, const store::EmailRecord*> by_id;
  for (const auto& r : records) by_id[r.id] = &r;
  Json list = Json::array(), not_found = Json::array();
  for (const auto& raw_id : *ids) {
    const auto id = parse_id('E', resolve_creation(ctx, raw_id));
    auto it = id ? by_id.find(*id) : by_id.end();
    if (it == by_id.end()) {
      not_found.push_back(raw_id);
      continue;
    }
    const std::string* raw = raws.count(it->first) ? &raws[it->first] : nullptr;
    std::vector<HeaderField> headers;
    Json e = Json::object();
    if (auto c = cached.find(it->first); c != cached.end()) {
      e = std::move(c->second);
    } else {
      if (raw) headers = parse_header_block(*raw);
      write_email(e, *it->second, fixed_props, &headers, nullptr, body);
      // Not from a header that was not read.
      if (raw || !header) cache.keep(it->first, e, fixed_props);
    }
    write_email(e, *it->second, other_props, &headers, whole ? raw : nullptr, body);
    if (raw_id != e["id"]) e["id"] = e["id"];  // creation references answer with the real id
    list.push_back(std::move(e));
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", state},
                 {"list", list},
                 {"notFound", not_found}};
}

Json email_view(const store::EmailRecord& r, const std::string& raw, const Json& args) {
  static const std::vector<std::string> kParseDefaults = {
      "messageId", "inReplyTo",  "references", "sender",   "from",       "to",
      "cc",        "bcc",        "replyTo",    "subject",  "sentAt",     "hasAttachment",
      "preview",   "bodyValues", "textBody",   "htmlBody", "attachments"};
  auto props = properties_argument(args, kKnownProperties, kParseDefaults);
  props.erase(std::remove_if(props.begin(), props.end(),
                             [](const std::string& p) {
                               return p == "id" || p == "threadId" || p == "mailboxIds" ||
                                      p == "keywords" || p == "receivedAt";
                             }),
              props.end());
  const auto body = body_options(args);
  const auto headers = parse_header_block(raw);
  Json e = Json::object();
  write_email(e, r, props, &headers, &raw, body);
  e.erase("id");
  return e;
}

namespace {

awaitable<Json> email_changes(const Json& args, RequestContext& ctx) {
  auto w = co_await read_changes(args, ctx, email_change_key);
  std::set<store::MessageId> touched, added;
  for (const auto& r : w.records) {
    if (!email_change_key(r)) continue;
    touched.insert(r.message_id);
    if (r.kind == store::ChangeRecord::Kind::message_added) added.insert(r.message_id);
  }
  std::vector<store::MessageId> ids(touched.begin(), touched.end());
  auto records = ok_or_throw(
      co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::none));
  std::set<store::MessageId> exists;
  for (const auto& r : records) exists.insert(r.id);
  std::vector<store::MessageId> added_v(added.begin(), added.end());
  auto before = ok_or_throw(co_await ctx.db->mail().added_before(ctx.account_id, w.since, added_v));
  std::set<store::MessageId> existed(before.begin(), before.end());
  Json c = Json::array(), u = Json::array(), d = Json::array();
  for (auto id : touched) {
    const bool is_new = added.count(id) && !existed.count(id);
    if (exists.count(id))
      (is_new ? c : u).push_back(id_string('E', id));
    else if (!is_new)
      d.push_back(id_string('E', id));
  }
  co_return changes_response(ctx, w, c, u, d);
}

}  // namespace

void register_email_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kMailCapability);
  r.add("Email/get", cap, guarded(email_get));
  r.add("Email/changes", cap, guarded(email_changes));
  register_email_query_methods(r);
}

}  // namespace govmail::webmail::mail
