"""`medtrain plan` output: readable lines for a terminal, one JSON object for scripts."""

from __future__ import annotations

from typing import Any

from medtrain.plan import Plan, refusal, usable
from medtrain.plan_memory import FORMULA, GB


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def to_json(plan: Plan) -> dict[str, Any]:
    m, d, p = plan.memory, plan.data, plan.params
    return {
        "recipe": plan.recipe.name,
        "gpu": plan.device.name,
        "gpu_memory_gb": round(plan.device.memory / GB, 2),
        "usable_memory_gb": round(usable(plan.device) / GB, 2),
        "backend": plan.backend,
        "precision": plan.precision,
        "lora_dtype": plan.lora_dtype,
        "quantization": plan.quantization,
        "config_source": plan.shape_source,
        "total_params": p.total,
        "trainable_params": p.lora,
        "rows_per_epoch": d.rows,
        "dropped_overlong": d.dropped,
        "tokens_per_epoch": d.tokens,
        "trained_tokens_per_epoch": d.trained,
        "longest_row_tokens": d.longest,
        "data_note": d.note,
        "optimizer_steps": plan.steps,
        "micro_batch": {"rows": plan.setup.batch, "tokens_per_row": plan.setup.seq},
        "memory_gb": {k: round(v / GB, 3) for k, v in vars(m).items()},
        "peak_memory_gb": round(m.total / GB, 2),
        "fits": plan.fits,
        "suggestions": [f"--set {s}" for s in plan.suggestions],
    }


def to_text(plan: Plan, formula: bool = True) -> str:
    r, d, p, s, m = plan.recipe, plan.data, plan.params, plan.setup, plan.memory
    t = r.training
    lines = [
        f"recipe        {r.name}: {r.model.base}",
        f"device        {plan.device.name} ({plan.device.memory / GB:.1f} GB)",
        f"backend       {plan.backend} (recipe: {t.backend})",
        f"precision     compute {plan.precision}, LoRA weights {plan.lora_dtype}",
        f"quantization  {plan.quantization}",
        f"shape         {plan.shape_source}: {plan.shape.layers} layers, hidden "
        f"{plan.shape.hidden}, vocab {plan.shape.vocab}",
        f"parameters    {p.total:,} base, {p.lora:,} trainable ({p.lora / p.total:.3%}): "
        f"LoRA r {r.lora.r} on {', '.join(r.lora.target_modules)}",
        f"data          {d.note}",
        f"per epoch     {_n(d.rows)} rows ({d.dropped} dropped as too long), {_n(d.tokens)} tokens,"
        f" {_n(d.trained)} trained",
        f"steps         {_n(plan.steps)} optimizer steps of {t.per_device_train_batch_size} x "
        f"{t.gradient_accumulation_steps} rows",
        f"micro-batch   {s.batch} x {s.seq} tokens"
        + (" (packed)" if r.data.packing else " (longest rows together)"),
        "peak memory   " + ", ".join(f"{k} {v / GB:.2f}" for k, v in vars(m).items()) + " GB",
        f"              = {m.total / GB:.2f} GB of {usable(plan.device) / GB:.1f} GB usable: "
        + ("fits" if plan.fits else "DOES NOT FIT"),
    ]
    if not plan.fits:
        lines.append(refusal(plan))
    if formula:
        lines += ["", FORMULA.rstrip()]
    return "\n".join(lines)
