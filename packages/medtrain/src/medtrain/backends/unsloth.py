"""unsloth's FastLanguageModel: its fused kernels and 4-bit loading, same recipe and data path."""

from __future__ import annotations

from medtrain import precision
from medtrain.backends import Loaded, cast_trainable
from medtrain.chat import set_template
from medtrain.config import RecipeConfig
from medtrain.data import ensure_pad
from medtrain.errors import UserError
from medtrain.models import resolve_base


def load(recipe: RecipeConfig) -> Loaded:
    from unsloth import FastLanguageModel

    device = precision.current_device()
    chosen = precision.resolve(recipe.model.dtype, device)
    if recipe.model.load_in_4bit and device.kind != "cuda":
        raise UserError(
            "unsloth's 4-bit path is only run on CUDA GPUs here (untested on the CPU); "
            "QLoRA on the CPU: --set training.backend=hf (bitsandbytes' CPU backend)"
        )
    resolved = resolve_base(recipe.model)
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=resolved,
        max_seq_length=recipe.model.max_seq_length,
        dtype=chosen.torch_dtype(),
        load_in_4bit=recipe.model.load_in_4bit,
    )
    set_template(tokenizer, recipe.model.chat_template)
    if ensure_pad(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    lora = recipe.lora
    model = FastLanguageModel.get_peft_model(
        model,
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        bias="none",
        use_gradient_checkpointing="unsloth" if recipe.training.gradient_checkpointing else False,
        random_state=recipe.training.seed,
        use_rslora=lora.use_rslora,
        use_dora=lora.use_dora,
        max_seq_length=recipe.model.max_seq_length,
    )
    cast_trainable(model, chosen.torch_dtype(chosen.lora_dtype))
    return Loaded(model, tokenizer, resolved, "unsloth")
