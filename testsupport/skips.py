"""No silent skips: a skipped test fails the run unless ALLOWED names it, with the reason.

Registered by the root conftest.py, so it applies to every pytest run of the repository.
"""

from __future__ import annotations

import pytest

MEDDATA_ALONE = (
    "compares with transformers / lm-evaluation-harness, which the meddata-alone environment "
    "(nox -s tests_meddata_alone) must not have; the main suite (nox -s tests) runs it"
)

ALLOWED = {
    "packages/medtrain/tests/test_unsloth.py": (
        "unsloth pins older transformers/trl/datasets; these tests run in their own environment "
        "(nox -s tests_unsloth) and skip in every other one"
    ),
    **{
        f"packages/meddata/tests/{test}": MEDDATA_ALONE
        for test in (
            "test_chat_template.py::test_official_templates_render_as_transformers_does",
            "test_chat_template.py::test_every_option_and_helper_matches_transformers",
            "test_contamination.py::test_ngrams_are_lm_evaluation_harness_ngrams",
        )
    },
}
"""Test node id prefix -> why skipping it is expected."""

_unlisted: list[str] = []


def allowed(nodeid: str) -> bool:
    return any(nodeid == p or nodeid.startswith((f"{p}::", f"{p}/", f"{p}[")) for p in ALLOWED)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and not allowed(report.nodeid):
        _unlisted.append(report.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped and not allowed(report.nodeid):
        _unlisted.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unlisted:
        terminalreporter.section("skipped tests not on testsupport/skips.py's list", red=True)
        for nodeid in _unlisted:
            terminalreporter.line(nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unlisted and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
