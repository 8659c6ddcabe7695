"""The no-silent-skips rule: an unlisted skip fails the run, a listed one does not."""

from __future__ import annotations

import pytest

from testsupport import skips

pytest_plugins = ["pytester"]


def test_listed_prefixes_cover_their_tests_only() -> None:
    listed = next(iter(skips.ALLOWED))
    assert skips.allowed(listed)
    assert skips.allowed(f"{listed}::test_x[param]")
    assert not skips.allowed(f"{listed}x::test_x")
    assert not skips.allowed("packages/medeval/tests/test_cli.py::test_x")


def test_a_listed_test_covers_its_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(skips.ALLOWED, "pkg/tests/test_a.py::test_b", "reason")
    assert skips.allowed("pkg/tests/test_a.py::test_b[case-1]")
    assert not skips.allowed("pkg/tests/test_a.py::test_bc")


@pytest.mark.parametrize(("listed", "exit_code"), [(False, 1), (True, 0)])
def test_an_unlisted_skip_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, listed: bool, exit_code: int
) -> None:
    pytester.makeconftest('pytest_plugins = ["testsupport.skips"]')
    pytester.makepyfile(test_demo="import pytest\n\ndef test_gone():\n    pytest.skip('x')\n")
    monkeypatch.setattr(skips, "_unlisted", [])
    if listed:
        monkeypatch.setitem(skips.ALLOWED, "test_demo.py", "demo")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == exit_code
    assert ("test_demo.py::test_gone" in result.stdout.str()) != listed
