#!/usr/bin/env python3
"""Builds the starting corpus of every fuzz target from the project's existing test data.

Usage: fuzz/make_corpus.py OUT_DIR   (writes OUT_DIR/<target>/<sha1> files; scripts/fuzz calls it)

Sources: the string literals of the unit tests (response bodies, items, positions, expressions,
config texts, COPY cells), the YAML case files and examples, and AWS's SigV4 test vectors in
../shared/testdata/sigv4. Each literal goes to the targets whose input it looks like; libFuzzer
needs no more than a plausible start.
"""
import hashlib
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

RAW = re.compile(r'R"\((.*?)\)"', re.S)
PLAIN = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ADJACENT_RAW = re.compile(r'\)"\s*R"\(', re.S)


def unescape_cpp(text):
    try:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1", "replace").decode(
            "latin-1")
    except Exception:
        return text


def literals(path):
    """Every string literal of a C++ file; adjacent raw literals are joined."""
    source = path.read_text(errors="replace")
    out = [m.group(1) for m in RAW.finditer(ADJACENT_RAW.sub("", source))]
    without_raw = RAW.sub("", source)
    out += [unescape_cpp(m.group(1)) for m in PLAIN.finditer(without_raw)]
    return [s for s in out if s]


def yaml_single_quoted(text, key):
    """Values of `key: '...'` (YAML single-quoted, possibly folded over lines)."""
    values = []
    for match in re.finditer(r"(?m)^\s*%s:\s*'" % re.escape(key), text):
        i = match.end()
        value = []
        while i < len(text):
            c = text[i]
            if c == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    value.append("'")
                    i += 2
                    continue
                break
            value.append(c)
            i += 1
        values.append(re.sub(r"\s*\n\s*", " ", "".join(value)))
    return values


def main():
    out_dir = Path(sys.argv[1])
    corpus = {name: set() for name in ("attribute_value", "scan_response", "get_records_response",
                                       "describe_stream_response", "source_position", "config_yaml", "expression",
                                       "copy_text", "sigv4")}

    strings = []
    for path in sorted((ROOT / "tests").rglob("*.cpp")) + sorted((ROOT / "tests").rglob("*.h")):
        strings += literals(path)
    for text in strings:
        stripped = text.strip()
        if stripped.startswith("{"):
            if "StreamDescription" in text:
                corpus["describe_stream_response"].add(text)
            if '"Items"' in text or '"LastEvaluatedKey"' in text:
                corpus["scan_response"].add(text)
            if '"Records"' in text or '"dynamodb"' in text:
                corpus["get_records_response"].add(text)
            if '"v":' in text or '"S":' in text:
                corpus["source_position"].add(text)
            if re.search(r'\{"(S|N|B|M|L|SS|NS|BS|BOOL|NULL)":', text):
                corpus["attribute_value"].add(text)
        elif "version:" in text or "pipelines:" in text or "sources:" in text:
            corpus["config_yaml"].add(text)
        elif len(text) < 200:
            corpus["expression"].add(text)
            corpus["copy_text"].add("\x00" + text)

    for path in sorted((ROOT / "tests" / "cases").rglob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml")):
        text = path.read_text(errors="replace")
        corpus["config_yaml"].add(text)
        for item in yaml_single_quoted(text, "item"):
            corpus["attribute_value"].add(item)
            corpus["scan_response"].add('{"Items":[%s],"Count":1,"ScannedCount":1}' % item)
            corpus["get_records_response"].add(
                '{"Records":[{"eventID":"1","eventName":"MODIFY","dynamodb":{"Keys":{"id":{"S":"k1"}},'
                '"NewImage":%s,"OldImage":%s,"SequenceNumber":"100","SizeBytes":10,'
                '"ApproximateCreationDateTime":1700000000}}],"NextShardIterator":"it"}' % (item, item))
        # Expressions: the third element of each [name, type, expression] column.
        for match in re.finditer(r"\[\s*[A-Za-z_]+\s*,\s*[A-Za-z ()0-9,]+?\s*,\s*(\"(?:[^\"\\]|\\.)*\"|[^\]\n]+)\]", text):
            expression = match.group(1).strip()
            if expression.startswith('"'):
                expression = unescape_cpp(expression[1:-1])
            corpus["expression"].add(expression)
        for match in re.finditer(r"(?m)^\s*(?:-\s*)?(?:[A-Za-z_]+):\s*\"((?:[^\"\\]|\\.)*)\"", text):
            corpus["copy_text"].add("\x01" + unescape_cpp(match.group(1)) + "\x00\xff\x00x")

    for request in sorted((SHARED / "testdata" / "sigv4").glob("*/request.txt")):
        corpus["sigv4"].add(request.read_text(errors="replace"))

    for name, inputs in corpus.items():
        folder = out_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        for text in inputs:
            data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{name}: {len(inputs)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
