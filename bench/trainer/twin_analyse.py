"""What holds a pretrained twin's logit scale below the clamp.

For a checkpoint written by pretrain_twin.py (--save), prints:
- a linear probe per caption attribute on the image and on the text embeddings (accuracy on the
  validation images, a logistic regression fitted on 4,000 training images): which attributes
  each tower encodes;
- the scale that minimises the contrastive loss for the checkpoint's fixed embeddings, on random
  training batches: as the batches are, and with shape-only confusers (another image in the batch
  with the same colour, size, position and background) masked out. The learned scale cannot
  settle above the first figure; the second says what learning shape would allow.

Usage: /usr/bin/python3 bench/trainer/twin_analyse.py --data DIR [--patch 8] [--batch 64] --checkpoint CKPT.pt
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pretrain_twin as tw  # parses --data / --patch / --batch from the same command line

ap = argparse.ArgumentParser()
ap.add_argument("--checkpoint", required=True)
mine = ap.parse_known_args()[0]
torch, F = tw.torch, tw.F
ATTRIBUTES = ["shape", "color", "size", "position", "background"]
TRAIN = 4000


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


def batch_loss(batches, scale, masked):
    total = 0.0
    for sim, confuser in batches:
        logits = scale * sim
        if masked:
            logits = logits.masked_fill(confuser, -1e9)
        labels = torch.arange(sim.shape[0])
        total += (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)).item() / 2
    return total / len(batches)


def main():
    x_train, c_train = tw.load("train")
    x_val, c_val = tw.load("val")
    x_train, c_train = x_train[:TRAIN], c_train[:TRAIN]
    model = tw.Clip(tw.args.patch)
    model.load_state_dict(torch.load(mine.checkpoint))
    model.eval()
    a_train, a_val = attributes("train", TRAIN), attributes("val", x_val.shape[0])
    with torch.no_grad():
        img_train, img_val = (F.normalize(model.image(x), dim=-1) for x in (x_train, x_val))
        txt_val = F.normalize(model.text(c_val[:, 0]), dim=-1)
        txt_train = torch.stack([F.normalize(model.text(c_train[:, j]), dim=-1) for j in range(c_train.shape[1])])
    probes = {}
    for key in ATTRIBUTES:
        values = sorted({a[key] for a in a_train})
        y_train = torch.tensor([values.index(a[key]) for a in a_train])
        y_val = torch.tensor([values.index(a[key]) for a in a_val])
        probes[key] = {
            "image": round(linear_probe(img_train, y_train, img_val, y_val, len(values)), 3),
            "text": round(linear_probe(txt_train[0], y_train, txt_val, y_val, len(values)), 3),
            "chance": round(1 / len(values), 3),
        }
    print(json.dumps({"linear_probe": probes}), flush=True)

    others = lambda a: (a["color"], a["size"], a["position"], a["background"])
    gen = torch.Generator().manual_seed(1)
    batches, rows_with_confuser = [], 0
    for _ in range(200):
        idx = torch.randperm(TRAIN, generator=gen)[: tw.args.batch]
        which = torch.randint(0, txt_train.shape[0], (tw.args.batch,), generator=gen)
        sim = img_train[idx] @ txt_train[which, idx].T
        ids = idx.tolist()
        confuser = torch.tensor([[a != b and others(a_train[a]) == others(a_train[b]) for b in ids] for a in ids])
        rows_with_confuser += confuser.any(1).sum().item()
        batches.append((sim, confuser))
    grid = [10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 85, 100, 130, 160]
    result = {"batch": tw.args.batch, "rows_with_shape_only_confuser": round(rows_with_confuser / (200 * tw.args.batch), 3)}
    for masked in (False, True):
        loss, scale = min((batch_loss(batches, s, masked), s) for s in grid)
        name = "confusers_masked" if masked else "as_is"
        result[name] = {"best_scale": scale, "loss": round(loss, 4), "loss_at_100": round(batch_loss(batches, 100, masked), 4)}
    print(json.dumps({"scale_optimum": result}), flush=True)


if __name__ == "__main__":
    main()
