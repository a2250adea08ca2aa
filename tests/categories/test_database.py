"""database: sqlite3 errors from real database files."""

import sqlite3


def test_database_locked(tmp_path):
    path = tmp_path / "shop.db"
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    writer.execute("INSERT INTO orders (total) VALUES (100)")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("INSERT INTO orders (total) VALUES (200)")
        other.commit()
    finally:
        other.close()
        writer.close()


def test_database_integrity_error(tmp_path):
    db = sqlite3.connect(tmp_path / "shop.db")
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL)")
    db.execute("INSERT INTO users (email) VALUES ('ada@example.com')")
    try:
        db.execute("INSERT INTO users (email) VALUES ('ada@example.com')")
    finally:
        db.close()
