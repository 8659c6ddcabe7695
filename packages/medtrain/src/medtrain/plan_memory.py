"""Peak training memory from shapes alone: weights, adapter state, activations, logits, runtime.

Per token and decoder layer, the tensors autograd keeps for the backward pass of a LoRA step
(measured with saved-tensor hooks on SmolLM2's architecture, tests/test_plan_memory.py):

    norms      2h   fp32 (RMSNorm upcasts its input)
    attention  2q + 2kv  (query and output, key and value; SDPA keeps no s x s matrix) + heads fp32
    MLP        3i   (gate output, activation output, up output)
    LoRA in    what each adapted layer's A needs: one copy of its input, shared by q/k/v, by
               gate/up, o with the attention output, down with the MLP product, where the
               adapter has the compute dtype (fp32 on the CPU); one copy per adapted layer where
               autocast recasts fp32 adapter inputs (16-bit compute, fp32 LoRA weights)
    LoRA mid   r per adapted layer

Gradient checkpointing keeps only each layer's input (h per token, fp32 where the hf backend's
4-bit preparation upcasts the embeddings, none on the GPU where unsloth offloads it to CPU RAM)
plus one layer recomputed. The loss holds the logits (output dtype) and fp32 log-probabilities,
and the backward pass an fp32 gradient of the same size: b x s x V x (p_out + 8) bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from medtrain.plan_shapes import ParamCounts, Shape

GB = 1e9
NF4_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)
"""NF4 with double quantization: 4 bits per weight, an 8-bit absmax per 64-weight block and an
fp32 absmax per 256 blocks (bitsandbytes' defaults)."""
NF4_SINGLE_BYTES = 0.5 + 4 / 64
"""NF4 without double quantization: an fp32 absmax per 64-weight block."""
ADAM8_MIN_SIZE = 4096
"""bitsandbytes keeps 32-bit states for tensors smaller than this (min_8bit_size)."""
ADAM8_BYTES = 2 + 8 / 256
"""8-bit AdamW per parameter: two 1-byte states, each with an fp32 absmax per 256-value block."""
CUDA_CONTEXT_GB = 0.5
"""CUDA context, cuBLAS workspace and kernels loaded: what nvidia-smi shows beyond tensors."""
CPU_RUNTIME_GB = 0.6
"""Resident size of a training process before any model: torch, transformers' Trainer, peft,
datasets and accelerate imported and SmolLM2's tokenizer loaded (0.61 GB measured here)."""
FRAGMENTATION = 0.10
"""Allocator slack on the transient terms (activations, logits): batches of varying length
leave freed blocks that do not fit the next request."""


@dataclass(frozen=True)
class Setup:
    """The numbers of a run that decide its memory."""

    batch: int
    """Rows per device per micro-batch (1 when a batch is packed into one row)."""
    seq: int
    """Tokens of the longest row a micro-batch can hold."""
    compute_bytes: int
    """Bytes per activation in the compute dtype (4 fp32, 2 bf16/fp16)."""
    lora_bytes: int
    """Bytes per adapter weight (fp32 unless the precision rule says otherwise)."""
    four_bit: bool
    """The base's linear layers are NF4."""
    double_quant: bool
    """NF4 absmax quantized once more."""
    backend: str
    """hf or unsloth (they keep different tensors)."""
    optim: str
    """transformers optimizer name."""
    checkpointing: bool
    """Gradient checkpointing."""
    targets: tuple[str, ...]
    """LoRA target modules."""
    rank: int
    """LoRA rank."""
    cuda: bool
    """On a GPU (CUDA context) rather than the CPU (process runtime)."""


@dataclass(frozen=True)
class Memory:
    """Peak memory by term, in bytes."""

    weights: float
    lora: float
    gradients: float
    optimizer: float
    activations: float
    logits: float
    runtime: float

    @property
    def total(self) -> float:
        return sum(vars(self).values())


def weight_bytes(params: ParamCounts, s: Setup) -> float:
    """Base weights: NF4 linear layers (+ absmax), the rest in 16/32-bit; the hf backend's
    `prepare_model_for_kbit_training` upcasts the non-quantized rest to fp32."""
    if not s.four_bit:
        return float(params.total * s.compute_bytes)
    other = 4 if s.backend == "hf" else s.compute_bytes
    per = NF4_BYTES if s.double_quant else NF4_SINGLE_BYTES
    return params.quantizable * per + params.other * other


def optimizer_bytes(params: ParamCounts, optim: str) -> float:
    if "8bit" not in optim:
        return 8.0 * params.lora
    return sum(ADAM8_BYTES * n if n >= ADAM8_MIN_SIZE else 8.0 * n for n in params.lora_tensors)


def residual_bytes(s: Setup) -> int:
    """Bytes per element of the residual stream between layers."""
    return 4 if s.four_bit and s.backend == "hf" else s.compute_bytes


def lora_inputs(shape: Shape, s: Setup) -> int:
    """Elements per token that the adapters' A matrices keep as their input."""
    dims = shape.linear_dims()
    targets = [t for t in s.targets if t in dims]
    if s.lora_bytes != s.compute_bytes:  # autocast recasts each adapter's input separately
        return sum(dims[t][0] for t in targets)
    groups = [("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj"), ("down_proj",)]
    return sum(dims[g[0]][0] for g in groups if any(t in targets for t in g))


def layer_bytes(shape: Shape, s: Setup) -> float:
    """Bytes one decoder layer keeps per token for its backward pass (module docstring)."""
    h, i = shape.hidden, shape.intermediate
    q, kv = shape.heads * shape.head_dim, shape.kv_heads * shape.head_dim
    adapted = sum(1 for t in s.targets if t in shape.linear_dims())
    kept = 2 * q + 2 * kv + 3 * i + lora_inputs(shape, s) + adapted * s.rank
    return 4.0 * (2 * h + shape.heads) + s.compute_bytes * kept


def activation_bytes(shape: Shape, s: Setup) -> float:
    tokens = s.batch * s.seq
    one_layer = layer_bytes(shape, s) * tokens
    if not s.checkpointing:
        return one_layer * shape.layers
    offloaded = s.backend == "unsloth" and s.cuda
    stored = 0 if offloaded else shape.layers * shape.hidden * residual_bytes(s) * tokens
    return stored + one_layer


def logits_bytes(shape: Shape, s: Setup) -> float:
    """Logits, fp32 log-probabilities and their fp32 gradient (unsloth's fused loss keeps only
    the logits and their gradient, chunked)."""
    out = 4 if s.four_bit and s.backend == "hf" else s.compute_bytes
    per = 2 * out if s.backend == "unsloth" and s.cuda else out + 8
    return float(s.batch * s.seq * shape.vocab * per)


def estimate(shape: Shape, params: ParamCounts, s: Setup) -> Memory:
    return Memory(
        weights=weight_bytes(params, s),
        lora=float(params.lora * s.lora_bytes),
        gradients=float(params.lora * s.lora_bytes),
        optimizer=optimizer_bytes(params, s.optim),
        activations=activation_bytes(shape, s) * (1 + FRAGMENTATION),
        logits=logits_bytes(shape, s) * (1 + FRAGMENTATION),
        runtime=(CUDA_CONTEXT_GB if s.cuda else CPU_RUNTIME_GB) * GB,
    )


FORMULA = f"""\
peak = weights + LoRA (weights + gradients + optimizer) + activations + logits + runtime
  weights      4-bit: N_linear x {NF4_BYTES:.4f} B (NF4, double-quant absmax) + N_other x (4 | p)
               16/32-bit: N x p
  LoRA         N_lora x p_lora (weights) + N_lora x p_lora (gradients)
  optimizer    adamw: 8 B x N_lora; adamw_8bit: {ADAM8_BYTES:.3f} B x N_lora (tensors >= 4096)
  activations  per layer and token: 4(2h + heads) + p(2q + 2kv + 3i + LoRA inputs + r x adapted)
               no checkpointing: L x layer x b x s
               checkpointing: L x h x p_residual x b x s (0 for unsloth on CUDA) + 1 layer
  logits       b x s x V x (p_out + 8)   (unsloth's fused loss: 2 x p_out)
  runtime      CUDA context {CUDA_CONTEXT_GB} GB | CPU process {CPU_RUNTIME_GB} GB; \
+{FRAGMENTATION:.0%} on activations and logits
"""
"""The formula `medtrain plan` prints (symbols: h hidden, i intermediate, q/kv attention widths,
L layers, V vocabulary, r rank, p bytes per compute value, b x s micro-batch tokens)."""
