"""Fixtures every package's tests can use (registered by the repository's root conftest.py).

Heavy libraries are imported inside the fixtures: meddata's tests run where torch is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testsupport.paths import REPO
from testsupport.variants import write_family_variant

# Tests never reach the Hub; the Hub stand-in tests switch this off for their own client calls.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MEDTRAIN_CACHE", str(REPO / "artifacts" / "models"))


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Mistral-format variant folder (48 train, 8 test rows)."""
    folder = tmp_path_factory.mktemp("data") / "medical_mistral_instruct_dataset_short"
    return write_family_variant(folder, "mistral")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved tiny random-weight Mistral with the real Mistral tokenizer."""
    from testsupport.tiny import tiny_model_dir

    return tiny_model_dir(tmp_path_factory.mktemp("tiny") / "mistral")


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tinyrun")


@pytest.fixture(scope="session")
def tiny_run(tiny_root: Path) -> Path:
    """A finished run folder without training (read-only for tests: copy it before writing
    eval/)."""
    from testsupport.runs import write_run

    return write_run(tiny_root)


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every variant built once from the embedded raw data; returns the folder holding
    `processed/` and `clean/`."""
    from meddata.build import BuildConfig, build
    from meddata.variants import expand

    root = tmp_path_factory.mktemp("build")
    config = BuildConfig(
        raw_dir=REPO / "data" / "raw",
        out_dir=root / "processed",
        clean_dir=root / "clean",
        eval_dir=REPO / "data" / "eval",
    )
    build(list(expand(config.data).values()), config)
    return root


@pytest.fixture(scope="session")
def smollm2_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run folder: `medtrain train smollm2-cpu` for 2 steps on the six QA pairs (the CPU
    recipe of the main job; read-only for tests: copy it before writing eval/)."""
    import subprocess
    import sys

    from testsupport.variants import QA, qa_pair_rows, write_variant

    root = tmp_path_factory.mktemp("smollm2")
    variant, run = root / "variant", root / "run"
    write_variant(variant, qa_pair_rows(QA[:2]), qa_pair_rows(QA))
    medtrain = Path(sys.executable).parent / "medtrain"
    command = [str(medtrain), "train", "smollm2-cpu", "--dataset", str(variant)]
    command += ["--run-dir", str(run), "--set", "training.max_steps=2"]
    command += ["--set", "training.save_steps=100"]
    subprocess.run(command, cwd=REPO, check=True, timeout=900)
    return run
