import sys, os, json
sys.argv += []
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import pretrain_twin as tw
torch, F = tw.torch, tw.F
ck = os.environ['CK']
x, c = tw.load('train')
d = json.load(open(f"{tw.args.data}/annotations/captions_train.json"))
attrs = [im['attributes'] for im in d['images']]
capt = {}
for a in d['annotations']: capt.setdefault(a['image_id'], []).append(a['caption'])
ids = [im['id'] for im in d['images']]
m = tw.Clip(tw.args.patch); m.load_state_dict(torch.load(ck)); m.eval()
s = m.logit_scale.exp().item()
N = 6400
BS = int(os.environ.get("BS", "64"))
g = torch.Generator().manual_seed(1)
with torch.no_grad():
    which = torch.randint(0, 5, (N,), generator=g)
    perm = torch.randperm(x.shape[0], generator=g)[:N]
    ie = F.normalize(m.image(tw.crop(x[perm])), dim=-1)
    te = F.normalize(m.text(c[perm, which]), dim=-1)
    attrs = [attrs[int(k)] for k in perm]
    ids = [ids[int(k)] for k in perm]
key = lambda a: (a['color'], a['size'], a['position'], a['background'], a['shape'], a.get('frame'))
bad = {}
tot = 0; nrows = 0
for b in range(0, N, BS):
    sim = ie[b:b+BS] @ te[b:b+BS].T
    for i in range(BS):
        for j in range(BS):
            if i == j or key(attrs[b+i]) == key(attrs[b+j]): continue
            nrows += 1
            if sim[i, j] >= sim[i, i] - 0.0:
                diff = tuple(k for k in ('color','size','position','background','shape','frame') if attrs[b+i][k] != attrs[b+j][k])
                bad[diff] = bad.get(diff, 0) + 1
                if bad[diff] <= 12:
                    print('i2t miss', diff, '| img', key(attrs[b+i]), '| cap', repr(capt[ids[b+i]][which[b+i]]), '| other', repr(capt[ids[b+j]][which[b+j]]), round((sim[i,j]-sim[i,i]).item(),3))
print('scale', s, 'pairs', nrows, 'misordered', sorted(bad.items(), key=lambda t: -t[1])[:12])
# Loss-optimal scale over these batches: all rows, and rows without a misordered pair removed.
import math
def isdup(b, i):
    return any(j != i and key(attrs[b+i]) == key(attrs[b+j]) for j in range(BS))
def best(excl, dups_only=False):
    out = []
    for s_ in [20,30,40,50,60,80,100,150]:
        L = 0; n = 0
        for b in range(0, N, BS):
            sim = ie[b:b+BS] @ te[b:b+BS].T
            l1 = F.cross_entropy(s_*sim, torch.arange(BS), reduction='none')
            l2 = F.cross_entropy(s_*sim.T, torch.arange(BS), reduction='none')
            keep = torch.ones(BS, dtype=torch.bool)
            if dups_only:
                for i in range(BS):
                    if isdup(b, i): keep[i] = False
            elif excl:
                for i in range(BS):
                    row = sim[i] >= sim[i, i]; row[i] = False
                    col = sim[:, i] >= sim[i, i]; col[i] = False
                    if row.any() or col.any(): keep[i] = False
            L += ((l1 + l2)[keep] / 2).sum().item(); n += keep.sum().item()
        out.append((s_, round(L / n, 5)))
    return out
print('all rows', best(False))
print('dup rows removed', best(False, True))
print('error rows removed', best(True))
print('dup rows', sum(isdup(b, i) for b in range(0, N, BS) for i in range(BS)) / N)
