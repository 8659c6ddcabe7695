"""Test support code shared by the packages' test suites (never shipped in a package)."""
