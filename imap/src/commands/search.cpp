// SEARCH and UID SEARCH (RFC 3501 6.4.4, RFC 9051), ESEARCH (RFC 4731), SEARCHRES (RFC 5182),
// MODSEQ (RFC 7162). Text keys are matched on decoded text: SUBJECT and the address keys on the
// envelope decoded at ingest, HEADER and TEXT on the header fields RFC 2047 decoded, BODY and
// TEXT on the body text that store::parse_message extracts (transfer encodings and charsets
// decoded, NFC).
// With the search index (search.use_index), the index first narrows the messages to a superset
// of the matches (whole words, prefixes, suffixes and infixes of its words; docs/SEARCH.md), and
// the texts come from the index (or the queue, for messages not yet indexed) instead of a new
// parse: the same matcher then decides, so both paths answer the same. Without it, every
// message is read and parsed, one at a time.
#include <map>

#include <nlohmann/json.hpp>

#include "render.hpp"
#include "search/index.hpp"
#include "session_impl.hpp"
#include "store/mime.hpp"
#include "text_match.hpp"

namespace govmail::imap {
namespace {

using Op = SearchKey::Op;
using json = nlohmann::json;

// Messages whose metadata is read from the store at once while searching.
constexpr std::size_t kChunk = 256;

struct Needs {
  bool meta = false;
  bool header = false, body = false;  // raw bytes: the header block, the whole message
};

bool envelope_field(const std::string& name) {
  return name == "SUBJECT" || name == "FROM" || name == "TO" || name == "CC" || name == "BCC";
}

void needs_of(const SearchKey& k, Needs& n) {
  switch (k.op) {
    case Op::sent_before:
    case Op::sent_on:
    case Op::sent_since:
      n.meta = true;
      break;
    case Op::header:  // the header block's end comes from the cached bodystructure
      n.meta = true;
      n.header = n.header || !envelope_field(k.name) || k.value.empty();
      break;
    case Op::body:  // the header block's end, when the text comes from the store: see below
    case Op::text:
      n.body = true;
      break;
    default:
      break;
  }
  for (const auto& c : k.children) needs_of(c, n);
}

// One message under test. The decoded texts are made on first use, once.
struct Candidate {
  std::uint32_t seq = 0;
  const store::MessageMeta* meta = nullptr;
  std::optional<json> envelope_;  // parsed on first use: most searches read no envelope field
  std::string raw;
  std::uint64_t body_offset = 0;
  std::optional<FoldedText> body, headers;
  std::map<std::string, FoldedText> fields;  // values of HEADER fields, by name

  const json& envelope() {
    if (!envelope_) envelope_ = parse_object(meta->envelope_json);
    return *envelope_;
  }
  std::string_view header_block() const {
    return std::string_view(raw).substr(0, std::min<std::uint64_t>(body_offset, raw.size()));
  }
  FoldedText& body_text() {
    if (!body) body.emplace(store::parse_message(raw).search_text);
    return *body;
  }
  FoldedText& header_text() {
    if (!headers) headers.emplace(decoded_header_text(header_block()));
    return *headers;
  }
  FoldedText& field_text(const std::string& name) {
    auto it = fields.find(name);
    if (it == fields.end())
      it = fields.emplace(name, FoldedText(decoded_header_text(header_block(), name))).first;
    return it->second;
  }
};

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Display names (decoded at ingest) and addresses of an envelope address field.
std::string addresses_text(const json& env, const std::string& key) {
  std::string lower = key;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string out;
  auto it = env.find(lower);
  if (it == env.end() || !it->is_array()) return out;
  for (const auto& a : *it) {
    if (!a.is_object()) continue;
    auto name = text(a, "name_decoded");
    out += (name.empty() ? text(a, "name") : name) + " ";
    const bool has_mailbox = a.value("mailbox", json()).is_string();
    if (has_mailbox && a.value("host", json()).is_string())
      out += text(a, "mailbox") + "@" + text(a, "host");
    else if (has_mailbox)  // a group's start: its display name (RFC 3501 7.4.2, RFC 5322 3.4)
      out += store::decode_header_text(text(a, "mailbox"));
    out += "\n";
  }
  return out;
}

// Seconds east of UTC of an RFC 5322 date's zone: the token after the time, "+0700" or an
// obsolete name (RFC 5322 4.3); 0 when there is none.
std::int64_t zone_offset(std::string_view date) {
  auto time = date.find(':');
  if (time == std::string_view::npos) return 0;
  auto start = date.find(' ', time);
  if (start == std::string_view::npos) return 0;
  auto zone = date.substr(start + 1);
  zone = zone.substr(0, zone.find_first_of(" \t("));
  if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-') &&
      std::all_of(zone.begin() + 1, zone.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    auto hours = (zone[1] - '0') * 10 + (zone[2] - '0');
    auto minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
    return (zone[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  }
  static const std::pair<const char*, int> names[] = {{"EDT", -4}, {"EST", -5}, {"CDT", -5},
                                                      {"CST", -6}, {"MDT", -6}, {"MST", -7},
                                                      {"PDT", -7}, {"PST", -8}};
  for (const auto& [name, hours] : names)
    if (iequals(zone, name)) return hours * 3600;
  return 0;
}

std::int64_t day_of(std::int64_t t) {
  return t >= 0 ? t / 86400 * 86400 : (t - 86399) / 86400 * 86400;
}

// What the index said of each text key: the messages that may match, and those that do.
using KeySets = std::map<const SearchKey*, search::Candidates>;

bool contains(const std::vector<store::MessageId>& v, store::MessageId m) {
  return std::binary_search(v.begin(), v.end(), m);
}

// Whether the index leaves this text key undecided for this message (its text is read then).
bool undecided(const KeySets& sets, const SearchKey& k, store::MessageId m) {
  auto it = sets.find(&k);
  if (it == sets.end()) return true;
  return contains(it->second.messages, m) && !contains(it->second.certain, m);
}

// Whether any text key of the tree needs this message's header block or body text.
bool needs_text(const KeySets& sets, const SearchKey& k, store::MessageId m) {
  const bool envelope = k.op == Op::header && envelope_field(k.name) && !k.value.empty();
  if ((k.op == Op::body || k.op == Op::text || k.op == Op::header) && !envelope &&
      undecided(sets, k, m))
    return true;
  return std::any_of(k.children.begin(), k.children.end(),
                     [&](const SearchKey& c) { return needs_text(sets, c, m); });
}

class Matcher {
 public:
  explicit Matcher(const Session::Impl& s, const KeySets& sets = {}) : s_(s), sets_(sets) {}

  bool match(const SearchKey& k, Candidate& c) {
    const auto& e = c.meta->entry;
    switch (k.op) {
      case Op::all:
        return true;
      case Op::and_:
        return std::all_of(k.children.begin(), k.children.end(),
                           [&](auto& x) { return match(x, c); });
      case Op::or_:
        return match(k.children[0], c) || match(k.children[1], c);
      case Op::not_:
        return !match(k.children[0], c);
      case Op::seqset:
        if (k.set.saved) return in_saved(e.uid);
        return cursor(k, static_cast<std::uint32_t>(s_.sel->messages.size())).contains(c.seq);
      case Op::uidset:
        if (k.set.saved) return in_saved(e.uid);
        return cursor(k, s_.sel->max_uid()).contains(e.uid);
      case Op::flag:
        return (e.flags.system & k.number) != 0;
      case Op::unflag:
        return (e.flags.system & k.number) == 0;
      case Op::keyword:
        return has_keyword(e, k.name);
      case Op::unkeyword:
        return !has_keyword(e, k.name);
      case Op::new_:  // RECENT UNSEEN
        return recent(e.uid) && !(e.flags.system & store::kSeen);
      case Op::recent:
        return recent(e.uid);
      case Op::old:
        return !recent(e.uid);
      case Op::before:
        return day_of(e.internal_date) < k.number;
      case Op::on:
        return day_of(e.internal_date) == k.number;
      case Op::since:
        return day_of(e.internal_date) >= k.number;
      case Op::sent_before:
        return sent_day(c) < k.number;
      case Op::sent_on:
        return sent_day(c) == k.number;
      case Op::sent_since:
        return sent_day(c) >= k.number;
      case Op::larger:
        return e.size > k.number;
      case Op::smaller:
        return e.size < k.number;
      case Op::modseq:
        return e.modseq >= static_cast<store::ModSeq>(k.number);
      case Op::header:
        if (auto d = decided(k, e.message_id)) return *d;
        return header(k, c);
      case Op::body:
        if (auto d = decided(k, e.message_id)) return *d;
        return c.body_text().contains(needle(k.value));
      case Op::text:
        if (auto d = decided(k, e.message_id)) return *d;
        return c.header_text().contains(needle(k.value)) || c.body_text().contains(needle(k.value));
    }
    return false;
  }

 private:
  bool recent(store::Uid u) const { return !s_.rev2 && s_.sel->is_recent(u); }
  bool in_saved(store::Uid u) const {  // saved_search is kept ascending (below)
    const auto& v = s_.sel->saved_search;
    return std::binary_search(v.begin(), v.end(), u);
  }
  static bool has_keyword(const store::MailboxEntry& e, const std::string& k) {
    return std::any_of(e.flags.keywords.begin(), e.flags.keywords.end(),
                       [&](auto& x) { return iequals(x, k); });
  }
  // The day of the Date header as written, "disregarding time and timezone" (RFC 3501 6.4.4):
  // 01:30 +0700 on 4 March is 4 March, though it is 3 March in UTC. Without a usable Date
  // header, the internal date's day.
  static std::int64_t sent_day(Candidate& c) {
    auto d = c.envelope().value("date", json::object());
    auto u = d.is_object() ? d.value("unix", json()) : json();
    if (!u.is_number()) return day_of(c.meta->entry.internal_date);
    return day_of(u.get<std::int64_t>() + zone_offset(text(d, "raw")));
  }
  bool header(const SearchKey& k, Candidate& c) {
    // An empty string matches exactly the messages that have the field, whatever its value
    // (RFC 3501 6.4.4, RFC 9051 6.4.4): the header block says, not the envelope, where an
    // absent field and an empty one look alike.
    if (k.value.empty()) return filter_header(c.header_block(), {k.name}, false).size() > 2;
    const auto& n = needle(k.value);
    if (k.name == "SUBJECT") {
      auto subj = c.envelope().value("subject", json::object());
      return subj.is_object() && FoldedText(text(subj, "decoded")).contains(n);
    }
    if (envelope_field(k.name)) return FoldedText(addresses_text(c.envelope(), k.name)).contains(n);
    return c.field_text(k.name).contains(n);
  }
  const Needle& needle(const std::string& v) {
    auto it = cache_.find(v);
    if (it == cache_.end()) it = cache_.emplace(v, Needle(v)).first;
    return it->second;
  }

  // One per set key, made once: candidates come in ascending order, so each key's set is walked
  // once for the whole search (O(messages + ranges)).
  SeqCursor& cursor(const SearchKey& k, std::uint32_t star) {
    auto it = cursors_.find(&k);
    if (it == cursors_.end()) it = cursors_.emplace(&k, SeqCursor(k.set, star)).first;
    return it->second;
  }

  // A text key the index decided for this message: not among its candidates (false), among
  // those it knows to match (true).
  std::optional<bool> decided(const SearchKey& k, store::MessageId m) const {
    auto it = sets_.find(&k);
    if (it == sets_.end()) return std::nullopt;
    if (!contains(it->second.messages, m)) return false;
    if (contains(it->second.certain, m)) return true;
    return std::nullopt;
  }

  const Session::Impl& s_;
  const KeySets& sets_;
  std::map<std::string, Needle> cache_;
  std::map<const SearchKey*, SeqCursor> cursors_;
};

bool uses_modseq(const SearchKey& k) {
  if (k.op == Op::modseq) return true;
  return std::any_of(k.children.begin(), k.children.end(), uses_modseq);
}

awaitable<store::Result<std::vector<store::MessageMeta>>> metas_of_uids(Session::Impl& s, bool meta,
                                                                        store::UidSet uids) {
  if (meta) co_return co_await s.store().fetch_meta(s.account, s.sel->mailbox.id, uids);
  auto r = co_await s.store().list_entries(s.account, s.sel->mailbox.id, uids);
  if (!r) co_return store::unexpected(r.error());
  std::vector<store::MessageMeta> out(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out[i].entry = std::move((*r)[i]);
  co_return out;
}

std::size_t text_keys(const SearchKey& k) {
  std::size_t n = (k.op == Op::body || k.op == Op::text || k.op == Op::header) ? 1 : 0;
  for (const auto& c : k.children) n += text_keys(c);
  return n;
}

bool too_long_text(const SearchKey& k, std::size_t max) {
  if ((k.op == Op::body || k.op == Op::text || k.op == Op::header) && k.value.size() > max)
    return true;
  return std::any_of(k.children.begin(), k.children.end(),
                     [max](const SearchKey& c) { return too_long_text(c, max); });
}

using Ids = std::optional<std::vector<store::MessageId>>;  // nullopt: every message

std::vector<search::Field> fields_of(const SearchKey& k) {
  using F = search::Field;
  if (k.op == Op::body) return {F::body};
  if (k.op == Op::text) return {F::header, F::body};
  if (k.name == "SUBJECT") return {F::subject};
  if (k.name == "FROM") return {F::from};
  if (k.name == "TO") return {F::to};
  if (k.name == "CC") return {F::cc};
  if (k.name == "BCC") return {F::bcc};
  return {F::header};
}

// The messages a key can match, as the index narrows them (a superset); what it said of each
// text key goes into `sets`.
awaitable<search::SearchResult<Ids>> narrow(search::Index& index, store::AccountId account,
                                            const SearchKey& k, KeySets& sets) {
  switch (k.op) {
    case Op::body:
    case Op::text:
    case Op::header: {
      if (k.op == Op::header && k.value.empty()) co_return Ids();  // field presence
      auto fields = fields_of(k);
      auto r = co_await index.substring_candidates(account, std::move(fields), k.value);
      if (!r) co_return govmail::unexpected(r.error());
      if (!*r) co_return Ids();
      Ids ids = (*r)->messages;
      // The index knows the header fields' text as a whole, not one field's.
      if (k.op == Op::header && !envelope_field(k.name)) (*r)->certain.clear();
      sets.emplace(&k, std::move(**r));
      co_return ids;
    }
    case Op::and_: {
      Ids out;
      for (const auto& c : k.children) {
        auto r = co_await narrow(index, account, c, sets);
        if (!r) co_return r;
        if (!*r) continue;
        if (!out) {
          out = std::move(*r);
          continue;
        }
        std::vector<store::MessageId> both;
        std::set_intersection(out->begin(), out->end(), (*r)->begin(), (*r)->end(),
                              std::back_inserter(both));
        out = std::move(both);
      }
      co_return out;
    }
    case Op::or_: {
      auto a = co_await narrow(index, account, k.children[0], sets);
      if (!a || !*a) co_return a;
      auto b = co_await narrow(index, account, k.children[1], sets);
      if (!b || !*b) co_return b;
      std::vector<store::MessageId> either;
      std::set_union((*a)->begin(), (*a)->end(), (*b)->begin(), (*b)->end(),
                     std::back_inserter(either));
      co_return Ids(std::move(either));
    }
    default:
      co_return Ids();
  }
}

// The selected messages' UIDs to test, in chunks of at most kChunk: all of them, or the
// candidates the index gave.
std::vector<store::UidSet> chunks_of(const std::vector<store::Uid>& uids) {
  std::vector<store::UidSet> out;
  for (std::size_t i = 0; i < uids.size(); i += kChunk) {
    store::UidSet set;
    for (std::size_t j = i; j < std::min(uids.size(), i + kChunk); ++j) {
      if (!set.empty() && set.back().last + 1 == uids[j])
        set.back().last = uids[j];
      else
        set.push_back({uids[j], uids[j]});
    }
    out.push_back(std::move(set));
  }
  return out;
}

// The parts of the index's texts this key reads: the header block for TEXT and HEADER, the
// plain fold of the body for a BODY or TEXT string without marks.
void parts_of(const SearchKey& k, search::TextParts& p) {
  if (k.op == Op::text || k.op == Op::header) p.header = true;
  if ((k.op == Op::text || k.op == Op::body) && Needle(k.value).plain) p.plain = true;
  for (const auto& c : k.children) parts_of(c, p);
}

std::string_view search_error_text(search::SearchError e) {
  return search::to_string(e);
}

}  // namespace

bool from_index(const std::map<store::MessageId, search::StoredText>& texts, store::MessageId m) {
  auto it = texts.find(m);
  return it != texts.end() && (it->second.folded || !it->second.header_block.empty());
}

// The messages whose texts the index did not give are read from the store, which needs where
// their header block ends (the bodystructure): fetched for them alone, so that a search the
// index answers reads no JSON from the database.
awaitable<store::Result<void>> add_body_offsets(
    Session::Impl& s, std::vector<store::MessageMeta>& metas,
    const std::map<store::MessageId, search::StoredText>& texts,
    const std::vector<store::MessageId>& to_read) {
  store::UidSet missing;
  std::map<store::Uid, store::MessageMeta*> by_uid;
  for (auto& m : metas) {
    if (from_index(texts, m.entry.message_id) || !contains(to_read, m.entry.message_id)) continue;
    missing.push_back({m.entry.uid, m.entry.uid});
    by_uid[m.entry.uid] = &m;
  }
  if (missing.empty()) co_return store::Result<void>{};
  auto full = co_await s.store().fetch_meta(s.account, s.sel->mailbox.id, std::move(missing),
                                            {.envelope = false, .bodystructure = true});
  if (!full) co_return store::unexpected(full.error());
  for (auto& f : *full) {
    auto it = by_uid.find(f.entry.uid);
    if (it != by_uid.end()) it->second->bodystructure_json = std::move(f.bodystructure_json);
  }
  co_return store::Result<void>{};
}

// Reads the candidate's texts from what the index kept (or the queue), else from the store.
awaitable<void> load_texts(Session::Impl& s, const Needs& needs, Candidate& c,
                           std::map<store::MessageId, search::StoredText>& texts) {
  const auto& m = *c.meta;
  auto stored = texts.find(m.entry.message_id);
  if (from_index(texts, m.entry.message_id)) {
    auto& t = stored->second;
    c.raw = std::move(t.header_block);
    c.body_offset = c.raw.size();
    if (t.folded)
      c.body.emplace(
          FoldedText::prefolded(std::move(t.body_cased), std::move(t.body_plain), t.body_ascii));
    else
      c.body.emplace(std::move(t.body));
    co_return;
  }
  c.body_offset = parse_object(m.bodystructure_json).value("body_offset", std::uint64_t{0});
  // HEADER alone, or a body known from the queue, reads only the header block.
  std::optional<std::uint64_t> length;
  if (!needs.body || stored != texts.end()) length = c.body_offset;
  auto raw = co_await s.store().fetch_raw(s.account, m.entry.message_id, 0, length);
  if (raw) c.raw = std::move(*raw);
  if (stored != texts.end()) c.body.emplace(std::move(stored->second.body));
}

// Whether the key is only text keys, sets and their logic: with every text key decided by the
// index, such a search reads nothing from the store.
bool decidable_alone(const SearchKey& k) {
  switch (k.op) {
    case Op::all:
    case Op::and_:
    case Op::or_:
    case Op::not_:
    case Op::seqset:
    case Op::uidset:
    case Op::body:
    case Op::text:
      break;
    case Op::header:
      if (k.value.empty()) return false;
      break;
    default:
      return false;
  }
  return std::all_of(k.children.begin(), k.children.end(), decidable_alone);
}

bool all_certain(const KeySets& sets, std::size_t keys) {
  return sets.size() == keys && std::all_of(sets.begin(), sets.end(), [](const auto& e) {
           return e.second.messages.size() == e.second.certain.size();
         });
}

// The search the index answered whole: the candidates' entries in the mailbox, each tested by
// the matcher on what the session knows (sequence numbers, UIDs) and the index's sets.
void search_decided(Session::Impl& s, const SearchKey& key, const KeySets& sets,
                    const std::vector<store::MessageUid>& entries, std::vector<SearchHit>& hits) {
  Matcher matcher(s, sets);
  for (const auto& e : entries) {
    auto seq = s.sel->seq_of(e.uid);
    if (!seq) continue;  // not announced to this session yet
    store::MessageMeta meta;
    meta.entry.uid = e.uid;
    meta.entry.message_id = e.message;
    meta.entry.modseq = s.sel->messages[*seq - 1].modseq;
    Candidate c;
    c.seq = *seq;
    c.meta = &meta;
    if (matcher.match(key, c)) hits.push_back({*seq, std::move(meta)});
  }
  std::sort(hits.begin(), hits.end(), [](auto& a, auto& b) { return a.seq < b.seq; });
}

awaitable<Reply> run_search(Session::Impl& s, const SearchKey& key, bool want_meta,
                            std::vector<SearchHit>& hits) {
  Needs needs;
  needs.meta = want_meta;
  needs_of(key, needs);
  search::Index* index = text_keys(key) > 0 ? s.backend.search_index() : nullptr;
  std::vector<store::Uid> uids;
  Ids candidates;
  KeySets sets;
  if (index) {
    const auto& cfg = index->config();
    if (text_keys(key) > cfg.max_query_terms)
      co_return no("[LIMIT] Too many text keys (search.max_query_terms)");
    if (too_long_text(key, cfg.max_query_bytes))
      co_return no("[LIMIT] Search string too long (search.max_query_bytes)");
    auto narrowed = co_await narrow(*index, s.account, key, sets);
    if (!narrowed)
      co_return no("[UNAVAILABLE] " + std::string(search_error_text(narrowed.error())));
    candidates = std::move(*narrowed);
  }
  if (candidates) {
    auto found = co_await index->uids_in_mailbox(s.account, s.sel->mailbox.id, *candidates,
                                                 s.sel->messages.size());
    if (!found) co_return no("[UNAVAILABLE] " + std::string(search_error_text(found.error())));
    if (!want_meta && decidable_alone(key) && all_certain(sets, text_keys(key))) {
      search_decided(s, key, sets, *found, hits);
      co_return ok();
    }
    for (const auto& e : *found)
      if (s.sel->seq_of(e.uid)) uids.push_back(e.uid);
  } else {
    uids.reserve(s.sel->messages.size());
    for (const auto& m : s.sel->messages) uids.push_back(m.uid);
  }
  Matcher matcher(s, sets);
  search::TextParts parts{false, false};
  parts_of(key, parts);
  // In chunks, so that the metadata held is bounded whatever the mailbox size; the raw message
  // and its decoded text are held for one message at a time (the index's texts for one chunk).
  // Texts are read only for the messages the index left undecided.
  for (auto& chunk : chunks_of(uids)) {
    auto metas = co_await metas_of_uids(s, needs.meta, std::move(chunk));
    if (!metas) co_return store_error_reply(metas.error(), "SEARCH");
    std::vector<store::MessageId> to_read;
    if (needs.header || needs.body)
      for (const auto& m : *metas)
        if (needs_text(sets, key, m.entry.message_id)) to_read.push_back(m.entry.message_id);
    std::map<store::MessageId, search::StoredText> texts;
    if (index && !to_read.empty()) texts = co_await index->stored_texts(s.account, to_read, parts);
    std::sort(to_read.begin(), to_read.end());
    if (!to_read.empty() && !needs.meta) {
      auto r = co_await add_body_offsets(s, *metas, texts, to_read);
      if (!r) co_return store_error_reply(r.error(), "SEARCH");
    }
    for (auto& m : *metas) {
      auto seq = s.sel->seq_of(m.entry.uid);
      if (!seq) continue;  // not announced to this session yet
      Candidate c;
      c.seq = *seq;
      c.meta = &m;
      if (contains(to_read, m.entry.message_id)) co_await load_texts(s, needs, c, texts);
      if (!matcher.match(key, c)) continue;
      if (!want_meta) m.envelope_json = m.bodystructure_json = {};  // bounded hits
      hits.push_back({*seq, std::move(m)});
    }
  }
  std::sort(hits.begin(), hits.end(), [](auto& a, auto& b) { return a.seq < b.seq; });
  co_return ok();
}

bool supported_charset(const std::string& charset) {
  return charset.empty() || charset == "UTF-8" || charset == "US-ASCII";
}

awaitable<Reply> run_charset_search(Session::Impl& s, const Command& cmd,
                                    std::vector<SearchHit>& hits) {
  if (!supported_charset(upper(cmd.args[1].value)))
    co_return no("[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
  auto prog = parse_search(cmd.args, 2);
  if (!prog) co_return bad(prog.error());
  co_return co_await run_search(s, prog->key, true, hits);
}

GOVMAIL_IMAP_HANDLER(cmd_search) {
  auto prog = parse_search(cmd.args);
  if (!prog) co_return bad(prog.error());
  if (!supported_charset(prog->charset))
    co_return no("[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
  std::vector<SearchHit> found;
  auto r = co_await run_search(s, prog->key, false, found);
  if (r.status != "OK") {
    if (prog->ret_save) s.sel->saved_search.clear();  // a failed SAVE leaves $ empty (RFC 5182)
    co_return r;
  }
  if (uses_modseq(prog->key)) s.enable_condstore();
  std::vector<std::uint32_t> hits;
  store::ModSeq top = 0;
  for (const auto& h : found) {
    hits.push_back(cmd.uid ? h.meta.entry.uid : h.seq);
    top = std::max(top, h.meta.entry.modseq);
  }
  // found is in sequence order, so its ends are the MIN and MAX whether numbers or UIDs.
  // With MIN and/or MAX alone, MODSEQ is that of the messages returned (RFC 7162 3.1.10).
  if (!found.empty() && (prog->ret_min || prog->ret_max) && !prog->ret_all && !prog->ret_count)
    top = std::max(prog->ret_min ? found.front().meta.entry.modseq : 0,
                   prog->ret_max ? found.back().meta.entry.modseq : 0);
  std::sort(hits.begin(), hits.end());
  if (prog->ret_save) {
    // SAVE with MIN and/or MAX only (no ALL, no COUNT) saves just those (RFC 5182 2.4).
    auto saved = hits;
    if ((prog->ret_min || prog->ret_max) && !prog->ret_all && !prog->ret_count && !hits.empty()) {
      saved.clear();
      if (prog->ret_min) saved.push_back(hits.front());
      if (prog->ret_max && (saved.empty() || saved.back() != hits.back()))
        saved.push_back(hits.back());
    }
    s.sel->saved_search.clear();
    for (auto h : saved) s.sel->saved_search.push_back(cmd.uid ? h : s.sel->messages[h - 1].uid);
    std::sort(s.sel->saved_search.begin(), s.sel->saved_search.end());  // for binary search
  }
  bool modseq = uses_modseq(prog->key) && !hits.empty();
  // IMAP4rev2 answers SEARCH with ESEARCH always (RFC 9051 6.4.4).
  if (s.rev2 && !prog->esearch) prog->esearch = prog->ret_all = true;
  if (!prog->esearch) {
    std::string out = "SEARCH";
    for (auto h : hits) out += " " + std::to_string(h);
    if (modseq) out += " (MODSEQ " + std::to_string(top) + ")";
    s.untagged(out);
    co_return ok("SEARCH completed");
  }
  std::string out = "ESEARCH (TAG " + quote_string(cmd.tag) + ")" + (cmd.uid ? " UID" : "");
  if (!hits.empty()) {
    if (prog->ret_min) out += " MIN " + std::to_string(hits.front());
    if (prog->ret_max) out += " MAX " + std::to_string(hits.back());
    if (prog->ret_all) out += " ALL " + seq_set_text(hits);
  }
  if (prog->ret_count) out += " COUNT " + std::to_string(hits.size());
  if (modseq) out += " MODSEQ " + std::to_string(top);
  // RETURN (SAVE) alone answers nothing but the tagged OK (RFC 5182 2.4).
  if (prog->ret_min || prog->ret_max || prog->ret_all || prog->ret_count) s.untagged(out);
  co_return ok("SEARCH completed");
}

}  // namespace govmail::imap
