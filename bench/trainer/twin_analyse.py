"""What holds a pretrained twin's logit scale below the clamp.

For a checkpoint written by pretrain_twin.py (--save; give the same --embed / --width / --layers),
prints three JSON lines:
- `linear_probe`: per caption attribute that varies, a linear probe on the image and on the text
  embeddings (a logistic regression fitted on 4,000 training images, accuracy on the validation
  images): which attributes each tower encodes;
- `geometry`: on 200 random training batches, the cosine of matching pairs and of the rest, and
  the margin between a row's pair and its most similar non-duplicate negative (quantiles). A
  scale s weighs a correctly ordered row's pull upwards by about exp(-s x margin), so small
  margins are what make a large scale pay;
- `scale_optimum`: on the same batches, the share of rows holding a duplicate (another image with
  identical attributes), the mis-ordered non-duplicate pairs by the attributes they differ in, and
  the scale that minimises the contrastive loss for the fixed embeddings: as the batches are, with
  duplicate rows set aside, and with every row holding a mis-ordered pair set aside. The learned
  scale cannot settle above the first figure for long.

Usage: /usr/bin/python3 bench/trainer/twin_analyse.py --data DIR [--embed 4] [--batch 64] --checkpoint CKPT.pt
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pretrain_twin as tw  # parses --data / --patch / --batch / --embed ... from the same command line

ap = argparse.ArgumentParser()
ap.add_argument("--checkpoint", required=True)
mine = ap.parse_known_args()[0]
torch, F = tw.torch, tw.F
TRAIN = 4000
BATCHES = 200
GRID = [10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 85, 100, 130, 160]


def attributes(split, limit):
    d = json.load(open(f"{tw.args.data}/annotations/captions_{split}.json"))
    return [im["attributes"] for im in d["images"][:limit]]


def linear_probe(train_emb, train_y, val_emb, val_y, classes):
    w = torch.zeros(train_emb.shape[1], classes, requires_grad=True)
    b = torch.zeros(classes, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=0.05)
    for _ in range(300):
        loss = F.cross_entropy(train_emb @ w * 10 + b, train_y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ((val_emb @ w * 10 + b).argmax(1) == val_y).float().mean().item()


def batch_loss(batches, scale, keep_row):
    total, rows = 0.0, 0
    for sim, dup, misordered in batches:
        labels = torch.arange(sim.shape[0])
        per_row = (F.cross_entropy(scale * sim, labels, reduction="none") + F.cross_entropy(scale * sim.T, labels, reduction="none")) / 2
        keep = keep_row(dup, misordered)
        total += per_row[keep].sum().item()
        rows += int(keep.sum())
    return total / rows if rows else float("nan")  # an untrained model mis-orders every row


def quantiles(t, qs=(0.01, 0.1, 0.5, 0.9)):
    return {f"q{int(q * 100):02d}": round(t.quantile(q).item(), 3) for q in qs}


def main():
    x_train, c_train = tw.load("train")
    x_val, c_val = tw.load("val")
    x_train, c_train = x_train[:TRAIN], c_train[:TRAIN]
    a = tw.args
    model = tw.Clip(a.patch, w=a.width, layers=a.layers, tw=a.width, embed=a.embed)
    model.load_state_dict(torch.load(mine.checkpoint))
    model.eval()
    a_train, a_val = attributes("train", TRAIN), attributes("val", x_val.shape[0])
    with torch.no_grad():
        img_train, img_val = (F.normalize(model.image(x), dim=-1) for x in (x_train, x_val))
        txt_val = F.normalize(model.text(c_val[:, 0]), dim=-1)
        txt_train = torch.stack([F.normalize(model.text(c_train[:, j]), dim=-1) for j in range(c_train.shape[1])])
    varying = [k for k in a_train[0] if len({im[k] for im in a_train}) > 1]
    probes = {}
    for key in varying:
        values = sorted({im[key] for im in a_train})
        y_train = torch.tensor([values.index(im[key]) for im in a_train])
        y_val = torch.tensor([values.index(im[key]) for im in a_val])
        probes[key] = {
            "image": round(linear_probe(img_train, y_train, img_val, y_val, len(values)), 3),
            "text": round(linear_probe(txt_train[0], y_train, txt_val, y_val, len(values)), 3),
            "chance": round(1 / len(values), 3),
        }
    print(json.dumps({"linear_probe": probes}), flush=True)

    gen = torch.Generator().manual_seed(1)
    batches, errors, positives, negatives, margins = [], {}, [], [], []
    for _ in range(BATCHES):
        idx = torch.randperm(TRAIN, generator=gen)[: a.batch]
        which = torch.randint(0, txt_train.shape[0], (a.batch,), generator=gen)
        sim = img_train[idx] @ txt_train[which, idx].T
        attrs = [a_train[i] for i in idx.tolist()]
        same = torch.tensor([[p == q for q in attrs] for p in attrs])
        dup = (same & ~torch.eye(a.batch, dtype=torch.bool)).any(1)
        pos = sim.diag()
        # Mis-ordered: a non-duplicate caption (i2t) or image (t2i) at least as close as the pair.
        wrong = ~same & ((sim >= pos[:, None]) | (sim >= pos[None, :]))
        for i, j in wrong.nonzero().tolist():
            diff = "+".join(k for k in varying if attrs[i][k] != attrs[j][k])
            errors[diff] = errors.get(diff, 0) + 1
        misordered = wrong.any(1) | wrong.any(0)
        hardest = sim.masked_fill(same, -2).max(1).values
        positives.append(pos)
        negatives.append(sim[~same])
        margins.append(pos - hardest)
        batches.append((sim, dup, misordered))
    pos, neg, margin = torch.cat(positives), torch.cat(negatives), torch.cat(margins)
    print(json.dumps({"geometry": {
        "pair_cosine_mean": round(pos.mean().item(), 3),
        "other_cosine_mean": round(neg.mean().item(), 3),
        "other_cosine_sd": round(neg.std().item(), 3),
        "hardest_negative_margin": quantiles(margin),
    }}), flush=True)

    rows = BATCHES * a.batch
    result = {
        "batch": a.batch,
        "rows_with_duplicate": round(sum(int(d.sum()) for _, d, _ in batches) / rows, 4),
        "rows_with_misordered_pair": round(sum(int(m.sum()) for _, _, m in batches) / rows, 4),
        "misordered_pairs_by_difference": dict(sorted(errors.items(), key=lambda t: -t[1])),
    }
    views = {
        "as_is": lambda dup, mis: torch.ones_like(dup),
        "duplicate_rows_aside": lambda dup, mis: ~dup,
        "misordered_rows_aside": lambda dup, mis: ~mis,
    }
    for name, keep in views.items():
        loss, scale = min((batch_loss(batches, s, keep), s) for s in GRID)
        result[name] = {"best_scale": scale, "loss": round(loss, 4), "loss_at_100": round(batch_loss(batches, 100, keep), 4)}
    print(json.dumps({"scale_optimum": result}), flush=True)


if __name__ == "__main__":
    main()
