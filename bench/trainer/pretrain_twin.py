"""Recipe search for the base model, about 3x faster than the TF.js trainer on one core.

A development aid, not the build: `sweep pretrain --force` (TF.js) is what makes and ships the
base model. This PyTorch twin trains the same architecture (bench/trainer/torch_twin.py's, with the
real vocabulary and context) on the same generated pretraining images and captions, with the
pretraining recipe's optimiser (AdamW 0.9/0.98/1e-6, decay on rank >= 2 weights except layer
norms and the scale), warmup then `const` or `cosine`, the logit scale from ln(1/0.07) clamped at
ln 100, and random resized crop (area --crop-min to 1, aspect 3/4-4/3, one bilinear resample as an
affine grid: the TF.js crop's statistics, not its pixels). Its defaults are `pretrainRecipe`'s
(src/trainer/pretrain.ts). It prints one JSON line per evaluation: the smoothed training loss, the
scale, and image-to-text / text-to-image R@1 on the 400 validation images (first caption), so that
a recipe can be judged in minutes before the TF.js build runs. twin_analyse.py reads a checkpoint.

Needs Debian's python3-torch and python3-pil, and OpenBLAS (`apt-get install libopenblas0-pthread`:
with the reference BLAS that python3-torch alone pulls, matmuls are 10x slower). The data folder
is the `pretrain/` of a generated embedded set, e.g. runs/cache/embedded-v4-32px-p16000-400-f320-160/pretrain
after `sweep pretrain --force`.

Usage: /usr/bin/python3 bench/trainer/pretrain_twin.py --data DIR [--batch 64] [--lr 1e-3]
  [--warmup 200] [--steps 6000] [--schedule const|cosine] [--patch 8] [--eval 500] [--save PREFIX]
  [--embed 4] [--width 128] [--layers 2] [--crop-min 0.9] [--family-batches 1] [--nodup 1]
  [--init CKPT.pt: fine-tune a checkpoint instead, e.g. with --data <embedded set>/finetune]
"""
import argparse, json, math, os, re, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--vocab", default=os.path.join(os.path.dirname(__file__), "../../models/base-tiny/vocab.txt"))
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--wd", type=float, default=0.1)
ap.add_argument("--warmup", type=int, default=200)
ap.add_argument("--steps", type=int, default=6000)
ap.add_argument("--schedule", choices=["const", "cosine"], default="cosine")
ap.add_argument("--patch", type=int, default=8)
ap.add_argument("--eval", type=int, default=500)
ap.add_argument("--crop", type=int, default=1)
ap.add_argument("--crop-min", type=float, default=0.9, help="random resized crop: smallest share of the area kept")
ap.add_argument("--family-batches", type=int, default=0, help="1: batches of whole families (4 consecutive images that differ in one attribute each), not uniform")
ap.add_argument("--save", default="", help="write the weights to PREFIX-<step>.pt at every evaluation")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--width", type=int, default=128, help="both towers' width")
ap.add_argument("--nodup", type=int, default=0, help="1: no two images with identical attributes in a batch (a test sampler, not OpenCLIP's)")
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--embed", type=int, default=4, help="embedding dimension (the base model's: 4)")
ap.add_argument("--init", default="", help="start from this twin checkpoint (--save) instead of from scratch: fine-tuning")
args = ap.parse_known_args()[0]  # known only: twin_analyse.py imports this module with its own options
# Before torch loads its BLAS, or it takes every core.
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(args.threads)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_twin import Block  # the same pre-LN block as the speed benchmark's twin

torch.set_num_threads(args.threads)
torch.manual_seed(0)
CTX = 16
vocab = [line.rstrip("\n") for line in open(args.vocab)]
ids = {w: i for i, w in enumerate(vocab)}
PAD, SOT, EOT, UNK = 0, 1, 2, 3


def tokenize(caption):
    # The trainer's splitWords for ASCII captions: words and single punctuation marks.
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", caption.lower())
    t = [SOT] + [ids.get(w, UNK) for w in words][: CTX - 2] + [EOT]
    return t + [PAD] * (CTX - len(t))


def load(split):
    d = json.load(open(f"{args.data}/annotations/captions_{split}.json"))
    index = {im["id"]: k for k, im in enumerate(d["images"])}
    pixels = np.stack(
        [np.asarray(Image.open(f"{args.data}/{split}/{im['file_name']}").convert("RGB")) for im in d["images"]]
    )
    caps = [[] for _ in d["images"]]
    for a in d["annotations"]:
        caps[index[a["image_id"]]].append(tokenize(a["caption"]))
    x = torch.tensor(pixels.astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor([c[:5] for c in caps])


class Clip(nn.Module):
    def __init__(self, patch, img=32, w=128, layers=2, heads=4, tw=128, embed=64):
        super().__init__()
        g = img // patch
        self.conv1 = nn.Conv2d(3, w, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.randn(w) * w**-0.5)
        self.vpos = nn.Parameter(torch.randn(g * g + 1, w) * w**-0.5)
        self.ln_pre, self.ln_post = nn.LayerNorm(w), nn.LayerNorm(w)
        self.vblocks = nn.ModuleList([Block(w, heads) for _ in range(layers)])
        self.vproj = nn.Parameter(torch.randn(w, embed) * w**-0.5)
        self.tok = nn.Embedding(len(vocab), tw)
        nn.init.normal_(self.tok.weight, std=0.02)
        self.tpos = nn.Parameter(torch.randn(CTX, tw) * 0.01)
        self.tblocks = nn.ModuleList([Block(tw, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(tw)
        self.tproj = nn.Parameter(torch.randn(tw, embed) * tw**-0.5)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.register_buffer("mask", torch.full((CTX, CTX), float("-inf")).triu(1))

    def image(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        x = self.ln_pre(torch.cat([self.cls.expand(x.shape[0], 1, -1), x], 1) + self.vpos)
        for b in self.vblocks:
            x = b(x)
        return self.ln_post(x[:, 0]) @ self.vproj

    def text(self, t):
        x = self.tok(t) + self.tpos
        for b in self.tblocks:
            x = b(x, self.mask)
        eot = (t == EOT).float().argmax(1)
        return self.ln_final(x[torch.arange(t.shape[0]), eot]) @ self.tproj


def lr_at(step):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.schedule == "const":
        return args.lr
    done = (step - args.warmup) / max(1, args.steps - args.warmup)
    return 0.5 * (1 + math.cos(math.pi * done)) * args.lr


gen = torch.Generator().manual_seed(0)


def crop(x):
    # Random resized crop as one affine resample per image (vectorised: a Python loop over the
    # batch would cost more than the model).
    n = x.shape[0]
    area = args.crop_min + (1 - args.crop_min) * torch.rand(n, generator=gen)
    aspect = torch.exp(math.log(3 / 4) + math.log(16 / 9) * torch.rand(n, generator=gen))
    w, h = torch.sqrt(area * aspect).clamp(max=1), torch.sqrt(area / aspect).clamp(max=1)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = w, h
    theta[:, 0, 2] = (torch.rand(n, generator=gen) * 2 - 1) * (1 - w)
    theta[:, 1, 2] = (torch.rand(n, generator=gen) * 2 - 1) * (1 - h)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", align_corners=False)


def recall(model, x, captions):
    model.eval()
    with torch.no_grad():
        sim = F.normalize(model.image(x), dim=-1) @ F.normalize(model.text(captions), dim=-1).T
    model.train()
    i2t = (sim > sim.diag()[:, None]).sum(1)
    t2i = (sim.T > sim.diag()[:, None]).sum(1)
    return (i2t < 1).float().mean().item(), (i2t < 5).float().mean().item(), (t2i < 1).float().mean().item()


def attribute_keys(split):
    """One key per image: its attributes (images with equal keys are duplicates to the captions)."""
    d = json.load(open(f"{args.data}/annotations/captions_{split}.json"))
    return [json.dumps(im["attributes"], sort_keys=True) for im in d["images"]]


def main():
    t0 = time.time()
    x_train, c_train = load("train")
    combos = attribute_keys("train")
    x_val, c_val = load("val")
    model = Clip(args.patch, w=args.width, layers=args.layers, tw=args.width, embed=args.embed)
    if args.init:
        model.load_state_dict(torch.load(args.init))
    decayed = lambda n, p: p.ndim >= 2 and "ln" not in n and "logit" not in n
    groups = [
        {"params": [p for n, p in model.named_parameters() if decayed(n, p)], "weight_decay": args.wd},
        {"params": [p for n, p in model.named_parameters() if not decayed(n, p)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    n, order, at, smooth = x_train.shape[0], None, 0, None
    labels = torch.arange(args.batch)
    print(json.dumps({"loaded": int(n), "seconds": round(time.time() - t0, 1), "args": vars(args)}), flush=True)
    t0 = time.time()
    for step in range(args.steps):
        if order is None or at + args.batch > n:
            if args.family_batches:  # the generator writes each family's 4 images consecutively
                order = (torch.randperm(n // 4, generator=gen)[:, None] * 4 + torch.arange(4)).flatten()
            else:
                order = torch.randperm(n, generator=gen)
            at = 0
        if args.nodup:  # skip an image whose attributes the batch already holds
            picked, seen = [], set()
            while len(picked) < args.batch:
                if at >= n:
                    order, at = torch.randperm(n, generator=gen), 0
                k = int(order[at])
                at += 1
                if combos[k] not in seen:
                    seen.add(combos[k])
                    picked.append(k)
            idx = torch.tensor(picked)
        else:
            idx = order[at : at + args.batch]
            at += args.batch
        which = torch.randint(0, c_train.shape[1], (args.batch,), generator=gen)
        images = crop(x_train[idx]) if args.crop else x_train[idx]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ie = F.normalize(model.image(images), dim=-1)
        te = F.normalize(model.text(c_train[idx, which]), dim=-1)
        logits = model.logit_scale.exp() * ie @ te.T
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if (step + 1) % args.eval == 0 or step + 1 == args.steps:
            r1, r5, t1 = recall(model, x_val, c_val[:, 0])
            if args.save:
                torch.save(model.state_dict(), f"{args.save}-{step + 1}.pt")
            line = {"step": step + 1, "train_loss": round(smooth, 4), "scale": round(model.logit_scale.exp().item(), 2)}
            line.update({"val_i2t_R@1": r1, "val_i2t_R@5": r5, "val_t2i_R@1": t1})
            line["samples_per_sec"] = round((step + 1) * args.batch / (time.time() - t0))
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
