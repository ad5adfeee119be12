// Directory/query (capability urn:govmail:params:jmap:directory): the address book the webmail
// completes recipients from. JMAP mail has no directory; officials address colleagues of other
// units whom they have never written to, so compose looks them up by name or address, typed with
// or without diacritics ("nguyen van" finds "Nguyễn Văn An"). Active accounts and groups of the
// server, read once a minute per process (a province has thousands, not millions).
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "core/text.hpp"
#include "mail/common.hpp"
#include "mail/register.hpp"
#include "store/address_book.hpp"
#include "store/database.hpp"

namespace govmail::webmail::mail {
namespace {

constexpr std::size_t kMaxEntries = 200000;  // the whole address book, bounded
constexpr std::size_t kDefaultLimit = 10, kMaxLimit = 50;
constexpr std::size_t kMaxTextBytes = 200;
constexpr auto kReloadAfter = std::chrono::seconds(60);

struct Entry {
  store::AddressBookEntry entry;
  std::string folded;              // name and address, folded (lower case, no diacritics, đ -> d)
  std::vector<std::string> words;  // of `folded`, split at spaces and the address's @ . - _
};

// The words of a folded text: split at spaces and at the separators of an address.
std::vector<std::string> words_of(std::string folded) {
  for (char& ch : folded)
    if (std::string_view("@.-_,;<>()\"'").find(ch) != std::string_view::npos) ch = ' ';
  std::vector<std::string> words;
  for (auto w : core::split_words(folded)) words.emplace_back(w);
  return words;
}

// A database's copy of the address book; reloaded by the first request after kReloadAfter.
struct AddressBook {
  std::shared_ptr<const std::vector<Entry>> entries;
  std::chrono::steady_clock::time_point loaded;
};

// One per database the process serves (tests open several), keyed by the database's owner so
// that a database opened where a closed one was never sees the other's copy.
struct AddressBooks {
  std::mutex mutex;
  std::map<std::weak_ptr<store::Database>, AddressBook, std::owner_less<>> by_database;
};

AddressBooks& address_books() {
  static AddressBooks books;
  return books;
}

awaitable<std::shared_ptr<const std::vector<Entry>>> current_entries(RequestContext& ctx) {
  AddressBooks& books = address_books();
  const std::weak_ptr<store::Database> key = ctx.db;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(books.mutex);
    auto it = books.by_database.find(key);
    if (it != books.by_database.end() && it->second.entries &&
        now - it->second.loaded < kReloadAfter)
      co_return it->second.entries;
  }
  auto rows = ok_or_throw(co_await store::address_book(*ctx.db, kMaxEntries));
  auto entries = std::make_shared<std::vector<Entry>>();
  entries->reserve(rows.size());
  for (auto& r : rows) {
    std::string folded = core::fold_vietnamese(r.name + " " + r.address);
    auto words = words_of(folded);
    entries->push_back({std::move(r), std::move(folded), std::move(words)});
  }
  std::lock_guard lock(books.mutex);
  std::erase_if(books.by_database, [](const auto& kv) { return kv.first.expired(); });
  books.by_database[key] = {entries, now};
  co_return entries;
}

// Every word of the query begins a word of the entry ("van an" finds "Nguyễn Văn An", not "Văn
// thư" for the "an" inside "van"); entries whose text starts with the first word come first.
bool matches(const Entry& e, const std::vector<std::string>& words) {
  return std::all_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::any_of(e.words.begin(), e.words.end(),
                       [&](const std::string& ew) { return ew.starts_with(w); });
  });
}

Json entry_json(const store::AddressBookEntry& e) {
  return Json{{"email", e.address}, {"name", e.name}, {"isGroup", e.group}};
}

awaitable<Json> directory_query(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const auto text_arg = args.find("text");
  if (text_arg == args.end() || !text_arg->is_string())
    throw MethodError{"invalidArguments", "text (a string) is required"};
  const std::string text = text_arg->get<std::string>();
  if (text.size() > kMaxTextBytes)
    throw MethodError{"invalidArguments", "text is longer than 200 bytes"};
  const std::size_t limit =
      std::min<std::size_t>(uint_arg(args, "limit").value_or(kDefaultLimit), kMaxLimit);
  const std::vector<std::string> words = words_of(core::fold_vietnamese(text));
  Json list = Json::array();
  if (!words.empty() && limit > 0) {
    auto entries = co_await current_entries(ctx);
    std::vector<const Entry*> first, rest;
    for (const Entry& e : *entries) {
      if (!matches(e, words)) continue;
      (e.folded.rfind(words[0], 0) == 0 || e.entry.address.rfind(words[0], 0) == 0 ? first : rest)
          .push_back(&e);
      if (first.size() >= limit) break;
    }
    for (const auto* group : {&first, &rest})
      for (const Entry* e : *group)
        if (list.size() < limit) list.push_back(entry_json(e->entry));
  }
  co_return Json{{"accountId", ctx.account_id_string}, {"list", std::move(list)}};
}

}  // namespace

void register_directory_methods(jmap::MethodRegistry& r) {
  r.add("Directory/query", std::string(jmap::kDirectoryCapability), guarded(directory_query));
}

}  // namespace govmail::webmail::mail
