// SORT and UID SORT (RFC 5256, SORT=DISPLAY RFC 5957).
#include "render.hpp"
#include "session_impl.hpp"
#include "sort_keys.hpp"
#include "text_match.hpp"

namespace govmail::imap {
namespace {

enum class Key { arrival, cc, date, from, size, subject, to, display_from, display_to };
struct Criterion {
  Key key;
  bool reverse;
};

std::optional<std::vector<Criterion>> parse_criteria(const Arg& arg) {
  if (!arg.is_list() || arg.list.empty()) return std::nullopt;
  static const std::pair<const char*, Key> names[] = {{"ARRIVAL", Key::arrival},
                                                      {"CC", Key::cc},
                                                      {"DATE", Key::date},
                                                      {"FROM", Key::from},
                                                      {"SIZE", Key::size},
                                                      {"SUBJECT", Key::subject},
                                                      {"TO", Key::to},
                                                      {"DISPLAYFROM", Key::display_from},
                                                      {"DISPLAYTO", Key::display_to}};
  std::vector<Criterion> out;
  bool reverse = false;
  for (const auto& a : arg.list) {
    auto n = upper(a.value);
    if (n == "REVERSE") {
      reverse = true;
      continue;
    }
    auto it =
        std::find_if(std::begin(names), std::end(names), [&](auto& p) { return n == p.first; });
    if (it == std::end(names)) return std::nullopt;
    out.push_back({it->second, reverse});
    reverse = false;
  }
  if (reverse || out.empty()) return std::nullopt;
  return out;
}

struct Row {
  const SearchHit* hit;
  nlohmann::json env;
  std::string subject;  // casemap key of the base subject, made once when a criterion needs it
};

// -1, 0, 1 for one criterion.
int compare(const Row& a, const Row& b, Key k) {
  auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : y < x ? 1 : 0; };
  const auto& ea = a.hit->meta.entry;
  const auto& eb = b.hit->meta.entry;
  switch (k) {
    case Key::arrival:
      return cmp(ea.internal_date, eb.internal_date);
    case Key::date:
      return cmp(sent_date(a.env, ea), sent_date(b.env, eb));
    case Key::size:
      return cmp(ea.size, eb.size);
    case Key::subject:
      return cmp(a.subject, b.subject);
    case Key::cc:
      return cmp(first_address(a.env, "cc", false), first_address(b.env, "cc", false));
    case Key::from:
      return cmp(first_address(a.env, "from", false), first_address(b.env, "from", false));
    case Key::to:
      return cmp(first_address(a.env, "to", false), first_address(b.env, "to", false));
    case Key::display_from:
      return cmp(first_address(a.env, "from", true), first_address(b.env, "from", true));
    case Key::display_to:
      return cmp(first_address(a.env, "to", true), first_address(b.env, "to", true));
  }
  return 0;
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_sort) {
  if (cmd.args.size() < 3) co_return bad("SORT needs criteria, a charset and search keys");
  auto criteria = parse_criteria(cmd.args[0]);
  if (!criteria) co_return bad("Bad sort criteria");
  std::vector<SearchHit> hits;
  auto r = co_await run_charset_search(s, cmd, hits);
  if (r.status != "OK") co_return r;
  std::vector<Row> rows;
  bool by_subject = std::any_of(criteria->begin(), criteria->end(),
                                [](auto& c) { return c.key == Key::subject; });
  for (const auto& h : hits) {
    auto env = parse_object(h.meta.envelope_json);
    // Compared by i;unicode-casemap (RFC 5256 2.1, RFC 5051): titlecase, so "[x]" and "_"
    // come after the letters.
    auto subject = by_subject ? casemap_key(base_subject(env)) : std::string();
    rows.push_back({&h, std::move(env), std::move(subject)});
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (const auto& c : *criteria) {
      int v = compare(a, b, c.key);
      if (v) return c.reverse ? v > 0 : v < 0;
    }
    return a.hit->seq < b.hit->seq;  // ties in sequence order (RFC 5256 3)
  });
  std::string out = "SORT";
  for (const auto& row : rows)
    out += " " + std::to_string(cmd.uid ? row.hit->meta.entry.uid : row.hit->seq);
  s.untagged(out);
  co_return ok("SORT completed");
}

}  // namespace govmail::imap
