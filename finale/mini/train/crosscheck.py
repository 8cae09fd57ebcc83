#!/usr/bin/env python3
"""A second, independent reading of MODEL.md, to check the golden values before the C engine does.

    crosscheck.py WEIGHTS.bin GOLDEN.txt

Everything here is numpy in float64, one token at a time, with the caches MODEL.md describes
(latent c_t and RoPE key kr_t per layer) and the *absorbed* attention path; the MTP module drafts
from its own cache. model.py, which made the golden file, uses PyTorch, whole sequences and the
naive path. If both agree, the golden values say what MODEL.md says. Also checks the number
formats (BF16, FP8) against brute force. Needs numpy and torch (for export.py's reader) only.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402


class Reference:
    def __init__(self, wf, experts):
        self.cfg, self.wf, self.experts = wf.cfg, wf, experts

    def w(self, name):
        if self.experts == "fp8" and ".experts." in name:
            return export.fp8_dequantize(self.wf.tensors[name + ".fp8"],
                                         self.wf.tensors[name + ".scale"],
                                         self.cfg.fp8_block).astype(np.float64)
        return self.wf.f32(name).astype(np.float64)

    def norm(self, x, name):
        return self.w(name) * x / np.sqrt(np.mean(x * x) + self.cfg.norm_eps)

    def rope(self, x, t):
        out = x.copy()
        for i in range(self.cfg.d_rope // 2):
            ang = t * self.cfg.rope_theta ** (-2.0 * i / self.cfg.d_rope)
            c, s = np.cos(ang), np.sin(ang)
            out[2 * i] = x[2 * i] * c - x[2 * i + 1] * s
            out[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c
        return out

    def attention(self, p, a, t, cache):
        """Absorbed MLA for one token: appends (c_t, kr_t) to cache, returns the output."""
        cfg = self.cfg
        H, dn, dr, dv = cfg.n_heads, cfg.d_nope, cfg.d_rope, cfg.d_v
        q = self.w(p + "attn.wq") @ a
        c = self.norm(self.w(p + "attn.wkv_a") @ a, p + "attn.kv_norm")
        kr = self.rope(self.w(p + "attn.wk_rope") @ a, t)
        cache.append((c, kr))
        C = np.array([e[0] for e in cache])          # [t+1][d_latent]
        KR = np.array([e[1] for e in cache])         # [t+1][d_rope]
        wk_b, wv_b = self.w(p + "attn.wk_b"), self.w(p + "attn.wv_b")
        outs = []
        for h in range(H):
            qh = q[h * (dn + dr):(h + 1) * (dn + dr)]
            q_lat = wk_b[h * dn:(h + 1) * dn].T @ qh[:dn]       # absorbed: never builds keys
            scores = (C @ q_lat + KR @ self.rope(qh[dn:], t)) / np.sqrt(dn + dr)
            prob = np.exp(scores - scores.max())
            prob /= prob.sum()
            outs.append(wv_b[h * dv:(h + 1) * dv] @ (prob @ C))
        return self.w(p + "attn.wo") @ np.concatenate(outs)

    def moe(self, p, a):
        cfg = self.cfg
        s = 1.0 / (1.0 + np.exp(-(self.w(p + "moe.router") @ a)))
        key = s + self.w(p + "moe.bias")
        chosen = sorted(range(cfg.n_experts), key=lambda e: (-key[e], e))[:cfg.top_k]
        silu = lambda z: z / (1.0 + np.exp(-z))  # noqa: E731

        def ffn(q):
            return self.w(q + "w2") @ (silu(self.w(q + "w1") @ a) * (self.w(q + "w3") @ a))

        out = ffn(p + "moe.shared.")
        total = sum(s[e] for e in chosen)
        for e in chosen:
            out = out + s[e] / total * ffn(f"{p}moe.experts.{e}.")
        return out

    def block(self, p, x, t, cache):
        x = x + self.attention(p, self.norm(x, p + "attn_norm"), t, cache)
        return x + self.moe(p, self.norm(x, p + "ffn_norm"))

    def step(self, tok, t, caches):
        """Main model, one token at position t: (logits, hidden h)."""
        x = self.w("embed")[tok]
        for layer in range(self.cfg.n_layers):
            x = self.block(f"layers.{layer}.", x, t, caches[layer])
        return self.w("lm_head") @ self.norm(x, "final_norm"), x

    def mtp_step(self, h, next_tok, t, cache):
        z = self.w("mtp.proj") @ np.concatenate((self.norm(h, "mtp.hnorm"),
                                                 self.norm(self.w("embed")[next_tok], "mtp.enorm")))
        z = self.block("mtp.block.", z, t, cache)
        return self.w("lm_head") @ self.norm(z, "mtp.final_norm"), z


def parse_golden(path):
    sections, cur, top = {}, None, {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        key, *vals = line.split()
        if key == "section":
            cur = sections.setdefault(vals[0], {"logits": {}})
        elif key == "logits":
            cur["logits"][int(vals[0])] = np.array(vals[1:], dtype=np.float64)
        elif cur is not None:
            cur[key] = vals
        else:
            top[key] = vals
    return top, sections


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(1e-30, np.max(np.abs(b))))


def check_formats():
    rng = np.random.default_rng(7)
    # BF16: against torch's own float32 -> bfloat16 conversion (round to nearest even).
    import torch
    x = (rng.standard_normal(100000) * np.exp(rng.uniform(-20, 20, 100000))).astype(np.float32)
    ours = export.bf16_bits(x)
    theirs = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    assert np.array_equal(ours, theirs), "bf16 rounding differs from torch"
    # FP8: every finite code decodes and encodes back to itself (but -0 -> +0 is allowed).
    vals = export.FP8_VALUES
    finite = [c for c in range(256) if np.isfinite(vals[c])]
    back = export.fp8_e4m3_encode(vals[finite])
    assert all(b == c or (vals[c] == 0) for b, c in zip(back, finite)), "fp8 code round trip"
    # FP8: random values encode to the nearest code, ties to the even code.
    y = (rng.uniform(-448, 448, 20000) * np.exp(rng.uniform(-12, 0, 20000))).astype(np.float32)
    mids = (vals[np.arange(0, 0x7E)] + vals[np.arange(1, 0x7F)]) / 2      # midpoints of positives
    y = np.concatenate((y, mids.astype(np.float32), -mids.astype(np.float32)))
    codes = export.fp8_e4m3_encode(y)
    pos = vals[:0x7F].astype(np.float64)
    for v, c in zip(y.astype(np.float64), codes):
        d = np.abs(pos - abs(v))
        best = np.flatnonzero(d == d.min())
        want = best[0] if len(best) == 1 else [b for b in best if b % 2 == 0][0]
        assert (c & 0x7F) == want and (c >> 7) == (v < 0), (v, c, want)
    print(f"formats: bf16 matches torch on {len(x)} values; fp8 round-trips {len(finite)} codes "
          f"and rounds {len(y)} values to the nearest (ties even)")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    check_formats()
    wf = export.WeightsFile(sys.argv[1])
    top, sections = parse_golden(sys.argv[2])
    assert top["weights"][0] == f"{wf.checksum:016x}", "golden file is for another weights file"
    prompt = bytes.fromhex(top["prompt_hex"][0])
    worst = 0.0
    for mode, gold in sections.items():
        ref = Reference(wf, mode)
        caches = [[] for _ in range(wf.cfg.n_layers)]
        hs = []
        for t, tok in enumerate(prompt):
            logits, h = ref.step(tok, t, caches)
            hs.append(h)
            worst = max(worst, rel_err(logits, gold["logits"][t]))
        nxt = int(np.argmax(logits))
        assert nxt == int(gold["next_token"][0]), (mode, "next_token", nxt)
        # The MTP cache for committed positions: pairs (h_i, tok_{i+1}), i < n-1.
        mtp_cache = []
        for i in range(len(prompt) - 1):
            ref.mtp_step(hs[i], prompt[i + 1], i, mtp_cache)
        h, tok, drafts = hs[-1], nxt, []
        for j in range(export.GOLDEN_DRAFTS):
            dl, z = ref.mtp_step(h, tok, len(prompt) - 1 + j, mtp_cache)
            if j == 0:
                worst = max(worst, rel_err(dl, np.array(gold["mtp_logits"], dtype=np.float64)))
            tok, h = int(np.argmax(dl)), z
            drafts.append(tok)
        assert bytes(drafts).hex() == gold["mtp_draft_hex"][0], (mode, "drafts", bytes(drafts).hex())
        # Greedy, incrementally from the caches already built for the prompt.
        out, tok, t = [], nxt, len(prompt)
        margins = [float(m) for m in gold["greedy_margin"]]
        for k in range(export.GOLDEN_GREEDY):
            out.append(tok)
            if k + 1 == export.GOLDEN_GREEDY:
                break
            logits, _ = ref.step(tok, t, caches)
            tok, t = int(np.argmax(logits)), t + 1
        want = bytes.fromhex(gold["greedy_hex"][0])
        same = next((i for i in range(len(want)) if out[i] != want[i]), len(want))
        assert same == len(want) or margins[same] < 1e-3, (mode, "greedy differs at", same)
        print(f"{mode}: logits and MTP logits agree (worst relative error so far {worst:.2e}); "
              f"next token, {len(drafts)} drafts and {same}/{len(want)} greedy bytes match")
    assert worst < 1e-4, f"logits differ: {worst}"
    print("crosscheck: golden values agree with an independent float64 decoder")


if __name__ == "__main__":
    main()
