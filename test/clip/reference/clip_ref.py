"""Independent PyTorch reference of CLIP (OpenCLIP's ViT + text transformer layout).

Written from the architecture description only, so that the TypeScript loader can be checked
against numbers it did not produce itself. Parameter names follow OpenCLIP's state dict;
`to_hf_state_dict` renames them to Hugging Face `CLIPModel` naming.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

LN_EPS = 1e-5
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
HF_LOGIT_SCALE_INIT = 2.6592
BOS_TOKEN, EOS_TOKEN, HF_PAD_TOKEN = 49406, 49407, 1


@dataclass(frozen=True)
class VisionCfg:
    image_size: int
    patch_size: int
    width: int
    layers: int
    head_width: int = 64
    mlp_ratio: float = 4.0

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def heads(self) -> int:
        return self.width // self.head_width


@dataclass(frozen=True)
class TextCfg:
    context_length: int
    vocab_size: int
    width: int
    heads: int
    layers: int
    mlp_ratio: float = 4.0


@dataclass(frozen=True)
class ClipCfg:
    embed_dim: int
    quick_gelu: bool
    vision: VisionCfg
    text: TextCfg


def _require(obj: dict, key: str, where: str):
    if key not in obj:
        raise KeyError(f"{where}: missing key '{key}'")
    return obj[key]


def cfg_from_open_clip(model_cfg: dict) -> ClipCfg:
    """Reads an OpenCLIP model config ({"embed_dim", "quick_gelu", "vision_cfg", "text_cfg"})."""
    v = _require(model_cfg, "vision_cfg", "model_cfg")
    t = _require(model_cfg, "text_cfg", "model_cfg")
    vision = VisionCfg(**{k: _require(v, k, "vision_cfg") for k in ("image_size", "patch_size", "width", "layers")},
                       head_width=v.get("head_width", 64), mlp_ratio=v.get("mlp_ratio", 4.0))
    text = TextCfg(**{k: _require(t, k, "text_cfg") for k in ("context_length", "vocab_size", "width", "heads", "layers")},
                   mlp_ratio=t.get("mlp_ratio", 4.0))
    if vision.width % vision.head_width != 0:
        raise ValueError(f"vision_cfg: width {vision.width} is not a multiple of head_width {vision.head_width}")
    if vision.image_size % vision.patch_size != 0:
        raise ValueError(f"vision_cfg: image_size {vision.image_size} is not a multiple of patch_size {vision.patch_size}")
    if text.width % text.heads != 0:
        raise ValueError(f"text_cfg: width {text.width} is not a multiple of heads {text.heads}")
    return ClipCfg(embed_dim=_require(model_cfg, "embed_dim", "model_cfg"), quick_gelu=bool(model_cfg.get("quick_gelu", False)),
                   vision=vision, text=text)


def open_clip_config(cfg: ClipCfg) -> dict:
    v, t = cfg.vision, cfg.text
    return {
        "embed_dim": cfg.embed_dim,
        "quick_gelu": cfg.quick_gelu,
        "vision_cfg": {"image_size": v.image_size, "patch_size": v.patch_size, "width": v.width, "layers": v.layers,
                       "head_width": v.head_width, "mlp_ratio": v.mlp_ratio},
        "text_cfg": {"context_length": t.context_length, "vocab_size": t.vocab_size, "width": t.width, "heads": t.heads,
                     "layers": t.layers, "mlp_ratio": t.mlp_ratio},
    }


def hf_config(cfg: ClipCfg) -> dict:
    v, t = cfg.vision, cfg.text
    act = "quick_gelu" if cfg.quick_gelu else "gelu"
    return {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": cfg.embed_dim,
        "logit_scale_init_value": HF_LOGIT_SCALE_INIT,
        "text_config": {"hidden_size": t.width, "intermediate_size": int(t.width * t.mlp_ratio),
                        "num_attention_heads": t.heads, "num_hidden_layers": t.layers,
                        "max_position_embeddings": t.context_length, "vocab_size": t.vocab_size, "hidden_act": act,
                        "layer_norm_eps": LN_EPS, "bos_token_id": BOS_TOKEN, "eos_token_id": EOS_TOKEN,
                        "pad_token_id": HF_PAD_TOKEN},
        "vision_config": {"hidden_size": v.width, "intermediate_size": int(v.width * v.mlp_ratio),
                          "num_attention_heads": v.heads, "num_hidden_layers": v.layers, "image_size": v.image_size,
                          "patch_size": v.patch_size, "num_channels": 3, "hidden_act": act, "layer_norm_eps": LN_EPS},
    }


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, quick_gelu: bool):
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.ln_1 = nn.LayerNorm(width, eps=LN_EPS)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width, eps=LN_EPS)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, hidden))
        self.mlp.add_module("gelu", QuickGELU() if quick_gelu else nn.GELU())
        self.mlp.add_module("c_proj", nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor, mask: "torch.Tensor | None") -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, mlp_ratio: float, quick_gelu: bool):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads, mlp_ratio, quick_gelu) for _ in range(layers)])

    def forward(self, x: torch.Tensor, mask: "torch.Tensor | None" = None) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, v: VisionCfg, embed_dim: int, quick_gelu: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(3, v.width, kernel_size=v.patch_size, stride=v.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(v.width))
        self.positional_embedding = nn.Parameter(torch.zeros(v.grid * v.grid + 1, v.width))
        self.ln_pre = nn.LayerNorm(v.width, eps=LN_EPS)
        self.transformer = Transformer(v.width, v.layers, v.heads, v.mlp_ratio, quick_gelu)
        self.ln_post = nn.LayerNorm(v.width, eps=LN_EPS)
        self.proj = nn.Parameter(torch.zeros(v.width, embed_dim))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.conv1(pixels)  # [n, width, grid, grid]
        x = x.flatten(2).transpose(1, 2)  # patches in row-major order: [n, grid*grid, width]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, cfg: ClipCfg):
        super().__init__()
        t = cfg.text
        self.cfg = cfg
        self.visual = VisionTransformer(cfg.vision, cfg.embed_dim, cfg.quick_gelu)
        self.token_embedding = nn.Embedding(t.vocab_size, t.width)
        self.positional_embedding = nn.Parameter(torch.zeros(t.context_length, t.width))
        self.transformer = Transformer(t.width, t.layers, t.heads, t.mlp_ratio, cfg.quick_gelu)
        self.ln_final = nn.LayerNorm(t.width, eps=LN_EPS)
        self.text_projection = nn.Parameter(torch.zeros(t.width, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        # Not persistent: OpenCLIP checkpoints do not carry the mask.
        causal = torch.full((t.context_length, t.context_length), float("-inf")).triu(1)
        self.register_buffer("attn_mask", causal, persistent=False)

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.visual(pixels)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        ctx = self.cfg.text.context_length
        if tokens.ndim != 2 or tokens.shape[1] != ctx:
            raise ValueError(f"tokens: expected shape [m, {ctx}], got {list(tokens.shape)}")
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.ln_final(self.transformer(x, self.attn_mask.to(x.dtype)))
        # The end-of-text token has the largest id in CLIP's vocabulary, so argmax finds it.
        pooled = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]
        return pooled @ self.text_projection

    def forward(self, pixels: torch.Tensor, tokens: torch.Tensor) -> dict:
        image_embeds = F.normalize(self.encode_image(pixels), dim=-1)
        text_embeds = F.normalize(self.encode_text(tokens), dim=-1)
        scale = self.logit_scale.exp()
        return {"image_embeds": image_embeds, "text_embeds": text_embeds, "logit_scale": scale,
                "logits_per_image": scale * image_embeds @ text_embeds.T}


def _hf_encoder_layers(sd: dict, src: str, dst: str, layers: int) -> dict:
    out = {}
    for i in range(layers):
        s, d = f"{src}.resblocks.{i}", f"{dst}.layers.{i}"
        for kind in ("weight", "bias"):
            q, k, v = sd[f"{s}.attn.in_proj_{kind}"].chunk(3, dim=0)
            out[f"{d}.self_attn.q_proj.{kind}"] = q
            out[f"{d}.self_attn.k_proj.{kind}"] = k
            out[f"{d}.self_attn.v_proj.{kind}"] = v
            out[f"{d}.self_attn.out_proj.{kind}"] = sd[f"{s}.attn.out_proj.{kind}"]
            out[f"{d}.layer_norm1.{kind}"] = sd[f"{s}.ln_1.{kind}"]
            out[f"{d}.layer_norm2.{kind}"] = sd[f"{s}.ln_2.{kind}"]
            out[f"{d}.mlp.fc1.{kind}"] = sd[f"{s}.mlp.c_fc.{kind}"]
            out[f"{d}.mlp.fc2.{kind}"] = sd[f"{s}.mlp.c_proj.{kind}"]
    return out


def to_hf_state_dict(sd: dict, cfg: ClipCfg) -> dict:
    """OpenCLIP names -> Hugging Face CLIPModel names (tensors shared or sliced, not rounded)."""
    v, t = cfg.vision, cfg.text
    out = {
        "vision_model.embeddings.class_embedding": sd["visual.class_embedding"],
        "vision_model.embeddings.patch_embedding.weight": sd["visual.conv1.weight"],
        "vision_model.embeddings.position_embedding.weight": sd["visual.positional_embedding"],
        "vision_model.embeddings.position_ids": torch.arange(v.grid * v.grid + 1, dtype=torch.int64)[None],
        "text_model.embeddings.token_embedding.weight": sd["token_embedding.weight"],
        "text_model.embeddings.position_embedding.weight": sd["positional_embedding"],
        "text_model.embeddings.position_ids": torch.arange(t.context_length, dtype=torch.int64)[None],
        "visual_projection.weight": sd["visual.proj"].T,
        "text_projection.weight": sd["text_projection"].T,
        "logit_scale": sd["logit_scale"],
    }
    for kind in ("weight", "bias"):
        out[f"vision_model.pre_layrnorm.{kind}"] = sd[f"visual.ln_pre.{kind}"]  # sic: HF's spelling
        out[f"vision_model.post_layernorm.{kind}"] = sd[f"visual.ln_post.{kind}"]
        out[f"text_model.final_layer_norm.{kind}"] = sd[f"ln_final.{kind}"]
    out.update(_hf_encoder_layers(sd, "visual.transformer", "vision_model.encoder", v.layers))
    out.update(_hf_encoder_layers(sd, "transformer", "text_model.encoder", t.layers))
    return {name: tensor.contiguous() for name, tensor in out.items()}
