#!/usr/bin/env python3
"""Writes vectors.json for formats/keyjson.md, independently of the TypeScript codec.

Run: python3 formats/vectors/keyjson/generate.py  (from the repository root; Python 3, no packages).
The encoder below follows the spec's words, not src/formats/keyjson.ts, so the tests compare two
implementations. The issue's vectors (from the original's tests) are checked against it first.
"""
import base64, json, os

NULL, FALSE, TRUE, STRING, LIST, OBJECT = 0x31, 0x32, 0x33, 0x34, 0x35, 0x36

def enc_int(n):
    size = 1
    if n >= 0:
        while n >= 128 ** size: size += 1
        prefix, x = 0xC0 + size - 1, n
    else:
        while n <= -(128 ** size): size += 1
        prefix, x = 0xBF - size + 1, n + 128 ** size - 1
    out = [prefix]
    for i in range(size - 1, -1, -1):
        out.append(0x80 | ((x >> (7 * i)) & 0x7F))
    return bytes(out)

def enc_scalar(v):
    if v is None: return bytes([NULL])
    if v is False: return bytes([FALSE])
    if v is True: return bytes([TRUE])
    if isinstance(v, int): return enc_int(v)
    if isinstance(v, str): return bytes([STRING]) + v.encode('utf-8')
    raise ValueError(v)

def enc(k):
    if isinstance(k, list):
        return bytes([LIST]) + b'\x00'.join(enc_scalar(e) for e in k)
    if isinstance(k, dict):
        entries = sorted((enc_scalar(n), enc_scalar(v)) for n, v in k.items())
        return bytes([OBJECT]) + b'\x00'.join(p for e in entries for p in e)
    return enc_scalar(k)

STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='
KJ = '()0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!'
def b64(b):
    return ''.join(KJ[STD.index(c)] for c in base64.b64encode(b).decode())

ISSUE = [  # key as JSON text, hex from the original's tests (issue 9)
    ('null', '31'),
    ('"Montr\\u00e9al"', '34 4D 6F 6E 74 72 C3 A9 61 6C'),
    ('["x", 0]', '35 34 78 00 C0 80'),
    ('["x", 0, "Foo"]', '35 34 78 00 C0 80 00 34 46 6F 6F'),
    ('{"x": 0, "y": "Foo"}', '36 34 78 00 C0 80 00 34 79 00 34 46 6F 6F'),
    ('-16384', 'BD FE FF FF'), ('-129', 'BE FE FE'), ('-128', 'BE FE FF'), ('-127', 'BF 80'),
    ('-1', 'BF FE'), ('0', 'C0 80'), ('127', 'C0 FF'), ('128', 'C1 81 80'),
    ('16384', 'C2 81 80 80'), ('2097152', 'C3 81 80 80 80'),
]
for text, hx in ISSUE:
    assert enc(json.loads(text)).hex() == hx.replace(' ', '').lower(), text

MAX = 2 ** 53 - 1
OWN = ['false', 'true', '""', '"a"', '"ab"', '"\\u007f"', '"\\u0080"', '"\\uffff"', '"\\ud83d\\udd11"', '"x\\u0001y"',
       '[]', '{}', '[null]', '[""]', '["", ""]', '[true, false, null]', '["user-17"]', '["user-17", 5]', '["user-170"]',
       '{"b": 1, "a": 2}', '{"\\u00e9": null, "z": true}', '{"aa": 1, "a": 2}', '[-1, 1]', '-0']
for size in range(1, 9):  # both edges of every integer size
    for n in (128 ** (size - 1), 128 ** size - 1, -(128 ** (size - 1)) + 1, -(128 ** size) + 1):
        if abs(n) <= MAX: OWN.append(str(n))
OWN += [str(MAX), str(-MAX), '127', '-127', '128', '-128']

seen, valid = set(), []
for source, texts in (('issue 9 (the original\'s tests)', [t for t, _ in ISSUE]), ('own', OWN)):
    for text in texts:
        key = json.loads(text)
        if json.dumps(key) in seen: continue
        seen.add(json.dumps(key))
        b = enc(key)
        valid.append({'key': text, 'hex': b.hex(), 'base64': b64(b), 'source': source})

order = [v['key'] for v in sorted(valid, key=lambda v: bytes.fromhex(v['hex']))]

invalid_keys = [  # JSON text of a key that breaks a rule
    ('[["x"]]', 'key-shape'), ('[{"a": 1}]', 'key-shape'), ('{"a": [1]}', 'key-shape'), ('{"a": {"b": 1}}', 'key-shape'),
    ('1.5', 'key-integer'), ('9007199254740992', 'key-integer'), ('-9007199254740992', 'key-integer'), ('[1e300]', 'key-integer'),
    ('"a\\u0000b"', 'key-string'), ('["\\u0000"]', 'key-string'), ('{"\\u0000": 1}', 'key-string'), ('"\\ud800"', 'key-string'),
    ('"' + 'x' * 4096 + '"', 'key-size'), ('not json', 'key-json'),
]
invalid_bytes = [  # hex, offset of the damage
    ('', 0), ('30', 0), ('37', 0), ('80', 0), ('b7', 0), ('c8', 0), ('3100', 1), ('3201', 1),
    ('34c3', 1), ('34ff', 1), ('34eda080', 1), ('346100', 2), ('c0', 0), ('c080 80'.replace(' ', ''), 0), ('c07f', 1),
    ('c18001', 2), ('c180ff', 0), ('bf ff'.replace(' ', ''), 0), ('c7' + '90' + '80' * 7, 0), ('b8' + '80' * 8, 0),
    ('3500', 1), ('35340000c080', 3), ('353500', 1), ('3536', 1), ('36347800', 4), ('36347800c08000', 7),
    ('3634790031003478003100', 11), ('36347900310034780031', 6), ('36347800310034780031', 6), ('36c08000c080', 1),
]
# An integer with a longer form than needed sorts apart from its short form, so readers refuse it:
invalid_bytes += [('c18081', 0), ('be ff fe'.replace(' ', ''), 0)]
invalid_base64 = ['(', '((!', '!(((', '(!((', '((!(', '(*((', '((((=', '(()!', '(2!!', '((=(']

out = {
    'spec': 'formats/keyjson.md',
    'generated_by': 'formats/vectors/keyjson/generate.py (independent of src/formats/keyjson.ts)',
    'valid': valid,
    'order': order,
    'invalid_keys': [{'key': k, 'rule': r} for k, r in invalid_keys],
    'invalid_bytes': [{'hex': h, 'offset': o} for h, o in invalid_bytes],
    'invalid_base64': invalid_base64,
}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, 'vectors.json'), 'w') as f:
    json.dump(out, f, indent=1, ensure_ascii=True)
    f.write('\n')
print(len(valid), 'valid,', len(invalid_keys), 'invalid keys,', len(invalid_bytes), 'invalid byte strings')
