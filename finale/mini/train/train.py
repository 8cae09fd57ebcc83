#!/usr/bin/env python3
"""Train the mini-model (finale/mini/MODEL.md) on the fortunes corpus, then export it.

On the GPU machine (one H100, PyTorch 2.x, no network), after `make mini-corpus` here:

    python3 finale/mini/train/train.py --corpus build/corpus --out $OUT/mini.bin \\
        --golden-out $OUT/golden.txt --time-budget 420

Local smoke test (CPU, PyTorch 1.13 is enough, about a minute):

    python3 finale/mini/train/train.py --device cpu --tiny --time-budget 60 \\
        --corpus build/corpus --out build/mini-smoke/tiny.bin

What it does:
  1. reads train.txt (less its last 2%, kept aside to pick the best checkpoint) and heldout.txt
  2. trains until --time-budget seconds after it started, less a reserve for step 3:
     random windows of --seq+1 bytes, loss = next-byte loss + --mtp-weight * MTP loss,
     AdamW, linear warm-up then cosine decay over the time budget (the clock, not a step count),
     and after every step the aux-loss-free nudge of each MoE layer's routing bias
  3. exports the best checkpoint with export.py (BF16 + FP8 experts), reads the file back,
     and measures on heldout.txt, with the file's own rounded weights in float32:
     bits per byte of the main head, and the MTP draft's top-1 accuracy
  4. writes the golden values (export.py's format) and a log (--log, default beside --out)
On CUDA it trains under bf16 autocast with float32 master weights.
"""

import argparse
import copy
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402
from model import Config, MiniModel, tiny_config  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--corpus", default="build/corpus", help="folder with train.txt and heldout.txt")
    ap.add_argument("--out", default="build/mini/mini.bin", help="the weights file to write")
    ap.add_argument("--golden-out", help="golden values file (default: golden.txt beside --out)")
    ap.add_argument("--log", help="log file (default: train.log beside --out)")
    ap.add_argument("--time-budget", type=float, default=420, help="seconds from start to finish")
    ap.add_argument("--device", default="auto", help="cuda, cpu or auto (cuda if there is one)")
    ap.add_argument("--tiny", action="store_true", help="the small smoke-test model and batch")
    ap.add_argument("--batch", type=int, help="windows per step (default 128; 8 with --tiny)")
    ap.add_argument("--seq", type=int, help="bytes per window (default 512; 128 with --tiny)")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    ap.add_argument("--warmup", type=float, default=0.03, help="warm-up, fraction of the budget")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--mtp-weight", type=float, default=0.3, help="weight of the MTP loss")
    ap.add_argument("--bias-rate", type=float, default=1e-3, help="routing-bias step per update")
    ap.add_argument("--dropout", type=float, default=0.2, help="dropout (training only)")
    ap.add_argument("--moe", choices=["auto", "dense", "sparse"], default="auto",
                    help="routed-expert code path (auto: dense on CUDA, sparse on CPU)")
    ap.add_argument("--compile", choices=["auto", "on", "off"], default="auto",
                    help="torch.compile the training step (auto: on CUDA with PyTorch 2)")
    ap.add_argument("--eval-every", type=float, default=30, help="seconds between checkpoint checks")
    ap.add_argument("--eval-bytes", type=int, default=0,
                    help="measure on only the first N held-out bytes (0: all; --tiny: 16384)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    a.batch = a.batch or (8 if a.tiny else 128)
    a.seq = a.seq or (128 if a.tiny else 512)
    if a.tiny and not a.eval_bytes:
        a.eval_bytes = 16384
    out_dir = os.path.dirname(os.path.abspath(a.out))
    a.golden_out = a.golden_out or os.path.join(out_dir, "golden.txt")
    a.log = a.log or os.path.join(out_dir, "train.log")
    return a


class Log:
    """Prints a line, with the seconds since the start, and appends it to the log file."""

    def __init__(self, path, t0):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.f = open(path, "w")
        self.t0 = t0

    def __call__(self, *parts):
        line = f"[{time.time() - self.t0:6.1f} s] " + " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()


def load_bytes(path):
    with open(path, "rb") as f:
        return torch.tensor(list(f.read()), dtype=torch.uint8)


def random_windows(data, batch, length, gen):
    """batch windows of length bytes from random offsets, as int64 tokens on data's device."""
    starts = torch.randint(0, data.numel() - length, (batch,), generator=gen, device="cpu")
    idx = starts.to(data.device)[:, None] + torch.arange(length, device=data.device)[None, :]
    return data[idx].long()


def lr_at(frac, args):
    """Linear warm-up, then cosine decay to a tenth of the peak, over the fraction of time used."""
    if frac < args.warmup:
        return args.lr * frac / args.warmup
    p = min(1.0, (frac - args.warmup) / (1.0 - args.warmup))
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * p)))


@torch.no_grad()
def evaluate(model, data, seq, batch, device):
    """Bits per byte of the main head, MTP top-1 accuracy, and how often the MTP draft equals
    the main model's own greedy choice (the chance a one-token draft is accepted).

    The text is cut into consecutive windows of seq+1 bytes; every position of every window counts.
    """
    model.eval()
    n_win = (data.numel() - 1) // seq
    starts = torch.arange(n_win) * seq
    nll, n_main, mtp_hit, mtp_agree, n_mtp = 0.0, 0, 0, 0, 0
    for i in range(0, n_win, batch):
        idx = starts[i:i + batch, None] + torch.arange(seq + 1)[None, :]
        idx = idx.clamp(max=data.numel() - 1)
        w = data[idx].long().to(device)
        inputs, targets = w[:, :-1], w[:, 1:]
        logits, h, _ = model.main(inputs)
        nll += torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), targets.flatten(),
                                                 reduction="sum").item()
        n_main += targets.numel()
        draft, _, _ = model.mtp_forward(h[:, :-1], inputs[:, 1:])
        guess = draft.argmax(-1)
        mtp_hit += (guess == targets[:, 1:]).sum().item()
        mtp_agree += (guess == logits[:, 1:].argmax(-1)).sum().item()
        n_mtp += guess.numel()
    model.train()
    return {"bpb": nll / n_main / math.log(2), "mtp_acc": mtp_hit / n_mtp,
            "mtp_agree": mtp_agree / n_mtp}


@torch.no_grad()
def greedy_sample(model, prompt, n, device):
    seq = torch.tensor([list(prompt)], dtype=torch.long, device=device)
    for _ in range(n):
        logits, _, _ = model.main(seq[:, -model.cfg.max_seq:])
        seq = torch.cat((seq, logits[:, -1].argmax(-1, keepdim=True)), dim=1)
    return bytes(seq[0, len(prompt):].tolist())


def make_optimizer(model, args, fused):
    # Decay the matrices; leave norm gains and the embedding table alone.
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "embed"]
    keep = [p for n, p in model.named_parameters() if p.dim() < 2 or n == "embed"]
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": keep, "weight_decay": 0.0}]
    kw = {"fused": True} if fused else {}
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), **kw)


def main():
    args = parse_args()
    t0 = time.time()
    log = Log(args.log, t0)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    log(f"train.py: torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if cuda else "")
        + f", budget {args.time_budget:.0f} s")
    log("args:", " ".join(f"{k}={v}" for k, v in sorted(vars(args).items())))

    train_all = load_bytes(os.path.join(args.corpus, "train.txt"))
    heldout = load_bytes(os.path.join(args.corpus, "heldout.txt"))
    if args.eval_bytes:
        heldout = heldout[:args.eval_bytes]
    n_val = max(train_all.numel() // 50, 2 * (args.seq + 1))
    train, val = train_all[:-n_val].to(device), train_all[-n_val:]
    if args.eval_bytes:
        val = val[:args.eval_bytes]
    log(f"corpus: {train.numel()} training bytes, {val.numel()} for checkpoint choice, "
        f"{heldout.numel()} held out")

    cfg = tiny_config() if args.tiny else Config()
    model = MiniModel(cfg)
    model.init_weights(args.seed)
    model.dropout = args.dropout
    moe = args.moe if args.moe != "auto" else ("dense" if cuda else "sparse")
    model.set_moe_impl(moe)
    model.to(device).train()
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params} parameters, d_model {cfg.d_model}, {cfg.n_layers} layers + MTP, "
        f"{cfg.n_experts} experts (top {cfg.top_k}), MoE path {moe}")

    opt = make_optimizer(model, args, fused=cuda and tuple(map(int, torch.__version__.split(".")[:2])) >= (2, 0))
    step_fn = model
    want_compile = args.compile == "on" or (args.compile == "auto" and cuda and moe == "dense")
    if want_compile and hasattr(torch, "compile"):
        step_fn = torch.compile(model)
        log("torch.compile: on (falls back to eager if the first step fails)")

    def loss_of(window):
        if cuda:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return step_fn(window)
        return step_fn(window)

    # Leave time after training for the export, the held-out measure and the golden values.
    reserve = min(60.0, max(15.0, 0.1 * args.time_budget))
    deadline = t0 + args.time_budget - reserve
    # The learning-rate clock starts after the first step, which may spend a minute compiling.
    train_start, budget = None, None
    best, best_state, next_eval, next_log = float("inf"), None, None, 0.0
    step, tokens = 0, 0
    while True:
        now = time.time()
        if now >= deadline and step > 0:
            break
        frac = 0.0 if train_start is None else (now - train_start) / budget
        lr = lr_at(frac, args)
        for g in opt.param_groups:
            g["lr"] = lr
        window = random_windows(train, args.batch, args.seq + 1, gen)
        try:
            main_loss, mtp_loss, loads = loss_of(window)
            loss = main_loss + args.mtp_weight * mtp_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
        except Exception as e:  # a torch.compile failure shows up at the first step
            if step_fn is model or step > 0:
                raise
            log(f"torch.compile failed ({type(e).__name__}: {str(e).splitlines()[0][:200]}); eager")
            step_fn = model
            continue
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        model.update_balance_bias(loads, args.bias_rate)
        step += 1
        tokens += window.numel() - args.batch
        if step == 1:
            loss.item()                       # wait for the GPU: the first step is really done
            train_start = time.time()
            budget = max(1.0, deadline - train_start)
            next_eval = train_start + args.eval_every
            log(f"first step done after {train_start - t0:.1f} s (includes compiling, if any); "
                f"{budget:.0f} s left for training")
            continue
        if now >= next_log or now >= next_eval:
            ml, tl = main_loss.item(), mtp_loss.item()
            load = loads.float()
            imbalance = (load.max(-1).values / load.mean(-1)).max().item()
            rate = (step - 1) * args.batch * args.seq / (time.time() - train_start)
            log(f"step {step:6d}  lr {lr:.2e}  loss {ml:.4f} ({ml / math.log(2):.3f} bits/byte)  "
                f"mtp {tl:.4f}  {rate / 1e3:.1f} k tokens/s  max load / mean {imbalance:.2f}")
            next_log = now + (2 if args.tiny else 10)
        if now >= next_eval:
            r = evaluate(model, val, args.seq, args.batch * 2, device)
            mark = ""
            if r["bpb"] < best:
                best, mark = r["bpb"], "  (best so far: kept)"
                best_state = copy.deepcopy(model.state_dict())
            log(f"    checkpoint check: {r['bpb']:.4f} bits/byte{mark}")
            next_eval = time.time() + args.eval_every
    train_time = time.time() - train_start
    r = evaluate(model, val, args.seq, args.batch * 2, device)
    log(f"training stopped: {step} steps, {tokens / 1e6:.1f} M tokens in {train_time:.0f} s; "
        f"last checkpoint check {r['bpb']:.4f} bits/byte")
    if best_state is not None and best < r["bpb"]:
        model.load_state_dict(best_state)
        log(f"exporting the best checkpoint ({best:.4f} bits/byte)")

    # Export, read back, and measure what was written (the engines' numbers, not the trainer's),
    # in true float32: no TF32 shortcuts in the matrix products from here on.
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model.cpu().eval()
    size, checksum = export.write_weights(model, args.out)
    log(f"wrote {args.out}: {size} bytes, checksum {checksum:016x}")
    results = {}
    for mode in ("bf16", "fp8"):
        m, wf = export.load_model(args.out, experts=mode)
        r = evaluate(m.to(device), heldout, args.seq, args.batch * 2, device)
        results[mode] = r
        log(f"held-out ({heldout.numel()} bytes, experts {mode}): {r['bpb']:.4f} bits/byte, "
            f"MTP top-1 accuracy {r['mtp_acc']:.3f}, MTP draft = main greedy {r['mtp_agree']:.3f}")
    m, _ = export.load_model(args.out)
    prompt = b"The best way to predict the future is"
    sample = greedy_sample(m.to(device), prompt, 200, device)
    log("greedy sample:", repr(prompt + sample))
    text = export.write_golden(args.out, export.GOLDEN_PROMPT, args.golden_out)
    log(f"wrote {args.golden_out} (prompt {export.GOLDEN_PROMPT!r}, greedy {text!r})")
    b, f = results["bf16"], results["fp8"]
    log(f"RESULT steps={step} tokens={tokens} train_seconds={train_time:.0f} "
        f"total_seconds={time.time() - t0:.0f} bytes={size} "
        f"heldout_bpb={b['bpb']:.4f} heldout_bpb_fp8={f['bpb']:.4f} "
        f"mtp_top1={b['mtp_acc']:.4f} mtp_agree={b['mtp_agree']:.4f}")


if __name__ == "__main__":
    main()
