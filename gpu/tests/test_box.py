"""gpu/box.py keeps bitsandbytes' CUDA 13 library (and the CPU one) and drops unsloth's studio/,
on wheels laid out like the real ones (tests download nothing)."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path
from types import ModuleType

from testsupport.paths import REPO


def box() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_box", REPO / "gpu" / "box.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wheel(path: Path, members: dict[str, int]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, size in members.items():
            z.writestr(name, b"x" * size)
    return path


def test_slims_bitsandbytes_and_unsloth(tmp_path: Path) -> None:
    bnb = wheel(tmp_path / "bitsandbytes-0.50.2-py3-none-manylinux_2_24_x86_64.whl", {
        "bitsandbytes/__init__.py": 10,
        "bitsandbytes/libbitsandbytes_cpu.so": 100,
        "bitsandbytes/libbitsandbytes_cuda118.so": 1000,
        "bitsandbytes/libbitsandbytes_cuda128.so": 1000,
        "bitsandbytes/libbitsandbytes_cuda130.so": 300,
        "bitsandbytes/libbitsandbytes_rocm64.so": 500,
        "bitsandbytes-0.50.2.dist-info/METADATA": 20,
    })  # fmt: skip
    unsloth = wheel(tmp_path / "unsloth-2026.10.9-py3-none-any.whl", {
        "unsloth/__init__.py": 10,
        "studio/frontend/app.js": 5000,
        "unsloth_cli/main.py": 50,
        "unsloth-2026.10.9.dist-info/METADATA": 20,
    })  # fmt: skip
    data = wheel(tmp_path / "multiprocess-0.70.19-py312-none-any.whl", {
        "multiprocess/__init__.py": 10,
        "multiprocess-0.70.19.data/purelib/_multiprocess/__init__.py": 7,
        "multiprocess-0.70.19.data/scripts/tool": 7,
    })  # fmt: skip
    out = tmp_path / "gpu-box"
    manifest = box().build(out, [bnb, unsloth, data])
    site = out / "site"
    kept = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert kept == [
        "_multiprocess/__init__.py",
        "bitsandbytes-0.50.2.dist-info/METADATA",
        "bitsandbytes/__init__.py",
        "bitsandbytes/libbitsandbytes_cpu.so",
        "bitsandbytes/libbitsandbytes_cuda130.so",
        "multiprocess/__init__.py",
        "unsloth-2026.10.9.dist-info/METADATA",
        "unsloth/__init__.py",
    ]
    assert manifest["packages"][bnb.name] == {"kept": 430, "dropped": 2500}
    assert manifest["bytes"] == 430 + 30 + 17 and manifest["within_budget"] is True
    assert json.loads((out / "manifest.json").read_text())["run"].endswith("--site " + str(site))


def test_box_packages_are_pinned_and_new_to_the_box() -> None:
    module = box()
    names = [p.split("==")[0].lower().replace("_", "-") for p in module.PACKAGES]
    assert all("==" in p for p in module.PACKAGES)
    assert not set(names) & {n.lower() for n in module.BOX_HAS}
