#!/usr/bin/env python3
"""Session 14's yardstick: the mini-model decoding greedily in PyTorch, against the GPU engine.

The same model (finale/mini/train/model.py's weights, loaded from the weights file), decoded one
byte at a time from a cache, as a PyTorch user would write it: the absorbed MLA over a latent
cache held in fixed-size buffers (so that every step has the same shapes), the routed experts
picked by indexing their stacked weights, BF16 weights and activations. Timed eagerly and under
torch.compile(mode="reduce-overhead") (CUDA graphs), then `mini-gpu` (the engine on the
solutions' kernels, built here if missing) on the same prompt in the same run, and `mini-gpu
--scaled` (the same architecture with 5 to 9 GB of random weights, at DeepSeek-V3's layer widths
and at a smaller one: tokens/s against a device copy). `make bench` runs it after session 14's check; it prints a Markdown table and, with
--out, writes torch_mini.jsonl and torch_mini.md there.

    python3 finale/14-deepseek/bench_torch_mini.py [--out DIR] [--tokens N] [--prompt TEXT]
    python3 finale/14-deepseek/bench_torch_mini.py --check-cpu    the decoder in float32 on the CPU
                                                                   against the golden file's bytes

Without PyTorch, or without a CUDA GPU (except for --check-cpu), it says so in one line and
exits 0: the bench goes on.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEIGHTS = os.path.join(ROOT, "finale", "mini", "weights", "mini.bin")
GOLDEN = os.path.join(ROOT, "finale", "mini", "weights", "golden.txt")


def build_decoder(torch, model, dtype, device):
    """A cached greedy decoder over `model`'s weights: decoder(token, pos) -> next token.

    token: LongTensor [1]; pos: a 0-d LongTensor, the token's position. Both stay on the device, so
    that the step has no host-side value in it and a CUDA graph of it replays at any position.
    """
    import torch.nn.functional as F

    sys.path.insert(0, os.path.join(ROOT, "finale", "mini", "train"))
    from model import rmsnorm  # the float32 RMSNorm the model trains with

    cfg = model.cfg
    H, dn, dr, dv, dl = cfg.n_heads, cfg.d_nope, cfg.d_rope, cfg.d_v, cfg.d_latent
    eps, scale = cfg.norm_eps, 1.0 / (dn + dr) ** 0.5

    def w(t):  # a weight matrix in the compute type
        return t.detach().to(device=device, dtype=dtype).contiguous()

    def g(t):  # a norm gain or the router, float32
        return t.detach().to(device=device, dtype=torch.float32).contiguous()

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lm_head, self.final_norm = w(model.embed), w(model.lm_head), g(model.final_norm)
            self.layers = []
            for b in model.layers:
                a, m = b.attn, b.moe
                self.layers.append(dict(
                    attn_norm=g(b.attn_norm), ffn_norm=g(b.ffn_norm), wq=w(a.wq), wkv_a=w(a.wkv_a),
                    kv_norm=g(a.kv_norm), wk_rope=w(a.wk_rope), wk_b=w(a.wk_b).view(H, dn, dl),
                    wv_b=w(a.wv_b).view(H, dv, dl), wo=w(a.wo), router=g(m.router), bias=g(m.bias),
                    sh_w1=w(m.shared_w1), sh_w2=w(m.shared_w2), sh_w3=w(m.shared_w3),
                    e_w1=w(m.experts_w1), e_w2=w(m.experts_w2), e_w3=w(m.experts_w3)))
            # The latent cache: one row (latent, RoPE key) per position, every layer.
            self.register_buffer("cache_c", torch.zeros(cfg.n_layers, cfg.max_seq, dl, dtype=dtype, device=device))
            self.register_buffer("cache_kr", torch.zeros(cfg.n_layers, cfg.max_seq, dr, dtype=dtype, device=device))
            self.register_buffer("cos", model.rope_cos.to(device))
            self.register_buffer("sin", model.rope_sin.to(device))
            self.register_buffer("steps", torch.arange(cfg.max_seq, device=device))

        @staticmethod
        def rope(x, cos, sin):  # consecutive pairs turned in float32 (MODEL.md)
            x0, x1 = x[..., 0::2].float(), x[..., 1::2].float()
            return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)

        def forward(self, token, pos):
            x = self.embed[token].float()                                            # [1][D]
            # index_select, not self.cos[pos]: indexing by a tensor's value is data-dependent to
            # torch.compile; this keeps the step one graph at every position
            cos, sin = self.cos.index_select(0, pos.view(1)), self.sin.index_select(0, pos.view(1))
            visible = self.steps <= pos                                              # [max_seq]
            for i, L in enumerate(self.layers):
                a = rmsnorm(x, L["attn_norm"], eps).to(dtype)
                q = F.linear(a, L["wq"]).view(H, dn + dr)
                c = rmsnorm(F.linear(a, L["wkv_a"]), L["kv_norm"], eps).to(dtype)    # [1][dl]
                kr = self.rope(F.linear(a, L["wk_rope"]), cos, sin).to(dtype)        # [1][dr]
                self.cache_c[i].index_copy_(0, pos.view(1), c)
                self.cache_kr[i].index_copy_(0, pos.view(1), kr)
                q_lat = torch.einsum("hn,hnl->hl", q[:, :dn], L["wk_b"])               # [H][dl]
                q_rope = self.rope(q[:, dn:], cos, sin).to(dtype)                     # [H][dr]
                s = (q_lat.float() @ self.cache_c[i].float().T + q_rope.float() @ self.cache_kr[i].float().T) * scale
                p = torch.softmax(s.masked_fill(~visible, float("-inf")), dim=-1)    # [H][max_seq]
                o_lat = (p.to(dtype) @ self.cache_c[i])                              # [H][dl]
                o = torch.einsum("hl,hvl->hv", o_lat, L["wv_b"]).reshape(1, H * dv)
                x = x + F.linear(o, L["wo"]).float()
                a = rmsnorm(x, L["ffn_norm"], eps).to(dtype)
                score = torch.sigmoid(F.linear(a.float(), L["router"]))[0]            # [E]
                # top_k by score + bias, ties to the lower expert: a stable descending sort
                chosen = torch.sort(score + L["bias"], descending=True, stable=True).indices[: cfg.top_k]
                gate = score[chosen] / score[chosen].sum()
                shared = F.linear(F.silu(F.linear(a, L["sh_w1"])) * F.linear(a, L["sh_w3"]), L["sh_w2"])
                h = F.silu(L["e_w1"][chosen] @ a[0]) * (L["e_w3"][chosen] @ a[0])       # [k][d_expert]
                y = torch.bmm(L["e_w2"][chosen], h.unsqueeze(-1)).squeeze(-1)          # [k][D]
                x = x + shared.float() + (gate[:, None] * y.float()).sum(0, keepdim=True)
            logits = F.linear(rmsnorm(x, self.final_norm, eps).to(dtype), self.lm_head).float()
            return torch.argmax(logits, dim=-1)                                        # [1], the first maximum

    return Decoder()


def generate(torch, step, prompt, n_new, device):
    """Greedy: the prompt one position at a time, then n_new tokens. Returns (bytes, decode seconds)."""
    token = torch.tensor([prompt[0]], device=device)
    positions = torch.arange(len(prompt) + n_new, device=device)  # positions[p] is a view: no copy a step
    out = []
    start = None
    for p in range(len(prompt) - 1 + n_new):
        if p == len(prompt) - 1:
            if device != "cpu":
                torch.cuda.synchronize()
            start = time.perf_counter()
        nxt = step(token, positions[p])
        if p + 1 < len(prompt):
            token = torch.tensor([prompt[p + 1]], device=device)
        else:
            token = nxt.clone()
            out.append(token)
    if device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return bytes(int(t.item()) for t in out), seconds


def golden_greedy():
    """The golden file's prompt and its BF16-experts greedy bytes."""
    prompt = greedy = None
    section = None
    with open(GOLDEN) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if parts[0] == "prompt_hex":
                prompt = bytes.fromhex(parts[1])
            elif parts[0] == "section":
                section = parts[1]
            elif parts[0] == "greedy_hex" and section == "bf16":
                greedy = bytes.fromhex(parts[1])
    return prompt, greedy


def check_cpu(torch):
    """The decoder in float32 on the CPU must give the golden greedy bytes (the C engine's too)."""
    sys.path.insert(0, os.path.join(ROOT, "finale", "mini", "train"))
    from export import load_model
    model, _ = load_model(WEIGHTS, experts="bf16")
    prompt, want = golden_greedy()
    dec = build_decoder(torch, model, torch.float32, "cpu")
    with torch.no_grad():
        got, _ = generate(torch, dec, prompt, len(want), "cpu")
    same = next((i for i in range(len(want)) if got[i] != want[i]), len(want))
    print(f"bench_torch_mini --check-cpu: {same} of {len(want)} golden greedy bytes reproduced")
    return 0 if same == len(want) else 1


def engine_tokens_per_s(prompt, n_new):
    """`mini-gpu` on the solutions' kernels, same prompt: its greedy tokens/s and text, or (None, why)."""
    arch = subprocess.run(["make", "--no-print-directory", "-s", "print-ARCH"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    exe = os.path.join(ROOT, "build", arch, "solution", "mini-gpu")
    built = subprocess.run(["make", "--no-print-directory", "-s", "SOLUTION=1", f"build/{arch}/solution/mini-gpu"],
                           cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0 or not os.path.exists(exe):
        return None, "mini-gpu did not build"
    run = subprocess.run([exe, "--prompt", prompt.decode(), "--tokens", str(n_new)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    m = re.search(r"greedy, batch 1, on the GPU: .*: (\d+) tokens/s", run.stdout)
    if run.returncode != 0 or not m:
        return None, (run.stderr.strip().splitlines() or ["mini-gpu failed"])[-1]
    return float(m.group(1)), None


def engine_scaled(n_new=64, ep=0):
    """`mini-gpu --scaled [--ep N]`: the lines it prints about the scaled configuration (with N GPUs:
    expert-parallel and one-GPU tokens/s, and whether their tokens agree), or why there are none."""
    arch = subprocess.run(["make", "--no-print-directory", "-s", "print-ARCH"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    exe = os.path.join(ROOT, "build", arch, "solution", "mini-gpu")
    what = "mini-gpu --scaled" + (f" --ep {ep}" if ep else "")
    if not os.path.exists(exe):
        return [what + ": mini-gpu did not build"]
    run = subprocess.run([exe, "--scaled", "--tokens", str(n_new)] + (["--ep", str(ep)] if ep else []), cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        return [what + ": " + ((run.stdout + run.stderr).strip().splitlines() or ["failed"])[-1]]
    keep = ("expert parallelism", "one GPU") if ep else ("scaled", "greedy", "fingerprint")
    return [line for line in run.stdout.splitlines() if line.startswith(keep)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="directory for torch_mini.jsonl and torch_mini.md (default: print only)")
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--prompt", default="Once upon a time")
    ap.add_argument("--check-cpu", action="store_true")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("bench_torch_mini: python3 has no PyTorch; the PyTorch comparison is skipped")
        return 0
    if args.check_cpu:
        return check_cpu(torch)
    if not torch.cuda.is_available():
        print("bench_torch_mini: PyTorch sees no CUDA GPU; the PyTorch comparison is skipped")
        return 0
    sys.path.insert(0, os.path.join(ROOT, "finale", "mini", "train"))
    from export import load_model
    model, _ = load_model(WEIGHTS, experts="bf16")
    prompt = args.prompt.encode()
    rows = []
    with torch.no_grad():
        dec = build_decoder(torch, model, torch.bfloat16, "cuda")
        text, sec = generate(torch, dec, prompt, args.tokens, "cuda")
        rows.append(("PyTorch eager, BF16", args.tokens / sec))
        if hasattr(torch, "compile"):
            compiled = torch.compile(dec, mode="reduce-overhead", fullgraph=True)
            generate(torch, compiled, prompt, 8, "cuda")  # compile and record the graphs first
            text_c, sec = generate(torch, compiled, prompt, args.tokens, "cuda")
            rows.append(('PyTorch torch.compile(mode="reduce-overhead"), BF16', args.tokens / sec))
        else:
            print("bench_torch_mini: this PyTorch has no torch.compile; that row is skipped")
    tps, why = engine_tokens_per_s(prompt, args.tokens)
    gpu = torch.cuda.get_device_name(0)
    lines = [f"PyTorch {torch.__version__} and mini-gpu on {gpu}: greedy, batch 1, {args.tokens} tokens after "
             f"\"{args.prompt}\" (decode only)", "", "| decoder | tokens/s | mini-gpu's speed over it |", "|---|---|---|"]
    for name, v in rows:
        lines.append(f"| {name} | {v:.0f} | {tps / v:.2f}x |" if tps else f"| {name} | {v:.0f} | - |")
    lines.append(f"| mini-gpu (the course's kernels, CUDA graphs) | {tps:.0f} | 1.00x |" if tps
                 else f"| mini-gpu | - ({why}) | - |")
    lines += ["", "The scaled configuration (`mini-gpu --scaled`), same run:", ""]
    lines += ["    " + line for line in engine_scaled()]
    gpus = min(torch.cuda.device_count(), 8)
    lines += ["", "Its routed experts over the GPUs of this machine (`mini-gpu --scaled --ep N`, one process a GPU), "
              "same run:", ""]
    lines += ["    " + line for line in (engine_scaled(ep=gpus) if gpus >= 2 else
                                         ["one GPU here: expert parallelism is measured where there are two or more"])]
    print("\n".join(lines))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "torch_mini.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(args.out, "torch_mini.jsonl"), "w") as f:
            for name, v in rows + [("mini-gpu", tps)]:
                f.write(json.dumps({"gpu": gpu, "decoder": name, "tokens": args.tokens, "tokens_per_s": v}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
