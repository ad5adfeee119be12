#include "smtp/headers.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/text.hpp"
#include "store/address.hpp"
#include "store/mime.hpp"

namespace govmail::smtp {
namespace {

bool is_domain_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) || c == '-' || c == '.' || c == '_';
}

class DomainCollector {
 public:
  explicit DomainCollector(SenderFields& out) : out_(out) {}

  void add(std::string_view host, std::string_view field, Naming how) {
    while (!host.empty() && (host.front() == '.' || host.front() == '-')) host.remove_prefix(1);
    if (host.empty() || host.front() == '[') return;  // address literals name no domain
    if (auto ascii = core::domain_to_ascii(host)) {
      push(*ascii, field, how);
      return;
    }
    // Not a name IDNA accepts (invalid UTF-8, disallowed code points): look up both what is
    // written and the ASCII a client might show once it has dropped what it cannot render.
    std::string lower, ascii_only;
    for (char c : host) {
      const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      lower.push_back(l);
      if (static_cast<unsigned char>(c) < 0x80) ascii_only.push_back(l);
    }
    for (std::string* d : {&lower, &ascii_only}) {
      while (!d->empty() && d->back() == '.') d->pop_back();
      if (!d->empty()) push(*d, field, how);
    }
  }

  // Every "@domain" in a display name (decoded), white space ignored: "boss @ local.gov.vn".
  void add_after_at(std::string_view text, std::string_view field, Naming how) {
    const std::string s = squeeze(text, false);
    for (std::size_t at = s.find('@'); at != std::string::npos; at = s.find('@', at + 1)) {
      std::size_t end = at + 1;
      while (end < s.size() && is_domain_char(s[end])) ++end;
      add(std::string_view(s).substr(at + 1, end - at - 1), field, how);
    }
  }

  // Every run of domain characters with a dot in it, read with and without comment text.
  void add_domain_like(std::string_view text, std::string_view field) {
    for (bool drop_comments : {false, true}) {
      const std::string s = squeeze(text, drop_comments);
      std::size_t pos = 0;
      while (pos < s.size()) {
        std::size_t end = pos;
        while (end < s.size() && is_domain_char(s[end])) ++end;
        const std::string_view run = std::string_view(s).substr(pos, end - pos);
        if (run.find('.') != std::string_view::npos) add(run, field, Naming::unparseable);
        pos = end + 1;
      }
    }
  }

 private:
  // White space, control characters, quotes and backslashes removed (what a lenient reader may
  // skip), optionally parenthesised text too, and the full-width and small commercial at (what
  // a client shows as "@") made '@'.
  static std::string squeeze(std::string_view text, bool drop_comments) {
    std::string s;
    int depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      const auto u = static_cast<unsigned char>(c);
      if (drop_comments && c == '(') ++depth;
      if (depth == 0 &&
          (text.substr(i, 3) == "\xEF\xBC\xA0" || text.substr(i, 3) == "\xEF\xB9\xAB")) {
        s.push_back('@');  // U+FF20, U+FE6B
        i += 2;
        continue;
      }
      if (depth == 0 && u > 0x20 && u != 0x7f && c != '"' && c != '\\') s.push_back(c);
      if (drop_comments && c == ')' && depth > 0) --depth;
    }
    return s;
  }

  void push(std::string domain, std::string_view field, Naming how) {
    for (const auto& d : out_.domains)
      if (d.domain == domain) return;
    out_.domains.push_back({std::move(domain), std::string(field), how});
  }

  SenderFields& out_;
};

// One sender field's value: its mailboxes and every domain it names.
void read_sender_field(std::string_view value, std::string_view field,
                       std::vector<std::string>* mailboxes, bool* valid, DomainCollector& domains) {
  const store::AddressList list = store::parse_address_list(value);
  for (const store::Address& a : list.items) {
    if (a.name) {
      const std::string decoded = store::decode_header_text(*a.name);
      domains.add_after_at(decoded, field, Naming::display_name);
    }
    if (!a.host) {  // group start (its name is a display text too) or end
      if (a.mailbox)
        domains.add_after_at(store::decode_header_text(*a.mailbox), field, Naming::display_name);
      continue;
    }
    if (mailboxes != nullptr) mailboxes->push_back(store::addr_spec(a));
    domains.add(*a.host, field, Naming::address);
  }
  // Comments anywhere ("x <x@evil> (boss@local)"), and encoded words wherever a lenient client
  // decodes them, are shown too.
  domains.add_after_at(store::decode_header_text(value), field, Naming::display_name);
  if (!list.valid) {
    if (valid != nullptr) *valid = false;
    domains.add_domain_like(value, field);
  }
}

}  // namespace

SenderFields sender_fields(std::string_view message) {
  SenderFields out;
  DomainCollector domains(out);
  const auto froms = header_values(message, "From");
  out.from_fields = froms.size();
  for (const auto& v : froms) read_sender_field(v, "From", &out.from, &out.from_valid, domains);
  for (const auto& v : header_values(message, "Sender"))
    read_sender_field(v, "Sender", &out.sender, &out.sender_valid, domains);
  for (const auto& v : header_values(message, "Reply-To"))
    read_sender_field(v, "Reply-To", nullptr, nullptr, domains);
  return out;
}

}  // namespace govmail::smtp
