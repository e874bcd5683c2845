"""PyTorch twin of the built-in trainer's reference tiny CLIP (bench/trainer/bench.ts builds the
same model in TF.js): images 32x32, ViT patch 8, width 128, 2 pre-LN layers, 4 heads, MLP x4,
GELU, ln_pre as OpenCLIP; text vocab 1000, context 16, width 128, 2 layers, 4 heads, causal,
EOT pooling; embed 64. AdamW (0.9, 0.98, 1e-6), batch 64. Strictly one core.

Prints one JSON line: {"framework": "pytorch", "samples_per_sec": ..., "params": ...}.
Usage: python3 torch_twin.py [--steps N] [--batch B] [--threads T]
"""
import argparse, json, math, os, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--warmup-steps", type=int, default=3)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--threads", type=int, default=1)
if __name__ == "__main__":
    args = ap.parse_args()
    # Must be set before torch loads OpenBLAS, or it uses a second core anyway.
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
import torch
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(self, w, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(w)
        self.attn = nn.MultiheadAttention(w, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(w)
        self.mlp = nn.Sequential(nn.Linear(w, 4 * w), nn.GELU(), nn.Linear(4 * w, w))
    def forward(self, x, mask=None):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))

class Clip(nn.Module):
    def __init__(self, img=32, patch=8, w=128, layers=2, heads=4, vocab=1000, ctx=16, tw=128, tlayers=2, theads=4, embed=64):
        super().__init__()
        g = img // patch
        self.conv1 = nn.Conv2d(3, w, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(w) * w ** -0.5)
        self.vpos = nn.Parameter(torch.randn(g * g + 1, w) * w ** -0.5)
        self.ln_pre = nn.LayerNorm(w)
        self.vblocks = nn.ModuleList([Block(w, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(w)
        self.vproj = nn.Parameter(torch.randn(w, embed) * w ** -0.5)
        self.token_embedding = nn.Embedding(vocab, tw)
        self.tpos = nn.Parameter(torch.randn(ctx, tw) * 0.01)
        self.tblocks = nn.ModuleList([Block(tw, theads) for _ in range(tlayers)])
        self.ln_final = nn.LayerNorm(tw)
        self.tproj = nn.Parameter(torch.randn(tw, embed) * tw ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.register_buffer("mask", torch.full((ctx, ctx), float("-inf")).triu(1))
    def image(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], 1) + self.vpos
        x = self.ln_pre(x)
        for b in self.vblocks: x = b(x)
        return self.ln_post(x[:, 0]) @ self.vproj
    def text(self, t):
        x = self.token_embedding(t) + self.tpos
        for b in self.tblocks: x = b(x, self.mask)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), t.argmax(-1)] @ self.tproj

def loss_fn(m, images, tokens):
    a = F.normalize(m.image(images), dim=-1)
    b = F.normalize(m.text(tokens), dim=-1)
    logits = m.logit_scale.exp() * a @ b.t()
    labels = torch.arange(a.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2

def main(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    m = Clip()
    decay = [p for n, p in m.named_parameters() if p.ndim >= 2 and "ln" not in n and "logit_scale" not in n]
    rest = [p for n, p in m.named_parameters() if not (p.ndim >= 2 and "ln" not in n and "logit_scale" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0}], lr=1e-4, betas=(0.9, 0.98), eps=1e-6)
    B = args.batch
    images = torch.rand(B, 3, 32, 32)
    tokens = torch.randint(3, 999, (B, 16))
    tokens[:, 10] = 999  # the EOT token has the highest id, as in CLIP's BPE (argmax pooling)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(m, images, tokens)
        loss.backward()
        opt.step()
        with torch.no_grad(): m.logit_scale.clamp_(0, math.log(100))
        return loss.item()

    for _ in range(args.warmup_steps): step()
    t = time.perf_counter()
    for _ in range(args.steps): step()
    dt = time.perf_counter() - t
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "threads": args.threads, "params": sum(p.numel() for p in m.parameters()), "batch": B, "steps": args.steps, "samples_per_sec": B * args.steps / dt}))

if __name__ == "__main__":
    main(args)
