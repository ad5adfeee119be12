#include "query.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "core/asio.hpp"

namespace govmail::store::detail {

Params& Params::num(std::int64_t v) {
  return text(std::to_string(v));
}
Params& Params::boolean(bool v) {
  return view(v ? "t" : "f");
}
Params& Params::text(std::string v) {
  owned_.push_back(std::move(v));
  params_.push_back(pg::Param::text(owned_.back()));
  return *this;
}
Params& Params::view(std::string_view v) {
  params_.push_back(pg::Param::text(v));
  return *this;
}
Params& Params::bytes(std::string_view v) {
  params_.push_back(pg::Param::bytes(v));
  return *this;
}
Params& Params::owned_bytes(std::string v) {
  owned_.push_back(std::move(v));
  params_.push_back(pg::Param::bytes(owned_.back()));
  return *this;
}
Params& Params::null() {
  params_.push_back(pg::Param::null());
  return *this;
}
Params& Params::opt_num(std::optional<std::int64_t> v) {
  return v ? num(*v) : null();
}

Params& Params::num_array(const std::vector<std::int64_t>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  s += '}';
  return text(std::move(s));
}
Params& Params::opt_num_array(const std::vector<std::optional<std::int64_t>>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += v[i] ? std::to_string(*v[i]) : std::string("NULL");
  }
  s += '}';
  return text(std::move(s));
}
Params& Params::text_array(const std::vector<std::string>& v) {
  return text(text_array_literal(v));
}

std::string text_array_literal(const std::vector<std::string>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s + "}";
}

std::vector<std::string> parse_text_array(std::string_view s) {
  std::vector<std::string> out;
  if (s.size() < 2 || s.front() != '{') return out;
  std::size_t i = 1;
  while (i < s.size() && s[i] != '}') {
    std::string item;
    bool quoted = s[i] == '"';
    if (quoted) {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        item += s[i];
      }
      ++i;  // closing quote
    } else {
      for (; i < s.size() && s[i] != ',' && s[i] != '}'; ++i) item += s[i];
    }
    if (quoted || item != "NULL") out.push_back(std::move(item));
    if (i < s.size() && s[i] == ',') ++i;
  }
  return out;
}

StoreError map_error(const pg::PgError& e, std::string_view operation) {
  const std::string& st = e.sqlstate;
  // The first line only: CONTEXT lines repeat our SQL, never anything the log needs.
  const std::string_view message(e.message.data(),
                                 std::min(e.message.find('\n'), e.message.size()));
  if (st == "GMNF0" || st == "23503") return StoreError::not_found;
  if (st == "GMEX0" || st == "23505") return StoreError::exists;
  if (st == "GMQT0") return StoreError::over_quota;
  if (st == "GMCF0") return StoreError::conflict;
  if (st == "GMIV0" || st == "23514" || st == "22P02") return StoreError::invalid;
  if (st == "54000") return StoreError::too_big;
  if (e.connection_lost || st.starts_with("08") || st == "57P01" || st == "57P02" ||
      st == "57P03") {
    spdlog::warn("store: {}: database unavailable: {}", operation, message);
    return StoreError::unavailable;
  }
  // 57014: statement_timeout (or a cancel); 55P03: lock_timeout. The client retries later.
  if (st.empty() || st == "40001" || st == "40P01" || st == "55P03" || st == "57014" ||
      st == "53300") {
    spdlog::warn("store: {}: temporary failure (SQLSTATE {}): {}", operation, st, message);
    return StoreError::temporary;
  }
  spdlog::error("store: {}: SQLSTATE {}: {}", operation, st, message);
  return StoreError::permanent;
}

awaitable<Result<pg::Rows>> run(pg::Pool& pool, const pg::Statement& st, const Params& params,
                                std::string_view operation) {
  constexpr int kAttempts = 5;
  pg::PgError last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto lease = co_await pool.acquire();
    if (!lease) co_return unexpected(map_error(lease.error(), operation));
    auto rows = co_await (*lease)->exec(st, params.span());
    if (rows) co_return std::move(rows).value();
    last = rows.error();
    if (last.sqlstate != "40001" && last.sqlstate != "40P01") break;
  }
  co_return unexpected(map_error(last, operation));
}

RangeArrays normalise(const UidSet& uids) {
  std::vector<UidRange> v;
  for (auto r : uids) {
    if (r.first > r.last) std::swap(r.first, r.last);
    if (r.first == 0) r.first = 1;
    if (r.last == 0) continue;
    v.push_back(r);
  }
  std::sort(v.begin(), v.end(), [](auto a, auto b) { return a.first < b.first; });
  RangeArrays out;
  for (auto r : v) {
    if (!out.last.empty() && r.first <= out.last.back() + 1) {
      out.last.back() = std::max<std::int64_t>(out.last.back(), r.last);
    } else {
      out.first.push_back(r.first);
      out.last.push_back(r.last);
    }
  }
  return out;
}

namespace {

std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// RFC 3501 atom without '\' (system flags are not keywords).
bool valid_keyword(std::string_view k) {
  if (k.empty() || k.size() > 200) return false;
  for (unsigned char c : k)
    if (c <= 0x20 || c >= 0x7f || std::string_view("(){%*\"\\]").find(c) != std::string_view::npos)
      return false;
  return true;
}

}  // namespace

Result<std::vector<std::string>> normalise_keywords(std::vector<std::string> keywords) {
  for (const auto& k : keywords)
    if (!valid_keyword(k)) return unexpected(StoreError::invalid);
  std::stable_sort(keywords.begin(), keywords.end(),
                   [](const auto& a, const auto& b) { return ascii_lower(a) < ascii_lower(b); });
  keywords.erase(
      std::unique(keywords.begin(), keywords.end(),
                  [](const auto& a, const auto& b) { return ascii_lower(a) == ascii_lower(b); }),
      keywords.end());
  return keywords;
}

Account parse_account(const pg::Rows& r, int i) {
  Account a;
  a.id = r.get_int(i, 0);
  a.domain_id = r.get_int(i, 1);
  a.address = std::string(r.get(i, 2));
  a.display_name = std::string(r.get(i, 3));
  a.status = static_cast<AccountStatus>(r.get_int(i, 4));
  a.quota_bytes = static_cast<std::uint64_t>(r.get_int(i, 5));
  a.used_bytes = static_cast<std::uint64_t>(r.get_int(i, 6));
  a.used_messages = static_cast<std::uint64_t>(r.get_int(i, 7));
  a.must_change_password = r.get_bool(i, 8);
  if (!r.is_null(i, 9)) a.unit_code = std::string(r.get(i, 9));
  a.position = std::string(r.get(i, 10));
  return a;
}

MailboxEntry parse_entry(const pg::Rows& rows, int row, int col) {
  MailboxEntry e;
  e.uid = static_cast<Uid>(rows.get_int(row, col));
  e.modseq = static_cast<ModSeq>(rows.get_int(row, col + 1));
  e.flags.system = static_cast<std::uint16_t>(rows.get_int(row, col + 2));
  e.flags.keywords = parse_text_array(rows.get(row, col + 3));
  e.message_id = rows.get_int(row, col + 4);
  e.size = static_cast<std::uint32_t>(rows.get_int(row, col + 5));
  e.internal_date = rows.get_int(row, col + 6);
  e.thread_id = rows.get_int(row, col + 7);
  return e;
}

}  // namespace govmail::store::detail
