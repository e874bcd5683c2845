"""Loads the TF.js model's weights and batch written by twin-check.ts into the PyTorch twin
(torch_twin.py's Clip) and compares the loss and gradients. Exit code 1 on a mismatch."""
import json, math, os, sys
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch
path = sys.argv[1]
import importlib.util
spec = importlib.util.spec_from_file_location("twin", os.path.join(os.path.dirname(__file__), "torch_twin.py"))
twin = importlib.util.module_from_spec(spec); spec.loader.exec_module(twin)
torch.set_default_dtype(torch.float64)
d = json.load(open(path))
c = d["config"]
T = lambda name: torch.tensor(d["params"][name]["data"], dtype=torch.float64).reshape(d["params"][name]["shape"])
m = twin.Clip().double()
p, w = c["patchSize"], c["width"]
sd = {}
# patch.w [(py*p+px)*3+c, out] -> conv [out, c, py, px]
sd["conv1.weight"] = T("visual.patch.w").reshape(p, p, 3, w).permute(3, 2, 0, 1)
sd["class_embedding"], sd["vpos"] = T("visual.class"), T("visual.pos")
sd["ln_pre.weight"], sd["ln_pre.bias"] = T("visual.ln_pre.g"), T("visual.ln_pre.b")
sd["ln_post.weight"], sd["ln_post.bias"] = T("visual.ln_post.g"), T("visual.ln_post.b")
sd["vproj"], sd["tproj"] = T("visual.proj"), T("text.proj")
sd["token_embedding.weight"], sd["tpos"] = T("text.token"), T("text.pos")
sd["ln_final.weight"], sd["ln_final.bias"] = T("text.ln_final.g"), T("text.ln_final.b")
sd["logit_scale"] = T("logit_scale")
for tower, mod, layers in (("visual", "vblocks", c["layers"]), ("text", "tblocks", c["textLayers"])):
    for l in range(layers):
        q = f"{tower}.blocks.{l}."
        k = f"{mod}.{l}."
        sd[k + "ln_1.weight"], sd[k + "ln_1.bias"] = T(q + "ln1.g"), T(q + "ln1.b")
        sd[k + "ln_2.weight"], sd[k + "ln_2.bias"] = T(q + "ln2.g"), T(q + "ln2.b")
        sd[k + "attn.in_proj_weight"], sd[k + "attn.in_proj_bias"] = T(q + "attn.qkv.w").t(), T(q + "attn.qkv.b")
        sd[k + "attn.out_proj.weight"], sd[k + "attn.out_proj.bias"] = T(q + "attn.out.w").t(), T(q + "attn.out.b")
        sd[k + "mlp.0.weight"], sd[k + "mlp.0.bias"] = T(q + "mlp.fc.w").t(), T(q + "mlp.fc.b")
        sd[k + "mlp.2.weight"], sd[k + "mlp.2.bias"] = T(q + "mlp.proj.w").t(), T(q + "mlp.proj.b")
sd["mask"] = m.mask
missing = set(m.state_dict()) - set(sd)
assert not missing, missing
m.load_state_dict({k: v.contiguous() for k, v in sd.items()})
n = d["n"]; s = c["imageSize"]; ctx = c["contextLength"]
images = torch.tensor(d["images"], dtype=torch.float64).reshape(n, s, s, 3).permute(0, 3, 1, 2)
tokens = torch.tensor(d["tokens"]).reshape(n, ctx)
eot = torch.tensor(d["eot"])
# The twin pools at argmax (CLIP's BPE puts EOT last in the vocabulary); here the EOT id is 2.
def text(t):
    x = m.token_embedding(t) + m.tpos
    for b in m.tblocks: x = b(x, m.mask)
    return m.ln_final(x[torch.arange(n), eot]) @ m.tproj
import torch.nn.functional as F
a = F.normalize(m.image(images), dim=-1); b = F.normalize(text(tokens), dim=-1)
logits = m.logit_scale.exp() * a @ b.t(); labels = torch.arange(n)
loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
loss.backward()
ok = True
def check(name, got, want, tol):
    global ok
    err = (got - want).abs().max().item() / (want.abs().max().item() + 1e-12)
    flag = "ok" if err < tol else "MISMATCH"; ok &= err < tol
    print(f"{name:32s} max rel err {err:.2e} {flag}")
check("loss", torch.tensor(d["loss"]), loss.detach(), 1e-4)
G = lambda name: torch.tensor(d["grads"][name]["data"], dtype=torch.float64).reshape(d["grads"][name]["shape"])
check("grad visual.patch.w", G("visual.patch.w"), m.conv1.weight.grad.permute(2, 3, 1, 0).reshape(p * p * 3, w), 1e-3)
check("grad visual.blocks.1.attn.qkv.w", G("visual.blocks.1.attn.qkv.w"), m.vblocks[1].attn.in_proj_weight.grad.t(), 1e-3)
check("grad text.token", G("text.token"), m.token_embedding.weight.grad, 1e-3)
check("grad text.blocks.0.mlp.fc.w", G("text.blocks.0.mlp.fc.w"), m.tblocks[0].mlp[0].weight.grad.t(), 1e-3)
check("grad logit_scale", G("logit_scale"), m.logit_scale.grad, 1e-3)
sys.exit(0 if ok else 1)
