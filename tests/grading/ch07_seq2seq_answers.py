"""Answers to exercise 7 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source. The
notebook's setup cell has imported ``math``, ``numpy as np`` and ``Counter``,
and defined ``step_log_probs``.
"""

# Correct, but unlike the source notebook: loops, einsum, other names, other orders of summation.
ALTERNATIVE = {
    "masked_cross_entropy": """
def masked_cross_entropy(logits, y, lengths):
    total, count = 0.0, 0
    for n in range(logits.shape[0]):
        for t in range(int(lengths[n])):
            z = logits[n, t]
            log_norm = np.max(z) + math.log(np.sum(np.exp(z - np.max(z))))
            total += log_norm - z[y[n, t + 1]]
            count += 1
    return total / count
""",
    "additive_attention": """
def additive_attention(query, keys, mask, W_q, W_k, v):
    N, S, _ = keys.shape
    weights = np.zeros((N, S))
    for n in range(N):
        real = [s for s in range(S) if mask[n, s] == 1.0]
        e = np.array([v @ np.tanh(W_q @ query[n] + W_k @ keys[n, s]) for s in real])
        p = np.exp(e - e.max())
        weights[n, real] = p / p.sum()
    return np.einsum("ns,nsh->nh", weights, keys), weights
""",
    "greedy_decode": """
def greedy_decode(decoder, bos, eos, max_len):
    out = []
    while len(out) < max_len and (not out or out[-1] != eos):
        row = step_log_probs(decoder, [bos] + out)
        out.append(max(range(len(row)), key=lambda w: row[w]))
    return out
""",
    "beam_search": """
def beam_search(decoder, bos, eos, beam_size, max_len, alpha):
    beams = {(): 0.0}
    done = {}
    for t in range(max_len):
        expanded = {}
        for prefix, logp in beams.items():
            row = step_log_probs(decoder, (bos,) + prefix)
            for w, value in enumerate(row):
                expanded[prefix + (w,)] = logp + value
        best = sorted(expanded.items(), key=lambda item: item[1], reverse=True)[:beam_size]
        beams = {p: s for p, s in best if p[-1] != eos}
        done.update({p: s for p, s in best if p[-1] == eos})
        if not beams:
            break
    done.update(beams)
    def normalised(item):
        prefix, logp = item
        return logp / math.pow((5.0 + len(prefix)) / 6.0, alpha)
    prefix, logp = max(done.items(), key=normalised)
    return list(prefix), normalised((prefix, logp))
""",
    "corpus_bleu": """
def corpus_bleu(hypotheses, references):
    def grams(tokens, n):
        table = {}
        for i in range(len(tokens) - n + 1):
            key = " ".join(tokens[i:i + n])
            table[key] = table.get(key, 0) + 1
        return table
    log_sum = 0.0
    for n in (4, 3, 2, 1):
        hit = sum(min(c, grams(r, n).get(g, 0)) for h, r in zip(hypotheses, references) for g, c in grams(h, n).items())
        total = sum(max(0, len(h) - n + 1) for h in hypotheses)
        if hit == 0:
            return 0.0
        log_sum += 0.25 * (math.log(hit) - math.log(total))
    c = sum(map(len, hypotheses))
    r = sum(map(len, references))
    return math.exp(log_sum + min(0.0, 1.0 - r / c))
""",
}

# One typical mistake per part.
WRONG = {
    "masked_cross_entropy": """
def masked_cross_entropy(logits, y, lengths):
    N, T, V = logits.shape
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    token_losses = -np.take_along_axis(log_probs, y[:, 1:, None], axis=-1)[..., 0]
    mask = np.arange(T)[None, :] < lengths[:, None]
    return float((token_losses * mask).sum() / (N * T))  # divides by every position
""",
    "additive_attention": """
def additive_attention(query, keys, mask, W_q, W_k, v):
    scores = np.tanh((query @ W_q.T)[:, None, :] + keys @ W_k.T) @ v
    e = np.exp(scores - scores.max(axis=1, keepdims=True))  # the mask is forgotten
    weights = e / e.sum(axis=1, keepdims=True)
    return (weights[:, :, None] * keys).sum(axis=1), weights
""",
    "greedy_decode": """
def greedy_decode(decoder, bos, eos, max_len):
    tokens = [bos]
    for t in range(max_len):
        tokens.append(int(np.argmax(step_log_probs(decoder, tokens))))
        if tokens[-1] == eos:
            break
    return tokens  # <bos> is kept
""",
    "beam_search": """
def beam_search(decoder, bos, eos, beam_size, max_len, alpha):
    live, finished = [([], 0.0)], []
    for t in range(max_len):
        candidates = []
        for tokens, logp in live:
            row = step_log_probs(decoder, [bos] + tokens)
            candidates += [(tokens + [w], logp + float(row[w])) for w in range(len(row))]
        candidates.sort(key=lambda c: -c[1])
        live = [c for c in candidates[:beam_size] if c[0][-1] != eos]
        finished += [c for c in candidates[:beam_size] if c[0][-1] == eos]
        if not live:
            break
    finished += live
    ranked = [(tokens, logp * ((5 + len(tokens)) / 6) ** alpha) for tokens, logp in finished]
    return max(ranked, key=lambda r: r[1])
""",
    "corpus_bleu": """
def corpus_bleu(hypotheses, references):
    matches, totals = [0] * 4, [0] * 4
    for hyp, ref in zip(hypotheses, references):
        for n in range(1, 5):
            ref_grams = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
            hyp_grams = [tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1)]
            matches[n - 1] += sum(1 for g in hyp_grams if g in ref_grams)  # not clipped
            totals[n - 1] += len(hyp_grams)
    if min(matches) == 0:
        return 0.0
    c, r = sum(map(len, hypotheses)), sum(map(len, references))
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / 4)
""",
}

# Calls of the course's own implementations: they earn nothing.
CHEAT = {
    "masked_cross_entropy": """
from rnncourse.scratch.losses import softmax_cross_entropy
def masked_cross_entropy(logits, y, lengths):
    mask = np.arange(logits.shape[1])[None, :] < lengths[:, None]
    return softmax_cross_entropy(logits, y[:, 1:], mask)[0]
""",
    "additive_attention": """
import torch
from rnncourse.nn.attention import additive_scores, masked_softmax
def additive_attention(query, keys, mask, W_q, W_k, v):
    t = [torch.as_tensor(a) for a in (query, keys, W_q, W_k, v)]
    weights = masked_softmax(additive_scores(*t), torch.as_tensor(mask) > 0)
    return torch.einsum("ns,nsk->nk", weights, t[1]).numpy(), weights.numpy()
""",
    "greedy_decode": """
from rnncourse.scratch.decoding import greedy_search
def greedy_decode(decoder, bos, eos, max_len):
    step = lambda tokens, t: (decoder[t, tokens], t + 1)
    row = greedy_search(step, np.zeros(1, dtype=int), bos, eos, max_len)[0][0].tolist()
    return row[: row.index(eos) + 1] if eos in row else row
""",
    "beam_search": """
from rnncourse.scratch.decoding import beam_search as course_beam
def beam_search(decoder, bos, eos, beam_size, max_len, alpha):
    step = lambda tokens, t: (decoder[t, tokens], t + 1)
    best = course_beam(step, np.zeros(1, dtype=int), bos, eos, beam_size, max_len, alpha)[0]
    return list(best.tokens), best.score
""",
    "corpus_bleu": """
from rnncourse.evaluation.bleu import corpus_bleu as course_bleu
def corpus_bleu(hypotheses, references):
    return course_bleu(hypotheses, references)
""",
}
