// Self-test of the throwaway PostgreSQL server (postgres_server.h).
#include "postgres_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using quay::testing::FreshPostgresDatabase;
using quay::testing::PostgresAdminUri;
using quay::testing::TestDatabasePath;
using quay::testing::UsePostgres;

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Conn Connect(const std::string& uri) {
  Conn conn(PQconnectdb(uri.c_str()), &PQfinish);
  INFO(uri, ": ", PQerrorMessage(conn.get()));
  REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
  return conn;
}

// The single value `sql` returns.
std::string Query(PGconn* conn, const char* sql) {
  PGresult* result = PQexec(conn, sql);
  INFO(sql, ": ", PQerrorMessage(conn));
  const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1;
  std::string value = ok ? PQgetvalue(result, 0, 0) : "";
  PQclear(result);
  REQUIRE(ok);
  return value;
}

void Exec(PGconn* conn, const char* sql) {
  PGresult* result = PQexec(conn, sql);
  INFO(sql, ": ", PQerrorMessage(conn));
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  REQUIRE(ok);
}

// Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`.
std::vector<std::string> ListeningAddresses(int port) {
  std::vector<std::string> found;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port)
        found.push_back(local.substr(0, colon));
    }
  }
  return found;
}

bool Connects(const char* address, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address, &addr.sin_addr);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

TEST_CASE("without QUAY_TEST_BACKEND=postgres, tests keep their SQLite default") {
  unsetenv("QUAY_TEST_BACKEND");
  CHECK_FALSE(UsePostgres());
  CHECK(TestDatabasePath() == "");
  setenv("QUAY_TEST_BACKEND", "sqlite", 1);
  CHECK_FALSE(UsePostgres());
}

TEST_CASE("each fresh database is empty and separate") {
  setenv("QUAY_TEST_BACKEND", "postgres", 1);
  REQUIRE(UsePostgres());
  const std::string first = FreshPostgresDatabase();
  const std::string second = TestDatabasePath();
  CHECK(first.rfind("postgresql://postgres@127.0.0.1:", 0) == 0);
  CHECK(first != second);

  Conn a = Connect(first);
  Conn b = Connect(second);
  CHECK(Query(b.get(),
              "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == "0");
  Exec(a.get(), "CREATE TABLE only_in_first (id integer PRIMARY KEY)");
  Exec(a.get(), "INSERT INTO only_in_first VALUES (1)");
  CHECK(Query(a.get(), "SELECT to_regclass('only_in_first') IS NOT NULL") == "t");
  CHECK(Query(b.get(), "SELECT to_regclass('only_in_first') IS NULL") == "t");
  CHECK(Query(a.get(), "SHOW server_encoding") == "UTF8");
}

TEST_CASE("the server listens on 127.0.0.1 only") {
  setenv("QUAY_TEST_BACKEND", "postgres", 1);
  Conn admin = Connect(PostgresAdminUri());
  CHECK(Query(admin.get(), "SHOW listen_addresses") == "127.0.0.1");
  const int port = std::stoi(Query(admin.get(), "SHOW port"));

  const std::vector<std::string> listening = ListeningAddresses(port);
  REQUIRE(listening.size() == 1);
  CHECK(listening[0] == "0100007F");  // 127.0.0.1, little-endian hex
  CHECK(Connects("127.0.0.1", port));
  CHECK_FALSE(Connects("127.0.0.2", port));  // loopback too, but not bound
}

TEST_CASE("the admin database and fresh ones are on the same server") {
  setenv("QUAY_TEST_BACKEND", "postgres", 1);
  const std::string fresh = FreshPostgresDatabase();
  Conn admin = Connect(PostgresAdminUri());
  const std::string name = fresh.substr(fresh.rfind('/') + 1);
  const std::string sql = "SELECT count(*) FROM pg_database WHERE datname = '" + name + "'";
  CHECK(Query(admin.get(), sql.c_str()) == "1");
}
