// A prepared statement, whichever database runs it. Internal to lib/db.
//
// The stores were written against SQLiteCpp's statement API; this interface
// keeps that shape (bind, executeStep, exec, getColumn) so one body of store
// code runs on SQLite and on PostgreSQL. Indexes are 1-based for parameters
// and 0-based for result columns, as in SQLite.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace quay::db {

class Statement;

// One column of the current row; valid until the statement steps or resets.
class Column {
 public:
  Column(Statement& s, int index) : s_(s), index_(index) {}
  bool isNull() const;
  int64_t getInt64() const;
  int getInt() const { return static_cast<int>(getInt64()); }
  // Text or blob bytes, copied.
  std::string getString() const;
  // Blob (or text) bytes, valid until the statement steps or resets.
  const void* getBlob() const;
  int getBytes() const;

 private:
  Statement& s_;
  int index_;
};

class Statement {
 public:
  virtual ~Statement() = default;

  virtual void bind(int index, int32_t value) = 0;
  virtual void bind(int index, uint32_t value) = 0;
  virtual void bind(int index, int64_t value) = 0;
  virtual void bind(int index, const std::string& value) = 0;
  virtual void bind(int index, const char* value) = 0;
  virtual void bind(int index, const void* blob, int size) = 0;
  virtual void bind(int index) = 0;  // NULL
  // A NULL standing for an integer: PostgreSQL must be told its type where
  // nothing else in the statement says it (`?2 IS NULL OR id = ?2`).
  virtual void bindNullInt64(int index) { bind(index); }
  // The value must outlive the statement's execution (no copy is made where
  // the driver allows).
  virtual void bindNoCopy(int index, const std::string& value) = 0;
  virtual void bindNoCopy(int index, const void* blob, int size) = 0;

  // Runs the statement on the first call; each call moves to the next row.
  // False when there is none.
  virtual bool executeStep() = 0;
  // Runs a statement that returns no rows; the number of rows it changed
  // (not counting what triggers changed).
  virtual int exec() = 0;

  Column getColumn(int index) { return Column(*this, index); }
  // The index of a named parameter (":name"), 0 if the statement has none.
  virtual int getIndex(const char* name) = 0;

  // Ends any execution and clears the bindings (the statement is reused).
  virtual void Reset() noexcept = 0;

  // Column access for Column.
  virtual bool ColumnIsNull(int index) = 0;
  virtual int64_t ColumnInt64(int index) = 0;
  virtual std::string ColumnString(int index) = 0;
  virtual const void* ColumnBlob(int index) = 0;
  virtual int ColumnBytes(int index) = 0;
};

inline bool Column::isNull() const { return s_.ColumnIsNull(index_); }
inline int64_t Column::getInt64() const { return s_.ColumnInt64(index_); }
inline std::string Column::getString() const { return s_.ColumnString(index_); }
inline const void* Column::getBlob() const { return s_.ColumnBlob(index_); }
inline int Column::getBytes() const { return s_.ColumnBytes(index_); }

// A statement on loan from a Connection's cache. Resets on destruction: a
// statement left mid-step would pin the connection's read snapshot (stale
// reads) and block WAL checkpoints.
class Stmt {
 public:
  explicit Stmt(Statement& s) : s_(s) {}
  ~Stmt() { s_.Reset(); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Statement* operator->() { return &s_; }
  Statement& operator*() { return s_; }

 private:
  Statement& s_;
};

// An optional integer: its value, or an integer-typed NULL.
inline void BindOptional(Stmt& q, int index, const std::optional<int64_t>& v) {
  if (v) {
    q->bind(index, static_cast<int64_t>(*v));
  } else {
    q->bindNullInt64(index);
  }
}

// A PostgreSQL failure. `sqlstate` is the five-character SQLSTATE code
// ("" when the connection itself failed).
class PostgresError : public std::runtime_error {
 public:
  PostgresError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

}  // namespace quay::db
