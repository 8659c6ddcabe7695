"""FSDP2 on the CPU: medtrain's LoRA model sharded by torch's `fully_shard` over gloo.

    torchrun --nproc_per_node 2 testsupport/fsdp_worker.py RECIPE OUT.json [--four-bit]

accelerate's FSDP plugin refuses the CPU (its state keeps MULTI_CPU for a CPU launch), so this
wraps the model the way accelerate's FSDP2 path does (`fully_shard` on every decoder layer, then
on the root) and trains a few steps on one fixed batch that every rank sees: the averaged
gradients then equal a single process's, and so must the losses. `--four-bit` loads the base in
NF4 through medtrain's loader, which stores the quantized weights as float32
(bnb_4bit_quant_storage) under an FSDP launch, as FSDP needs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

STEPS = 4


def load(recipe_path: str, four_bit: bool) -> Any:
    """medtrain's own loader, as under `accelerate launch` with FSDP: no device map, and with
    `--four-bit` the NF4 weights stored as float32 so that FSDP can split them."""
    import torch
    from peft import get_peft_model

    from medtrain.backends.hf import peft_config
    from medtrain.models import load_model
    from medtrain.recipes import load_recipe

    os.environ["ACCELERATE_USE_FSDP"] = "true"
    recipe = load_recipe(recipe_path, [f"model.load_in_4bit={str(four_bit).lower()}"])
    torch.manual_seed(0)
    base = load_model(recipe.model.base, recipe.model)
    return get_peft_model(base, peft_config(recipe.lora))


def main(recipe_path: str, out: Path, four_bit: bool) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import DTensor

    dist.init_process_group("gloo")
    model = load(recipe_path, four_bit)
    if dist.get_world_size() > 1:
        for layer in model.base_model.model.model.layers:
            fully_shard(layer)
        fully_shard(model)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-2)
    ids = torch.randint(3, 1000, (2, 24), generator=torch.Generator().manual_seed(1))
    losses = []
    for _ in range(STEPS):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    shards = [p for p in trainable if isinstance(p, DTensor)]
    frozen = [p for p in model.parameters() if not p.requires_grad]
    frozen_shards = [p for p in frozen if isinstance(p, DTensor)]
    quantized = [m.weight for m in model.modules() if type(m).__name__ == "Linear4bit"]
    if dist.get_rank() == 0:
        result = {
            "world_size": dist.get_world_size(),
            "losses": losses,
            "sharded_trainable": len(shards),
            "trainable": len(trainable),
            "local_fraction": sum(p.to_local().numel() for p in shards)
            / max(sum(p.numel() for p in shards), 1),
            "frozen": len(frozen),
            "sharded_frozen": len(frozen_shards),
            "quant_storage": sorted({str(w.dtype) for w in quantized}),
            "frozen_local_fraction": sum(p.to_local().numel() for p in frozen_shards)
            / max(sum(p.numel() for p in frozen_shards), 1),
        }
        out.write_text(json.dumps(result))
    dist.destroy_process_group()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main(sys.argv[1], Path(sys.argv[2]), "--four-bit" in sys.argv[3:])
