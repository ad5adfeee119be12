#include "core/dns.hpp"

#include <poll.h>
#include <unbound.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include "core/asio.hpp"
#include "dns_rdata.hpp"

namespace govmail::core {

namespace {

constexpr int kTypeA = 1;
constexpr int kTypePtr = 12;
constexpr int kTypeMx = 15;
constexpr int kTypeTxt = 16;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;
// A lookup asks at most this many questions at once (A + AAAA); a callback token is the
// lookup id times this plus the question's index.
constexpr std::uint64_t kMaxQuestions = 2;

using ErrorCode = boost::system::error_code;
// One per question of a lookup.
using Answers = std::vector<dns::RawAnswer>;

// The coroutine's completion handler behind a virtual call: lookups of every type wait in the
// same table. complete() posts the handler to its own executor, never runs it inline.
struct Completion {
  virtual ~Completion() = default;
  virtual void complete(Answers answers) = 0;
};

template <class Handler>
struct CompletionFor final : Completion {
  Handler handler;
  explicit CompletionFor(Handler h) : handler(std::move(h)) {}
  void complete(Answers answers) override {
    auto ex = asio::get_associated_executor(handler);
    asio::post(ex, [h = std::move(handler), answers = std::move(answers)]() mutable {
      std::move(h)(std::move(answers));
    });
  }
};

void on_answer(void* token, int err, ub_result* result);

// on_answer only gets the token; ub_process runs it synchronously on the thread that called
// it, so the context being processed is kept here for that call.
thread_local Resolver::Impl* t_processing = nullptr;

}  // namespace

struct Resolver::Impl : std::enable_shared_from_this<Resolver::Impl> {
  struct Lookup {
    std::unique_ptr<Completion> completion;
    Answers answers;
    std::array<int, kMaxQuestions> ub_ids{};  // libunbound's async ids, for ub_cancel
    std::array<bool, kMaxQuestions> done{};
    std::size_t questions = 0;
    std::size_t outstanding = 0;
    std::optional<asio::steady_timer> deadline;
  };

  Executor ex;
  DnsOptions opts;
  ub_ctx* ctx = nullptr;
  asio::posix::stream_descriptor pipe;  // a dup of ub_fd(ctx)

  // Guards everything below and every use of `pipe` after construction. Lock order: this
  // mutex, then libunbound's own locks (ub_resolve_async, ub_cancel). libunbound runs our
  // callback after releasing its locks, so the callback may take this mutex.
  std::mutex mu;
  bool stopped = false;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, Lookup> lookups;

  Impl(Executor e, DnsOptions o) : ex(std::move(e)), opts(std::move(o)), pipe(ex) {}

  ~Impl() {
    ErrorCode ignored;
    pipe.close(ignored);
    // Stops and joins libunbound's thread; pending libunbound queries are dropped.
    if (ctx != nullptr) ub_ctx_delete(ctx);
  }

  // Waits for answers on the pipe. Call with `mu` held. The reactor is edge-triggered: an answer
  // written before the wait is registered would not wake it, so after registering we look
  // (poll) and, when something is already there, cancel the wait to run the handler now.
  void arm_locked() {
    pipe.async_wait(asio::posix::stream_descriptor::wait_read,
                    [weak = weak_from_this()](ErrorCode ec) {
                      if (std::shared_ptr<Impl> self = weak.lock()) self->on_readable(ec);
                    });
    pollfd p{pipe.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) pipe.cancel();
  }

  void on_readable(ErrorCode ec) {
    {
      std::lock_guard lock(mu);
      if (stopped) return;
    }
    if (ec && ec != asio::error::operation_aborted) {
      spdlog::error("dns: waiting on the libunbound pipe failed: {}", ec.message());
      stop();
      return;
    }
    // Runs on_answer for every finished query; must not be called with `mu` held.
    t_processing = this;
    int r = ub_process(ctx);
    t_processing = nullptr;
    if (r != 0) {
      spdlog::error("dns: ub_process failed: {}", ub_strerror(r));
      stop();
      return;
    }
    std::lock_guard lock(mu);
    if (!stopped) arm_locked();
  }

  // Removes the lookup and hands its answers to the coroutine. Call with `mu` held.
  void finish_locked(std::map<std::uint64_t, Lookup>::iterator it) {
    std::unique_ptr<Completion> completion = std::move(it->second.completion);
    Answers answers = std::move(it->second.answers);
    lookups.erase(it);  // destroys the deadline timer, cancelling its wait
    completion->complete(std::move(answers));
  }

  // Cancels the questions still open in libunbound (their callbacks then never run) and marks
  // them. Call with `mu` held.
  void abandon_locked(Lookup& lookup, bool timed_out) {
    for (std::size_t i = 0; i < lookup.questions; ++i) {
      if (lookup.done[i]) continue;
      ub_cancel(ctx, lookup.ub_ids[i]);
      lookup.done[i] = true;
      if (timed_out)
        lookup.answers[i].timed_out = true;
      else
        lookup.answers[i].stopped = true;
    }
    lookup.outstanding = 0;
  }

  void answered(std::uint64_t token, int err, ub_result* result) {
    dns::RawAnswer raw;
    raw.ub_error = err;
    if (err != 0) raw.ub_error_text = ub_strerror(err);
    if (result != nullptr) {
      raw.rcode = result->rcode;
      raw.havedata = result->havedata != 0;
      raw.nxdomain = result->nxdomain != 0;
      for (int i = 0; result->data != nullptr && result->data[i] != nullptr; ++i) {
        if (result->len[i] < 0) continue;
        raw.rdata.emplace_back(result->data[i], static_cast<std::size_t>(result->len[i]));
      }
      ub_resolve_free(result);
    }
    const std::uint64_t id = token / kMaxQuestions;
    const std::size_t index = token % kMaxQuestions;
    std::lock_guard lock(mu);
    auto it = lookups.find(id);
    if (it == lookups.end()) return;  // timed out or stopped just before
    Lookup& lookup = it->second;
    if (index >= lookup.questions || lookup.done[index]) return;
    lookup.done[index] = true;
    lookup.answers[index] = std::move(raw);
    if (--lookup.outstanding == 0) finish_locked(it);
  }

  void expired(std::uint64_t id) {
    std::lock_guard lock(mu);
    auto it = lookups.find(id);
    if (it == lookups.end()) return;  // answered just before
    abandon_locked(it->second, true);
    finish_locked(it);
  }

  // Starts the questions of one lookup; `completion` runs exactly once, from whichever of the
  // answers, the deadline or stop() comes last/first.
  void start(const std::string& name, const std::vector<int>& types,
             std::unique_ptr<Completion> completion) {
    const std::size_t count = std::min<std::size_t>(types.size(), kMaxQuestions);
    std::lock_guard lock(mu);
    Lookup lookup;
    lookup.completion = std::move(completion);
    lookup.questions = count;
    lookup.answers.resize(count);
    if (stopped) {
      for (std::size_t i = 0; i < count; ++i) lookup.answers[i].stopped = true;
      lookup.completion->complete(std::move(lookup.answers));
      return;
    }
    const std::uint64_t id = next_id++;
    auto [it, inserted] = lookups.emplace(id, std::move(lookup));
    Lookup& l = it->second;
    for (std::size_t i = 0; i < count; ++i) {
      int ub_id = 0;
      void* token = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id * kMaxQuestions + i));
      int r = ub_resolve_async(ctx, name.c_str(), types[i], kClassIn, token, &on_answer, &ub_id);
      l.ub_ids[i] = ub_id;
      if (r != 0) {
        l.done[i] = true;
        l.answers[i].ub_error = r;
        l.answers[i].ub_error_text = ub_strerror(r);
      } else {
        ++l.outstanding;
      }
    }
    if (l.outstanding == 0) {
      finish_locked(it);
      return;
    }
    l.deadline.emplace(ex);
    l.deadline->expires_after(opts.timeout);
    l.deadline->async_wait([weak = weak_from_this(), id](ErrorCode ec) {
      if (ec) return;
      if (std::shared_ptr<Impl> self = weak.lock()) self->expired(id);
    });
  }

  void stop() {
    std::lock_guard lock(mu);
    if (stopped) return;
    stopped = true;
    ErrorCode ignored;
    pipe.cancel(ignored);
    while (!lookups.empty()) {
      auto it = lookups.begin();
      abandon_locked(it->second, false);
      finish_locked(it);
    }
  }

  // One lookup from a coroutine: the caller resumes on its own executor with the answers.
  awaitable<Answers> ask(std::string name, std::vector<int> types) {
    // GCC 12: only trivially destructible captures in a lambda inside co_await (see
    // worker_pool.cpp). The caller keeps `this` alive (it holds the shared_ptr).
    Impl* self = this;
    const std::string* n = &name;
    const std::vector<int>* t = &types;
    co_return co_await asio::async_initiate<decltype(use_awaitable), void(Answers)>(
        [self, n, t](auto handler) {
          using H = decltype(handler);
          self->start(*n, *t, std::make_unique<CompletionFor<H>>(std::move(handler)));
        },
        use_awaitable);
  }
};

namespace {

void on_answer(void* token, int err, ub_result* result) {
  if (t_processing == nullptr) {  // cannot happen: only Impl::on_readable calls ub_process
    if (result != nullptr) ub_resolve_free(result);
    return;
  }
  t_processing->answered(reinterpret_cast<std::uintptr_t>(token), err, result);
}

std::string ub_error(const char* what, int r) {
  return std::string(what) + ": " + ub_strerror(r);
}

}  // namespace

Result<std::shared_ptr<Resolver>, std::string> Resolver::create(Executor ex, DnsOptions opts) {
  auto impl = std::make_shared<Impl>(std::move(ex), std::move(opts));
  impl->ctx = ub_ctx_create();
  if (impl->ctx == nullptr) return unexpected(std::string("ub_ctx_create failed"));
  ub_ctx* ctx = impl->ctx;
  int r = ub_ctx_async(ctx, 1);  // a thread, not a forked process
  if (r != 0) return unexpected(ub_error("ub_ctx_async", r));
  // Loopback forwarders (a local unbound, systemd-resolved's 127.0.0.53) must be usable.
  r = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
  if (r != 0) return unexpected(ub_error("do-not-query-localhost", r));
  // No DNSSEC validation yet (no trust anchor): the iterator alone.
  r = ub_ctx_set_option(ctx, "module-config:", "iterator");
  if (r != 0) return unexpected(ub_error("module-config", r));
  // libunbound answers the reverse zones of private, documentation and loopback addresses
  // itself (NXDOMAIN, "localhost"). govmail only forwards: PTR names of clients on a private
  // network (the SPF ptr mechanism) live on the configured resolvers, which serve those zones
  // themselves when nobody else does. The loopback zones are declared transparent (no local
  // data: everything is asked) because "nodefault" through ub_ctx_set_option keeps the type word
  // in the zone name and matches nothing (libunbound 1.17, cfg_parse_local_zone).
  r = ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes");
  if (r != 0) return unexpected(ub_error("unblock-lan-zones", r));
  for (const char* zone :
       {"127.in-addr.arpa. transparent",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. "
        "transparent"}) {
    r = ub_ctx_set_option(ctx, "local-zone:", zone);
    if (r != 0) return unexpected(ub_error("local-zone", r));
  }
  if (impl->opts.forwarders.empty()) {
    r = ub_ctx_resolvconf(ctx, "/etc/resolv.conf");
    if (r != 0) return unexpected(ub_error("/etc/resolv.conf", r));
  }
  for (const std::string& f : impl->opts.forwarders) {
    r = ub_ctx_set_fwd(ctx, f.c_str());
    if (r != 0) return unexpected(ub_error(("forwarder '" + f + "'").c_str(), r));
  }
  const int fd = ub_fd(ctx);
  if (fd < 0) return unexpected(std::string("ub_fd failed"));
  // The descriptor closes what it holds: give it a copy (NOTES-LIBRARIES, libpq trap).
  const int copy = ::dup(fd);
  if (copy < 0) return unexpected(std::string("dup of the libunbound pipe failed"));
  ErrorCode ec;
  impl->pipe.assign(copy, ec);
  if (ec) {
    ::close(copy);
    return unexpected("libunbound pipe: " + ec.message());
  }
  {
    std::lock_guard lock(impl->mu);
    impl->arm_locked();
  }
  return std::make_shared<Resolver>(std::move(impl));
}

Result<std::shared_ptr<Resolver>, std::string> Resolver::from_config(Executor ex,
                                                                     const OutboundConfig& cfg) {
  DnsOptions dns;
  dns.forwarders = cfg.resolvers;
  dns.timeout = cfg.dns_timeout;
  return create(std::move(ex), std::move(dns));
}

Resolver::Resolver(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Resolver::~Resolver() {
  stop();
}

void Resolver::stop() {
  impl_->stop();
}

awaitable<MxAnswer> Resolver::mx(std::string domain) {
  std::shared_ptr<Impl> impl = impl_;
  std::vector<int> types{kTypeMx};  // GCC 12: a braced list inside co_await fails to compile
  Answers answers = co_await impl->ask(std::move(domain), std::move(types));
  thread_local std::mt19937 rng{std::random_device{}()};
  co_return dns::mx_answer(answers[0], rng);
}

awaitable<AddressAnswer> Resolver::addresses(std::string host) {
  std::shared_ptr<Impl> impl = impl_;
  std::vector<int> types{kTypeA, kTypeAaaa};
  Answers answers = co_await impl->ask(std::move(host), std::move(types));
  co_return dns::address_answer(answers[0], answers[1]);
}

awaitable<TxtAnswer> Resolver::txt(std::string name) {
  std::shared_ptr<Impl> impl = impl_;
  std::vector<int> types{kTypeTxt};  // GCC 12: a braced list inside co_await fails to compile
  Answers answers = co_await impl->ask(std::move(name), std::move(types));
  co_return dns::txt_answer(answers[0]);
}

awaitable<PtrAnswer> Resolver::ptr(std::string ip) {
  std::optional<std::string> name = dns::reverse_name(ip);
  if (!name) co_return PtrAnswer{DnsStatus::temporary, {}, "not an IP address"};
  std::shared_ptr<Impl> impl = impl_;
  std::vector<int> types{kTypePtr};  // GCC 12: a braced list inside co_await fails to compile
  Answers answers = co_await impl->ask(std::move(*name), std::move(types));
  co_return dns::ptr_answer(answers[0]);
}

}  // namespace govmail::core
