// The one include for Boost.Asio in govmail. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>; including it here first fixes that for every translation unit.
#pragma once
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace govmail {
namespace asio = boost::asio;
template <class T>
using awaitable = boost::asio::awaitable<T>;
using boost::asio::use_awaitable;
}  // namespace govmail
