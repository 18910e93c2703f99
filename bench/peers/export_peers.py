#!/usr/bin/python3
"""Export a float .hunch model to what the peers run: an ONNX graph and raw f32 weights for tfjs.

    /usr/bin/python3 bench/peers/export_peers.py MODEL-f32.hunch OUT_DIR NAME [--check REF.json]

Reads the file with a small reader of docs/format.md (f32 tensors; int8 ones are dequantised),
builds torch modules that compute docs/architecture.md, and writes into OUT_DIR:

  lstm-attn    NAME.onnx: ONE step, the way a user of a generic runtime would write it. The
               runtime has no per-user state, so the caller keeps it and passes it in and out on
               every call: (h, c) and the attention window as a key/value cache of the W-1 past
               events (past_k (W-1, A), past_v (W-1, H), n_past = how many of its rows are real),
               oldest first. The graph runs the LSTM cell, attends over [past; current], returns
               the top-10 and the next (h, c, past_k, past_v) — the "past_key_values" pattern of
               exported decoder models. Keys of past events are not recomputed.
  transformer  NAME.onnx: the full forward over a window of the last L events (L = the model's
               window), causal, every position, every layer, then the last position's head —
               what a peer without an incremental KV cache computes on every event.

Both graphs take (action, type, gap-bucket) ids and return `values` (the top-10 probabilities:
exp(logit - logsumexp over all V logits), as hunch reports them) and `indices` (action ids,
id 0 excluded as in hunch). Only the action head is computed (hunch also computes the type and
exit heads on every push; they cost T+1 dot products).

  NAME.weights.bin + NAME.weights.json   the f32 tensors by their .hunch names (tfjs loads these)
  NAME.torch.json                        torch's top-10 for the inputs in --check (a
                                         reference.json in the shared harness's layout), so the
                                         exported math is checked against hunch before timing
"""
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
TOPK = 10


# ---------------------------------------------------------------- reader (docs/format.md) ----
def read_hunch(path):
    buf = open(path, 'rb').read()
    if buf[:4] != b'HNCH':
        sys.exit(f'{path}: not a hunch model (starts with {buf[:4]!r})')
    version, endian, _flags, file_size, n_meta, n_tensors, data_offset = struct.unpack_from('<IIIQIIQ', buf, 4)
    if version != 1 or endian != 0x01020304 or file_size != len(buf):
        sys.exit(f'{path}: unsupported header (version {version}, endian {endian:#x}, size {file_size} vs {len(buf)})')
    if zlib.crc32(buf[:-4]) != struct.unpack_from('<I', buf, len(buf) - 4)[0]:
        sys.exit(f'{path}: CRC mismatch')
    off = 40

    def u32():
        nonlocal off
        v = struct.unpack_from('<I', buf, off)[0]
        off += 4
        return v

    def u64():
        nonlocal off
        v = struct.unpack_from('<Q', buf, off)[0]
        off += 8
        return v

    def string():
        nonlocal off
        n = u32()
        s = buf[off:off + n].decode('utf-8')
        off += n
        return s

    meta = {}
    for _ in range(n_meta):
        key, typ = string(), u32()
        if typ in (1, 2, 3):
            meta[key] = struct.unpack_from({1: '<I', 2: '<i', 3: '<f'}[typ], buf, off)[0]
            off += 4
        elif typ == 4:
            meta[key] = u64()
        elif typ == 5:
            meta[key] = string()
        elif typ == 6:
            meta[key] = [string() for _ in range(u32())]
        elif typ == 7:
            n = u32()
            meta[key] = list(struct.unpack_from(f'<{n}f', buf, off))
            off += 4 * n
        else:
            sys.exit(f'{path}: metadata {key}: unknown type {typ}')
    tensors = {}
    for _ in range(n_tensors):
        name, dtype, nd = string(), u32(), u32()
        dims = [u64() for _ in range(nd)]
        t_off, nbytes = u64(), u64()
        start = data_offset + t_off
        count = int(np.prod(dims))
        if dtype == 0:
            arr = np.frombuffer(buf, '<f4', count, start).reshape(dims)
        else:  # int8: align64(4*rows) bytes of scales, then rows*cols int8 — dequantise
            rows, cols = dims
            scales = np.frombuffer(buf, '<f4', rows, start)
            q = np.frombuffer(buf, np.int8, rows * cols, start + ((4 * rows + 63) // 64) * 64).reshape(rows, cols)
            arr = q.astype(np.float32) * scales[:, None]
        tensors[name] = torch.from_numpy(np.array(arr, dtype=np.float32))
    return meta, tensors


# ---------------------------------------------------------------- models ---------------------
def register_tensors(module, t):
    """Every tensor of the file as a buffer named like it ('lstm.w_ih' -> lstm_w_ih): the layout
    comes from the file's own tensor table (written from core/include/hunch/arch.h), so this
    exporter keeps no list of its own."""
    for n, v in t.items():
        module.register_buffer(n.replace('.', '_'), v)


class LstmAttnStep(torch.nn.Module):
    def __init__(self, meta, t):
        super().__init__()
        self.W = meta['hunch.attention.window']
        self.H = meta['hunch.lstm.hidden_size']
        self.A = meta['hunch.attention.size']
        if self.W < 2:
            sys.exit('lstm-attn export needs a window of at least 2')
        register_tensors(self, t)
        # distance of each window slot from the current event: oldest slot W-1, current 0
        self.register_buffer('dist', torch.arange(self.W - 1, -1, -1, dtype=torch.float32))
        self.register_buffer('slot', torch.arange(self.W - 1, dtype=torch.int64))

    def forward(self, action, typ, gap, h, c, past_k, past_v, n_past):
        H = self.H
        x = self.emb_action[action] + self.emb_type[typ] + self.emb_gap[gap]            # (1, D)
        gates = x @ self.lstm_w_ih.t() + h @ self.lstm_w_hh.t() + self.lstm_bias        # (1, 4H)
        i, f, g, o = torch.sigmoid(gates[:, :H]), torch.sigmoid(gates[:, H:2 * H]), \
            torch.tanh(gates[:, 2 * H:3 * H]), torch.sigmoid(gates[:, 3 * H:])
        c2 = f * c + i * g
        h2 = o * torch.tanh(c2)
        k = h2 @ self.attn_w_k.t()                                                       # (1, A)
        q = h2 @ self.attn_w_q.t()
        keys = torch.cat([past_k, k], 0)                                                 # (W, A)
        vals = torch.cat([past_v, h2], 0)                                                # (W, H)
        s = (keys @ q.t())[:, 0] / math.sqrt(self.A) - self.attn_recency * self.dist     # (W)
        valid = torch.cat([self.slot >= (self.W - 1 - n_past), torch.ones(1, dtype=torch.bool)], 0)
        s = torch.where(valid, s, torch.full_like(s, -math.inf))
        ctx = torch.softmax(s, 0) @ vals                                                 # (H)
        z = torch.cat([h2[0], ctx], 0) @ self.proj_w.t() + self.proj_b                   # (D)
        logits = z @ self.head_action_w.t() + self.head_action_b                         # (V)
        lse = torch.logsumexp(logits, 0)
        top, idx = torch.topk(logits[1:], TOPK)
        return torch.exp(top - lse), idx + 1, h2, c2, keys[1:], vals[1:]


def layer_norm(x, g, b):
    return F.layer_norm(x, (x.shape[-1],), g, b, 1e-5)


class TransformerWindow(torch.nn.Module):
    def __init__(self, meta, t):
        super().__init__()
        self.W = meta['hunch.attention.window']
        self.L = meta['hunch.transformer.layers']
        self.NH = meta['hunch.transformer.heads']
        self.D = meta['hunch.embedding_size']
        register_tensors(self, t)

    def p(self, n):
        return getattr(self, n.replace('.', '_'))

    def forward(self, actions, types, gaps):                                            # each (Lw,)
        Lw, D, NH = actions.shape[0], self.D, self.NH
        dh = D // NH
        x = self.p('emb.action')[actions] + self.p('emb.type')[types] + self.p('emb.gap')[gaps]   # (Lw, D)
        pos = torch.arange(Lw)
        dist = (pos[:, None] - pos[None, :]).to(torch.float32)                          # i - j
        allowed = (dist >= 0) & (dist < self.W)                                          # causal, within W
        for l in range(self.L):
            b = f'blk.{l}.'
            u = layer_norm(x, self.p(b + 'ln1.g'), self.p(b + 'ln1.b'))
            q = u @ self.p(b + 'attn.w_q').t() + self.p(b + 'attn.b_q')
            k = u @ self.p(b + 'attn.w_k').t() + self.p(b + 'attn.b_k')
            v = u @ self.p(b + 'attn.w_v').t() + self.p(b + 'attn.b_v')
            qh, kh, vh = (m.reshape(Lw, NH, dh).transpose(0, 1) for m in (q, k, v))      # (NH, Lw, dh)
            s = qh @ kh.transpose(1, 2) / math.sqrt(dh) - self.p(b + 'attn.recency')[:, None, None] * dist
            s = torch.where(allowed, s, torch.full_like(s, -math.inf))
            o = (torch.softmax(s, -1) @ vh).transpose(0, 1).reshape(Lw, D)
            x = x + o @ self.p(b + 'attn.w_o').t() + self.p(b + 'attn.b_o')
            y = layer_norm(x, self.p(b + 'ln2.g'), self.p(b + 'ln2.b'))
            x = x + F.relu(y @ self.p(b + 'ffn.w1').t() + self.p(b + 'ffn.b1')) @ self.p(b + 'ffn.w2').t() \
                + self.p(b + 'ffn.b2')
        z = layer_norm(x[-1], self.p('final_ln.g'), self.p('final_ln.b'))
        logits = z @ self.p('head.action.w').t() + self.p('head.action.b')
        lse = torch.logsumexp(logits, 0)
        top, idx = torch.topk(logits[1:], TOPK)
        return torch.exp(top - lse), idx + 1


# ---------------------------------------------------------------- export ---------------------
def dump_weights(tensors, out_dir, name):
    manifest, off = [], 0
    with open(os.path.join(out_dir, name + '.weights.bin'), 'wb') as f:
        for n, v in tensors.items():
            a = np.ascontiguousarray(v.numpy(), dtype='<f4')
            manifest.append({'name': n, 'shape': list(a.shape), 'offset': off})
            f.write(a.tobytes())
            off += a.nbytes
    json.dump(manifest, open(os.path.join(out_dir, name + '.weights.json'), 'w'), indent=1)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        sys.exit(__doc__)
    path, out_dir, name = args[:3]
    check = args[args.index('--check') + 1] if '--check' in args else None
    meta, t = read_hunch(path)
    arch = meta['general.architecture']
    V = len(meta['hunch.vocab.actions'])
    T = len(meta['hunch.vocab.event_types'])
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, name + '.onnx')
    dump_weights(t, out_dir, name)
    info = {'arch': arch, 'V': V, 'T': T, 'W': meta['hunch.attention.window'], 'D': meta['hunch.embedding_size'],
            'LAYERS': meta.get('hunch.transformer.layers', 0), 'NH': meta.get('hunch.transformer.heads', 0),
            'F': meta.get('hunch.transformer.ffn_size', 0)}
    with torch.no_grad():
        if arch == 'lstm-attn':
            m = LstmAttnStep(meta, t).eval()
            H, A, W = m.H, m.A, m.W
            info.update(H=H, A=A)
            ex = (torch.tensor([1]), torch.tensor([0]), torch.tensor([0]), torch.zeros(1, H), torch.zeros(1, H),
                  torch.zeros(W - 1, A), torch.zeros(W - 1, H), torch.tensor(0))
            torch.onnx.export(m, ex, onnx_path, opset_version=17, do_constant_folding=True,
                              input_names=['action', 'type', 'gap', 'h', 'c', 'past_k', 'past_v', 'n_past'],
                              output_names=['values', 'indices', 'h_out', 'c_out', 'past_k_out', 'past_v_out'])
        elif arch == 'transformer':
            m = TransformerWindow(meta, t).eval()
            W = m.W
            ids = torch.ones(W, dtype=torch.int64)
            torch.onnx.export(m, (ids, ids * 0, ids * 0), onnx_path, opset_version=17, do_constant_folding=True,
                              input_names=['actions', 'types', 'gaps'], output_names=['values', 'indices'])
        else:
            sys.exit(f'{path}: unknown architecture {arch}')
        import onnx
        g = onnx.load(onnx_path)
        onnx.checker.check_model(g)
        ops = sorted({n.op_type for n in g.graph.node})
        print(f'{onnx_path}: {os.path.getsize(onnx_path)} bytes, {len(g.graph.node)} nodes, ops={ops}')

        if check:  # torch top-10 for the reference inputs (same layout as the shared reference.json)
            ref = json.load(open(check))
            out = {}
            if arch == 'lstm-attn':
                h, c = torch.zeros(1, H), torch.zeros(1, H)
                pk, pv = torch.zeros(W - 1, A), torch.zeros(W - 1, H)
                steps = []
                for n, item in enumerate(ref['lstm']['items']):
                    vals, idx, h, c, pk, pv = m(torch.tensor([item]), torch.tensor([item % T]),
                                                torch.tensor([0 if n == 0 else 1]), h, c, pk, pv,
                                                torch.tensor(min(n, W - 1)))
                    steps.append({'values': vals.tolist(), 'indices': idx.tolist()})
                out['lstm'] = {'items': ref['lstm']['items'], 'steps': steps}
            else:
                out['attn'] = {}
                for L, r in ref['attn'].items():
                    a = torch.tensor(r['ids'])
                    gaps = torch.ones_like(a)
                    gaps[0] = 0
                    vals, idx = m(a, a % T, gaps)
                    out['attn'][L] = {'ids': r['ids'], 'values': vals.tolist(), 'indices': idx.tolist()}
            json.dump(out, open(os.path.join(out_dir, name + '.torch.json'), 'w'))
    json.dump(info, open(os.path.join(out_dir, name + '.info.json'), 'w'))


if __name__ == '__main__':
    main()
