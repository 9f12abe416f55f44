#!/usr/bin/env python3
# Independent CVV computation for adapters/crypto/src/cvc.rs (Python `cryptography`), to find vectors whose result block has
# fewer than three decimal digits, so the letter pass of the decimalization is reached.
import warnings
warnings.filterwarnings("ignore")
try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

A = bytes.fromhex("0123456789ABCDEF"); B = bytes.fromhex("FEDCBA9876543210")
def enc(key, block):
    e = Cipher(TripleDES(key), modes.ECB()).encryptor(); return e.update(block) + e.finalize()
def cvv(pan, exp, sc):
    d = (pan + exp + sc).ljust(32, "0")
    b1 = bytes.fromhex(d[:16]); b2 = bytes.fromhex(d[16:])
    r = enc(A*3, b1); r = bytes(x ^ y for x, y in zip(r, b2)); r = enc(A+B+A, r)
    h = r.hex().upper()
    dec = [c for c in h if c.isdigit()] + [str(ord(c) - ord('A')) for c in h if c.isalpha()]
    return "".join(dec[:3]), h
assert cvv("4123456789012345", "8701", "111") == ("856", "8D5625FA78011A0C")
def luhn(p):
    s = 0
    for i, c in enumerate(reversed(p)):
        d = int(c)
        if i % 2 == 0: d *= 2; d = d - 9 if d > 9 else d
        s += d
    return str((10 - s % 10) % 10)
found = []
n = 0
while len(found) < 3:
    body = "943512" + f"{n:09d}"; pan = body + luhn(body); n += 1
    c, h = cvv(pan, "3111", "000")
    if sum(ch.isdigit() for ch in h) < 3:
        found.append((pan, c, h))
print(n, found)
