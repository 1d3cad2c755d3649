#!/usr/bin/env python3
"""Builds data/scifact/evidence-{train,test}.jsonl: SciFact claims with their gold rationale
sentences as character spans of our corpus text, in the questions format of `ragft raft`
(src/generate/raft.h) and the generative metrics' gold evidence.

Input: the original allenai SciFact release as CSVs (allenai-scifact-hf-csv.zip, from
../shared/datasets/beir-scifact; corpus_train.csv holds each abstract as its list of sentences),
data/scifact/queries.jsonl (claims; metadata = doc id -> rationale sentence indices and label),
data/scifact/corpus.jsonl.gz (abstract text = the sentences joined by spaces) and the qrels
(which split a claim belongs to).

Spans are code-point offsets [start, end) into the document text, found by locating each
sentence in order. Answer: "supported" or "contradicted" (the label of the first evidence
document). Usage: scripts/data/scifact_evidence.py PATH/TO/allenai-scifact-hf-csv.zip
"""
import csv
import gzip
import io
import json
import re
import sys
import zipfile
from pathlib import Path

root = Path(__file__).resolve().parents[2] / "data" / "scifact"
csv.field_size_limit(10**9)

with zipfile.ZipFile(sys.argv[1]) as z:
    rows = csv.DictReader(io.TextIOWrapper(z.open("corpus_train.csv"), encoding="utf-8"))
    sentences = {}
    for r in rows:
        items = re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", r["abstract"][1:-1])
        sentences[r["doc_id"]] = [(a or b).encode().decode("unicode_escape") if "\\" in (a or b) else (a or b)
                                  for a, b in items]

texts = {}
with gzip.open(root / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        texts[d["_id"]] = d["text"]


def spans_of(doc_id, indices):
    text, sents = texts.get(doc_id), sentences.get(doc_id)
    if text is None or sents is None:
        return None
    located, pos = [], 0
    for s in sents:
        at = text.find(s, pos)
        if at < 0:
            located.append(None)
            continue
        located.append((at, at + len(s)))
        pos = at + len(s)
    out = []
    for i in indices:
        if i >= len(located) or located[i] is None:
            return None
        out.append(list(located[i]))
    return out


def split_of(path):
    ids = set()
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            if line.strip():
                ids.add(line.split("\t")[0].strip())
    return ids


splits = {"train": split_of(root / "qrels" / "train.tsv"), "test": split_of(root / "qrels" / "test.tsv")}
out = {k: [] for k in splits}
skipped = 0
with open(root / "queries.jsonl", encoding="utf-8") as f:
    for line in f:
        q = json.loads(line)
        if not q["metadata"]:
            continue
        evidence, label = [], None
        for doc_id, sets in q["metadata"].items():
            indices = sorted({i for s in sets for i in s["sentences"]})
            spans = spans_of(doc_id, indices)
            if spans is None:
                skipped += 1
                continue
            evidence.append({"doc_id": doc_id, "spans": spans})
            label = label or sets[0]["label"]
        if not evidence:
            continue
        record = {"id": q["_id"], "question": q["text"],
                  "answer": "supported" if label == "SUPPORT" else "contradicted", "evidence": evidence}
        for name, ids in splits.items():
            if q["_id"] in ids:
                out[name].append(record)
for name, records in out.items():
    with open(root / f"evidence-{name}.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"evidence-{name}.jsonl: {len(records)} claims")
print(f"documents skipped (sentences not found in the text): {skipped}")
