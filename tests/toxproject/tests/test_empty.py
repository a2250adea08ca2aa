"""A module with no tests: pytest exits 5."""
