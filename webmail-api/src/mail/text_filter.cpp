#include "mail/text_filter.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "core/config.hpp"
#include "core/text_match.hpp"
#include "search/index.hpp"
#include "store/database.hpp"
#include "store/mailbox_store.hpp"
#include "store/mime.hpp"

namespace govmail::webmail::mail {
namespace {

using Ids = std::vector<store::MessageId>;
using search::Field;

// Messages verified per round: bounds the texts held at once whatever the account's size.
constexpr std::size_t kChunk = 256;

struct TextCondition {
  std::vector<Field> fields;
  std::string needle;
};

// The text conditions of one node, each taken out of the node.
std::vector<TextCondition> take_conditions(store::EmailFilter& f) {
  std::vector<TextCondition> out;
  auto take = [&](std::optional<std::string>& v, std::vector<Field> fields) {
    if (v) out.push_back({std::move(fields), std::move(*v)});
    v.reset();
  };
  take(f.text, {Field::from, Field::to, Field::cc, Field::bcc, Field::subject, Field::body});
  take(f.body, {Field::body});
  take(f.subject, {Field::subject});
  take(f.from, {Field::from});
  take(f.to, {Field::to});
  take(f.cc, {Field::cc});
  take(f.bcc, {Field::bcc});
  return out;
}

void count_conditions(const store::EmailFilter& f, std::size_t& n, std::size_t& longest) {
  for (const auto* v : {&f.text, &f.body, &f.subject, &f.from, &f.to, &f.cc, &f.bcc}) {
    if (!*v) continue;
    ++n;
    longest = std::max(longest, (*v)->size());
  }
  for (const auto& c : f.children) count_conditions(c, n, longest);
}

// "Name <mailbox@host>, ..." of an envelope address list: display names decoded at ingest and
// the addresses, the strings the index holds for from/to/cc/bcc.
std::string addresses_text(const Json& env, const char* field) {
  std::string out;
  auto it = env.find(field);
  if (it == env.end() || !it->is_array()) return out;
  for (const auto& a : *it) {
    if (!a.is_object()) continue;
    if (a.contains("name_decoded") && a["name_decoded"].is_string())
      out += a["name_decoded"].get<std::string>() + " ";
    if (a.contains("mailbox") && a["mailbox"].is_string()) {
      out += "<" + a["mailbox"].get<std::string>();
      if (a.contains("host") && a["host"].is_string()) out += "@" + a["host"].get<std::string>();
      out += ">";
    }
    out += "\n";
  }
  return out;
}

std::string subject_text(const Json& env) {
  auto it = env.find("subject");
  if (it == env.end() || !it->is_object() || !(*it)["decoded"].is_string()) return {};
  return (*it)["decoded"].get<std::string>();
}

bool needs_body(const std::vector<TextCondition>& conds) {
  for (const auto& c : conds)
    if (std::find(c.fields.begin(), c.fields.end(), Field::body) != c.fields.end()) return true;
  return false;
}

// The texts one message is matched on; the body as the index keeps it (folded) when it can.
struct MessageTexts {
  std::map<Field, std::string> fields;
  std::optional<core::FoldedText> body;
};

// The body texts of the messages among `ids` that `out` lacks, parsed from the stored messages.
awaitable<void> parse_missing_bodies(const std::vector<store::MessageId>& ids,
                                     std::map<store::MessageId, std::string>& out,
                                     RequestContext& ctx) {
  Ids missing;
  for (auto id : ids)
    if (!out.contains(id)) missing.push_back(id);
  if (missing.empty()) co_return;
  auto raws = ok_or_throw(co_await ctx.db->mailboxes().fetch_raws(ctx.account_id, missing));
  for (auto& r : raws) out.emplace(r.message, store::parse_message(r.data).search_text);
}

// The bodies to match on: folded once at indexing where the index has them, else decoded.
awaitable<std::map<store::MessageId, core::FoldedText>> body_matchers(const Ids& ids,
                                                                      RequestContext& ctx) {
  std::map<store::MessageId, core::FoldedText> out;
  std::map<store::MessageId, std::string> decoded;
  if (ctx.search) {
    auto stored = co_await ctx.search->stored_texts(ctx.account_id, ids, {false, true});
    for (auto& [id, t] : stored) {
      if (t.folded)
        out.emplace(id, core::FoldedText::prefolded(std::move(t.body_cased),
                                                    std::move(t.body_plain), t.body_ascii));
      else
        decoded.emplace(id, std::move(t.body));
    }
  }
  for (auto id : ids)
    if (out.contains(id)) decoded.emplace(id, std::string{});  // not parsed again
  co_await parse_missing_bodies(ids, decoded, ctx);
  for (auto& [id, body] : decoded)
    if (!out.contains(id)) out.emplace(id, core::FoldedText(std::move(body)));
  co_return out;
}

}  // namespace

awaitable<std::map<store::MessageId, std::string>> body_texts(std::vector<store::MessageId> ids,
                                                              RequestContext& ctx) {
  std::map<store::MessageId, std::string> out;
  if (ctx.search) {
    // Awaited into a variable, never inside a range-for or a conditional expression (GCC's
    // coroutine lowering of those temporaries is unreliable).
    auto stored = co_await ctx.search->stored_texts(ctx.account_id, ids, {false, false});
    // An indexed document keeps its body folded only: a snippet needs the text as written.
    for (auto& [id, t] : stored)
      if (!t.folded) out.emplace(id, std::move(t.body));
  }
  co_await parse_missing_bodies(ids, out, ctx);
  co_return out;
}

namespace {

awaitable<std::map<store::MessageId, MessageTexts>> load_texts(
    const Ids& ids, const std::vector<TextCondition>& conds, RequestContext& ctx) {
  std::map<store::MessageId, MessageTexts> out;
  auto records =
      ok_or_throw(co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::all));
  for (const auto& r : records) {
    const Json env = Json::parse(r.envelope_json, nullptr, false);
    auto& t = out[r.id].fields;
    if (!env.is_object()) continue;
    t[Field::subject] = subject_text(env);
    t[Field::from] = addresses_text(env, "from");
    t[Field::to] = addresses_text(env, "to");
    t[Field::cc] = addresses_text(env, "cc");
    t[Field::bcc] = addresses_text(env, "bcc");
  }
  if (!needs_body(conds)) co_return out;
  auto bodies = co_await body_matchers(ids, ctx);
  for (auto& [id, body] : bodies)
    if (auto it = out.find(id); it != out.end()) it->second.body = std::move(body);
  co_return out;
}

bool matches(MessageTexts& t, const TextCondition& c, const core::Needle& needle) {
  for (auto f : c.fields) {
    if (f == Field::body) {
      if (t.body && t.body->contains(needle)) return true;
      continue;
    }
    auto it = t.fields.find(f);
    if (it != t.fields.end() && core::FoldedText(it->second).contains(needle)) return true;
  }
  return false;
}

// The messages the index says may match every condition (nullopt: it cannot narrow).
awaitable<std::optional<Ids>> candidates(const std::vector<TextCondition>& conds,
                                         RequestContext& ctx) {
  std::optional<Ids> out;
  if (!ctx.search) co_return out;
  for (const auto& c : conds) {
    auto r = co_await ctx.search->substring_candidates(ctx.account_id, c.fields, c.needle);
    if (!r) throw MethodError{"serverFail", "Search: " + std::string(search::to_string(r.error()))};
    if (!*r) continue;
    // Every candidate is verified here (JMAP's fields are not IMAP's texts): `certain` unused.
    Ids ids = std::move((*r)->messages);
    if (!out) {
      out = std::move(ids);
      continue;
    }
    Ids both;
    std::set_intersection(out->begin(), out->end(), ids.begin(), ids.end(),
                          std::back_inserter(both));
    out = std::move(both);
  }
  co_return out;
}

awaitable<Ids> all_messages(RequestContext& ctx) {
  auto rows = ok_or_throw(co_await ctx.db->mail().query_emails(ctx.account_id, {}, {}, false));
  Ids out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.id);
  std::sort(out.begin(), out.end());
  co_return out;
}

awaitable<Ids> matching(const std::vector<TextCondition>& conds, RequestContext& ctx) {
  auto narrowed = co_await candidates(conds, ctx);
  Ids ids;
  if (narrowed)
    ids = std::move(*narrowed);
  else
    ids = co_await all_messages(ctx);
  std::vector<core::Needle> needles;
  for (const auto& c : conds) needles.emplace_back(c.needle);
  Ids out;
  for (std::size_t i = 0; i < ids.size(); i += kChunk) {
    const Ids chunk(ids.begin() + static_cast<std::ptrdiff_t>(i),
                    ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kChunk)));
    auto texts = co_await load_texts(chunk, conds, ctx);
    for (auto& [id, t] : texts) {
      bool all = true;
      for (std::size_t k = 0; k < conds.size() && all; ++k) all = matches(t, conds[k], needles[k]);
      if (all) out.push_back(id);
    }
  }
  co_return out;
}

awaitable<void> resolve_node(store::EmailFilter& f, RequestContext& ctx) {
  for (auto& c : f.children) co_await resolve_node(c, ctx);
  auto conds = take_conditions(f);
  if (conds.empty()) co_return;
  f.message_ids = co_await matching(conds, ctx);
}

}  // namespace

awaitable<void> resolve_text_conditions(store::EmailFilter& filter, RequestContext& ctx) {
  std::size_t n = 0, longest = 0;
  count_conditions(filter, n, longest);
  if (n == 0) co_return;
  static const core::SearchConfig kDefaults;  // a context without a config (tests)
  const auto& limits = ctx.cfg ? ctx.cfg->search : kDefaults;
  if (n > limits.max_query_terms)
    throw MethodError{"unsupportedFilter", "Too many text conditions (search.max_query_terms)"};
  if (longest > limits.max_query_bytes)
    throw MethodError{"unsupportedFilter", "Filter text too long (search.max_query_bytes)"};
  co_await resolve_node(filter, ctx);
}

}  // namespace govmail::webmail::mail
