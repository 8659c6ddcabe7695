"""`medtrain plan`: the resolved run and its peak memory against a GPU, before any weight loads.

`medtrain train` runs the same check on the machine it finds and stops, naming the setting to
change, when the run cannot fit.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from dataclasses import dataclass

from medtrain.config import RecipeConfig, apply_overrides, from_dict, to_dict
from medtrain.errors import UserError
from medtrain.plan_data import DataStats, dataset_stats, optimizer_steps
from medtrain.plan_memory import GB, Memory, Setup, estimate
from medtrain.plan_shapes import ParamCounts, Shape, count_params, load_shape
from medtrain.precision import Device as PrecisionDevice
from medtrain.precision import Precision, Requested, resolve


@dataclass(frozen=True)
class Device:
    """A training device: its memory and, for CUDA, its compute capability."""

    name: str
    """cpu, or the GPU's short name."""
    memory: float
    """Bytes a run may use."""
    capability: tuple[int, int] | None
    """CUDA compute capability (None: the CPU)."""


GPUS = {
    "t4": Device("t4", 15.8 * GB, (7, 5)),
    "l4": Device("l4", 23.7 * GB, (8, 9)),
    "a10": Device("a10", 23.7 * GB, (8, 6)),
    "a100-40": Device("a100-40", 42.4 * GB, (8, 0)),
    "a100-80": Device("a100-80", 85.1 * GB, (8, 0)),
    "h100": Device("h100", 85.0 * GB, (9, 0)),
    "h200": Device("h200", 150.1 * GB, (9, 0)),
}
"""Memory as CUDA reports it (total_memory) and compute capability of common GPUs."""
GPU_HEADROOM = 0.9
"""Share of a GPU's memory a plan may fill: published 7B QLoRA peaks (reserved memory) ran up
to 19% above this model's estimate (packages/medtrain/README.md, "Memory plan")."""


def usable(device: Device) -> float:
    """Bytes a run may plan to use on the device (all of the CPU's; 90% of a GPU's)."""
    return device.memory * (1.0 if device.capability is None else GPU_HEADROOM)


def cpu_device() -> Device:
    return Device("cpu", float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")), None)


def device_named(name: str) -> Device:
    if name == "cpu":
        return cpu_device()
    if name not in GPUS:
        raise UserError(f"--gpu {name}: unknown; choose cpu or one of {', '.join(GPUS)}")
    return GPUS[name]


def this_device() -> Device:
    """The device `medtrain train` would use here (the first CUDA GPU, else the CPU)."""
    import torch

    if not torch.cuda.is_available():
        return cpu_device()
    props = torch.cuda.get_device_properties(0)
    return Device(props.name, float(props.total_memory), (props.major, props.minor))


def precision(device: Device, dtype: Requested) -> Precision:
    """The run's dtypes on `device`, by the one rule training applies (medtrain.precision); an
    explicit dtype the device cannot run (bfloat16 on a T4) is refused as training would."""
    if device.capability is None:
        return resolve(dtype, PrecisionDevice("cpu"))
    return resolve(dtype, PrecisionDevice("cuda", device.capability, device.name))


@dataclass(frozen=True)
class Plan:
    """Everything `medtrain plan` prints."""

    recipe: RecipeConfig
    device: Device
    backend: str
    precision: str
    lora_dtype: str
    quantization: str
    shape: Shape
    shape_source: str
    params: ParamCounts
    data: DataStats
    steps: int | None
    setup: Setup
    memory: Memory
    suggestions: tuple[str, ...]
    """--set options that make a run that does not fit fit (empty when it fits)."""

    @property
    def fits(self) -> bool:
        return self.memory.total <= usable(self.device)


def pick_backend(requested: str) -> str:
    """The backend `auto` resolves to: unsloth where it is installed (not imported: slow)."""
    if requested != "auto":
        return requested
    return "unsloth" if importlib.util.find_spec("unsloth") is not None else "hf"


def setup_for(recipe: RecipeConfig, device: Device, data: DataStats, backend: str) -> Setup:
    t, model = recipe.training, recipe.model
    chosen = precision(device, model.dtype)
    nbytes = {"float32": 4, "bfloat16": 2, "float16": 2}
    longest = data.longest or model.max_seq_length
    if recipe.data.packing:
        batch, seq = 1, data.batch_longest or t.per_device_train_batch_size * model.max_seq_length
    else:
        batch, seq = t.per_device_train_batch_size, longest
    return Setup(
        batch=batch,
        seq=seq,
        compute_bytes=nbytes[chosen.compute_dtype],
        lora_bytes=nbytes[chosen.lora_dtype],
        four_bit=model.load_in_4bit,
        double_quant=True,
        backend=backend,
        optim=t.optim,
        checkpointing=t.gradient_checkpointing,
        targets=tuple(recipe.lora.target_modules),
        rank=recipe.lora.r,
        cuda=device.capability is not None,
    )


def fixes(recipe: RecipeConfig, device: Device) -> list[list[str]]:
    """Settings that lower peak memory and are not already on, each a group of --set values
    (batch 1 keeps the effective batch through gradient accumulation; a shorter max_seq_length,
    last, drops the rows longer than it)."""
    t, groups = recipe.training, []
    if not t.gradient_checkpointing:
        groups.append(["training.gradient_checkpointing=true"])
    if t.per_device_train_batch_size > 1:
        accumulate = t.per_device_train_batch_size * t.gradient_accumulation_steps
        groups.append(
            [
                "training.per_device_train_batch_size=1",
                f"training.gradient_accumulation_steps={accumulate}",
            ]
        )
    if not recipe.model.load_in_4bit:
        groups.append(["model.load_in_4bit=true"])
    if "8bit" not in t.optim:
        groups.append(["training.optim=adamw_8bit"])
    if device.capability is not None and t.backend != "unsloth":
        groups.append(["training.backend=unsloth"])
    groups.append([f"model.max_seq_length={recipe.model.max_seq_length // 2}"])
    return groups


def _with(recipe: RecipeConfig, sets: list[str]) -> RecipeConfig:
    return from_dict(RecipeConfig, apply_overrides(copy.deepcopy(to_dict(recipe)), sets))


def suggest(recipe: RecipeConfig, device: Device, data: DataStats, backend: str) -> tuple[str, ...]:
    """The first group of settings under which the run fits, else all of them together if that
    fits, else nothing."""
    shape, _ = load_shape(recipe.model)
    params = count_params(shape, recipe.lora)
    groups = fixes(recipe, device)
    for sets in [*groups, [s for g in groups for s in g]]:
        changed = _with(recipe, sets)
        chosen = pick_backend(changed.training.backend)
        mem = estimate(shape, params, setup_for(changed, device, data, chosen))
        if sets and mem.total <= usable(device):
            return tuple(sets)
    return ()


def build_plan(recipe: RecipeConfig, device: Device, tokenize: bool = True) -> Plan:
    shape, source = load_shape(recipe.model)
    params = count_params(shape, recipe.lora)
    data = dataset_stats(recipe, tokenize)
    backend = pick_backend(recipe.training.backend)
    chosen = precision(device, recipe.model.dtype)
    setup = setup_for(recipe, device, data, backend)
    memory = estimate(shape, params, setup)
    fits = memory.total <= usable(device)
    return Plan(
        recipe=recipe,
        device=device,
        backend=backend,
        precision=chosen.compute_dtype,
        lora_dtype=chosen.lora_dtype,
        quantization="nf4 + double quant" if recipe.model.load_in_4bit else "none",
        shape=shape,
        shape_source=source,
        params=params,
        data=data,
        steps=optimizer_steps(recipe, data.rows),
        setup=setup,
        memory=memory,
        suggestions=() if fits else suggest(recipe, device, data, backend),
    )


def refusal(plan: Plan) -> str:
    """Why a run cannot start, and the setting that would let it."""
    need, have = plan.memory.total / GB, usable(plan.device) / GB
    fix = " ".join(f"--set {s}" for s in plan.suggestions)
    hint = f"try {fix}" if fix else "no single setting fits it: shorten model.max_seq_length"
    return (
        f"recipe '{plan.recipe.name}' needs about {need:.1f} GB at its peak but {plan.device.name} "
        f"offers {have:.1f} GB (see `medtrain plan {plan.recipe.name}`); {hint}"
    )


def check_fits(recipe: RecipeConfig, force: bool) -> None:
    """Stop before loading anything when the plan says this machine cannot hold the run (a
    CUDA recipe without CUDA is refused by the trainer's own machine check instead)."""
    device = this_device()
    if force or (device.capability is None and recipe.model.requires_cuda):
        return
    plan = build_plan(recipe, device)
    if not plan.fits:
        raise UserError(refusal(plan) + " (or pass --force to try anyway)")
