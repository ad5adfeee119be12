// bench_jmap_load: the webmail's first page through JMAP, for bench/jmap/run.sh. Each client
// holds one keep-alive HTTP connection (HTTP Basic, as JMAP clients authenticate) and repeats
//   PAGE: Email/query (inMailbox INBOX, receivedAt descending, limit 50, calculateTotal) and
//         Email/get of its ids through a result reference, with the properties the webmail's
//         message list asks for (webmail-api/www/app.js LIST_PROPS), in one request;
//   OPEN: Email/get of one of those 50 with the webmail's reading properties and every body
//         value (what the webmail asks when a message is opened).
// Every answer is checked (HTTP 200, no method error, 50 ids, 50 emails, one opened): anything
// else counts as an error. Prints ops/s and p50/p99 per step, a TOTAL line, and the load
// generator's own CPU time (so that it can be seen not to be the bottleneck). The two cores are
// shared with the servers: request bodies are serialised once, and the answers of the timed
// steps are read with simdjson (nlohmann's parser and tree took half of this program's CPU).
//   bench_jmap_load HOST PORT CLIENTS USER PASSWORD CYCLES SECONDS
#include <sys/resource.h>

#include <simdjson.h>
#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/asio.hpp"

namespace {

using govmail::awaitable;
using govmail::use_awaitable;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

const Json kListProps = {"id",      "threadId",   "mailboxIds",    "keywords", "from", "to",
                         "subject", "receivedAt", "hasAttachment", "preview",  "size"};
const Json kReadProps = {"id",         "threadId",     "mailboxIds", "keywords",   "from",
                         "to",         "cc",           "bcc",        "replyTo",    "subject",
                         "receivedAt", "sentAt",       "messageId",  "references", "inReplyTo",
                         "preview",    "size",         "textBody",   "htmlBody",   "attachments",
                         "bodyValues", "hasAttachment"};
const Json kUsing = {"urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"};

struct Params {
  std::string host, user, password, authorization;
  unsigned short port = 0;
  int clients = 1;
  long cycles = 0;
  double seconds = 60;
};

struct Shared {
  Params p;
  std::string account, inbox;
  std::map<std::string, std::vector<double>> latency_ms;
  std::map<std::string, long> error_by_step;
  long errors = 0, cycles = 0, next_cycle = 0;
  Clock::time_point deadline;
  std::mt19937 rng{4242};
  std::string page_body;                         // the PAGE request, serialised once
  std::map<std::string, std::string> open_body;  // OPEN requests by email id
  // One parser for every client: an answer is parsed and read with no co_await in between.
  simdjson::dom::parser parser;
};

struct StepError : std::runtime_error {
  StepError(std::string s, const std::string& what)
      : std::runtime_error(s + ": " + what), step(s) {}
  std::string step;
};

class Client {
 public:
  Client(Shared& sh, tcp::socket s) : sh_(sh), stream_(std::move(s)) {}

  // One request on the kept-alive connection; the body of a 200 answer.
  awaitable<std::string> call(std::string step, http::verb verb, std::string target,
                              std::string body) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, sh_.p.host);
    req.set(http::field::authorization, sh_.p.authorization);
    req.keep_alive(true);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
      req.prepare_payload();
    }
    co_await http::async_write(stream_, req, use_awaitable);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    co_await http::async_read(stream_, buf_, parser, use_awaitable);
    auto res = parser.release();
    if (res.result() != http::status::ok)
      throw StepError(step,
                      "HTTP " + std::to_string(res.result_int()) + " " + res.body().substr(0, 200));
    co_return std::move(res.body());
  }
  awaitable<Json> call_json(std::string step, http::verb verb, std::string target) {
    co_return Json::parse(co_await call(std::move(step), verb, std::move(target), std::string()));
  }
  // The answer's method responses, none of them an error (parsed into sh_.parser: read them
  // before the next co_await).
  awaitable<simdjson::dom::array> api(std::string step, std::string body) {
    const std::string answer =
        co_await call(step, http::verb::post, std::string("/jmap/api"), std::move(body));
    simdjson::dom::array responses;
    if (sh_.parser.parse(answer)["methodResponses"].get_array().get(responses))
      throw StepError(step, "no methodResponses: " + answer.substr(0, 300));
    for (simdjson::dom::element m : responses) {
      std::string_view name;
      if (m.at(0).get_string().get(name) || name == "error")
        throw StepError(step, answer.substr(0, 300));
    }
    co_return responses;
  }

 private:
  Shared& sh_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
};

template <typename F>
awaitable<void> timed(Shared& sh, const std::string& name, F&& step) {
  auto t0 = Clock::now();
  co_await step();
  sh.latency_ms[name].push_back(
      std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
}

void expect(bool ok, const char* step, const std::string& what) {
  if (!ok) throw StepError(step, what);
}

awaitable<std::unique_ptr<Client>> connect(Shared& sh) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  co_await sock.async_connect({asio::ip::make_address(sh.p.host), sh.p.port}, use_awaitable);
  sock.set_option(tcp::no_delay(true));
  co_return std::make_unique<Client>(sh, std::move(sock));
}

// Built outside coroutines: GCC 12 cannot keep braced initialisers of string literals in a
// coroutine frame ("array used as initializer").
Json inbox_calls(const std::string& account) {
  return Json::array(
      {{"Mailbox/query", {{"accountId", account}, {"filter", {{"role", "inbox"}}}}, "m"}});
}

std::string api_body(Json calls) {
  return Json{{"using", kUsing}, {"methodCalls", std::move(calls)}}.dump();
}

Json open_calls(const Shared& sh, const std::string& id) {
  Json get = {{"accountId", sh.account},
              {"ids", {id}},
              {"properties", kReadProps},
              {"fetchAllBodyValues", true},
              {"maxBodyValueBytes", 2000000}};
  return Json::array({{"Email/get", get, "o"}});
}

// The account id (session resource) and the INBOX id (Mailbox/query by role).
awaitable<void> discover(Shared& sh) {
  auto c = co_await connect(sh);
  Json session =
      co_await c->call_json(std::string("SESSION"), http::verb::get, std::string("/jmap/session"));
  sh.account = session.at("primaryAccounts").at("urn:ietf:params:jmap:mail");
  const std::string mailbox_query = api_body(inbox_calls(sh.account));
  simdjson::dom::array r = co_await c->api(std::string("MAILBOX"), mailbox_query);
  simdjson::dom::array ids;
  std::string_view inbox;
  if (r.at(0).at(1)["ids"].get_array().get(ids) || ids.size() != 1 ||
      ids.at(0).get_string().get(inbox))
    throw StepError("MAILBOX", "no INBOX");
  sh.inbox = std::string(inbox);
}

Json page_calls(const Shared& sh) {
  return Json::array(
      {{"Email/query",
        {{"accountId", sh.account},
         {"filter", {{"inMailbox", sh.inbox}}},
         {"sort", Json::array({{{"property", "receivedAt"}, {"isAscending", false}}})},
         {"limit", 50},
         {"calculateTotal", true}},
        "q"},
       {"Email/get",
        {{"accountId", sh.account},
         {"#ids", {{"resultOf", "q"}, {"name", "Email/query"}, {"path", "/ids"}}},
         {"properties", kListProps}},
        "g"}});
}

// The 50 ids of a PAGE answer, every email with the list's properties.
std::vector<std::string> page_ids(simdjson::dom::array r) {
  std::int64_t total = 0;
  simdjson::dom::array ids, list;
  if (r.at(0).at(1)["total"].get_int64().get(total) || r.at(0).at(1)["ids"].get_array().get(ids) ||
      r.at(1).at(1)["list"].get_array().get(list))
    throw StepError("PAGE", "no total, ids or list");
  const std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(50, total));
  expect(want > 0 && ids.size() == want, "PAGE", "expected 50 ids");
  expect(list.size() == want, "PAGE", "expected 50 emails");
  std::vector<std::string> out;
  for (simdjson::dom::element e : list) {
    std::string_view id;
    expect(!e["subject"].error() && !e["preview"].error(), "PAGE", "list properties missing");
    expect(!e["id"].get_string().get(id), "PAGE", "an email without an id");
    out.emplace_back(id);
  }
  return out;
}

const std::string& open_body(Shared& sh, const std::string& id) {
  auto it = sh.open_body.find(id);
  if (it == sh.open_body.end()) it = sh.open_body.emplace(id, api_body(open_calls(sh, id))).first;
  return it->second;
}

awaitable<void> cycle(Shared& sh, Client& c) {
  std::vector<std::string> ids;
  co_await timed(sh, "PAGE", [&]() -> awaitable<void> {
    ids = page_ids(co_await c.api(std::string("PAGE"), sh.page_body));
  });
  std::uniform_int_distribution<std::size_t> pick(0, ids.size() - 1);
  const std::string open = open_body(sh, ids[pick(sh.rng)]);
  co_await timed(sh, "OPEN", [&]() -> awaitable<void> {
    simdjson::dom::array r = co_await c.api(std::string("OPEN"), open);
    simdjson::dom::array list;
    simdjson::dom::object values;
    expect(!r.at(0).at(1)["list"].get_array().get(list) && list.size() == 1 &&
               !list.at(0)["bodyValues"].get_object().get(values) && values.size() > 0,
           "OPEN", "no body values");
  });
}

awaitable<void> client(Shared& sh) {
  std::unique_ptr<Client> c;
  while (sh.next_cycle < sh.p.cycles && Clock::now() < sh.deadline) {
    ++sh.next_cycle;
    try {
      if (!c) c = co_await connect(sh);
      co_await cycle(sh, *c);
      ++sh.cycles;
    } catch (const StepError& e) {
      ++sh.errors;
      ++sh.error_by_step[e.step];
      if (sh.errors <= 5) std::fprintf(stderr, "error: %s\n", e.what());
    } catch (const std::exception& e) {
      // The connection is in an unknown state: the next cycle opens a new one.
      c.reset();
      ++sh.errors;
      ++sh.error_by_step["disconnect"];
      if (sh.errors <= 5) std::fprintf(stderr, "error: %s\n", e.what());
    }
  }
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void report(Shared& sh, double secs, double cpu) {
  long total = 0;
  for (auto& [name, v] : sh.latency_ms) {
    total += static_cast<long>(v.size());
    std::printf("%-10s ops=%-7zu ops_s=%-8.1f p50_ms=%-7.2f p99_ms=%.2f\n", name.c_str(), v.size(),
                v.size() / secs, percentile(v, 0.5), percentile(v, 0.99));
  }
  std::string by;
  for (auto& [name, n] : sh.error_by_step) by += " " + name + ":" + std::to_string(n);
  std::printf(
      "TOTAL clients=%d cycles=%ld secs=%.2f ops=%ld ops_s=%.1f cycles_s=%.1f errors=%ld%s "
      "loadgen_cpu_s=%.2f\n",
      sh.p.clients, sh.cycles, secs, total, total / secs, sh.cycles / secs, sh.errors, by.c_str(),
      cpu);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s HOST PORT CLIENTS USER PASSWORD CYCLES SECONDS\n", argv[0]);
    return 2;
  }
  Shared sh;
  sh.p.host = argv[1];
  sh.p.port = static_cast<unsigned short>(std::atoi(argv[2]));
  sh.p.clients = std::atoi(argv[3]);
  sh.p.user = argv[4];
  sh.p.password = argv[5];
  sh.p.cycles = std::atol(argv[6]);
  sh.p.seconds = std::atof(argv[7]);
  const std::string cred = sh.p.user + ":" + sh.p.password;
  std::string b64(beast::detail::base64::encoded_size(cred.size()), '\0');
  b64.resize(beast::detail::base64::encode(b64.data(), cred.data(), cred.size()));
  sh.p.authorization = "Basic " + b64;
  if (sh.p.clients < 1) return 2;
  asio::io_context io(1);
  bool ready = false;
  asio::co_spawn(io, discover(sh), [&](std::exception_ptr e) {
    if (!e) {
      ready = true;
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "discovery failed: %s\n", x.what());
    }
  });
  io.run();
  if (!ready) return 1;
  io.restart();
  sh.page_body = api_body(page_calls(sh));
  sh.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(sh.p.seconds));
  for (int i = 0; i < sh.p.clients; ++i)
    asio::co_spawn(io, client(sh), [&](std::exception_ptr e) {
      if (e) ++sh.errors;
    });
  const double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  io.run();
  report(sh, std::chrono::duration<double>(Clock::now() - t0).count(), cpu_seconds() - cpu0);
  return sh.errors ? 1 : 0;
}
