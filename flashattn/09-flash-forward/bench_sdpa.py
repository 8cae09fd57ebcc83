#!/usr/bin/env python3
"""Session 09's yardstick: PyTorch's scaled_dot_product_attention on the shapes `make bench` times.

`make bench` runs every session's bench_*.py after its check. This one times SDPA with each backend
PyTorch offers here (flash, cuDNN, memory-efficient, and the math path that writes the score matrix,
i.e. naive attention), BF16, on batch 4, 16 heads, sequence 4096, head dim 128, causal and not, and
prints a Markdown table that `make bench` appends to its own. FLOPs are counted as the grader
counts them: 4 * batch * heads * (visible query-key pairs) * head_dim, so causal is about half.

Without PyTorch, or without a CUDA GPU, it says so in one line and exits 0: the bench goes on.

    python3 flashattn/09-flash-forward/bench_sdpa.py [--out DIR] [--reps N]
"""
import argparse
import json
import os
import statistics
import sys

SHAPES = [(4, 16, 4096, 4096, 128, False), (4, 16, 4096, 4096, 128, True)]


def visible_pairs(sq, skv, causal):
    if not causal:
        return sq * skv
    # row i sees keys j <= i + (skv - sq): the mask aligned to the end, as the exercises define it
    return sum(min(skv, max(0, i + 1 + skv - sq)) for i in range(sq))


def time_ms(torch, fn, reps):
    """Median of `reps` timed calls, each between CUDA events, after three warm-up calls."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="directory for sdpa.jsonl and sdpa.md (default: print only)")
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("bench_sdpa: python3 has no PyTorch; the SDPA comparison is skipped")
        return 0
    if not torch.cuda.is_available():
        print("bench_sdpa: PyTorch sees no CUDA GPU; the SDPA comparison is skipped")
        return 0
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:
        print(f"bench_sdpa: PyTorch {torch.__version__} lacks torch.nn.attention (2.3 or newer needed); skipped")
        return 0

    backends = [("flash", SDPBackend.FLASH_ATTENTION), ("cuDNN", SDPBackend.CUDNN_ATTENTION),
                ("mem-efficient", SDPBackend.EFFICIENT_ATTENTION), ("math (naive)", SDPBackend.MATH)]
    gpu = torch.cuda.get_device_name()
    rows, records = [], []
    for (b, h, sq, skv, d, causal) in SHAPES:
        gen = torch.Generator(device="cuda").manual_seed(9)
        q = torch.randn(b, h, sq, d, device="cuda", dtype=torch.bfloat16, generator=gen)
        k = torch.randn(b, h, skv, d, device="cuda", dtype=torch.bfloat16, generator=gen)
        v = torch.randn(b, h, skv, d, device="cuda", dtype=torch.bfloat16, generator=gen)
        flops = 4.0 * b * h * visible_pairs(sq, skv, causal) * d
        # PyTorch's is_causal aligns the mask to the top-left; with sq == skv both agree.
        assert sq == skv or not causal
        for name, backend in backends:
            def run():
                with sdpa_kernel([backend]):
                    F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            try:
                ms = time_ms(torch, run, args.reps)
            except RuntimeError as e:  # a backend this GPU or build lacks
                reason = str(e).strip().splitlines()[0][:90]
                rows.append(f"| PyTorch SDPA {name} | {b}x{h}x{sq}x{skv}x{d} {'causal' if causal else 'full'} "
                            f"| - | - | not available: {reason} |")
                continue
            tflops = flops / (ms * 1e-3) / 1e12
            rows.append(f"| PyTorch SDPA {name} | {b}x{h}x{sq}x{skv}x{d} {'causal' if causal else 'full'} "
                        f"| {ms:.3f} ms | {tflops:.1f} TFLOP/s | |")
            records.append({"schema": "kernel-workbook-sdpa/1", "gpu": gpu, "torch": torch.__version__,
                            "backend": name, "shape": [b, h, sq, skv, d], "causal": causal,
                            "median_ms": ms, "tflops": tflops})
        del q, k, v
        torch.cuda.empty_cache()

    table = [f"PyTorch {torch.__version__} scaled_dot_product_attention on {gpu}, BF16, median of {args.reps}:",
             "", "| what | shape (B x H x Sq x Skv x D) | time | rate | note |", "|---|---|---|---|---|"] + rows
    print("\n".join(table))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "sdpa.jsonl"), "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
        with open(os.path.join(args.out, "sdpa.md"), "w") as f:
            f.write("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
