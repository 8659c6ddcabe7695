"""Prepare a slimmed install folder for an offline GPU box (no package index, no Hub).

    python gpu/box.py [--out gpu-box] [--python-version 3.12]     # or: nox -s gpu_box

Such a box has Python with a CUDA torch, transformers, peft, accelerate, triton and safetensors
(and the common libraries listed in BOX_HAS), and takes at most 64 MiB of files beside the
repository. This downloads the manylinux x86_64 wheels of what `gpu/check.py` needs beyond that
(PACKAGES, exact versions, no dependencies resolved by pip), unpacks them into OUT/site with the
parts no CUDA training run loads left out (DROP: bitsandbytes' libraries for other CUDA, ROCm
and XPU versions, unsloth's `studio/` web app and its CLI), and writes
OUT/manifest.json. Copy OUT beside the repository and run `python gpu/check.py --site OUT/site`:
medtrain itself comes from the repository (the script puts packages/medtrain/src on sys.path).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGES = (
    "bitsandbytes==0.50.2",
    "unsloth==2026.10.9",
    "unsloth_zoo==2026.10.9",
    "trl==1.15.0",
    "datasets==4.8.5",
    "dill==0.4.1",
    "multiprocess==0.70.19",
)
"""What the box lacks, read from unsloth's, unsloth_zoo's and trl's Requires-Dist against
BOX_HAS, then kept to what `gpu/check.py` imports (tests/test_gpu_box.py runs it)."""

BOX_HAS = (
    "torch", "transformers", "peft", "accelerate", "triton", "safetensors", "numpy", "packaging",
    "pyyaml", "jinja2", "typer", "rich", "psutil", "protobuf", "sentencepiece", "tokenizers",
    "huggingface-hub", "pandas", "pyarrow", "tqdm", "requests", "filelock", "regex", "pillow",
    "einops", "fsspec", "xxhash", "aiohttp", "torchvision", "wheel", "typing-extensions",
)  # fmt: skip
"""Distributions the box's image already holds (the device README's package list)."""

NOT_NEEDED = {
    "xformers": "unsloth uses torch's SDPA / flash attention when it is absent",
    "torchao": "only unsloth_zoo's QAT and FP8 paths import it",
    "hf_transfer": "downloads only; the box reaches no Hub",
    "diffusers": "unsloth's image-model paths only",
    "pydantic, json5, nest-asyncio, structlog": "unsloth's studio/ web app, which is dropped",
    "mlx, mlx-lm, mlx-vlm": "Apple silicon only",
    "certifi>=2026.10.19": "TLS downloads only; the box has certifi",
}
"""Requirements of unsloth / unsloth_zoo that are left out, and why."""

CUDA_LIBRARY = "libbitsandbytes_cuda130.so"
"""bitsandbytes' library for the box's CUDA 13 torch (the CPU one stays for `--tiny`)."""
DROP = (
    "bitsandbytes/libbitsandbytes_cuda*.so",
    "bitsandbytes/libbitsandbytes_rocm*.so",
    "bitsandbytes/libbitsandbytes_xpu*.so",
    "studio/*",
    "unsloth_cli/*",
)
"""Wheel members not unpacked (CUDA_LIBRARY excepted)."""
BUDGET = 64 * 2**20
"""Extra files a box takes beside the repository."""


def keep(member: str) -> bool:
    if member.endswith(CUDA_LIBRARY):
        return True
    return not any(fnmatch.fnmatch(member, pattern) for pattern in DROP)


def download(folder: Path, python_version: str) -> list[Path]:
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64"]
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", python_version, "--implementation", "cp", "-d", str(folder),
        *(a for p in [*platforms, "manylinux2014_x86_64"] for a in ("--platform", p)),
        *PACKAGES,
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    return sorted(folder.glob("*.whl"))


def unpack(wheel: Path, site: Path) -> dict[str, int]:
    """Extract a wheel's kept members into site (purelib/platlib data folded in); returns the
    bytes kept and dropped."""
    kept = dropped = 0
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            name = info.filename
            if ".data/" in name.split("/", 1)[0] + "/":
                parts = name.split("/", 2)
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                name = parts[2]
            if info.is_dir():
                continue
            if not keep(name):
                dropped += info.file_size
                continue
            target = site / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
            kept += info.file_size
    return {"kept": kept, "dropped": dropped}


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def build(out: Path, wheels: list[Path]) -> dict[str, object]:
    site = out / "site"
    site.mkdir(parents=True, exist_ok=True)
    contents = {w.name: unpack(w, site) for w in wheels}
    size = folder_bytes(site)
    manifest = {
        "packages": contents,
        "bytes": size,
        "budget_bytes": BUDGET,
        "within_budget": size <= BUDGET,
        "not_included": NOT_NEEDED,
        "run": f"python gpu/check.py --site {site}",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("gpu-box"))
    p.add_argument("--python-version", default="3.12", help="the box's Python (wheel tags)")
    p.add_argument("--wheels", type=Path, help="use the wheels already in this folder")
    args = p.parse_args()
    if (args.out / "site").exists():
        sys.exit(f"{args.out}/site exists; remove it first")
    wheels_dir = args.wheels or args.out / "wheels"
    wheels_dir.mkdir(parents=True, exist_ok=True)
    wheels = (
        sorted(wheels_dir.glob("*.whl"))
        if args.wheels
        else download(wheels_dir, args.python_version)
    )
    manifest = build(args.out, wheels)
    if not args.wheels:
        for w in wheels:
            w.unlink()
        wheels_dir.rmdir()
    mib = int(manifest["bytes"]) / 2**20  # type: ignore[call-overload]
    print(f"{args.out}: {mib:.1f} MiB of {BUDGET / 2**20:.0f} MiB; {manifest['run']}")
    return 0 if manifest["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
