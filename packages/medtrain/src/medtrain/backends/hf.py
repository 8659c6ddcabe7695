"""transformers + peft: the base in 4-bit NF4 where the recipe asks (bitsandbytes, on CUDA or
its CPU backend), in the device's precision otherwise."""

from __future__ import annotations

from typing import Any

from medtrain import precision
from medtrain.backends import Loaded, cast_trainable
from medtrain.chat import set_template
from medtrain.config import LoraConfig, RecipeConfig
from medtrain.data import ensure_pad
from medtrain.models import load_model, load_tokenizer, resolve_base


def peft_config(lora: LoraConfig) -> Any:
    from peft import LoraConfig as PeftLoraConfig

    return PeftLoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        use_rslora=lora.use_rslora,
        use_dora=lora.use_dora,
        bias="none",
        task_type="CAUSAL_LM",
    )


def load(recipe: RecipeConfig) -> Loaded:
    from peft import get_peft_model, prepare_model_for_kbit_training

    chosen = precision.resolve(recipe.model.dtype)  # a dtype the device cannot run stops here
    resolved = resolve_base(recipe.model)
    tokenizer = load_tokenizer(resolved)
    set_template(tokenizer, recipe.model.chat_template)
    added_pad = ensure_pad(tokenizer)
    model = load_model(resolved, recipe.model, chosen)
    if added_pad:
        model.resize_token_embeddings(len(tokenizer))
    if recipe.model.load_in_4bit:
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=recipe.training.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},  # what the Trainer sets
        )
    model = get_peft_model(model, peft_config(recipe.lora))
    cast_trainable(model, chosen.torch_dtype(chosen.lora_dtype))
    return Loaded(model, tokenizer, resolved, "hf")
