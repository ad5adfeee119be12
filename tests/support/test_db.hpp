// A fresh database per test fixture on the throwaway test cluster (GOVMAIL_TEST_DATABASE_URL):
// tests running in parallel never see each other's data. Fails loudly when the URL is missing.
#pragma once
#include <string>

namespace govmail::test {

class TestDatabase {
 public:
  TestDatabase();   // CREATE DATABASE govmail_t_<pid>_<n>
  ~TestDatabase();  // DROP DATABASE ... WITH (FORCE)
  const std::string& url() const { return url_; }
  // Runs SQL synchronously on the test database (assertions only; never in product code).
  std::string query_one(const std::string& sql) const;
  void exec(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
};

// GOVMAIL_TEST_DATABASE_URL, or a test failure naming it.
std::string admin_database_url();

}  // namespace govmail::test
