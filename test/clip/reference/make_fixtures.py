"""Writes tiny random CLIP checkpoints (OpenCLIP and Hugging Face naming, f32/f16/bf16 safetensors),
inputs and the reference's float64 outputs, for checking the TypeScript loader.

Usage: make_fixtures.py OUT_DIR [--seed S]   -> OUT_DIR/gelu/..., OUT_DIR/quickgelu/...
Both configs get the same seed, so their weights and inputs are identical and only the activation
differs. The same seed always gives byte-identical files.
"""
import argparse
import json
import math
import struct
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clip_ref import CLIP, CLIP_MEAN, CLIP_STD, EOS_TOKEN, BOS_TOKEN, cfg_from_open_clip, hf_config, open_clip_config, to_hf_state_dict  # noqa: E402

# Sizes chosen so that no two dimensions coincide: a transposed or swapped tensor cannot load.
BASE_CFG = {
    "embed_dim": 40,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 64, "layers": 2, "head_width": 32, "mlp_ratio": 4.0},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 48, "heads": 2, "layers": 2, "mlp_ratio": 4.0},
}
CONFIGS = {"gelu": False, "quickgelu": True}
NUM_IMAGES = 3
CAPTION_LENGTHS = (3, 7, 1, None)  # ids between start and end; None fills the whole context
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
SAFETENSORS_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
# Same-width integer views: numpy has no bfloat16, so bf16 travels as its raw 16-bit pattern.
RAW_VIEW = {torch.float32: (torch.float32, "<f4"), torch.float16: (torch.float16, "<f2"),
            torch.bfloat16: (torch.int16, "<i2"), torch.int64: (torch.int64, "<i8")}


def write_safetensors(path: Path, tensors: dict, metadata: dict) -> None:
    """8-byte LE header length, JSON header padded with spaces to 8 bytes, then raw LE data."""
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        view_dtype, np_dtype = RAW_VIEW[t.dtype]
        data = t.view(view_dtype).numpy().astype(np_dtype, copy=False).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def init_weights(model: CLIP, gen: torch.Generator) -> None:
    """Random weights large enough that a wrong LN gain, bias or transpose changes the outputs."""
    def randn(shape):
        return torch.randn(shape, generator=gen, dtype=torch.float32)

    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            owner = name.rsplit(".", 2)[-2] if name.count(".") >= 1 else ""
            if name == "logit_scale":
                p.fill_(math.log(1 / 0.07) + 0.3)
            elif owner.startswith("ln_"):
                p.copy_(1 + 0.1 * randn(p.shape) if leaf == "weight" else 0.02 * randn(p.shape))
            elif leaf in ("bias", "in_proj_bias"):
                p.copy_(0.02 * randn(p.shape))
            elif leaf in ("class_embedding", "positional_embedding") or name == "token_embedding.weight":
                p.copy_(0.02 * randn(p.shape))
            elif leaf in ("proj", "text_projection"):  # used as x @ P: fan-in is the first axis
                p.copy_(randn(p.shape) * p.shape[0] ** -0.5)
            else:  # Linear / in_proj [out, in] and conv [out, c, k, k]: fan-in is the rest
                p.copy_(randn(p.shape) * math.prod(p.shape[1:]) ** -0.5)


def make_inputs(cfg, gen: torch.Generator):
    v, t = cfg.vision, cfg.text
    pixels = torch.randn((NUM_IMAGES, 3, v.image_size, v.image_size), generator=gen, dtype=torch.float32)
    tokens = torch.zeros((len(CAPTION_LENGTHS), t.context_length), dtype=torch.int64)
    for row, length in enumerate(CAPTION_LENGTHS):
        n = t.context_length - 2 if length is None else length
        ids = torch.randint(1, BOS_TOKEN, (n,), generator=gen, dtype=torch.int64)  # 1..49405
        tokens[row, : n + 2] = torch.cat([torch.tensor([BOS_TOKEN]), ids, torch.tensor([EOS_TOKEN])])
    return pixels, tokens


def reference_outputs(cfg, weights: dict, pixels: torch.Tensor, tokens: torch.Tensor) -> dict:
    """Runs the reference in float64 on the given (possibly rounded) weights."""
    model = CLIP(cfg).double().eval()
    model.load_state_dict({k: w.to(torch.float64) for k, w in weights.items()}, strict=True)
    with torch.no_grad():
        out = model(pixels.to(torch.float64), tokens)
    return {"image_embeds": out["image_embeds"].tolist(), "text_embeds": out["text_embeds"].tolist(),
            "logit_scale": out["logit_scale"].item(), "logits_per_image": out["logits_per_image"].tolist()}


def write_json(path: Path, obj, indent=None) -> None:
    path.write_text(json.dumps(obj, indent=indent) + "\n", encoding="utf-8")


def make_config(out: Path, quick_gelu: bool, seed: int) -> None:
    model_cfg = dict(BASE_CFG, quick_gelu=quick_gelu)
    cfg = cfg_from_open_clip(model_cfg)
    assert open_clip_config(cfg) == model_cfg, "config round trip"
    gen = torch.Generator().manual_seed(seed)
    model = CLIP(cfg)
    init_weights(model, gen)
    full = {k: w.detach().clone() for k, w in model.state_dict().items()}
    pixels, tokens = make_inputs(cfg, gen)

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "open_clip_config.json",
               {"model_cfg": model_cfg, "preprocess_cfg": {"mean": list(CLIP_MEAN), "std": list(CLIP_STD)}}, indent=2)
    write_json(out / "config.json", hf_config(cfg), indent=2)
    write_json(out / "inputs.json", {"pixels": pixels.flatten().tolist(), "pixel_shape": list(pixels.shape),
                                     "tokens": tokens.tolist()})
    for tag, dtype in DTYPES.items():
        stored = {k: w.to(dtype) for k, w in full.items()}
        write_safetensors(out / f"openclip-{tag}.safetensors", stored, {"format": "pt"})
        write_safetensors(out / f"hf-{tag}.safetensors", to_hf_state_dict(stored, cfg), {"format": "pt"})
        write_json(out / f"expected-{tag}.json", reference_outputs(cfg, stored, pixels, tokens))
    write_json(out / "expected-full.json", reference_outputs(cfg, full, pixels, tokens))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)  # one thread: the same reduction order, so the same bytes, every run
    for name, quick_gelu in CONFIGS.items():
        make_config(args.out_dir / name, quick_gelu, args.seed)


if __name__ == "__main__":
    main()
