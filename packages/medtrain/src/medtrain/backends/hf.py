"""transformers + peft: 4-bit NF4 base where CUDA is present, full precision elsewhere."""

from __future__ import annotations

from typing import Any

from medtrain.backends import Loaded
from medtrain.chat import set_template
from medtrain.config import LoraConfig, RecipeConfig
from medtrain.data import ensure_pad
from medtrain.models import has_cuda, load_model, load_tokenizer, resolve_base


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

    resolved = resolve_base(recipe.model)
    tokenizer = load_tokenizer(resolved)
    set_template(tokenizer, recipe.model.chat_template)
    added_pad = ensure_pad(tokenizer)
    model = load_model(resolved, recipe.model)
    if added_pad:
        model.resize_token_embeddings(len(tokenizer))
    if recipe.model.load_in_4bit and has_cuda():
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=recipe.training.gradient_checkpointing
        )
    model = get_peft_model(model, peft_config(recipe.lora))
    return Loaded(model, tokenizer, resolved, "hf")
