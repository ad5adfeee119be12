#include "test_db.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace govmail::test {
namespace {

std::atomic<int> counter{0};

std::string run(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("test database: " + err);
  }
  PGresult* r = PQexec(c, sql.c_str());
  auto st = PQresultStatus(r);
  std::string out;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    throw std::runtime_error("test database: " + err + " in: " + sql);
  }
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(c);
  return out;
}

}  // namespace

std::string admin_database_url() {
  const char* u = std::getenv("GOVMAIL_TEST_DATABASE_URL");
  if (!u || !*u)
    throw std::runtime_error(
        "GOVMAIL_TEST_DATABASE_URL is not set: run the tests through ctest (scripts/test), which "
        "starts the throwaway PostgreSQL cluster");
  return u;
}

TestDatabase::TestDatabase() {
  name_ = "govmail_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  auto admin = admin_database_url();
  run(admin, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  run(admin, "CREATE DATABASE " + name_);
  auto pos = admin.find("dbname=");
  if (pos == std::string::npos) {
    url_ = admin + " dbname=" + name_;
  } else {
    auto end = admin.find(' ', pos);
    url_ = admin.substr(0, pos) + "dbname=" + name_ +
           (end == std::string::npos ? "" : admin.substr(end));
  }
}

TestDatabase::~TestDatabase() {
  try {
    run(admin_database_url(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

std::string TestDatabase::query_one(const std::string& sql) const { return run(url_, sql); }
void TestDatabase::exec(const std::string& sql) const { run(url_, sql); }

}  // namespace govmail::test
