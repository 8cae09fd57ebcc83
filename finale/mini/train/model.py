"""The mini-model of finale/mini/MODEL.md in PyTorch.

MODEL.md is the contract; this file follows it line for line, and where the two differ, MODEL.md
wins and this file has a bug. The pieces, in the order MODEL.md lists them:

  rmsnorm, rope            the two small functions every block uses
  MLA                      attention whose cache is one latent c_t plus one shared RoPE key kr_t
  MoE                      sigmoid-scored routed experts (top-k by score + bias) plus a shared expert
  Block                    x + attention(norm(x)), then x + moe(norm(x))
  MTP                      the draft module: proj(concat(norm(h_i), norm(embed[tok_i+1]))) -> block
  MiniModel                embed -> blocks -> final norm -> lm_head, and the MTP module beside it

Runs on PyTorch 1.13 (Debian's python3-torch, CPU) and on PyTorch 2.x with CUDA. Training uses
the whole-sequence ("naive") attention path: keys and values are rebuilt from the latents. The
engines decode one token at a time from a cache; the arithmetic is the same.
"""

import math
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    """The shapes of MODEL.md's table; the weights file's header stores them in this order."""
    vocab: int = 256
    d_model: int = 256
    n_layers: int = 3
    n_heads: int = 4
    d_nope: int = 32
    d_rope: int = 16
    d_v: int = 32
    d_latent: int = 64
    n_experts: int = 8
    top_k: int = 2
    d_expert: int = 64
    d_shared: int = 128
    mtp_depth: int = 1
    max_seq: int = 1024
    fp8_block: int = 128
    rope_theta: float = 10000.0
    norm_eps: float = 1e-6

    # The 15 integers of the file header, in file order (a 16th u32 is reserved and written as 0).
    @staticmethod
    def int_fields():
        return [f.name for f in fields(Config) if f.type in (int, "int")]


def tiny_config():
    """A smaller model for CPU smoke tests: same structure, fewer and narrower pieces."""
    return Config(d_model=64, n_layers=2, n_heads=2, d_nope=16, d_rope=8, d_v=16, d_latent=32,
                  n_experts=4, top_k=2, d_expert=32, d_shared=32, max_seq=256, fp8_block=32)


def rmsnorm(x, gain, eps):
    # Computed in float32 whatever the autocast dtype: the mean of squares loses too much in bf16.
    xf = x.float()
    return gain * xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)


def rope_tables(cfg, n_pos, device):
    """cos and sin of the angle t * f_i for t < n_pos and i < d_rope/2, each [n_pos][d_rope/2]."""
    i = torch.arange(cfg.d_rope // 2, dtype=torch.float64)
    freq = cfg.rope_theta ** (-2.0 * i / cfg.d_rope)
    angle = torch.arange(n_pos, dtype=torch.float64)[:, None] * freq[None, :]
    return angle.cos().float().to(device), angle.sin().float().to(device)


def rope(x, cos, sin):
    """Rotate consecutive pairs (x[2i], x[2i+1]) by the position's angle (MODEL.md's RoPE).

    x: [..., T, d_rope] with T on the axis that cos and sin ([T][d_rope/2]) line up with.
    """
    x0, x1 = x[..., 0::2].float(), x[..., 1::2].float()
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2).to(x.dtype)


def _matrix(rows, cols):
    return nn.Parameter(torch.empty(rows, cols))


def _gain(n):
    return nn.Parameter(torch.ones(n))


class MLA(nn.Module):
    """Multi-head latent attention with DeepSeek's decoupled RoPE key."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h = cfg.n_heads
        self.wq = _matrix(h * (cfg.d_nope + cfg.d_rope), cfg.d_model)
        self.wkv_a = _matrix(cfg.d_latent, cfg.d_model)      # a -> latent (the cached part)
        self.kv_norm = _gain(cfg.d_latent)
        self.wk_rope = _matrix(cfg.d_rope, cfg.d_model)      # a -> the one RoPE key all heads share
        self.wk_b = _matrix(h * cfg.d_nope, cfg.d_latent)    # latent -> per-head keys
        self.wv_b = _matrix(h * cfg.d_v, cfg.d_latent)       # latent -> per-head values
        self.wo = _matrix(cfg.d_model, h * cfg.d_v)

    def forward(self, a, cos, sin, dropout=0.0):
        cfg = self.cfg
        B, T, _ = a.shape
        H, dn, dr, dv = cfg.n_heads, cfg.d_nope, cfg.d_rope, cfg.d_v
        q = F.linear(a, self.wq).view(B, T, H, dn + dr).transpose(1, 2)       # [B][H][T][dn+dr]
        c = rmsnorm(F.linear(a, self.wkv_a), self.kv_norm, cfg.norm_eps)    # [B][T][d_latent]
        c = c.to(a.dtype)
        kr = rope(F.linear(a, self.wk_rope), cos, sin)                        # [B][T][dr]
        q_rope = rope(q[..., dn:], cos, sin)
        q = torch.cat((q[..., :dn], q_rope), dim=-1)
        k_nope = F.linear(c, self.wk_b).view(B, T, H, dn).transpose(1, 2)
        k = torch.cat((k_nope, kr[:, None].expand(B, H, T, dr)), dim=-1)
        v = F.linear(c, self.wv_b).view(B, T, H, dv).transpose(1, 2)
        o = causal_attention(q, k, v, dropout)                                # [B][H][T][dv]
        return F.linear(o.transpose(1, 2).reshape(B, T, H * dv), self.wo)


def causal_attention(q, k, v, dropout=0.0):
    """softmax(q k^T / sqrt(d_qk) + causal mask) v, with PyTorch 2's fused kernel where there is one."""
    d_qk, d_v = q.shape[-1], v.shape[-1]
    if hasattr(F, "scaled_dot_product_attention"):
        # Fused kernels want one head width for q, k and v: pad v with zeros, then cut them off.
        vp = F.pad(v, (0, d_qk - d_v)) if d_v < d_qk else v
        o = F.scaled_dot_product_attention(q, k, vp, dropout_p=dropout, is_causal=True)
        return o[..., :d_v]
    T = q.shape[-2]
    scores = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(d_qk)
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    p = scores.masked_fill(mask, float("-inf")).softmax(-1)
    p = F.dropout(p, dropout, training=dropout > 0)
    return (p @ v.float()).to(v.dtype)


def choose_experts(keys, k):
    """Indices of the k largest keys per row, ties to the lower index (MODEL.md's rule).

    A stable descending sort keeps equal keys in index order, which torch.topk does not promise.
    """
    return torch.sort(keys, dim=-1, descending=True, stable=True).indices[..., :k]


def swiglu(a, w1, w2, w3):
    return F.linear(F.silu(F.linear(a, w1)) * F.linear(a, w3), w2)


class MoE(nn.Module):
    """Routed SwiGLU experts chosen by sigmoid score + bias, plus one always-on shared expert.

    The routed experts' weights are stacked ([n_experts][rows][cols]); export.py writes them as
    MODEL.md's per-expert tensors. Two ways to run the routed part give the same numbers:
      sparse  gather each expert's tokens, run the expert, scatter the gated result back:
              the work MoE is meant to do, and what the engines do
      dense   run every expert on every token, multiplying the unchosen ones by a zero gate:
              eight times the expert arithmetic, but a few large matrix products with no
              data-dependent shapes, which is faster on a GPU at this model's tiny widths
    """

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        E, D = cfg.n_experts, cfg.d_model
        self.router = _matrix(E, D)
        # The balancing bias moves by a rule, not by gradient: a buffer, saved with the weights.
        self.register_buffer("bias", torch.zeros(E))
        self.shared_w1 = _matrix(cfg.d_shared, D)
        self.shared_w2 = _matrix(D, cfg.d_shared)
        self.shared_w3 = _matrix(cfg.d_shared, D)
        self.experts_w1 = nn.Parameter(torch.empty(E, cfg.d_expert, D))
        self.experts_w2 = nn.Parameter(torch.empty(E, D, cfg.d_expert))
        self.experts_w3 = nn.Parameter(torch.empty(E, cfg.d_expert, D))
        self.impl = "sparse"

    def route(self, a):
        """Gate scores, chosen experts and their normalised gates, all in float32."""
        # Autocast off: the router's weights and scores stay float32 (MODEL.md stores them so).
        with torch.autocast(device_type=a.device.type, enabled=False):
            s = torch.sigmoid(F.linear(a.float(), self.router.float()))        # [N][E]
        chosen = choose_experts(s + self.bias, self.cfg.top_k)                 # [N][k]
        s_chosen = s.gather(-1, chosen)
        gates = s_chosen / s_chosen.sum(-1, keepdim=True)
        return chosen, gates

    def forward(self, a):
        """Returns the output and how many token slots each expert received (for balancing)."""
        shape = a.shape
        a = a.reshape(-1, shape[-1])
        chosen, gates = self.route(a)
        out = swiglu(a, self.shared_w1, self.shared_w2, self.shared_w3)
        if self.impl == "dense":
            out = out + self._routed_dense(a, chosen, gates)
        else:
            out = out + self._routed_sparse(a, chosen, gates)
        flat = chosen.reshape(-1)
        load = torch.zeros(self.cfg.n_experts, dtype=torch.long, device=a.device)
        load = load.scatter_add(0, flat, torch.ones_like(flat))
        return out.reshape(shape), load

    def _routed_sparse(self, a, chosen, gates):
        out = torch.zeros(a.shape[0], a.shape[1], dtype=torch.float32, device=a.device)
        for e in range(self.cfg.n_experts):
            token, slot = (chosen == e).nonzero(as_tuple=True)
            if token.numel() == 0:
                continue
            y = swiglu(a[token], self.experts_w1[e], self.experts_w2[e], self.experts_w3[e])
            out.index_add_(0, token, y.float() * gates[token, slot, None])
        return out.to(a.dtype)

    def _routed_dense(self, a, chosen, gates):
        cfg = self.cfg
        E, de, D = cfg.n_experts, cfg.d_expert, cfg.d_model
        # The gate of every expert for every token: zero where the expert was not chosen.
        full = torch.zeros(a.shape[0], E, dtype=gates.dtype, device=a.device)
        full.scatter_(1, chosen, gates)
        w1 = self.experts_w1.reshape(E * de, D)
        w3 = self.experts_w3.reshape(E * de, D)
        hidden = F.silu(F.linear(a, w1)) * F.linear(a, w3)                    # [N][E*de]
        hidden = (hidden.view(-1, E, de) * full[..., None].to(hidden.dtype)).view(-1, E * de)
        w2 = self.experts_w2.permute(1, 0, 2).reshape(D, E * de)               # [D][E*de]
        return F.linear(hidden, w2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.attn_norm = _gain(cfg.d_model)
        self.attn = MLA(cfg)
        self.ffn_norm = _gain(cfg.d_model)
        self.moe = MoE(cfg)

    def forward(self, x, cos, sin, dropout=0.0):
        eps = self.cfg.norm_eps
        a = rmsnorm(x, self.attn_norm, eps).to(x.dtype)
        x = x + F.dropout(self.attn(a, cos, sin, dropout), dropout, self.training)
        m, load = self.moe(rmsnorm(x, self.ffn_norm, eps).to(x.dtype))
        x = x + F.dropout(m, dropout, self.training)
        return x, load


class MTP(nn.Module):
    """The depth-1 multi-token-prediction module: from h_i and tok_{i+1}, predict tok_{i+2}."""

    def __init__(self, cfg):
        super().__init__()
        self.hnorm = _gain(cfg.d_model)
        self.enorm = _gain(cfg.d_model)
        self.proj = _matrix(cfg.d_model, 2 * cfg.d_model)
        self.block = Block(cfg)
        self.final_norm = _gain(cfg.d_model)


class MiniModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = _matrix(cfg.vocab, cfg.d_model)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.final_norm = _gain(cfg.d_model)
        self.lm_head = _matrix(cfg.vocab, cfg.d_model)
        self.mtp = MTP(cfg)
        self.dropout = 0.0
        # RoPE's cos and sin for every position up to max_seq: tables, not weights (not saved).
        cos, sin = rope_tables(cfg, cfg.max_seq, "cpu")
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def blocks(self):
        """Every Block, the MTP module's last: the ones whose MoE bias the trainer balances."""
        return list(self.layers) + [self.mtp.block]

    def set_moe_impl(self, impl):
        for b in self.blocks():
            b.moe.impl = impl

    def init_weights(self, seed, scale="train"):
        """Deterministic initialisation from a seed.

        scale="train": the usual small start (std 0.02; output projections smaller still).
        scale="random": weights with unit-sized activations and norm gains away from 1, for the
        engines' cross-check file: there logits must spread widely enough that greedy choices do
        not hang on float rounding, and a forgotten gain or bias must change the answer.
        """
        g = torch.Generator().manual_seed(seed)
        cfg = self.cfg
        for name, p in self.named_parameters():
            if p.dim() == 1:               # RMSNorm gains
                if scale == "random":
                    p.data = 1.0 + 0.2 * torch.randn(p.shape, generator=g)
                else:
                    p.data.fill_(1.0)
                continue
            fan_in = p.shape[-1]
            if scale == "random":
                std = 1.0 if name == "embed" else 1.0 / math.sqrt(fan_in)
            else:
                std = 0.02
                # Projections back into the residual stream start smaller (GPT-2's rule).
                if name.endswith(("wo", "w2")):
                    std /= math.sqrt(2 * (cfg.n_layers + cfg.mtp_depth))
            p.data = std * torch.randn(p.shape, generator=g)
        for b in self.blocks():
            if scale == "random":
                b.moe.bias.copy_(0.3 * torch.randn(cfg.n_experts, generator=g))
            else:
                b.moe.bias.zero_()

    # ---- the forward passes ------------------------------------------------------------------

    def rope_for(self, T):
        if T > self.cfg.max_seq:
            raise ValueError(f"{T} positions: the model's max_seq is {self.cfg.max_seq}")
        return self.rope_cos[:T], self.rope_sin[:T]

    def main(self, tokens):
        """Main model on [B][T] byte tokens: (logits [B][T][vocab], hidden h [B][T][D], loads)."""
        cos, sin = self.rope_for(tokens.shape[1])
        x = F.embedding(tokens, self.embed)
        loads = []
        for layer in self.layers:
            x, load = layer(x, cos, sin, self.dropout if self.training else 0.0)
            loads.append(load)
        logits = F.linear(rmsnorm(x, self.final_norm, self.cfg.norm_eps).to(x.dtype), self.lm_head)
        return logits, x, loads

    def mtp_forward(self, h, next_tokens):
        """The MTP module on a sequence of pairs (h_i, tok_{i+1}), positions 0 .. T-1.

        h: [B][T][D] hidden states (the main model's, or the MTP block's own when drafting);
        next_tokens: [B][T] the token that follows each position. Returns (draft logits, z, load).
        """
        cfg, m = self.cfg, self.mtp
        cos, sin = self.rope_for(h.shape[1])
        hn = rmsnorm(h, m.hnorm, cfg.norm_eps)
        en = rmsnorm(F.embedding(next_tokens, self.embed), m.enorm, cfg.norm_eps)
        z = F.linear(torch.cat((hn, en), dim=-1).to(h.dtype), m.proj)
        z, load = m.block(z, cos, sin, self.dropout if self.training else 0.0)
        logits = F.linear(rmsnorm(z, m.final_norm, cfg.norm_eps).to(z.dtype), self.lm_head)
        return logits, z, load

    def forward(self, window):
        """Training losses on [B][T+1] byte windows: (main loss, MTP loss, loads [blocks][E]).

        Main: position i predicts byte i+1. MTP: from (h_i, byte i+1), predict byte i+2.
        """
        inputs, targets = window[:, :-1], window[:, 1:]
        logits, h, loads = self.main(inputs)
        main_loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
        mtp_logits, _, mtp_load = self.mtp_forward(h[:, :-1], inputs[:, 1:])
        mtp_loss = F.cross_entropy(mtp_logits.float().flatten(0, 1), targets[:, 1:].flatten())
        return main_loss, mtp_loss, torch.stack(loads + [mtp_load])

    @torch.no_grad()
    def update_balance_bias(self, loads, rate):
        """DeepSeek-V3's auxiliary-loss-free balancing: push each bias toward the mean load."""
        for b, load in zip(self.blocks(), loads):
            load = load.float()
            b.moe.bias.add_(rate * torch.sign(load.mean() - load))
