#!/usr/bin/env python3
"""Reference verifier for an Assure export bundle, written from docs/FORMAT.md and
docs/AUDITING.md alone: Python 3 standard library plus `blake3` and `cryptography`
(`python3 -m pip install blake3 cryptography`).

It does every step of docs/AUDITING.md:

  1. the checkpoint's signed note, verified only with the keys you pass (--trust);
  2. each event's header hash;
  3. each payload against its payload_hash, and each missing payload against the
     `ledger.redacted` event that must name it;
  4a. a full bundle: gapless seqs, the prev chain, time order, size and Merkle root;
  4b. an excerpt: inclusion proofs, and each proofs/<seq>.tlog-proof receipt;
  5. every evidence file in blobs/, named by the BLAKE3 of its bytes;

and beyond the hashes, what the events *say* (FORMAT.md §2a): it decodes every payload
with the layout tables, checks that `body` is exactly what the signed payload says, and
that every evidence file a payload names is in blobs/.

Usage:

  verify_bundle.py BUNDLE --trust VKEY [--trust VKEY ...]            check
  verify_bundle.py BUNDLE --trust VKEY --print                       check, then print
                                                                     every event as text
  verify_bundle.py --check-vectors docs/vectors/payloads.json        decode the golden
                                                                     vectors

Exit status: 0 when everything checks out; 1 with a message naming the file, line and
seq of the first problem; 2 when the command line itself is wrong; 3 when blake3 or
cryptography is not installed.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import sys

try:
    import blake3
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as missing:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"verify_bundle.py needs the blake3 and cryptography packages ({missing});\n"
        "install them with: python3 -m pip install blake3 cryptography\n"
    )
    sys.exit(3)


class Failure(Exception):
    """The bundle does not verify; the message says where and why."""


def b3(data):
    return blake3.blake3(data).digest()


def sha256(data):
    return hashlib.sha256(data).digest()


def b64(text, what):
    """Standard base64 with padding, in its one canonical form (re-encoding must give
    the text back, which refuses stray characters and non-zero trailing bits)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Failure(f"{what} is not standard base64")
    if base64.b64encode(data).decode("ascii") != text:
        raise Failure(f"{what} is not standard base64")
    return data


HASH_HEX = re.compile(r"^[0-9a-f]{64}$")


def hash_hex(text, what):
    """64 lower-case hex digits (a BLAKE3 or SHA-256 hash)."""
    if not isinstance(text, str) or not HASH_HEX.match(text):
        raise Failure(f"`{what}` is not 64 lower-case hex digits")
    return bytes.fromhex(text)


# ----------------------------------------------------------------------------------
# Step 1: signed notes, verifier keys and checkpoints (AUDITING.md step 1, FORMAT.md §3)

MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
ED25519, COSIGNATURE_V1 = 0x01, 0x04


def check_key_name(name):
    return (
        name != ""
        and not any(c.isspace() for c in name)
        and "+" not in name
        and not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name)
    )


def key_id(name, kind, public):
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key)."""
    return sha256(name.encode() + b"\n" + bytes([kind]) + public)[:4]


class VerifierKey:
    """A vkey: `name+<key id, 8 hex>+<base64(type ‖ 32-byte Ed25519 key)>`, type 0x01
    (signed-note Ed25519) or 0x04 (C2SP cosignature/v1)."""

    def __init__(self, text):
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise ValueError("expected name+keyid+key")
        name, stated, key = parts
        if not check_key_name(name):
            raise ValueError(f"key name {name!r} is not allowed")
        if not re.fullmatch(r"[0-9a-fA-F]{8}", stated):
            raise ValueError("the key id is not 8 hex digits")
        try:
            typed = base64.b64decode(key, validate=True)
        except ValueError:
            raise ValueError("the key is not valid standard base64")
        if len(typed) != 33 or typed[0] not in (ED25519, COSIGNATURE_V1):
            raise ValueError("the key must be a type byte (0x01 or 0x04) and 32 bytes")
        self.name, self.kind, self.public = name, typed[0], typed[1:]
        self.key_id = key_id(name, self.kind, self.public)
        if self.key_id != bytes.fromhex(stated):
            raise ValueError(f"the key id {stated} does not match the key")
        self.verifier = Ed25519PublicKey.from_public_bytes(self.public)

    def verifies(self, text, signature):
        """Whether `signature` (the bytes after the key id) is this key's over `text`.

        OpenSSL's Ed25519 (through `cryptography`) checks RFC 8032 signatures and refuses
        a non-canonical S; unlike ed25519-dalek's verify_strict it does not also refuse
        small-order keys and R points, which only a key you chose could exploit."""
        try:
            if self.kind == ED25519:
                if len(signature) != 64:
                    return False
                self.verifier.verify(signature, text.encode())
                return True
            # cosignature/v1: 8-byte big-endian timestamp, then the Ed25519 signature
            # over "cosignature/v1\ntime <timestamp>\n" followed by the note text.
            if len(signature) != 72:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp >= 1 << 63:
                return False
            message = f"cosignature/v1\ntime {timestamp}\n{text}"
            self.verifier.verify(signature[8:], message.encode())
            return True
        except InvalidSignature:
            return False


def parse_note(data, where):
    """A C2SP signed note: (text, [(line number, name, key id, signature bytes)])."""
    if len(data) > MAX_NOTE_BYTES:
        raise Failure(f"{where}: the note is larger than {MAX_NOTE_BYTES} bytes")
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(f"{where}: not UTF-8")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise Failure(f"{where}: a control character other than newline")
    if not note.endswith("\n"):
        raise Failure(f"{where}: the note must end with a newline")
    # The text ends at the last blank line; signature lines are never blank.
    split = note.rfind("\n\n")
    if split < 0:
        raise Failure(f"{where}: no blank line between the text and its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    first = text.count("\n") + 2
    signatures = []
    for i, line in enumerate(block.split("\n")[:-1]):
        if i == MAX_SIGNATURES:
            raise Failure(f"{where}: more than {MAX_SIGNATURES} signatures")
        number = first + i
        if not line.startswith("\u2014 "):
            raise Failure(f"{where} line {number}: not an em dash and a space")
        name, _, blob = line[2:].partition(" ")
        if not check_key_name(name) or blob == "":
            raise Failure(f"{where} line {number}: a malformed signature line")
        blob = b64(blob, f"{where} line {number}: the signature")
        if len(blob) < 5:
            raise Failure(f"{where} line {number}: the signature is too short")
        signatures.append((number, name, blob[:4], blob[4:]))
    if not signatures:
        raise Failure(f"{where}: no signature lines")
    return text, signatures


def verify_note(text, signatures, trusted, where):
    """Names of the trusted keys whose signatures verified. A signature by a key not
    trusted is ignored; a bad one by a trusted key, or a trusted key signing twice,
    fails; at least one trusted signature must verify."""
    signers = []
    for number, name, kid, signature in signatures:
        candidates = [k for k in trusted if k.name == name and k.key_id == kid]
        if not candidates:
            continue
        if (name, kid) in signers:
            raise Failure(f"{where}: key {name} signs more than once")
        if not any(k.verifies(text, signature) for k in candidates):
            raise Failure(f"{where} line {number}: the signature by trusted key {name} does not verify")
        signers.append((name, kid))
    if not signers:
        raise Failure(f"{where}: none of its {len(signatures)} signatures is by a trusted key")
    return [name for name, _ in signers]


def parse_checkpoint_body(text, where):
    """`<origin>\\n<size>\\n<root, base64>\\n` and optional extension lines."""
    lines = text[:-1].split("\n")
    for i, line in enumerate(lines):
        if line == "" or any(ord(c) < 0x20 for c in line):
            raise Failure(f"{where}: checkpoint line {i + 1} is empty or holds a control character")
    if len(lines) < 3:
        raise Failure(f"{where}: the checkpoint needs origin, size and root")
    origin, size, root = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]*", size) or int(size) >= 1 << 64:
        raise Failure(f"{where}: the tree size {size!r} is not a decimal u64")
    root = b64(root, f"{where}: the root")
    if len(root) != 32:
        raise Failure(f"{where}: the root is not 32 bytes")
    return origin, int(size), root


def verified_checkpoint(data, trusted, where):
    """(origin, size, root, signers) of a signed checkpoint, once a trusted key's
    signature verified. Size and root are taken from nowhere else."""
    text, signatures = parse_note(data, where)
    origin, size, root = parse_checkpoint_body(text, where)
    signers = verify_note(text, signatures, trusted, where)
    return origin, size, root, signers


# ----------------------------------------------------------------------------------
# The Merkle tree (RFC 9162 §2.1 with SHA-256, FORMAT.md §3)


def leaf_hash(event_hash):
    return sha256(b"\x00" + event_hash)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def merkle_root(event_hashes):
    """MTH over the event hashes, built bottom-up from the largest complete subtrees."""
    stack = []  # (size, hash) of complete subtrees, left to right
    for h in event_hashes:
        size, value = 1, leaf_hash(h)
        while stack and stack[-1][0] == size:
            left = stack.pop()[1]
            size, value = size * 2, node_hash(left, value)
        stack.append((size, value))
    if not stack:
        return sha256(b"")
    value = stack.pop()[1]
    while stack:
        value = node_hash(stack.pop()[1], value)
    return value


def inclusion_ok(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2, as AUDITING.md step 4b writes it."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def parse_tlog_proof(data, where):
    """C2SP tlog-proof: header, optional `extra`, `index N`, hashes, blank line, note."""
    if len(data) > 2 * MAX_NOTE_BYTES:
        raise Failure(f"{where}: too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(f"{where}: not UTF-8")
    lines = text.split("\n")
    pos = 0

    def line():
        nonlocal pos
        if pos >= len(lines) - 1:  # the last piece has no newline after it
            raise Failure(f"{where}: cut short before the checkpoint")
        pos += 1
        return lines[pos - 1]

    if line() != "c2sp.org/tlog-proof@v1":
        raise Failure(f"{where}: line 1 must be c2sp.org/tlog-proof@v1")
    current = line()
    if current.startswith("extra "):
        # Unauthenticated application data: checked for form, never interpreted.
        if current[6:]:
            b64(current[6:], f"{where}: extra")
        current = line()
    m = re.fullmatch(r"index (0|[1-9][0-9]*)", current)
    if not m or int(m.group(1)) >= 1 << 64:
        raise Failure(f"{where} line {pos}: not `index N`")
    index, proof = int(m.group(1)), []
    while True:
        current = line()
        if current == "":
            break
        if len(proof) == 64:
            raise Failure(f"{where}: more than 64 proof hashes")
        h = b64(current, f"{where} line {pos}")
        if len(h) != 32:
            raise Failure(f"{where} line {pos}: not a 32-byte hash")
        proof.append(h)
    note = "\n".join(lines[pos:]).encode("utf-8")
    return index, proof, note


# ----------------------------------------------------------------------------------
# Step 2: headers (FORMAT.md §1, AUDITING.md step 2)

EPOCH = datetime.date(1970, 1, 1)
EPOCH_TIME = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def day_of(days):
    """YYYY-MM-DD of a count of days since 1970-01-01, or None beyond Python's dates."""
    try:
        return (EPOCH + datetime.timedelta(days=days)).isoformat()
    except OverflowError:
        return None


def parse_effective(text):
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return (datetime.date.fromisoformat(text) - EPOCH).days
    except ValueError:
        return None


def format_recorded_at(micros):
    try:
        moment = EPOCH_TIME + datetime.timedelta(microseconds=micros)
    except OverflowError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utf8(text):
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise Failure("a text field is not valid Unicode")


def put_str(text):
    data = utf8(text)
    return len(data).to_bytes(4, "little") + data


def leaf_bytes(e):
    return (
        b"\x01"
        + e["seq"].to_bytes(8, "little")
        + e["prev"]
        + e["recorded_at_micros"].to_bytes(8, "little", signed=True)
        + e["effective_days"].to_bytes(4, "little", signed=True)
        + put_str(e["actor"])
        + put_str(e["subject"])
        + put_str(e["kind"])
        + e["payload_schema"].to_bytes(2, "little")
        + e["payload_hash"]
    )


def no_duplicate_names(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise Failure("a field appears twice")
    return dict(pairs)


def refuse_constant(name):
    raise Failure(f"{name} is not JSON")


def load_json(text):
    """JSON as the format writes it: no repeated names, no NaN or Infinity."""
    try:
        return json.loads(text, object_pairs_hook=no_duplicate_names, parse_constant=refuse_constant)
    except ValueError as e:
        raise Failure(f"not valid JSON ({e})")


def integer(value, low, high):
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_line(text):
    """One line of events.jsonl with its fields checked for type and decoded."""
    v = load_json(text)
    if not isinstance(v, dict):
        raise Failure("not a JSON object")
    want = {
        "seq": (0, 2**64 - 1),
        "recorded_at_micros": (-(2**63), 2**63 - 1),
        "payload_schema": (0, 65535),
    }
    for name, (low, high) in want.items():
        if not integer(v.get(name), low, high):
            raise Failure(f"`{name}` is missing or not an integer in range")
    for name in ("prev", "hash", "recorded_at", "effective", "actor", "subject", "kind", "payload_hash"):
        if not isinstance(v.get(name), str):
            raise Failure(f"`{name}` is missing or not a string")
    for name in ("salt", "payload"):
        if v.get(name) is not None and not isinstance(v[name], str):
            raise Failure(f"`{name}` is not a string or null")
    e = dict(v)
    e["prev"] = hash_hex(v["prev"], "prev")
    e["payload_hash"] = hash_hex(v["payload_hash"], "payload_hash")
    e["effective_days"] = parse_effective(v["effective"])
    if e["effective_days"] is None:
        raise Failure(f"`effective` {v['effective']!r} is not a YYYY-MM-DD date")
    salt, payload = v.get("salt"), v.get("payload")
    if (salt is None) != (payload is None):
        raise Failure("`salt` and `payload` must both be present or both null")
    e["body_bytes"] = None
    if payload is not None:
        if not re.fullmatch(r"[0-9a-f]{32}", salt):
            raise Failure("`salt` is not 32 lower-case hex digits")
        e["salt_bytes"] = bytes.fromhex(salt)
        e["body_bytes"] = b64(payload, "`payload`")
    proof = v.get("proof")
    e["proof_hashes"] = None
    if proof is not None:
        if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
            raise Failure("`proof` is not a list of base64 hashes")
        e["proof_hashes"] = [b64(p, "a `proof` entry") for p in proof]
        if any(len(p) != 32 for p in e["proof_hashes"]):
            raise Failure("a `proof` entry is not 32 bytes")
    index = v.get("index")
    if index is not None and not integer(index, 0, 2**64 - 1):
        raise Failure("`index` is not an integer")
    e["hash_bytes"] = hash_hex(v["hash"], "hash")
    return e


# ----------------------------------------------------------------------------------
# Payloads (FORMAT.md §2a): bincode 2, config::standard(), and the layout tables


class Reader:
    """Reads the encoding of FORMAT.md §2a from a payload, refusing what it refuses."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("the payload is cut short")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self):
        return self.take(1)[0]

    def varint(self, bits):
        """An unsigned varint of a `bits`-wide type: < 251 itself; 251/252/253/254 then
        2/4/8/16 bytes little-endian; a marker wider than the type, or 255, refused."""
        first = self.u8()
        if first < 251:
            return first
        width = {251: 16, 252: 32, 253: 64, 254: 128}.get(first)
        if width is None or width > bits:
            raise ValueError(f"varint marker {first} for a {bits}-bit integer")
        return int.from_bytes(self.take(width // 8), "little")

    def signed(self, bits):
        """Zigzag: 2n for n >= 0, -2n-1 for n < 0."""
        n = self.varint(bits)
        return n >> 1 if n % 2 == 0 else -(n >> 1) - 1

    def string(self):
        data = self.take(self.varint(64))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("a string is not UTF-8")

    def tag(self):
        """The 0/1 byte of an Option (or a bool)."""
        b = self.u8()
        if b > 1:
            raise ValueError(f"an option byte of {b}")
        return b == 1


RAG = ["green", "amber", "red", "complete", "carried-over", "not-started"]
RAG_LABEL = {
    "green": "Green",
    "amber": "Amber",
    "red": "Red",
    "complete": "Complete (Grey)",
    "carried-over": "Carried over (Blue)",
    "not-started": "Not started",
}

# The shared types of FORMAT.md §2a. A type is a name below, a primitive, or a tuple:
# ("option", T), ("vec", T), ("tuple", T1, T2). "day" is an i32 count of days since
# 1970-01-01 (encoded and rendered as any i32; named apart only to print it as a date).
STRUCTS = {
    "ActionRef": [("plan", "string"), ("reference", "string")],
    "Milestone": [("label", "string"), ("on", "day")],
    "Evidence": [("name", "string"), ("blake3", "hash"), ("bytes", "u64")],
    "ExtraField": [("header", "string"), ("text", "string")],
    "ActionDetails": [
        ("priority_key", "string"),
        ("title", "string"),
        ("impact", "string"),
        ("outcome", "string"),
        ("leads", ("vec", "string")),
        ("timescale", "string"),
        ("milestones", ("vec", "Milestone")),
        ("cross_refs", ("vec", "string")),
        ("extras", ("vec", "ExtraField")),
    ],
}
STRUCTS["ActionDetails1"] = STRUCTS["ActionDetails"][:-1]

# Every kind and schema: its fields in encoding order (the tables of FORMAT.md §2a).
LAYOUTS = {
    ("plan.created", 1): [("title", "string"), ("period", ("option", "string"))],
    ("plan.priority_added", 2): [("key", "string"), ("title", "string"), ("description", "string")],
    ("plan.priority_added", 1): [("key", "string"), ("title", "string")],
    ("action.added", 2): [
        ("details", "ActionDetails"),
        ("status", "rag"),
        ("progress", "string"),
        ("source", "string"),
    ],
    ("action.added", 1): [
        ("details", "ActionDetails1"),
        ("status", "rag"),
        ("progress", "string"),
        ("source", "string"),
    ],
    ("action.amended", 1): [
        ("title", ("option", "string")),
        ("leads", ("option", ("vec", "string"))),
        ("timescale", ("option", ("tuple", "string", ("vec", "Milestone")))),
        ("reason", "string"),
    ],
    ("action.status_changed", 1): [("status", "rag"), ("rationale", "string")],
    ("action.progress_noted", 1): [("note", "string"), ("evidence", ("vec", "Evidence"))],
    ("action.carried_over", 1): [
        ("to", "ActionRef"),
        ("reason", "string"),
        ("forum", ("option", "string")),
    ],
    ("action.carried_in", 2): [
        ("from", "ActionRef"),
        ("details", "ActionDetails"),
        ("status", "rag"),
        ("reason", "string"),
    ],
    ("action.carried_in", 1): [
        ("from", "ActionRef"),
        ("details", "ActionDetails1"),
        ("status", "rag"),
        ("reason", "string"),
    ],
    ("challenge.raised", 1): [
        ("to_agency", "string"),
        ("about", ("vec", "ActionRef")),
        ("text", "string"),
        ("response_due", ("option", "day")),
    ],
    ("challenge.responded", 2): [
        ("text", "string"),
        ("evidence", ("vec", "Evidence")),
        ("on_behalf_of", ("option", "string")),
    ],
    ("challenge.responded", 1): [("text", "string"), ("evidence", ("vec", "Evidence"))],
    ("challenge.escalated", 1): [("to", "string"), ("reason", "string")],
    ("challenge.closed", 1): [("outcome", "string"), ("impact", ("option", "string"))],
    ("challenge.reopened", 2): [("reason", "string"), ("response_due", ("option", "day"))],
    ("challenge.reopened", 1): [("reason", "string")],
    ("challenge.due_set", 1): [("response_due", "day"), ("reason", "string")],
    ("agency.registered", 1): [("name", "string"), ("aliases", ("vec", "string"))],
    ("ledger.redacted", 1): [("target_seq", "u64"), ("reason", "string"), ("authorised_by", "string")],
    ("record.structure_kept", 1): [("target_seq", "u64"), ("schema", "u16"), ("payload", "bytes")],
    ("ledger.late_after_set", 1): [("days", "u16"), ("reason", "string")],
}

# Fields `body` does not show (FORMAT.md §2a: the kept structure's payload).
HIDDEN = {("record.structure_kept", "payload")}


def read_value(r, t):
    """One value of type `t`, already in the form `body` renders it."""
    if isinstance(t, tuple):
        if t[0] == "option":
            return read_value(r, t[1]) if r.tag() else None
        if t[0] == "vec":
            return [read_value(r, t[1]) for _ in range(r.varint(64))]
        if t[0] == "tuple":
            return [read_value(r, item) for item in t[1:]]
    if t == "string":
        return r.string()
    if t == "u16":
        return r.varint(16)
    if t == "u64":
        return r.varint(64)
    if t == "day":
        return r.signed(32)
    if t == "hash":
        return r.take(32).hex()
    if t == "bytes":  # a Vec<u8>: a length, then the bytes (a u8 is one raw byte each)
        return r.take(r.varint(64))
    if t == "rag":
        index = r.varint(32)
        if index >= len(RAG):
            raise ValueError(f"no RAG status has index {index}")
        return RAG[index]
    return {name: read_value(r, ft) for name, ft in STRUCTS[t]}


def decode_payload(kind, schema, data):
    """The payload's fields (dict) in its layout; ValueError when it does not decode."""
    layout = LAYOUTS.get((kind, schema))
    if layout is None:
        raise ValueError(f"no layout for kind {kind!r} schema {schema}")
    r = Reader(data)
    fields = {name: read_value(r, t) for name, t in layout}
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} bytes after the payload")
    return fields


def body_of(kind, schema, fields):
    """The `body` FORMAT.md §2a says an export shows: every field but the hidden ones;
    an older schema in the current layout, with the fields it lacks at their defaults."""
    body = {k: v for k, v in fields.items() if (kind, k) not in HIDDEN}
    if schema == 1:
        if kind == "plan.priority_added":
            body["description"] = ""
        elif kind in ("action.added", "action.carried_in"):
            body["details"] = dict(body["details"], extras=[])
        elif kind == "challenge.responded":
            body["on_behalf_of"] = None
        elif kind == "challenge.reopened":
            body["response_due"] = None
    return body


def evidence_named(fields):
    """The BLAKE3 (hex) of every evidence file a payload names."""
    return [item["blake3"] for item in fields.get("evidence", [])]


def same_json(a, b):
    """Equal as JSON values: same types (an integer is not a float, true is not 1),
    same names, same items in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


# ----------------------------------------------------------------------------------
# The whole bundle


def read_lines(path):
    """events.jsonl as (line number, text): UTF-8, every line ending in a newline."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Failure(f"events.jsonl: cannot be read: {e}")
    pieces = data.split(b"\n")
    if pieces[-1] != b"":
        raise Failure(f"events.jsonl line {len(pieces)}: the file does not end with a newline (truncated?)")
    lines = []
    for i, piece in enumerate(pieces[:-1]):
        try:
            lines.append((i + 1, piece.decode("utf-8")))
        except UnicodeDecodeError:
            raise Failure(f"events.jsonl line {i + 1}: not UTF-8")
    return lines


def redaction_targets(lines):
    """seq → the seq of the `ledger.redacted` event naming it, from redaction events
    whose header hash and payload hash check out and which follow their target."""
    targets = {}
    for _, text in lines:
        try:
            e = parse_line(text)
        except Failure:
            continue
        if e["kind"] != "ledger.redacted" or e["body_bytes"] is None:
            continue
        if b3(leaf_bytes(e)) != e["hash_bytes"]:
            continue
        if b3(e["salt_bytes"] + e["body_bytes"]) != e["payload_hash"]:
            continue
        try:
            target = decode_payload("ledger.redacted", 1, e["body_bytes"])["target_seq"]
        except ValueError:
            continue
        if target < e["seq"]:
            targets.setdefault(target, e["seq"])
    return targets


def verify(bundle, trusted):
    """Checks the bundle; returns (summary, events) or raises Failure."""
    try:
        with open(os.path.join(bundle, "checkpoint"), "rb") as f:
            checkpoint = f.read()
    except OSError as e:
        raise Failure(f"checkpoint: cannot be read: {e}")
    origin, size, root, signers = verified_checkpoint(checkpoint, trusted, "checkpoint")

    lines = read_lines(os.path.join(bundle, "events.jsonl"))
    redactions = redaction_targets(lines)
    blobs = os.path.join(bundle, "blobs")
    excerpt = False
    if lines:
        try:
            excerpt = parse_line(lines[0][1])["proof_hashes"] is not None
        except Failure:
            pass
    events, hashes, previous = [], [], None
    for number, text in lines:
        expected = number - 1
        try:
            e = parse_line(text)
        except Failure as why:
            seq = "" if excerpt else f" (seq {expected})"
            raise Failure(f"events.jsonl line {number}{seq}: {why}")
        seq = e["seq"]
        at = f"events.jsonl line {number} (seq {seq})"
        try:
            check_event(e, previous, excerpt, expected, size, redactions, blobs)
        except Failure as why:
            raise Failure(f"{at}: {why}")
        if excerpt:
            if not inclusion_ok(seq, size, leaf_hash(e["hash_bytes"]), e["proof_hashes"], root):
                raise Failure(f"{at}: the inclusion proof does not lead to the checkpoint's root")
            check_receipt(bundle, e, trusted, at)
        hashes.append(e["hash_bytes"])
        events.append(e)
        previous = e
    if not excerpt:
        if len(lines) != size:
            raise Failure(f"events.jsonl holds {len(lines)} events but the checkpoint's tree size is {size}")
        if merkle_root(hashes) != root:
            raise Failure("the Merkle root of events.jsonl is not the checkpoint's root")
    check_blobs(blobs)
    check_keys_file(os.path.join(bundle, "keys"))
    kind = "excerpt" if excerpt else "bundle"
    summary = (
        f"OK: {kind}: {len(events)} events verified against a checkpoint of size {size} "
        f"(root {root.hex()}) signed by {', '.join(signers)}; every body says what its "
        f"signed payload says."
    )
    return summary, events


def check_event(e, previous, excerpt, expected, size, redactions, blobs):
    """Steps 2–4 and the payload's meaning for one event."""
    seq = e["seq"]
    if seq >= size:
        raise Failure(f"beyond the checkpoint's tree size {size}")
    if excerpt:
        if e["proof_hashes"] is None:
            raise Failure("no inclusion proof in an excerpt")
        if e.get("index") != seq:
            raise Failure("`index` must equal seq")
        if previous is not None and seq <= previous["seq"]:
            raise Failure(f"seqs must increase; it follows seq {previous['seq']}")
    else:
        if e["proof_hashes"] is not None:
            raise Failure("a proof in a full bundle")
        if seq != expected:
            raise Failure(f"seq {seq} where seq {expected} belongs (a missing, extra or reordered event)")
    # The chain: prev is the hash of the event before, where that event is here.
    if previous is None and seq == 0 and e["prev"] != bytes(32):
        raise Failure("`prev` of seq 0 is not 32 zero bytes")
    if previous is not None and previous["seq"] + 1 == seq and e["prev"] != previous["hash_bytes"]:
        raise Failure("`prev` is not the hash of the event before it; the chain is broken")
    if previous is not None and e["recorded_at_micros"] < previous["recorded_at_micros"]:
        raise Failure("recorded_at goes back in time")
    if b3(leaf_bytes(e)) != e["hash_bytes"]:
        raise Failure("BLAKE3 of the header fields is not `hash`; a field was changed")
    if format_recorded_at(e["recorded_at_micros"]) != e["recorded_at"]:
        raise Failure("`recorded_at` disagrees with `recorded_at_micros`")
    body = e.get("body")
    if e["body_bytes"] is None:
        if seq not in redactions:
            raise Failure("the payload is missing and no `ledger.redacted` event in the bundle names this seq")
        if body is not None:
            raise Failure("a body is shown for a payload that is missing")
        e["fields"] = None
        return
    if b3(e["salt_bytes"] + e["body_bytes"]) != e["payload_hash"]:
        raise Failure("BLAKE3(salt ‖ payload) is not `payload_hash`; the payload was changed")
    try:
        fields = decode_payload(e["kind"], e["payload_schema"], e["body_bytes"])
    except ValueError as why:
        raise Failure(f"the payload does not decode as {e['kind']} schema {e['payload_schema']}: {why}")
    if not same_json(body_of(e["kind"], e["payload_schema"], fields), body):
        raise Failure("the human-readable body does not say what the signed payload says")
    for name in evidence_named(fields):
        if not os.path.isfile(os.path.join(blobs, name)):
            raise Failure(f"evidence file {name}, named by the signed payload, is missing from blobs/")
    e["fields"] = fields


def check_receipt(bundle, e, trusted, at):
    """An excerpt's proofs/<seq>.tlog-proof must verify on its own."""
    name = f"proofs/{e['seq']}.tlog-proof"
    try:
        with open(os.path.join(bundle, name), "rb") as f:
            data = f.read()
    except OSError as err:
        raise Failure(f"{at}: {name}: {err}")
    index, proof, note = parse_tlog_proof(data, name)
    if index != e["seq"]:
        raise Failure(f"{name}: index {index} is not seq {e['seq']}")
    _, size, root, _ = verified_checkpoint(note, trusted, name)
    if not inclusion_ok(index, size, leaf_hash(e["hash_bytes"]), proof, root):
        raise Failure(f"{name}: the inclusion proof does not match its checkpoint")


def check_blobs(blobs):
    """Step 5: every file in blobs/ is named by the BLAKE3 of its bytes."""
    if not os.path.isdir(blobs):
        if os.path.exists(blobs):
            raise Failure("blobs/ is not a folder")
        return
    for name in sorted(os.listdir(blobs)):
        if not HASH_HEX.match(name):
            raise Failure(f"blobs/{name}: the name is not 64 lower-case hex digits")
        try:
            with open(os.path.join(blobs, name), "rb") as f:
                data = f.read()
        except OSError as e:
            raise Failure(f"blobs/{name}: {e}")
        if b3(data).hex() != name:
            raise Failure(f"blobs/{name}: BLAKE3 of its bytes does not match its name")


def check_keys_file(path):
    """The bundle's keys file is a hint only, but it must be well formed."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Failure(f"keys: cannot be read as UTF-8: {e}")
    pieces = text.split("\n")
    if pieces[-1] == "":
        pieces.pop()
    for i, line in enumerate(pieces):
        try:
            VerifierKey(line[:-1] if line.endswith("\r") else line)
        except ValueError as e:
            raise Failure(f"keys line {i + 1}: {e}")


# ----------------------------------------------------------------------------------
# Reading the events as text


def describe(t, value, indent):
    """Lines of text for one decoded value of type `t`."""
    pad = "  " * indent
    if value is None:
        return ["(none)"]
    if isinstance(t, tuple) and t[0] == "option":
        return describe(t[1], value, indent)
    if isinstance(t, tuple) and t[0] in ("vec", "tuple"):
        items = t[1:] if t[0] == "tuple" else [t[1]] * len(value)
        if not value:
            return ["(none)"]
        out = []
        for item_type, item in zip(items, value):
            lines = describe(item_type, item, indent + 1)
            out.append(f"\n{pad}  - " + lines[0])
            out.extend(lines[1:])
        return ["".join(out)]
    if t == "day":
        return [f"{day_of(value) or '?'} (day {value})"]
    if t == "rag":
        return [RAG_LABEL[value]]
    if t == "Evidence":
        return [f"{value['name'] or '(no name)'} ({value['bytes']} bytes, blobs/{value['blake3']})"]
    if t == "ActionRef":
        return [f"{value['plan']}/{value['reference']}"]
    if t == "Milestone":
        return [f"{value['label']}: by {day_of(value['on']) or '?'}"]
    if t == "bytes":
        return [f"{len(value)} bytes"]
    if t in STRUCTS:
        return ["".join(f"\n{pad}  {name}:" + spaced(describe(ft, value[name], indent + 1)[0]) for name, ft in STRUCTS[t])]
    if isinstance(value, str):
        return [json.dumps(value, ensure_ascii=False)]
    return [str(value)]


def spaced(text):
    """A value after its name: on the same line, or on the lines below it."""
    return text if text.startswith("\n") else " " + text


def print_events(events, out):
    kinds = {e["seq"]: e["kind"] for e in events}
    for e in events:
        out.write(
            f"seq {e['seq']}  {e['kind']}  {e['subject']}\n"
            f"  by {e['actor']}, effective {e['effective']}, recorded {e['recorded_at']}\n"
        )
        if e["fields"] is None:
            out.write("  payload erased or withheld (a ledger.redacted event names it)\n\n")
            continue
        layout = LAYOUTS[(e["kind"], e["payload_schema"])]
        for name, t in layout:
            if (e["kind"], name) in HIDDEN:
                continue
            out.write(f"  {name}:{spaced(describe(t, e['fields'][name], 1)[0])}\n")
        if e["kind"] == "record.structure_kept":
            # The kept structure is a payload of the erased event's kind.
            target, schema = e["fields"]["target_seq"], e["fields"]["schema"]
            kind = kinds.get(target)
            try:
                kept = decode_payload(kind, schema, e["fields"]["payload"]) if kind else None
            except ValueError as why:
                kept, kind = None, f"{kind} (does not decode: {why})"
            out.write(f"  kept of seq {target} ({kind or 'not in this bundle'}):\n")
            for name, t in LAYOUTS.get((kind, schema), []) if kept else []:
                out.write(f"    {name}:{spaced(describe(t, kept[name], 2)[0])}\n")
        out.write("\n")


# ----------------------------------------------------------------------------------
# The golden vectors


def check_vectors(path):
    """Decodes docs/vectors/payloads.json with the tables above: each body and hash."""
    with open(path, encoding="utf-8") as f:
        vectors = load_json(f.read())["vectors"]
    for v in vectors:
        data = bytes.fromhex(v["payload"])
        try:
            fields = decode_payload(v["kind"], v["payload_schema"], data)
        except ValueError as why:
            raise Failure(f"vector {v['name']}: does not decode: {why}")
        if not same_json(body_of(v["kind"], v["payload_schema"], fields), v["body"]):
            raise Failure(f"vector {v['name']}: the body differs from the decoded payload")
        if b3(bytes.fromhex(v["salt"]) + data).hex() != v["payload_hash"]:
            raise Failure(f"vector {v['name']}: payload_hash differs")
    return f"OK: {len(vectors)} payload vectors decode to their bodies and hashes."


def main(argv):
    parser = argparse.ArgumentParser(description="Verify an Assure export bundle (docs/AUDITING.md).")
    parser.add_argument("bundle", nargs="?", help="the bundle folder")
    parser.add_argument("--trust", action="append", default=[], metavar="VKEY", help="a verifier key you trust (repeatable)")
    parser.add_argument("--print", action="store_true", help="after verifying, print every event as text")
    parser.add_argument("--check-vectors", metavar="FILE", help="decode the golden payload vectors instead")
    args = parser.parse_args(argv)
    try:
        if args.check_vectors:
            print(check_vectors(args.check_vectors))
            return 0
        if not args.bundle or not args.trust:
            parser.error("a bundle folder and at least one --trust VKEY are needed")
        trusted = []
        for text in args.trust:
            try:
                trusted.append(VerifierKey(text))
            except ValueError as e:
                parser.error(f"--trust {text}: {e}")
        summary, events = verify(args.bundle, trusted)
    except Failure as why:
        sys.stderr.write(f"FAILED: {why}\n")
        return 1
    if args.print:
        print_events(events, sys.stdout)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
