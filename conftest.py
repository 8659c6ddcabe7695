"""Puts the repository root on sys.path so every package's tests can import `testsupport`, and
registers the shared fixtures and the no-silent-skips rule."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["testsupport.fixtures", "testsupport.hub", "testsupport.skips"]
