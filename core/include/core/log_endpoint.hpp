// fmt/spdlog formatting for Asio endpoints and addresses (fmt 9 no longer uses operator<< by
// itself; NOTES-LIBRARIES.md). Include only where Asio is already included.
#pragma once
#include <fmt/ostream.h>

#include "core/asio.hpp"

template <>
struct fmt::formatter<boost::asio::ip::tcp::endpoint> : fmt::ostream_formatter {};
template <>
struct fmt::formatter<boost::asio::ip::address> : fmt::ostream_formatter {};
