// Light header for APIs that return coroutines: declares govmail::awaitable<T> and the
// executor type without pulling all of Asio into every translation unit.
#pragma once
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace govmail {
template <class T>
using awaitable = boost::asio::awaitable<T>;
using Executor = boost::asio::any_io_executor;
}  // namespace govmail
