"""Puts the repository root on sys.path so every package's tests can import `testsupport`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
