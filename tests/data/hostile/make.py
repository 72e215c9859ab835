#!/usr/bin/env python3
"""Regenerate the hostile-input corpus (committed; run only to change it).

Every file here must make the reader end in records or in a clear error
naming the file, line and column - never a crash or a hang.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
files = {
    "empty.csv": b"",
    "header_only.csv": b"price,mileage,make\n",
    "unterminated_quote.csv": b"a,b\n1,\"never closed\n2,3\n",
    "ragged.csv": b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n",
    "nul_bytes.csv": b"a,b\n1,x\x00y\n2,3\n",
    "invalid_utf8.csv": b"name,n\nok,1\n\xff\xfe bad,2\n\xc0\xaf,3\n",
    "huge_field.csv": b"a,b\n1,\"" + b"x" * (1 << 20) + b"\"\n2,y\n",
    "numbers.csv": b"x,y\n1e400,1\nnan,2\n-inf,3\n0x10,4\n1e-400,5\n" + b"9" * 400 + b",6\n",
    "only_newlines.csv": b"\n\n\r\n\n",
    "bom_only.csv": b"\xef\xbb\xbf",
    "crlf_quotes.csv": b"a,b\r\n\"x\r\ny\",\"\"\"\"\r\n\"\",\r\n",
    "binary.bin": bytes(range(256)) * 8,
    "deep_nesting.ndjson": b"{\"a\":" + b"[" * 10000 + b"]" * 10000 + b"}\n",
    "truncated.ndjson": b"{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"y",
    "mixed.ndjson": b"{\"a\":1}\nnot json\n{\"a\":true}\n{\"a\":\"12k\"}\n{\"a\":{\"b\":1}}\n",
    "control_chars.ndjson": b"{\"a\":\"tab\there\"}\n{\"a\":\"\x01\"}\n",
}
for name, data in files.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
