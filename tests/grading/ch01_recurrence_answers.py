"""Answers to exercise 1 that are written differently, wrong, or that cheat.

Each dict maps an answer cell's grade_id to a complete cell source.
"""

# Correct, but unlike the source notebook: loops instead of vectorised
# code, other variable names, other helpers.
ALTERNATIVE = {
    "build_vocab": """
def build_vocab(sentences):
    words = [w for s in sentences for w in s.lower().split()]
    table = {"<pad>": 0, "<unk>": 1}
    for w in words:
        table.setdefault(w, len(table))
    return table
""",
    "encode_and_pad": """
def encode_and_pad(sentences, vocab, max_len):
    rows = []
    for s in sentences:
        codes = [vocab[w] if w in vocab else 1 for w in s.lower().split()]
        codes = (codes + [0] * max_len)[:max_len]
        rows.append(codes)
    table = np.array(rows, dtype=int).reshape(len(sentences), max_len)
    return table, np.count_nonzero(table, axis=1)  # no real token has index 0
""",
    "rnn_cell_forward": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    n, hidden = h_prev.shape[0], W_hh.shape[0]
    out = np.zeros((n, hidden))
    for i in range(n):
        for j in range(hidden):
            total = b_h[j]
            for k in range(x_t.shape[1]):
                total += W_xh[j, k] * x_t[i, k]
            for k in range(hidden):
                total += W_hh[j, k] * h_prev[i, k]
            out[i, j] = np.tanh(total)
    return out
""",
    "rnn_forward": """
def rnn_forward(x, h0, W_xh, W_hh, b_h):
    N, T, _ = x.shape
    result = np.zeros((N, T, h0.shape[1]))
    current = h0.copy()
    for step in range(T):
        current = np.tanh(np.einsum("hd,nd->nh", W_xh, x[:, step]) + np.einsum("hk,nk->nh", W_hh, current) + b_h)
        result[:, step] = current
    return result
""",
    "softmax": """
def softmax(logits):
    out = np.empty_like(logits, dtype=float)
    for row in range(logits.shape[0]):
        z = logits[row] - np.max(logits[row])
        log_norm = np.log(np.sum(np.exp(z)))
        out[row] = np.exp(z - log_norm)
    return out
""",
    "classify": """
def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    last = h0
    for t in range(x.shape[1]):
        stepped = np.tanh(x[:, t] @ W_xh.T + last @ W_hh.T + b_h)
        last = np.where((t < lengths)[:, None], stepped, last)  # padding leaves the state alone
    z = last @ W_hy.T + b_y
    z = z - z.max(axis=-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
""",
}

# One common mistake per part.
WRONG = {
    "build_vocab": """
def build_vocab(sentences):
    tokens = sorted({w for s in sentences for w in s.lower().split()})
    return {"<pad>": 0, "<unk>": 1, **{w: i + 2 for i, w in enumerate(tokens)}}
""",
    "encode_and_pad": """
def encode_and_pad(sentences, vocab, max_len):
    ids = np.zeros((len(sentences), max_len), dtype=np.int64)
    lengths = np.zeros(len(sentences), dtype=np.int64)
    for row, s in enumerate(sentences):
        tokens = [vocab.get(w, 1) for w in s.lower().split()][:max_len]
        lengths[row] = len(tokens)
        if tokens:
            ids[row, max_len - len(tokens):] = tokens
    return ids, lengths
""",
    "rnn_cell_forward": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)
""",
    "rnn_forward": """
def rnn_forward(x, h0, W_xh, W_hh, b_h):
    return np.stack([rnn_cell_forward(x[:, t], h0, W_xh, W_hh, b_h) for t in range(x.shape[1])], axis=1)
""",
    "softmax": """
def softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)
""",
    "classify": """
def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return softmax(h[:, -1] @ W_hy.T + b_y)  # the state after the padding
""",
}

# Each part handed to the course's own implementation (or to torch).
CHEAT = {
    "build_vocab": """
from rnncourse.data.text import Vocabulary
def build_vocab(sentences):
    return dict(Vocabulary.build(sentences).index)
""",
    "encode_and_pad": """
from rnncourse.data.text import Vocabulary, pad_batch
def encode_and_pad(sentences, vocab, max_len):
    v = Vocabulary(sorted(vocab, key=vocab.get))
    return pad_batch([v.encode(s) for s in sentences], max_len)
""",
    "rnn_cell_forward": """
from rnncourse.scratch.rnn import rnn_step_forward as step
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return step(x_t, h_prev, W_xh, W_hh, b_h)[0]
""",
    "rnn_forward": """
import rnncourse.scratch.rnn
def rnn_forward(x, h0, W_xh, W_hh, b_h):
    return rnncourse.scratch.rnn.rnn_forward(x, h0, W_xh, W_hh, b_h)[0]
""",
    "softmax": """
import torch
def softmax(logits):
    return torch.softmax(torch.from_numpy(logits), dim=1).numpy()
""",
    "classify": """
from rnncourse.scratch.rnn import rnn_forward as course_rnn
from rnncourse.scratch.activations import softmax as course_softmax
def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = course_rnn(x, h0, W_xh, W_hh, b_h)[0]
    return course_softmax(h[np.arange(len(lengths)), lengths - 1] @ W_hy.T + b_y)
""",
}

# More answers per part, each with words its message must contain. Some fail
# only on hidden cases; some return what crosses the sandbox's wall oddly (a
# list, a generator, an ndarray subclass whose comparisons always hold).
MISTAKES: dict[str, list[tuple[str, str]]] = {
    "build_vocab": [
        ("def build_vocab(sentences):\n    raise NotImplementedError()\n", "replace the line"),
        (
            """
def build_vocab(sentences):
    vocab = {"<pad>": 0, "<unk>": 1}
    for s in sentences:
        for w in s.lower().split(" "):  # fails on tabs and repeated spaces only
            vocab.setdefault(w, len(vocab))
    return vocab
""",
            "Hidden check 'mixed case, tabs, repeated spaces and an empty sentence'",
        ),
        (
            """
import re
def build_vocab(sentences):
    vocab = {"<pad>": 0, "<unk>": 1}
    for s in sentences:
        for w in re.findall(r"\\w+", s.lower()):  # drops punctuation: hidden only
            vocab.setdefault(w, len(vocab))
    return vocab
""",
            "Hidden check 'punctuation': build_vocab: wrong set of tokens; split each",
        ),
        (
            "def build_vocab(sentences):\n    return ['<pad>', '<unk>'] + [w for s in sentences for w in s.split()]\n",
            "returned list",
        ),
    ],
    "encode_and_pad": [
        (
            """
def encode_and_pad(sentences, vocab, max_len):
    ids = np.zeros((len(sentences), max_len), dtype=np.int64)
    for row, s in enumerate(sentences):
        for col, w in enumerate(s.lower().split()[:max_len]):
            ids[row, col] = vocab.get(w, 1)
    return [ids, (ids != 0).sum(axis=1)]  # a list, not a tuple: accepted
""",
            "",
        ),
        (
            """
import re
def encode_and_pad(sentences, vocab, max_len):
    ids = np.zeros((len(sentences), max_len), dtype=np.int64)
    lengths = np.zeros(len(sentences), dtype=np.int64)
    for row, s in enumerate(sentences):
        tokens = re.findall(r"\\w+", s.lower())[:max_len]  # drops punctuation: hidden only
        lengths[row] = len(tokens)
        ids[row, : len(tokens)] = [vocab.get(w, 1) for w in tokens]
    return ids, lengths
""",
            "Hidden check 'punctuation': encode_and_pad: wrong indices. Split each",
        ),
        (
            "def encode_and_pad(sentences, vocab, max_len):\n    return {'ids': None}\n",
            "returned dict",
        ),
    ],
    "rnn_cell_forward": [
        (
            """
class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.zeros((x_t.shape[0], W_hh.shape[0])).view(AlwaysEqual)
""",
            "gives wrong values",
        ),
        (
            """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    h = np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
    return h, (x_t, h_prev, h)  # the cache too
""",
            "tuple of 2 items",
        ),
        (
            """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    a = x_t.astype(np.float32) @ W_xh.T.astype(np.float32) + h_prev @ W_hh.T + b_h
    return np.tanh(a)
""",
            "float32",
        ),
        (
            """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.squeeze(np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h))  # loses axes of size 1
""",
            "Hidden check 'all sizes 1'",
        ),
    ],
    "rnn_forward": [
        (
            """
def rnn_forward(x, h0, W_xh, W_hh, b_h):
    h, out = h0, []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, W_xh, W_hh, b_h)
        out.append(h)
    return out  # a list of (N, H) states
""",
            "returned list",
        ),
        (
            """
def rnn_forward(x, h0, W_xh, W_hh, b_h):
    h = h0
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, W_xh, W_hh, b_h)
    return h  # only the last state
""",
            "only one state",
        ),
        (
            "def rnn_forward(x, h0, W_xh, W_hh, b_h):\n    return undefined_helper(x)\n",
            "raised NameError: name 'undefined_helper' is not defined",
        ),
    ],
    "softmax": [
        (
            "def softmax(logits):\n    e = np.exp(logits)\n    return e / e.sum(axis=1, keepdims=True)\n",
            "NaN",
        ),
        ("def softmax(logits):\n    return (row for row in logits)\n", "returned generator"),
        ("def softmax(logits):\n    return np.exp(logits).sum() / np.exp(logits).sum()\n", "returned float;"),
        (
            """
def softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).astype(np.float32)
""",
            "float32",
        ),
    ],
    "classify": [
        (
            """
def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return softmax(h[np.arange(len(lengths)), lengths] @ W_hy.T + b_y)
""",
            "index L - 1",
        ),
        (
            """
def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return h[np.arange(len(lengths)), lengths - 1] @ W_hy.T + b_y
""",
            "these are logits",
        ),
        (
            """
def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return float(softmax(h[:, -1] @ W_hy.T + b_y)[0, 0])
""",
            "returned float",
        ),
    ],
}

# Correct values, but an input array is modified in place: the lab and the
# grader's sandbox both find it, and say so in the same words.
IN_PLACE = {
    "rnn_cell_forward": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    h = np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
    h_prev[...] = h  # overwrites an input after using it
    return h
""",
}
