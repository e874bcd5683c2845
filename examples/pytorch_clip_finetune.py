"""A small CLIP-style fine-tuning script in PyTorch, swept by clipsweep (sweeps/pytorch-example.yaml).

It shows what any PyTorch trainer needs to be swept: read the run's parameters, write metrics with
clipsweep_metrics (on the PYTHONPATH clipsweep gives its children), save and resume checkpoints in
SWEEP_CHECKPOINT_DIR. The data are synthetic paired "images" and "captions" (no download), so the
script runs anywhere torch does; swap in your own data loaders for real COCO.

The training follows OpenCLIP where it matters: a learnable logit scale initialised to ln(1/0.07)
and clamped to ln(100), the symmetric contrastive loss, AdamW (0.9, 0.98, 1e-6) without weight
decay on biases, norms and the scale, linear warmup then cosine decay.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

import clipsweep_metrics as cs

KNOWN = {"lr", "batch_size", "warmup", "epochs", "weight_decay", "seed", "train_size", "val_size", "eval_every", "log_every", "width"}


def read_params():
    p = {"lr": 1e-3, "batch_size": 32, "warmup": 20, "epochs": 4, "weight_decay": 0.1, "seed": 0,
         "train_size": 512, "val_size": 128, "eval_every": 16, "log_every": 4, "width": 64}
    given = cs.params()
    unknown = sorted(set(given) - KNOWN)
    if unknown:
        print(f"unknown parameter(s): {', '.join(unknown)}", file=sys.stderr)
        sys.exit(2)
    p.update(given)
    return p


def make_data(n, seed, dim_img=48, vocab=40, length=6):
    """Pairs that share a latent concept: images are noisy projections, captions its tokens."""
    g = torch.Generator().manual_seed(seed)
    concepts = torch.randint(0, vocab, (n, length), generator=g)
    proj = torch.randn(vocab, dim_img, generator=torch.Generator().manual_seed(1234))
    images = proj[concepts].mean(1) + 0.3 * torch.randn(n, dim_img, generator=g)
    return images, concepts


class TinyClip(torch.nn.Module):
    def __init__(self, dim_img=48, vocab=40, width=64, embed=32):
        super().__init__()
        self.image = torch.nn.Sequential(torch.nn.Linear(dim_img, width), torch.nn.LayerNorm(width), torch.nn.GELU(), torch.nn.Linear(width, embed))
        self.token = torch.nn.Embedding(vocab, width)
        self.text = torch.nn.Sequential(torch.nn.LayerNorm(width), torch.nn.GELU(), torch.nn.Linear(width, embed))
        self.logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, images, tokens):
        i = F.normalize(self.image(images), dim=-1)
        t = F.normalize(self.text(self.token(tokens).mean(1)), dim=-1)
        return i, t


def contrastive(i, t, scale):
    logits = scale.exp() * i @ t.T
    target = torch.arange(len(i), device=i.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def lr_at(step, base, warmup, total):
    if step < warmup:
        return base * (step + 1) / warmup
    e, es = step - warmup, max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * e / es)) * base


@torch.no_grad()
def evaluate(model, images, tokens, eval_batch=64):
    i, t = model(images, tokens)
    loss = sum(contrastive(i[k:k + eval_batch], t[k:k + eval_batch], model.logit_scale).item() * len(i[k:k + eval_batch]) for k in range(0, len(i), eval_batch)) / len(i)
    sims = i @ t.T
    out = {"loss": loss}
    for name, s in (("i2t", sims), ("t2i", sims.T)):
        ranks = (s > s.diag().unsqueeze(1)).sum(1)
        for k in (1, 5, 10):
            out[f"{name}_R@{k}"] = (ranks < k).float().mean().item()
        out[f"{name}_mean_rank"] = ranks.float().mean().item() + 1
    return out


def main():
    p = read_params()
    torch.manual_seed(p["seed"])
    torch.set_num_threads(1)
    # The GPU clipsweep gave this run (CUDA_VISIBLE_DEVICES), if any; the CPU otherwise.
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_x, train_t = (x.to(device) for x in make_data(p["train_size"], 1 + p["seed"]))
    val_x, val_t = (x.to(device) for x in make_data(p["val_size"], 10_000))
    model = TinyClip(width=p["width"]).to(device)
    decay = [q for n, q in model.named_parameters() if q.ndim >= 2]
    no_decay = [q for n, q in model.named_parameters() if q.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": p["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=p["lr"], betas=(0.9, 0.98), eps=1e-6)
    per_epoch = p["train_size"] // p["batch_size"]
    total = per_epoch * p["epochs"]
    warmup = p["warmup"]
    if isinstance(warmup, str) and warmup.endswith("%"):
        warmup = int(total * float(warmup[:-1]) / 100)

    ckpt = os.path.join(cs.checkpoint_dir() or ".", "last.pt")
    start = 0
    if cs.checkpoint_dir() and os.path.exists(ckpt):
        state = torch.load(ckpt, map_location=device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["step"] + 1
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    cs.started(total, resumed_from_step=start or None, framework=f"torch {torch.__version__}", device=where,
               cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))

    g = torch.Generator().manual_seed(p["seed"])
    order = torch.cat([torch.randperm(p["train_size"], generator=g) for _ in range(p["epochs"])]).to(device)
    for step in range(start, total):
        lr = lr_at(step, p["lr"], warmup, total)
        for group in opt.param_groups:
            group["lr"] = lr
        idx = order[step * p["batch_size"]:(step + 1) * p["batch_size"]]
        i, t = model(train_x[idx], train_t[idx])
        loss = contrastive(i, t, model.logit_scale)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % p["log_every"] == 0 or step == total - 1:
            cs.log(step, {"train/loss": loss, "lr": lr, "logit_scale": model.logit_scale.exp()}, epoch=step / per_epoch)
        if (step + 1) % p["eval_every"] == 0 or step == total - 1:
            val = evaluate(model, val_x, val_t)
            train_eval = evaluate(model, train_x[:p["val_size"]], train_t[:p["val_size"]])
            metrics = {f"val/{k}": v for k, v in val.items()}
            metrics.update({f"train_eval/{k}": v for k, v in train_eval.items()})
            cs.log(step, metrics, epoch=(step + 1) / per_epoch)
            if cs.checkpoint_dir():
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt + ".tmp")
                os.replace(ckpt + ".tmp", ckpt)
                cs.checkpoint(step, ckpt)
    cs.finished({"steps": total})


if __name__ == "__main__":
    main()
