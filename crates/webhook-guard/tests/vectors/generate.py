#!/usr/bin/env python3
"""Independent reference generator for webhook-guard's data-driven test vectors.

Writes one JSON file per vector to ``<scheme>/<name>.json`` beside this script.
Everything is deterministic: fixed secrets, seeds, ids and clocks; no randomness.

It is written from the senders' documented wire facts (each preset's module docs under
src/providers/ cite the vendor pages) and the verification rules, not from the Rust code, using only the Python standard library plus the PyPI package
``cryptography`` for Ed25519.

Before anything is written, every vector is re-checked by the small reference verifier at
the bottom of this file, so a vector whose construction does not produce the outcome it
claims makes the generator fail instead of landing on disk.  The generator also asserts that
the example published with the Standard Webhooks specification is reproduced byte for byte.

Usage:
    python3 generate.py           # (re)write every vector, print a summary table
    python3 generate.py --check   # write nothing; exit 1 if the files on disk differ
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMES = [
    "botdog",
    "pollybot",
    "breakcold",
    "breakcold-legacy",
    "standard",
    "github",
    "stripe",
    "slack",
    "shopify",
]

NOW = 1763633730  # 2025-11-20T10:15:30Z, the receiver's clock
T = NOW - 30  # when the sender signed: 30 s before receipt
TOL = 300  # default tolerance
I64_MAX = 2**63 - 1

OVERFLOW_TS = "99999999999999999999"  # > i64::MAX
HUGE_TS = "9999999999"  # fits i64, year 2286
NEG_TS = "-1700000000"


# --------------------------------------------------------------------------------------
# primitives
# --------------------------------------------------------------------------------------


def mac(key, *parts):
    m = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        m.update(p)
    return m.digest()


def b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


def hx(d):
    return d.hex()


def b64(d):
    return base64.b64encode(d).decode("ascii")


def sha256_id(body):
    return "sha256:" + hashlib.sha256(body).hexdigest()


def derived_id(parts, body):
    """An id derived from body fields ends with 32 hex digits of the body's SHA-256, so two
    different deliveries sharing those fields never share an id."""
    return parts + ":" + hashlib.sha256(body).hexdigest()[:32]


# Senders whose ids are derived from body fields: `expect` ids written as the fields alone get the
# body digest appended by `add`, so each vector states the readable part.
DERIVED_ID_SCHEMES = ("pollybot", "breakcold-legacy")


def compact(obj):
    """How the senders serialize: compact, key order as written, UTF-8 (not \\u escapes)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def reserialize(body):
    """What a JSON library round-trip does to a body: other spacing, sorted keys, escapes."""
    out = json.dumps(json.loads(body), sort_keys=True, indent=None, ensure_ascii=True).encode()
    assert out != body
    return out


def tamper(body, old, new):
    """Change exactly one byte of the body."""
    old, new = b(old), b(new)
    assert len(old) == len(new) and body.count(old) >= 1
    out = body.replace(old, new, 1)
    assert len(out) == len(body) and sum(x != y for x, y in zip(out, body)) == 1
    return out


GARBAGE_HEX = "0123456789abcdef" * 4  # 64 hex chars, decodes to 32 bytes, matches nothing
NON_HEX_64 = "g" + "0123456789abcdef" * 3 + "0123456789abcde"  # 64 chars, not hex
assert len(NON_HEX_64) == 64

NON_UTF8_BODY = b'{"id":"evt_\xff\xfe","note":"latin-1 \xe9"}'
NON_JSON_BODY = b"this is not json, but it is signed"


# --------------------------------------------------------------------------------------
# vector collection
# --------------------------------------------------------------------------------------

VECTORS = {}  # scheme -> {name: vector}


def ok(id_, event_type):
    return {"ok": True, "id": id_, "event_type": event_type}


def err(kind):
    assert kind in {
        "missing_signature",
        "malformed_signature",
        "signature_mismatch",
        "timestamp_out_of_tolerance",
        "invalid_payload",
    }
    return {"error": kind}


def add(scheme, name, description, *, secrets, headers, body, expect, now=NOW,
        tolerance=None, options=None, verify_only=False):
    assert scheme in SCHEMES
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    assert name not in VECTORS.setdefault(scheme, {}), (scheme, name)
    assert description.endswith(".") and "\n" not in description
    body = b(body)
    if scheme in DERIVED_ID_SCHEMES and "id" in expect and not expect["id"].startswith("sha256:"):
        expect = dict(expect, id=derived_id(expect["id"], body))
    v = {
        "description": description,
        "provider": scheme,
        "secrets": list(secrets),
        "now": now,
        "headers": [[n, val] for n, val in headers],
        "expect": expect,
    }
    try:
        v["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        v["body_base64"] = b64(body)
    if tolerance is not None:
        v["tolerance"] = tolerance
    if options:
        v["options"] = dict(options)
    if verify_only:
        v["verify_only"] = True
    VECTORS[scheme][name] = v


# --------------------------------------------------------------------------------------
# botdog
# --------------------------------------------------------------------------------------


def gen_botdog():
    s = "botdog"
    k1 = "bd_whk_4f9c2a7e1b3d5f60a8c7"
    k2 = "bd_whk_rotated_8a1c3e5f7b9d0246"

    def sig(key, t, body):
        return hx(mac(b(key), b(t) + b".", body))

    def hdrs(value, name="X-Webhook-Signature"):
        return [["Content-Type", "application/json"], [name, value]]

    def signed(key, t, body, name="X-Webhook-Signature"):
        return hdrs(f"t={t},s={sig(key, t, body)}", name)

    base = {
        "id": "evt_01JD3K9Q8W2M4N6P7R8S9T0V1W",
        "timestamp": "2025-11-20T10:15:00.000Z",
        "eventType": "LEAD_MESSAGE_REPLIED",
        "humanReadableEventName": "Received a reply",
        "campaignId": "cmp_42",
        "campaignName": "Q4 founders",
        "botdogUserId": "usr_7",
        "botdogUserEmail": "ops@example.com",
        "botdogUserLinkedinPublicUrl": "https://www.linkedin.com/in/ops-example",
        "contactName": "José Müller",
        "contactLinkedinUrl": "https://www.linkedin.com/in/jose-muller",
        "contactEmails": ["jose@example.com", "j.muller@acme.example"],
        "contactPhones": [],
        "contactCompanyName": "Acme GmbH",
        "repliedAt": "2025-11-20T10:14:58.000Z",
        "message": "Sounds good — let's talk Tuesday.",
    }
    body = compact(base)
    eid, et = base["id"], base["eventType"]
    t = str(T)

    # ---- accepted
    add(s, "valid", "A correctly signed LEAD_MESSAGE_REPLIED delivery is accepted.",
        secrets=[k1], headers=signed(k1, t, body), body=body, expect=ok(eid, et))
    add(s, "uppercase_hex", "An uppercase hex signature is accepted.",
        secrets=[k1], headers=hdrs(f"t={t},s={sig(k1, t, body).upper()}"), body=body,
        expect=ok(eid, et))
    empty_id = compact(dict(base, id=""))
    add(s, "empty_id_uses_body_digest", "An empty id is no id: the id is the body digest, not the empty string.",
        secrets=[k1], headers=signed(k1, t, empty_id), body=empty_id, expect=ok(sha256_id(empty_id), et))
    add(s, "header_name_lowercase", "The signature header name matches case-insensitively (all lowercase).",
        secrets=[k1], headers=signed(k1, t, body, "x-webhook-signature"), body=body,
        expect=ok(eid, et))
    add(s, "header_name_uppercase", "The signature header name matches case-insensitively (all uppercase).",
        secrets=[k1], headers=signed(k1, t, body, "X-WEBHOOK-SIGNATURE"), body=body,
        expect=ok(eid, et))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, t, body), body=body, expect=ok(eid, et))
    add(s, "rotation_two_signatures_one_garbage",
        "A header carrying a non-matching s= entry followed by a valid one is accepted.",
        secrets=[k1], headers=hdrs(f"t={t},s={GARBAGE_HEX},s={sig(k1, t, body)}"), body=body,
        expect=ok(eid, et))
    add(s, "parts_reordered", "Header parts are key=value pairs in any order: s= before t= is accepted.",
        secrets=[k1], headers=hdrs(f"s={sig(k1, t, body)},t={t}"), body=body, expect=ok(eid, et))
    unk = compact({
        "id": "evt_01JD3KCAMPAIGN0000000001",
        "timestamp": "2025-11-20T10:15:00.000Z",
        "eventType": "CAMPAIGN_STARTED",
        "humanReadableEventName": "Campaign started",
        "campaignId": "cmp_42",
        "campaignName": "Q4 founders",
    })
    add(s, "unknown_event_type", "An unknown eventType (CAMPAIGN_STARTED, no contact fields) is accepted.",
        secrets=[k1], headers=signed(k1, t, unk), body=unk,
        expect=ok("evt_01JD3KCAMPAIGN0000000001", "CAMPAIGN_STARTED"))
    inv = dict(base, id="evt_01JD3KINVITE00000000000001", eventType="LEAD_INVITATION_SENT",
               humanReadableEventName="Invitation sent", message=None,
               sentAt="2025-11-20T10:14:00.000Z")
    del inv["repliedAt"]
    inv = compact(inv)
    add(s, "invitation_sent_null_message", "LEAD_INVITATION_SENT with a null message (no invitation note) is accepted.",
        secrets=[k1], headers=signed(k1, t, inv), body=inv,
        expect=ok("evt_01JD3KINVITE00000000000001", "LEAD_INVITATION_SENT"))
    extra = dict(base, someFutureField={"nested": [1, 2, 3]}, anotherNewField="x")
    extra = compact(extra)
    add(s, "unknown_fields_ignored", "Unknown extra fields in a known event are ignored.",
        secrets=[k1], headers=signed(k1, t, extra), body=extra, expect=ok(eid, et))
    pretty = (json.dumps({
        "id": "evt_01JD3KPRETTY0000000000001",
        "timestamp": "2025-11-20T10:15:00.000Z",
        "eventType": "LEAD_PROFILE_VISITED",
        "contactEmails": [],
        "contactPhones": [],
        "visitedAt": "2025-11-20T10:10:00.000Z",
    }, indent=4) + "\r\n").encode()
    add(s, "pretty_body_trailing_crlf",
        "A pretty-printed body ending in CRLF is verified over its exact bytes and accepted.",
        secrets=[k1], headers=signed(k1, t, pretty), body=pretty,
        expect=ok("evt_01JD3KPRETTY0000000000001", "LEAD_PROFILE_VISITED"))
    tp = str(NOW - TOL)
    add(s, "tolerance_exact_past", "A timestamp exactly tolerance seconds in the past is accepted.",
        secrets=[k1], headers=signed(k1, tp, body), body=body, expect=ok(eid, et))
    tf = str(NOW + TOL)
    add(s, "tolerance_exact_future", "A timestamp exactly tolerance seconds in the future is accepted.",
        secrets=[k1], headers=signed(k1, tf, body), body=body, expect=ok(eid, et))
    tc = str(NOW - 500)
    add(s, "custom_tolerance_accepts", "With tolerance 600 a timestamp 500 s old is accepted.",
        secrets=[k1], headers=signed(k1, tc, body), body=body, tolerance=600, expect=ok(eid, et))
    h = signed(k1, t, body)
    add(s, "duplicate_header_identical", "The signature header sent twice with identical values is accepted.",
        secrets=[k1], headers=h + [h[-1]], body=body, expect=ok(eid, et))
    uk = "clé-secrète-ü-🔑"
    add(s, "non_ascii_secret", "A non-ASCII secret is used as its raw UTF-8 bytes.",
        secrets=[uk], headers=signed(uk, t, body), body=body, expect=ok(eid, et))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=tamper(body, "Tuesday", "Tuesdax"),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, t, body), body=body, expect=err("signature_mismatch"))
    add(s, "truncated_signature", "A 63-hex-char signature cannot decode to 32 bytes and matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},s={sig(k1, t, body)[:63]}"), body=body,
        expect=err("signature_mismatch"))
    add(s, "signature_too_long", "A 66-hex-char signature (33 bytes) matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},s={sig(k1, t, body)}00"), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty s= value matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},s="), body=body, expect=err("signature_mismatch"))
    add(s, "non_hex_signature", "A 64-char s= value that is not hex matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},s={NON_HEX_64}"), body=body,
        expect=err("signature_mismatch"))
    add(s, "signed_body_only", "A MAC over the body without the \"{t}.\" prefix is a signature mismatch.",
        secrets=[k1], headers=hdrs(f"t={t},s={hx(mac(b(k1), body))}"), body=body,
        expect=err("signature_mismatch"))
    add(s, "timestamp_changed", "Changing t= after signing (still fresh) is a signature mismatch.",
        secrets=[k1], headers=hdrs(f"t={T - 1},s={sig(k1, t, body)}"), body=body,
        expect=err("signature_mismatch"))
    ts = str(NOW - TOL - 1)
    add(s, "stale_timestamp", "A correctly signed delivery tolerance+1 seconds old is out of tolerance.",
        secrets=[k1], headers=signed(k1, ts, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    tfu = str(NOW + TOL + 1)
    add(s, "future_timestamp", "A correctly signed delivery tolerance+1 seconds in the future is out of tolerance.",
        secrets=[k1], headers=signed(k1, tfu, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    tcr = str(NOW - 61)
    add(s, "custom_tolerance_rejects", "With tolerance 60 a correctly signed delivery 61 s old is out of tolerance.",
        secrets=[k1], headers=signed(k1, tcr, body), body=body, tolerance=60,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "huge_timestamp_in_range", "A correctly signed t=9999999999 (fits i64) is out of tolerance.",
        secrets=[k1], headers=signed(k1, HUGE_TS, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "wrong_mac_stale_timestamp", "A wrong MAC with a stale timestamp is a signature mismatch (MAC is checked first).",
        secrets=[k1], headers=signed(k2, ts, body), body=body, expect=err("signature_mismatch"))
    add(s, "missing_signature_header", "A request without X-Webhook-Signature is missing its signature.",
        secrets=[k1], headers=[["Content-Type", "application/json"]], body=body,
        expect=err("missing_signature"))
    add(s, "missing_t_part", "A header with s= but no t= is malformed.",
        secrets=[k1], headers=hdrs(f"s={sig(k1, t, body)}"), body=body,
        expect=err("malformed_signature"))
    add(s, "missing_s_part", "A header with t= but no s= is malformed.",
        secrets=[k1], headers=hdrs(f"t={t}"), body=body, expect=err("malformed_signature"))
    add(s, "part_without_equals", "A header part without '=' is malformed.",
        secrets=[k1], headers=hdrs(f"t={t},garbage,s={sig(k1, t, body)}"), body=body,
        expect=err("malformed_signature"))
    for name, tv, why in [
        ("negative_timestamp", NEG_TS, "a negative t= is"),
        ("plus_sign_timestamp", "+" + t, "a t= with a leading '+' is"),
        ("space_in_timestamp", " " + t, "a t= with a leading space is"),
        ("decimal_timestamp", t + ".0", "a t= with a fractional part is"),
        ("empty_timestamp", "", "an empty t= is"),
        ("overflow_timestamp", OVERFLOW_TS, "a t= overflowing i64 is"),
    ]:
        add(s, name, f"Even when signed over it, {why} malformed.",
            secrets=[k1], headers=signed(k1, tv, body), body=body,
            expect=err("malformed_signature"))
    h2 = signed(k1, t, body)
    add(s, "duplicate_header_different", "Two X-Webhook-Signature headers with different values are malformed.",
        secrets=[k1], headers=h2 + [["X-Webhook-Signature", f"t={t},s={GARBAGE_HEX}"]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    bad = compact(dict(base, contactEmails="x"))
    add(s, "contact_emails_not_list", "A signed known event whose contactEmails is a string is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, bad), body=bad, expect=err("invalid_payload"))
    bad = compact(dict(base, timestamp="yesterday"))
    add(s, "timestamp_not_iso", "A signed event whose timestamp is not ISO 8601 is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, bad), body=bad, expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# pollybot
# --------------------------------------------------------------------------------------


def gen_pollybot():
    s = "pollybot"
    # Looks like a Standard Webhooks secret (valid base64 after the prefix) but Pollybot uses
    # the whole string as raw UTF-8 key bytes.
    k1 = "whsec_cG9sbHlib3Qtc2VjcmV0LWtleS0wMQ=="
    k2 = "whsec_cG9sbHlib3Qtcm90YXRlZC1rZXktMDI="
    BO = {"pollybot_body_only": True}

    def sig(key, t, body):
        return "sha256=" + hx(mac(b(key), body, b(t)))

    def sig_body(key, body):
        return "sha256=" + hx(mac(b(key), body))

    def hdrs(sigv, t, sname="X-Webhook-Signature", tname="X-Webhook-Timestamp"):
        h = [["Content-Type", "application/json"], ["User-Agent", "Pollybot-Webhooks/1.0"]]
        if sigv is not None:
            h.append([sname, sigv])
        if t is not None:
            h.append([tname, t])
        return h

    def signed(key, t, body, **kw):
        return hdrs(sig(key, t, body), t, **kw)

    base = {
        "event": "LEAD_CREATED",
        "timestamp": T,
        "data": {
            "id": "lead_123",
            "name": "Ana Silva",
            "email": "ana@example.com",
            "company": "Silva & Co",
            "message": "Need a quote for 40 seats",
            "preferredMethod": "email",
            "urgency": "high",
            "source": "website",
            "status": "new",
            "priority": "high",
            "tags": ["pricing", "enterprise"],
            "customFields": {"budget": "5k", "seats": "40"},
            "chatbotId": "cb_9f2",
            "createdAt": "2025-11-20T10:14:59.000Z",
            "updatedAt": "2025-11-20T10:14:59.000Z",
        },
        "chatbotId": "cb_9f2",
    }
    body = compact(base)
    t = str(T)
    eid, et = f"LEAD_CREATED:lead_123:{T}", "LEAD_CREATED"

    # ---- accepted
    add(s, "valid", "A LEAD_CREATED signed over body+timestamp with a whsec_-looking secret used as raw UTF-8 is accepted.",
        secrets=[k1], headers=signed(k1, t, body), body=body, expect=ok(eid, et))
    add(s, "uppercase_hex", "An uppercase hex signature is accepted.",
        secrets=[k1], headers=hdrs("sha256=" + sig(k1, t, body)[7:].upper(), t), body=body,
        expect=ok(eid, et))
    add(s, "header_names_lowercase", "Header names match case-insensitively (all lowercase).",
        secrets=[k1], headers=signed(k1, t, body, sname="x-webhook-signature", tname="x-webhook-timestamp"),
        body=body, expect=ok(eid, et))
    add(s, "header_names_mixed_case", "Header names match case-insensitively (odd casing).",
        secrets=[k1], headers=signed(k1, t, body, sname="X-WEBHOOK-signature", tname="x-Webhook-TIMESTAMP"),
        body=body, expect=ok(eid, et))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, t, body), body=body, expect=ok(eid, et))
    unk = compact({"event": "CHATBOT_PUBLISHED", "timestamp": T, "data": {"id": "cb_9f2"},
                   "chatbotId": "cb_9f2"})
    add(s, "unknown_event_type", "An unknown event (CHATBOT_PUBLISHED) is accepted; its id is event:data.id:timestamp:body digest.",
        secrets=[k1], headers=signed(k1, t, unk), body=unk,
        expect=ok(f"CHATBOT_PUBLISHED:cb_9f2:{T}", "CHATBOT_PUBLISHED"))
    mini = compact({"event": "LEAD_CREATED", "timestamp": T, "data": {"id": "lead_min"}})
    add(s, "minimal_lead", "A LEAD_CREATED with only data.id in data is accepted.",
        secrets=[k1], headers=signed(k1, t, mini), body=mini,
        expect=ok(f"LEAD_CREATED:lead_min:{T}", "LEAD_CREATED"))
    update = compact(dict(base, event="LEAD_UPDATED", data=dict(base["data"], status="qualified")))
    add(s, "same_lead_same_second_other_body",
        "A LEAD_UPDATED of the same lead in the same second gets its own id (the body digest part differs).",
        secrets=[k1], headers=signed(k1, t, update), body=update,
        expect=ok(f"LEAD_UPDATED:lead_123:{T}", "LEAD_UPDATED"))
    retry_body = compact(dict(base, timestamp=1763630000))
    tr = str(NOW - 5)
    add(s, "id_uses_body_timestamp",
        "The id uses the body's timestamp, not the X-Webhook-Timestamp header of a later retry.",
        secrets=[k1], headers=signed(k1, tr, retry_body), body=retry_body,
        expect=ok("LEAD_CREATED:lead_123:1763630000", et))
    add(s, "tolerance_exact_past", "A timestamp exactly tolerance seconds in the past is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL), body), body=body, expect=ok(eid, et))
    add(s, "tolerance_exact_future", "A timestamp exactly tolerance seconds in the future is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL), body), body=body, expect=ok(eid, et))
    add(s, "custom_tolerance_accepts", "With tolerance 600 a timestamp 500 s old is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - 500), body), body=body, tolerance=600,
        expect=ok(eid, et))
    h = signed(k1, t, body)
    add(s, "duplicate_headers_identical", "Signature and timestamp headers each sent twice with identical values are accepted.",
        secrets=[k1], headers=h + [h[2], h[3]], body=body, expect=ok(eid, et))
    add(s, "body_only_option_with_timestamp",
        "With pollybot_body_only, a body-only signature plus a fresh timestamp header is accepted.",
        secrets=[k1], headers=hdrs(sig_body(k1, body), t), body=body, options=BO,
        expect=ok(eid, et))
    add(s, "body_only_option_without_timestamp",
        "With pollybot_body_only, a body-only signature and no timestamp header is accepted.",
        secrets=[k1], headers=hdrs(sig_body(k1, body), None), body=body, options=BO,
        expect=ok(eid, et))
    add(s, "body_only_option_bound_signature",
        "With pollybot_body_only, a body+timestamp signature is still accepted.",
        secrets=[k1], headers=signed(k1, t, body), body=body, options=BO, expect=ok(eid, et))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=tamper(body, "40 seats", "41 seats"),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, t, body), body=body, expect=err("signature_mismatch"))
    add(s, "secret_base64_decoded", "A signature keyed with the base64-decoded secret (not raw UTF-8) is a mismatch.",
        secrets=[k1],
        headers=hdrs("sha256=" + hx(mac(base64.b64decode(k1[6:]), body, b(t))), t), body=body,
        expect=err("signature_mismatch"))
    add(s, "truncated_signature", "A 63-hex-char signature matches nothing.",
        secrets=[k1], headers=hdrs(sig(k1, t, body)[:-1], t), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty sha256= value matches nothing.",
        secrets=[k1], headers=hdrs("sha256=", t), body=body, expect=err("signature_mismatch"))
    add(s, "non_hex_signature", "A 64-char non-hex signature matches nothing.",
        secrets=[k1], headers=hdrs("sha256=" + NON_HEX_64, t), body=body,
        expect=err("signature_mismatch"))
    add(s, "body_only_signature_without_option",
        "Without pollybot_body_only, a signature over the body alone is a mismatch.",
        secrets=[k1], headers=hdrs(sig_body(k1, body), t), body=body,
        expect=err("signature_mismatch"))
    add(s, "dot_separated_signature", "A MAC over \"{t}.\"+body (wrong layout for Pollybot) is a mismatch.",
        secrets=[k1], headers=hdrs("sha256=" + hx(mac(b(k1), b(t) + b".", body)), t), body=body,
        expect=err("signature_mismatch"))
    add(s, "stale_timestamp", "A correctly signed delivery tolerance+1 seconds old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL - 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "future_timestamp", "A correctly signed delivery tolerance+1 seconds in the future is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL + 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "custom_tolerance_rejects", "With tolerance 60 a correctly signed delivery 61 s old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - 61), body), body=body, tolerance=60,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "huge_timestamp_in_range", "A correctly signed timestamp 9999999999 (fits i64) is out of tolerance.",
        secrets=[k1], headers=signed(k1, HUGE_TS, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "body_only_option_stale_timestamp",
        "With pollybot_body_only, a body-only signature with a stale timestamp header is out of tolerance.",
        secrets=[k1], headers=hdrs(sig_body(k1, body), str(NOW - TOL - 1)), body=body, options=BO,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "body_only_option_bound_signature_no_timestamp",
        "With pollybot_body_only and no timestamp header, a body+timestamp signature matches nothing.",
        secrets=[k1], headers=hdrs(sig(k1, t, body), None), body=body, options=BO,
        expect=err("signature_mismatch"))
    add(s, "body_only_option_malformed_timestamp",
        "With pollybot_body_only, a timestamp header that is present but not decimal digits is malformed.",
        secrets=[k1], headers=hdrs(sig_body(k1, body), NEG_TS), body=body, options=BO,
        expect=err("malformed_signature"))
    add(s, "wrong_mac_stale_timestamp", "A wrong MAC with a stale timestamp is a signature mismatch.",
        secrets=[k1], headers=signed(k2, str(NOW - TOL - 1), body), body=body,
        expect=err("signature_mismatch"))
    add(s, "missing_signature_header", "A request without X-Webhook-Signature is missing its signature.",
        secrets=[k1], headers=hdrs(None, t), body=body, expect=err("missing_signature"))
    add(s, "missing_timestamp_header", "Without the body-only option, a request without X-Webhook-Timestamp is missing its signature material.",
        secrets=[k1], headers=hdrs(sig(k1, t, body), None), body=body,
        expect=err("missing_signature"))
    for name, tv, why in [
        ("negative_timestamp", NEG_TS, "a negative timestamp is"),
        ("plus_sign_timestamp", "+" + t, "a timestamp with a leading '+' is"),
        ("empty_timestamp", "", "an empty timestamp header is"),
        ("overflow_timestamp", OVERFLOW_TS, "a timestamp overflowing i64 is"),
    ]:
        add(s, name, f"Even when signed over it, {why} malformed.",
            secrets=[k1], headers=signed(k1, tv, body), body=body,
            expect=err("malformed_signature"))
    add(s, "duplicate_signature_header_different",
        "Two X-Webhook-Signature headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Webhook-Signature", "sha256=" + GARBAGE_HEX]], body=body,
        expect=err("malformed_signature"))
    add(s, "duplicate_timestamp_header_different",
        "Two X-Webhook-Timestamp headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Webhook-Timestamp", str(T + 1)]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    bad = compact(dict(base, timestamp=str(T)))
    add(s, "body_timestamp_string", "A signed LEAD_CREATED whose body timestamp is a string, not an integer, is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, bad), body=bad, expect=err("invalid_payload"))
    bad = compact(dict(base, data=dict(base["data"], id=123)))
    add(s, "data_id_not_string", "A signed LEAD_CREATED whose data.id is a number is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, bad), body=bad, expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# breakcold (current)
# --------------------------------------------------------------------------------------


def gen_breakcold():
    s = "breakcold"
    k1 = "bc_whsec_2f8d6a1c9e4b70351d"
    k2 = "bc_whsec_rotated_93e1a7c5b2"
    DLV = "dlv_7f3a9c2e-5b1d-4e8f-a6c0-1d2e3f4a5b6c"
    EID = "evt_bc_01HZX3R7"

    def sig(key, t, body):
        return "sha256=" + hx(mac(b(key), b(t) + b".", body))

    def hdrs(sigv, t, event="record.created", dlv=DLV, names=None):
        n = names or {}
        h = [["Content-Type", "application/json"], ["User-Agent", "Breakcold-Webhooks/1.0"]]
        if sigv is not None:
            h.append([n.get("sig", "X-Webhook-Signature"), sigv])
        if event is not None:
            h.append([n.get("event", "X-Webhook-Event"), event])
        if dlv is not None:
            h.append([n.get("dlv", "X-Webhook-Delivery-Id"), dlv])
        if t is not None:
            h.append([n.get("ts", "X-Webhook-Timestamp"), t])
        return h

    def signed(key, t, body, **kw):
        return hdrs(sig(key, t, body), t, **kw)

    def env(event_id, event, data):
        return compact({"eventId": event_id, "timestamp": "2025-11-20T10:15:00.000Z",
                        "workspaceId": "ws_77", "event": event, "data": data})

    body = env(EID, "record.created", {
        "id": "rec_501", "objectType": "person", "objectTypeName": "Person", "name": "Lena Ortiz",
        "fields": {"email": "lena@example.com", "stage": "lead", "score": 42},
        "createdAt": "2025-11-20T10:14:59.000Z", "updatedAt": "2025-11-20T10:14:59.000Z"})
    t = str(T)
    et = "record.created"

    # ---- accepted
    add(s, "valid", "A correctly signed record.created is accepted; the id is the signed body's eventId, not the unsigned X-Webhook-Delivery-Id.",
        secrets=[k1], headers=signed(k1, t, body), body=body, expect=ok(EID, et))
    add(s, "uppercase_hex", "An uppercase hex signature is accepted.",
        secrets=[k1], headers=hdrs("sha256=" + sig(k1, t, body)[7:].upper(), t), body=body,
        expect=ok(EID, et))
    add(s, "header_names_mixed_case", "Header names match case-insensitively.",
        secrets=[k1], headers=signed(k1, t, body, names={
            "sig": "x-webhook-signature", "event": "X-WEBHOOK-EVENT",
            "dlv": "x-Webhook-Delivery-ID", "ts": "X-WEBHOOK-TIMESTAMP"}),
        body=body, expect=ok(EID, et))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, t, body), body=body, expect=ok(EID, et))
    add(s, "id_from_body_without_header", "Without X-Webhook-Delivery-Id the id is still the body's eventId.",
        secrets=[k1], headers=signed(k1, t, body, dlv=None), body=body,
        expect=ok(EID, et))
    no_eid = env("", "record.created", {"id": "rec_501"})
    add(s, "empty_event_id_uses_header", "An empty body eventId is no id: the id falls back to X-Webhook-Delivery-Id.",
        secrets=[k1], headers=signed(k1, t, no_eid), body=no_eid, expect=ok(DLV, et))
    add(s, "empty_event_id_without_header_uses_body_digest",
        "An empty body eventId and no X-Webhook-Delivery-Id: the id is the body digest.",
        secrets=[k1], headers=signed(k1, t, no_eid, dlv=None), body=no_eid, expect=ok(sha256_id(no_eid), et))
    add(s, "event_header_absent", "The event type comes from the body; a missing X-Webhook-Event header is fine.",
        secrets=[k1], headers=signed(k1, t, body, event=None), body=body, expect=ok(EID, et))
    task = env("evt_bc_task_0001", "task.created", {
        "recordId": "rec_501", "taskId": "tsk_88", "title": "Call Lena back", "status": "todo",
        "dueAt": "2025-11-21T09:00:00.000Z"})
    add(s, "task_created", "A correctly signed task.created is accepted.",
        secrets=[k1], headers=signed(k1, t, task, event="task.created", dlv="dlv_task_0001"),
        body=task, expect=ok("evt_bc_task_0001", "task.created"))
    deleted = env("evt_bc_del_0001", "record.deleted", {"id": "rec_501", "deleted": True})
    add(s, "record_deleted", "A correctly signed record.deleted is accepted.",
        secrets=[k1], headers=signed(k1, t, deleted, event="record.deleted", dlv="dlv_del_0001"),
        body=deleted, expect=ok("evt_bc_del_0001", "record.deleted"))
    rel = env("evt_bc_rel_0001", "relation.added", {
        "sourceRecordId": "rec_501", "targetRecordId": "rec_900",
        "fieldDefinitionId": "fd_12", "fieldSlug": "company"})
    add(s, "relation_added", "A correctly signed relation.added is accepted.",
        secrets=[k1], headers=signed(k1, t, rel, event="relation.added", dlv="dlv_rel_0001"),
        body=rel, expect=ok("evt_bc_rel_0001", "relation.added"))
    unk = env("evt_bc_unk_0001", "deal.won", {"id": "deal_3", "amount": 12000})
    add(s, "unknown_event_type", "An unknown event (deal.won) is accepted.",
        secrets=[k1], headers=signed(k1, t, unk, event="deal.won", dlv="dlv_unk_0001"),
        body=unk, expect=ok("evt_bc_unk_0001", "deal.won"))
    add(s, "tolerance_exact_past", "A timestamp exactly tolerance seconds in the past is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL), body), body=body, expect=ok(EID, et))
    add(s, "tolerance_exact_future", "A timestamp exactly tolerance seconds in the future is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL), body), body=body, expect=ok(EID, et))
    add(s, "custom_tolerance_accepts", "With tolerance 600 a timestamp 500 s old is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - 500), body), body=body, tolerance=600,
        expect=ok(EID, et))
    h = signed(k1, t, body)
    add(s, "duplicate_headers_identical", "Signature and delivery-id headers repeated with identical values are accepted.",
        secrets=[k1], headers=h + [h[2], h[4]], body=body, expect=ok(EID, et))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=tamper(body, '"score":42', '"score":43'),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, t, body), body=body, expect=err("signature_mismatch"))
    add(s, "truncated_signature", "A 63-hex-char signature matches nothing.",
        secrets=[k1], headers=hdrs(sig(k1, t, body)[:-1], t), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty sha256= value matches nothing.",
        secrets=[k1], headers=hdrs("sha256=", t), body=body, expect=err("signature_mismatch"))
    add(s, "non_hex_signature", "A 64-char non-hex signature matches nothing.",
        secrets=[k1], headers=hdrs("sha256=" + NON_HEX_64, t), body=body,
        expect=err("signature_mismatch"))
    add(s, "signed_body_only", "A MAC over the body alone (no \"{t}.\" prefix) is a mismatch.",
        secrets=[k1], headers=hdrs("sha256=" + hx(mac(b(k1), body)), t), body=body,
        expect=err("signature_mismatch"))
    add(s, "timestamp_changed", "Changing X-Webhook-Timestamp after signing (still fresh) is a mismatch.",
        secrets=[k1], headers=hdrs(sig(k1, t, body), str(T + 1)), body=body,
        expect=err("signature_mismatch"))
    add(s, "stale_timestamp", "A correctly signed delivery tolerance+1 seconds old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL - 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "future_timestamp", "A correctly signed delivery tolerance+1 seconds in the future is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL + 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "custom_tolerance_rejects", "With tolerance 60 a correctly signed delivery 61 s old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - 61), body), body=body, tolerance=60,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "huge_timestamp_in_range", "A correctly signed timestamp 9999999999 (fits i64) is out of tolerance.",
        secrets=[k1], headers=signed(k1, HUGE_TS, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "wrong_mac_stale_timestamp", "A wrong MAC with a stale timestamp is a signature mismatch.",
        secrets=[k1], headers=signed(k2, str(NOW - TOL - 1), body), body=body,
        expect=err("signature_mismatch"))
    add(s, "missing_signature_header", "A request without X-Webhook-Signature is missing its signature.",
        secrets=[k1], headers=hdrs(None, t), body=body, expect=err("missing_signature"))
    add(s, "missing_timestamp_header", "A request without X-Webhook-Timestamp is missing its signature material.",
        secrets=[k1], headers=hdrs(sig(k1, t, body), None), body=body,
        expect=err("missing_signature"))
    for name, tv, why in [
        ("negative_timestamp", NEG_TS, "a negative timestamp is"),
        ("overflow_timestamp", OVERFLOW_TS, "a timestamp overflowing i64 is"),
        ("decimal_timestamp", t + ".5", "a timestamp with a fractional part is"),
    ]:
        add(s, name, f"Even when signed over it, {why} malformed.",
            secrets=[k1], headers=signed(k1, tv, body), body=body,
            expect=err("malformed_signature"))
    add(s, "duplicate_signature_header_different",
        "Two X-Webhook-Signature headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Webhook-Signature", "sha256=" + GARBAGE_HEX]], body=body,
        expect=err("malformed_signature"))
    add(s, "duplicate_delivery_id_different",
        "Two X-Webhook-Delivery-Id headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Webhook-Delivery-Id", "dlv_other"]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    bad = env("evt_bc_task_0002", "task.created", {"recordId": "rec_501", "title": "No task id"})
    add(s, "task_created_without_task_id", "A signed task.created whose data lacks taskId is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, bad, event="task.created"), body=bad,
        expect=err("invalid_payload"))
    bad = env("evt_bc_rec_0002", "record.created", {"name": "No id"})
    add(s, "record_created_without_id", "A signed record.created whose data lacks id is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, bad), body=bad, expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# breakcold legacy (secret in body)
# --------------------------------------------------------------------------------------


def gen_breakcold_legacy():
    s = "breakcold-legacy"
    k1 = "wh_3c5e7a9b1d2f40687e"
    k2 = "wh_rotated_a1b2c3d4e5f6"
    SPACE = "8d3f6c2a-1b4e-4f7a-9c0d-2e5b6a7c8d9e"
    LEAD = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    H = [["Content-Type", "application/json"]]

    def lead(**over):
        p = {
            "id": LEAD, "email": "lena@example.com", "company": "Ortiz Labs", "notes": None,
            "phone": None, "linkedin_url": "https://www.linkedin.com/in/lena-ortiz",
            "created_at": "2026-11-19T08:00:00.000Z", "updated_at": "2026-11-20T10:15:30.000Z",
            "first_name": "Lena", "last_name": "Ortiz", "custom_fields": {"tier": "gold"},
            "is_deleted": False, "id_space": SPACE,
        }
        p.update(over)
        return {k: v for k, v in p.items() if v != "__drop__"}

    def env(event, payload, secret=k1, **extra):
        d = {"id_space": SPACE, "event": event}
        if secret != "__drop__":
            d["secret"] = secret
        d["payload"] = payload
        d.update(extra)
        return compact(d)

    upd = "2026-11-20T10:15:30.000Z"
    cre = "2026-11-19T08:00:00.000Z"
    body = env("lead.update", lead())

    # ---- accepted
    add(s, "valid", "A lead.update whose body secret equals the configured secret is accepted; id uses updated_at.",
        secrets=[k1], headers=H, body=body, expect=ok(f"lead.update:{LEAD}:{upd}", "lead.update"))
    c = env("lead.create", lead(updated_at="__drop__"))
    add(s, "lead_create_uses_created_at", "Without payload.updated_at the id uses payload.created_at.",
        secrets=[k1], headers=H, body=c, expect=ok(f"lead.create:{LEAD}:{cre}", "lead.create"))
    c = env("lead.create", lead(updated_at=None))
    add(s, "null_updated_at_uses_created_at", "A null payload.updated_at falls back to payload.created_at.",
        secrets=[k1], headers=H, body=c, expect=ok(f"lead.create:{LEAD}:{cre}", "lead.create"))
    r = env("lead.update", lead(), secret=k2)
    add(s, "rotation_second_secret", "With two configured secrets, a body carrying the second one is accepted.",
        secrets=[k1, k2], headers=H, body=r, expect=ok(f"lead.update:{LEAD}:{upd}", "lead.update"))
    for ev in ("lead.list.update", "lead.lists.update"):
        bb = env(ev, lead())
        add(s, ev.replace(".", "_"), f"The {ev} spelling is accepted and reported as sent.",
            secrets=[k1], headers=H, body=bb, expect=ok(f"{ev}:{LEAD}:{upd}", ev))
    camp = env("campaign.email.reply", {"id": "cmp_msg_71", "campaign_id": "cmp_9",
                                        "lead_id": LEAD, "created_at": cre})
    add(s, "campaign_email_reply", "A non-lead event (campaign.email.reply) is accepted.",
        secrets=[k1], headers=H, body=camp,
        expect=ok(f"campaign.email.reply:cmp_msg_71:{cre}", "campaign.email.reply"))
    unk = env("opportunity.create", {"id": "opp_5", "created_at": cre, "amount": 900})
    add(s, "unknown_event_type", "An unknown event (opportunity.create) is accepted.",
        secrets=[k1], headers=H, body=unk,
        expect=ok(f"opportunity.create:opp_5:{cre}", "opportunity.create"))
    add(s, "no_timestamp_check", "There is no timestamp: a receiver clock years away still accepts.",
        secrets=[k1], headers=H, body=body, now=4102444800,
        expect=ok(f"lead.update:{LEAD}:{upd}", "lead.update"))
    add(s, "headers_ignored", "Unrelated headers, even a bogus X-Webhook-Signature, are ignored.",
        secrets=[k1], headers=H + [["X-Webhook-Signature", "sha256=" + GARBAGE_HEX],
                                   ["X-Webhook-Timestamp", "1"]],
        body=body, expect=ok(f"lead.update:{LEAD}:{upd}", "lead.update"))
    pretty = (json.dumps(json.loads(body), indent=2, ensure_ascii=False) + "\n").encode()
    add(s, "pretty_body", "A pretty-printed legacy body is accepted (no MAC over bytes here).",
        secrets=[k1], headers=H, body=pretty, expect=ok(f"lead.update:{LEAD}:{upd}", "lead.update"))

    # ---- rejected
    add(s, "wrong_secret", "A body secret that differs from every configured secret is a mismatch.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret="wh_not_the_secret"),
        expect=err("signature_mismatch"))
    add(s, "secret_case_differs", "A body secret differing only in letter case is a mismatch.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret=k1.upper()),
        expect=err("signature_mismatch"))
    add(s, "secret_prefix_only", "A body secret that is a strict prefix of the configured one is a mismatch.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret=k1[:-1]),
        expect=err("signature_mismatch"))
    add(s, "secret_trailing_space", "A body secret with a trailing space is a mismatch.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret=k1 + " "),
        expect=err("signature_mismatch"))
    add(s, "secret_empty", "An empty body secret is a mismatch.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret=""),
        expect=err("signature_mismatch"))
    add(s, "secret_missing", "A body without a secret field is missing its signature.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret="__drop__"),
        expect=err("missing_signature"))
    add(s, "secret_only_nested", "A secret inside payload but not at top level is missing its signature.",
        secrets=[k1], headers=H, body=env("lead.update", lead(secret=k1), secret="__drop__"),
        expect=err("missing_signature"))
    add(s, "secret_number", "A numeric body secret is malformed.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret=12345),
        expect=err("malformed_signature"))
    add(s, "secret_null", "A null body secret is malformed.",
        secrets=[k1], headers=H, body=env("lead.update", lead(), secret=None),
        expect=err("malformed_signature"))
    add(s, "body_not_json", "A body that is not JSON is malformed (there is no signature to read).",
        secrets=[k1], headers=H, body=NON_JSON_BODY, expect=err("malformed_signature"))
    add(s, "body_empty", "An empty body is malformed.",
        secrets=[k1], headers=H, body=b"", expect=err("malformed_signature"))
    add(s, "body_non_utf8", "A non-UTF-8 body cannot be JSON and is malformed.",
        secrets=[k1], headers=H, body=NON_UTF8_BODY, expect=err("malformed_signature"))
    add(s, "lead_payload_id_number", "A lead.create with the right secret but a numeric payload.id is an invalid payload.",
        secrets=[k1], headers=H, body=env("lead.create", lead(id=42)),
        expect=err("invalid_payload"))
    add(s, "lead_payload_not_object", "A lead.update with the right secret but a string payload is an invalid payload.",
        secrets=[k1], headers=H, body=env("lead.update", "not an object"),
        expect=err("invalid_payload"))
    no_event = compact({"id_space": SPACE, "secret": k1, "payload": lead()})
    add(s, "event_missing", "A body with the right secret but no event field is an invalid payload.",
        secrets=[k1], headers=H, body=no_event, expect=err("invalid_payload"))


# --------------------------------------------------------------------------------------
# Standard Webhooks / Svix
# --------------------------------------------------------------------------------------

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def whsec_key(secret):
    assert secret.startswith("whsec_")
    return base64.b64decode(secret[len("whsec_"):], validate=True)


def std_v1(secret, msg_id, t, body):
    return "v1," + b64(mac(whsec_key(secret), b(msg_id) + b"." + b(t) + b".", body))


def ed_keys(label):
    seed = hashlib.sha256(b"webhook-guard test vectors ed25519 seed " + b(label)).digest()
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert len(pk) == 32
    return sk, "whpk_" + b64(pk)


def std_v1a(sk, msg_id, t, body):
    sig = sk.sign(b(msg_id) + b"." + b(t) + b"." + body)
    assert len(sig) == 64
    return "v1a," + b64(sig)


def gen_standard():
    s = "standard"
    # The published example must be reproduced exactly, or nothing is written.
    got = std_v1(SPEC_SECRET, SPEC_ID, str(SPEC_TS), SPEC_BODY)
    if got != SPEC_SIG:
        raise SystemExit(f"Standard Webhooks spec example NOT reproduced: got {got!r}, "
                         f"published {SPEC_SIG!r}")
    spec_h = [["webhook-id", SPEC_ID], ["webhook-timestamp", str(SPEC_TS)],
              ["webhook-signature", SPEC_SIG]]
    add(s, "spec_example",
        "The Standard Webhooks published example verifies, but its body has no 'type' so typed parsing fails.",
        secrets=[SPEC_SECRET], headers=spec_h, body=SPEC_BODY, now=SPEC_TS,
        expect=err("invalid_payload"))
    add(s, "spec_example_signature_only",
        "The Standard Webhooks published example passes a verify-only check (signature and timestamp).",
        secrets=[SPEC_SECRET], headers=spec_h, body=SPEC_BODY, now=SPEC_TS, verify_only=True,
        expect={"ok": True, "id": SPEC_ID})

    k1 = "whsec_" + b64(hashlib.sha256(b"webhook-guard standard key 1").digest())
    k2 = "whsec_" + b64(hashlib.sha256(b"webhook-guard standard key 2").digest())
    sk1, pk1 = ed_keys("1")
    _sk2, pk2 = ed_keys("2")
    MID = "msg_2pQ7vK9xLm3N8rT5wY1zA4bC6d"
    body = compact({"type": "call.completed", "timestamp": "2025-11-20T10:15:00.000Z",
                    "data": {"call_id": "call_8812", "duration_seconds": 143,
                             "outcome": "answered", "callee": "+33 6 12 34 56 78"}})
    t = str(T)
    et = "call.completed"

    def hdrs(sigv, t=t, mid=MID, prefix=("webhook", "webhook", "webhook"), case=str):
        h = [["Content-Type", "application/json"]]
        if mid is not None:
            h.append([case(prefix[0] + "-id"), mid])
        if t is not None:
            h.append([case(prefix[1] + "-timestamp"), t])
        if sigv is not None:
            h.append([case(prefix[2] + "-signature"), sigv])
        return h

    def v1(key=k1, t=t, mid=MID, bd=None):
        return std_v1(key, mid, t, body if bd is None else bd)

    # ---- accepted
    add(s, "valid_v1", "A correctly signed v1 (HMAC) delivery is accepted; id is webhook-id.",
        secrets=[k1], headers=hdrs(v1()), body=body, expect=ok(MID, et))
    add(s, "svix_headers", "The svix-id / svix-timestamp / svix-signature header names are accepted.",
        secrets=[k1], headers=hdrs(v1(), prefix=("svix", "svix", "svix")), body=body,
        expect=ok(MID, et))
    add(s, "mixed_prefixes", "webhook-id with svix-timestamp and svix-signature (no conflict) is accepted.",
        secrets=[k1], headers=hdrs(v1(), prefix=("webhook", "svix", "svix")), body=body,
        expect=ok(MID, et))
    add(s, "both_prefixes_identical", "Both header sets present with identical values is accepted.",
        secrets=[k1],
        headers=hdrs(v1()) + hdrs(v1(), prefix=("svix", "svix", "svix"))[1:], body=body,
        expect=ok(MID, et))
    add(s, "header_names_uppercase", "Header names match case-insensitively (all uppercase).",
        secrets=[k1], headers=hdrs(v1(), case=str.upper), body=body, expect=ok(MID, et))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=hdrs(v1(k2)), body=body, expect=ok(MID, et))
    add(s, "two_v1_entries_one_garbage", "A header with a non-matching v1 entry followed by a valid one is accepted.",
        secrets=[k1], headers=hdrs("v1," + b64(bytes(range(32))) + " " + v1()), body=body,
        expect=ok(MID, et))
    add(s, "two_v1_entries_both_secrets", "A header carrying v1 entries for the old and the new secret is accepted by the new one alone.",
        secrets=[k2], headers=hdrs(v1(k1) + " " + v1(k2)), body=body, expect=ok(MID, et))
    add(s, "unknown_version_ignored", "An unknown version entry (v2) next to a valid v1 is ignored.",
        secrets=[k1], headers=hdrs("v2,c29tZXRoaW5nIGVsc2U= " + v1()), body=body,
        expect=ok(MID, et))
    other = compact({"type": "integration.connected", "data": {"integration": "hubspot"}})
    add(s, "other_event_type_no_timestamp_field", "Any type string is accepted (open set); the body timestamp field is optional.",
        secrets=[k1], headers=hdrs(v1(bd=other)), body=other, expect=ok(MID, "integration.connected"))
    add(s, "ed25519_valid", "A valid v1a (Ed25519) signature checked with a whpk_ public key is accepted.",
        secrets=[pk1], headers=hdrs(std_v1a(sk1, MID, t, body)), body=body, expect=ok(MID, et))
    add(s, "wrong_v1_valid_v1a", "A wrong v1 entry alongside a valid v1a entry is accepted.",
        secrets=[k1, pk1], headers=hdrs(v1(k2) + " " + std_v1a(sk1, MID, t, body)), body=body,
        expect=ok(MID, et))
    add(s, "tolerance_exact_past", "A timestamp exactly tolerance seconds in the past is accepted.",
        secrets=[k1], headers=hdrs(v1(t=str(NOW - TOL)), t=str(NOW - TOL)), body=body,
        expect=ok(MID, et))
    add(s, "tolerance_exact_future", "A timestamp exactly tolerance seconds in the future is accepted.",
        secrets=[k1], headers=hdrs(v1(t=str(NOW + TOL)), t=str(NOW + TOL)), body=body,
        expect=ok(MID, et))
    add(s, "custom_tolerance_accepts", "With tolerance 600 a timestamp 500 s old is accepted.",
        secrets=[k1], headers=hdrs(v1(t=str(NOW - 500)), t=str(NOW - 500)), body=body,
        tolerance=600, expect=ok(MID, et))
    h = hdrs(v1())
    add(s, "duplicate_headers_identical", "webhook-id and webhook-signature repeated with identical values are accepted.",
        secrets=[k1], headers=h + [h[1], h[3]], body=body, expect=ok(MID, et))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=hdrs(v1()), body=tamper(body, '"duration_seconds":143', '"duration_seconds":144'),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=hdrs(v1(k2)), body=body, expect=err("signature_mismatch"))
    add(s, "secret_used_raw", "An HMAC keyed with the whsec_ string itself (not its base64 decoding) is a mismatch.",
        secrets=[k1],
        headers=hdrs("v1," + b64(mac(b(k1), b(MID) + b"." + b(t) + b".", body))), body=body,
        expect=err("signature_mismatch"))
    add(s, "id_changed", "Changing webhook-id after signing is a mismatch (the id is signed).",
        secrets=[k1], headers=hdrs(v1(), mid="msg_someone_else"), body=body,
        expect=err("signature_mismatch"))
    add(s, "timestamp_changed", "Changing webhook-timestamp after signing (still fresh) is a mismatch.",
        secrets=[k1], headers=hdrs(v1(), t=str(T + 1)), body=body,
        expect=err("signature_mismatch"))
    full = base64.b64decode(v1()[3:])
    add(s, "truncated_signature", "A v1 entry decoding to 31 bytes matches nothing.",
        secrets=[k1], headers=hdrs("v1," + b64(full[:31])), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_v1_entry", "A lone 'v1,' entry matches nothing.",
        secrets=[k1], headers=hdrs("v1,"), body=body, expect=err("signature_mismatch"))
    add(s, "non_base64_signature", "A 44-char v1 value that is not base64 matches nothing.",
        secrets=[k1], headers=hdrs("v1," + "!" * 43 + "="), body=body,
        expect=err("signature_mismatch"))
    add(s, "hex_instead_of_base64", "A v1 entry carrying the MAC in hex (not base64) matches nothing.",
        secrets=[k1], headers=hdrs("v1," + full.hex()), body=body,
        expect=err("signature_mismatch"))
    add(s, "only_unknown_versions", "A signature header with no v1/v1a entry at all is malformed.",
        secrets=[k1], headers=hdrs("v2,abc"), body=body, expect=err("malformed_signature"))
    add(s, "ed25519_tampered_body", "A v1a signature over other bytes is a mismatch.",
        secrets=[pk1], headers=hdrs(std_v1a(sk1, MID, t, body)),
        body=tamper(body, '"duration_seconds":143', '"duration_seconds":144'),
        expect=err("signature_mismatch"))
    add(s, "ed25519_wrong_public_key", "A v1a signature checked against another public key is a mismatch.",
        secrets=[pk2], headers=hdrs(std_v1a(sk1, MID, t, body)), body=body,
        expect=err("signature_mismatch"))
    add(s, "ed25519_truncated", "A v1a entry decoding to 63 bytes matches nothing.",
        secrets=[pk1],
        headers=hdrs("v1a," + b64(base64.b64decode(std_v1a(sk1, MID, t, body)[4:])[:63])),
        body=body, expect=err("signature_mismatch"))
    add(s, "v1a_only_hmac_configured", "A valid v1a entry when only HMAC secrets are configured matches nothing.",
        secrets=[k1], headers=hdrs(std_v1a(sk1, MID, t, body)), body=body,
        expect=err("signature_mismatch"))
    add(s, "stale_timestamp", "A correctly signed delivery tolerance+1 seconds old is out of tolerance.",
        secrets=[k1], headers=hdrs(v1(t=str(NOW - TOL - 1)), t=str(NOW - TOL - 1)), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "future_timestamp", "A correctly signed delivery tolerance+1 seconds in the future is out of tolerance.",
        secrets=[k1], headers=hdrs(v1(t=str(NOW + TOL + 1)), t=str(NOW + TOL + 1)), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "custom_tolerance_rejects", "With tolerance 60 a correctly signed delivery 61 s old is out of tolerance.",
        secrets=[k1], headers=hdrs(v1(t=str(NOW - 61)), t=str(NOW - 61)), body=body, tolerance=60,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "ed25519_stale_timestamp", "A valid v1a signature with a stale timestamp is out of tolerance.",
        secrets=[pk1], headers=hdrs(std_v1a(sk1, MID, str(NOW - TOL - 1), body), t=str(NOW - TOL - 1)),
        body=body, expect=err("timestamp_out_of_tolerance"))
    add(s, "huge_timestamp_in_range", "A correctly signed timestamp 9999999999 (fits i64) is out of tolerance.",
        secrets=[k1], headers=hdrs(v1(t=HUGE_TS), t=HUGE_TS), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "wrong_mac_stale_timestamp", "A wrong MAC with a stale timestamp is a signature mismatch.",
        secrets=[k1], headers=hdrs(v1(k2, t=str(NOW - TOL - 1)), t=str(NOW - TOL - 1)), body=body,
        expect=err("signature_mismatch"))
    for name, tv, why in [
        ("negative_timestamp", NEG_TS, "a negative timestamp is"),
        ("overflow_timestamp", OVERFLOW_TS, "a timestamp overflowing i64 is"),
        ("plus_sign_timestamp", "+" + t, "a timestamp with a leading '+' is"),
    ]:
        add(s, name, f"Even when signed over it, {why} malformed.",
            secrets=[k1], headers=hdrs(v1(t=tv), t=tv), body=body,
            expect=err("malformed_signature"))
    add(s, "missing_id_header", "A request without webhook-id/svix-id is missing its signature material.",
        secrets=[k1], headers=hdrs(v1(), mid=None), body=body, expect=err("missing_signature"))
    add(s, "missing_timestamp_header", "A request without webhook-timestamp/svix-timestamp is missing its signature material.",
        secrets=[k1], headers=hdrs(v1(), t=None), body=body, expect=err("missing_signature"))
    add(s, "missing_signature_header", "A request without webhook-signature/svix-signature is missing its signature.",
        secrets=[k1], headers=hdrs(None), body=body, expect=err("missing_signature"))
    add(s, "duplicate_signature_header_different",
        "Two webhook-signature headers with different values are malformed.",
        secrets=[k1], headers=h + [["webhook-signature", "v1," + b64(bytes(32))]], body=body,
        expect=err("malformed_signature"))
    add(s, "conflicting_id_prefixes", "webhook-id and svix-id with different values are malformed.",
        secrets=[k1], headers=h + [["svix-id", "msg_different"]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=hdrs(v1()), body=reserialize(body), expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=hdrs(v1(bd=NON_JSON_BODY)), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    bad = compact({"type": 7, "data": {}})
    add(s, "type_not_string", "A signed body whose type is a number is an invalid payload.",
        secrets=[k1], headers=hdrs(v1(bd=bad)), body=bad, expect=err("invalid_payload"))
    bad = compact({"type": "call.completed", "timestamp": "yesterday", "data": {}})
    add(s, "timestamp_not_iso", "A signed body whose timestamp is not ISO 8601 is an invalid payload.",
        secrets=[k1], headers=hdrs(v1(bd=bad)), body=bad, expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=hdrs(v1(bd=NON_UTF8_BODY)), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=hdrs(v1()), body=NON_UTF8_BODY, expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------------------


def gen_github():
    s = "github"
    k1 = "gh_hook_secret_7c1e9a0b5d"
    k2 = "gh_hook_secret_rotated_44f2"
    DLV = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    body = compact({
        "ref": "refs/heads/main",
        "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        "repository": {"id": 1296269, "full_name": "octo-org/webhook-guard", "private": False},
        "pusher": {"name": "octocat", "email": "octocat@example.com"},
        "commits": [{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                     "message": "Fix typo in README", "timestamp": "2025-11-20T10:14:00+00:00"}],
    })

    def sig(key, bd):
        return "sha256=" + hx(mac(b(key), bd))

    def hdrs(sigv, bd, event="push", dlv=DLV, sha1_key=None, case=str):
        h = [[case("User-Agent"), "GitHub-Hookshot/044aadd"], [case("Content-Type"), "application/json"]]
        if event is not None:
            h.append([case("X-GitHub-Event"), event])
        if dlv is not None:
            h.append([case("X-GitHub-Delivery"), dlv])
        h.append([case("X-GitHub-Hook-ID"), "292430182"])
        if sha1_key is not None:
            h.append([case("X-Hub-Signature"), "sha1=" + hmac.new(b(sha1_key), bd, hashlib.sha1).hexdigest()])
        if sigv is not None:
            h.append([case("X-Hub-Signature-256"), sigv])
        return h

    def signed(key, bd, **kw):
        kw.setdefault("sha1_key", key)
        return hdrs(sig(key, bd), bd, **kw)

    # ---- accepted
    add(s, "valid", "A correctly signed push delivery is accepted; id is X-GitHub-Delivery, type X-GitHub-Event.",
        secrets=[k1], headers=signed(k1, body), body=body, expect=ok(DLV, "push"))
    add(s, "uppercase_hex", "An uppercase hex signature is accepted.",
        secrets=[k1], headers=hdrs("sha256=" + sig(k1, body)[7:].upper(), body), body=body,
        expect=ok(DLV, "push"))
    add(s, "header_names_lowercase", "Header names match case-insensitively (all lowercase).",
        secrets=[k1], headers=signed(k1, body, case=str.lower), body=body, expect=ok(DLV, "push"))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, body), body=body, expect=ok(DLV, "push"))
    add(s, "without_sha1_header", "The legacy X-Hub-Signature (SHA-1) header is not needed.",
        secrets=[k1], headers=hdrs(sig(k1, body), body), body=body, expect=ok(DLV, "push"))
    ping = compact({"zen": "Keep it logically awesome.", "hook_id": 292430182,
                    "hook": {"type": "Repository", "id": 292430182, "active": True,
                             "events": ["push"]}})
    add(s, "ping_event", "A correctly signed ping event is accepted.",
        secrets=[k1], headers=signed(k1, ping, event="ping", dlv="0b989ba4-242f-11e5-81e1-c7b6966d2516"),
        body=ping, expect=ok("0b989ba4-242f-11e5-81e1-c7b6966d2516", "ping"))
    add(s, "no_delivery_header_sha256_id", "Without X-GitHub-Delivery the id is sha256: + hex SHA-256 of the body.",
        secrets=[k1], headers=signed(k1, body, dlv=None), body=body,
        expect=ok(sha256_id(body), "push"))
    h = signed(k1, body)
    add(s, "duplicate_headers_identical", "Signature and delivery headers repeated with identical values are accepted.",
        secrets=[k1], headers=h + [h[3], h[-1]], body=body, expect=ok(DLV, "push"))
    pretty = (json.dumps(json.loads(body), indent=2) + "\n").encode()
    add(s, "pretty_body_trailing_newline", "A pretty-printed body with a trailing newline is verified over its exact bytes.",
        secrets=[k1], headers=signed(k1, pretty), body=pretty, expect=ok(DLV, "push"))
    add(s, "no_timestamp_check", "GitHub has no timestamp: a receiver clock years away still accepts.",
        secrets=[k1], headers=signed(k1, body), body=body, now=4102444800, expect=ok(DLV, "push"))
    add(s, "verify_only_non_json", "Verify-only accepts a correctly signed non-JSON body (no parsing).",
        secrets=[k1], headers=signed(k1, NON_JSON_BODY), body=NON_JSON_BODY, verify_only=True,
        expect={"ok": True, "id": DLV})
    add(s, "event_header_not_signed",
        "X-GitHub-Event is not signed: a captured push body re-sent as a release verifies as a release.",
        secrets=[k1], headers=signed(k1, body, event="release"), body=body, expect=ok(DLV, "release"))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, body), body=tamper(body, "Fix typo", "Fix typp"),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, body), body=body, expect=err("signature_mismatch"))
    add(s, "truncated_signature", "A 63-hex-char signature matches nothing.",
        secrets=[k1], headers=hdrs(sig(k1, body)[:-1], body), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty sha256= value matches nothing.",
        secrets=[k1], headers=hdrs("sha256=", body), body=body, expect=err("signature_mismatch"))
    add(s, "non_hex_signature", "A 64-char non-hex signature matches nothing.",
        secrets=[k1], headers=hdrs("sha256=" + NON_HEX_64, body), body=body,
        expect=err("signature_mismatch"))
    add(s, "sha1_value_in_sha256_header", "A 40-hex-char SHA-1 MAC in X-Hub-Signature-256 matches nothing.",
        secrets=[k1], headers=hdrs("sha256=" + hmac.new(b(k1), body, hashlib.sha1).hexdigest(), body),
        body=body, expect=err("signature_mismatch"))
    add(s, "only_sha1_header", "Only the legacy X-Hub-Signature (SHA-1) header is present: the signature is missing.",
        secrets=[k1], headers=hdrs(None, body, sha1_key=k1), body=body,
        expect=err("missing_signature"))
    add(s, "missing_signature_header", "A request without X-Hub-Signature-256 is missing its signature.",
        secrets=[k1], headers=hdrs(None, body), body=body, expect=err("missing_signature"))
    add(s, "duplicate_signature_header_different",
        "Two X-Hub-Signature-256 headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Hub-Signature-256", "sha256=" + GARBAGE_HEX]], body=body,
        expect=err("malformed_signature"))
    add(s, "duplicate_delivery_header_different",
        "Two X-GitHub-Delivery headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-GitHub-Delivery", "9e1b0d5c-0000-11e3-81ab-4c9367dc0958"]],
        body=body, expect=err("malformed_signature"))
    add(s, "duplicate_event_header_different",
        "Two X-GitHub-Event headers with different values are malformed: the type is not signed.",
        secrets=[k1], headers=h + [["X-GitHub-Event", "release"]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# Stripe
# --------------------------------------------------------------------------------------


def gen_stripe():
    s = "stripe"
    # Stripe endpoint secrets look like whsec_... and are used as raw UTF-8 key bytes.
    k1 = "whsec_test_5f1d8a2c7b9e4036a1d2e3f4"
    k2 = "whsec_test_rotated_0a9b8c7d6e5f"
    EID = "evt_3QJd8mLkdIwHu7ix0Zk2wXyZ"
    body = compact({
        "id": EID, "object": "event", "api_version": "2024-06-20", "created": T,
        "type": "payment_intent.succeeded", "livemode": False, "pending_webhooks": 1,
        "data": {"object": {"id": "pi_3QJd8mLkdIwHu7ix0abc", "object": "payment_intent",
                            "amount": 2000, "currency": "usd", "status": "succeeded"}},
    })
    et = "payment_intent.succeeded"
    t = str(T)

    def sig(key, t, bd):
        return hx(mac(b(key), b(t) + b".", bd))

    def hdrs(value, name="Stripe-Signature"):
        return [["Content-Type", "application/json; charset=utf-8"],
                ["User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"], [name, value]]

    def signed(key, t, bd, name="Stripe-Signature"):
        return hdrs(f"t={t},v1={sig(key, t, bd)}", name)

    # ---- accepted
    add(s, "valid", "A correctly signed event is accepted; id and type come from the body.",
        secrets=[k1], headers=signed(k1, t, body), body=body, expect=ok(EID, et))
    add(s, "uppercase_hex", "An uppercase hex v1 signature is accepted.",
        secrets=[k1], headers=hdrs(f"t={t},v1={sig(k1, t, body).upper()}"), body=body,
        expect=ok(EID, et))
    add(s, "header_name_lowercase", "The header name matches case-insensitively.",
        secrets=[k1], headers=signed(k1, t, body, "stripe-signature"), body=body,
        expect=ok(EID, et))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, t, body), body=body, expect=ok(EID, et))
    add(s, "two_v1_one_garbage", "Two v1 entries, the first non-matching, are accepted.",
        secrets=[k1], headers=hdrs(f"t={t},v1={GARBAGE_HEX},v1={sig(k1, t, body)}"), body=body,
        expect=ok(EID, et))
    add(s, "v0_ignored", "A v0 entry (ignored) alongside a valid v1 is accepted.",
        secrets=[k1], headers=hdrs(f"t={t},v1={sig(k1, t, body)},v0={GARBAGE_HEX}"), body=body,
        expect=ok(EID, et))
    add(s, "parts_reordered", "Header parts in another order (v1 before t) are accepted.",
        secrets=[k1], headers=hdrs(f"v1={sig(k1, t, body)},t={t}"), body=body, expect=ok(EID, et))
    noid = compact({"object": "event", "type": "customer.created", "created": T,
                    "data": {"object": {"id": "cus_9s6XKzkNRiz8i3"}}})
    add(s, "no_id_sha256_id", "A body without id gets the id sha256: + hex SHA-256 of the body.",
        secrets=[k1], headers=signed(k1, t, noid), body=noid,
        expect=ok(sha256_id(noid), "customer.created"))
    add(s, "tolerance_exact_past", "A timestamp exactly tolerance seconds in the past is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL), body), body=body, expect=ok(EID, et))
    add(s, "tolerance_exact_future", "A timestamp exactly tolerance seconds in the future is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL), body), body=body, expect=ok(EID, et))
    add(s, "custom_tolerance_accepts", "With tolerance 600 a timestamp 500 s old is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - 500), body), body=body, tolerance=600,
        expect=ok(EID, et))
    h = signed(k1, t, body)
    add(s, "duplicate_header_identical", "Stripe-Signature sent twice with identical values is accepted.",
        secrets=[k1], headers=h + [h[-1]], body=body, expect=ok(EID, et))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=tamper(body, '"amount":2000', '"amount":9000'),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, t, body), body=body, expect=err("signature_mismatch"))
    add(s, "truncated_signature", "A 63-hex-char v1 matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},v1={sig(k1, t, body)[:63]}"), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty v1= value matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},v1="), body=body, expect=err("signature_mismatch"))
    add(s, "non_hex_signature", "A 64-char non-hex v1 matches nothing.",
        secrets=[k1], headers=hdrs(f"t={t},v1={NON_HEX_64}"), body=body,
        expect=err("signature_mismatch"))
    add(s, "valid_mac_only_in_v0", "A valid MAC carried only as v0 next to a garbage v1 is a mismatch (v0 is ignored).",
        secrets=[k1], headers=hdrs(f"t={t},v1={GARBAGE_HEX},v0={sig(k1, t, body)}"), body=body,
        expect=err("signature_mismatch"))
    add(s, "stale_timestamp", "A correctly signed event tolerance+1 seconds old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL - 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "future_timestamp", "A correctly signed event tolerance+1 seconds in the future is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL + 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "custom_tolerance_rejects", "With tolerance 60 a correctly signed event 61 s old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - 61), body), body=body, tolerance=60,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "huge_timestamp_in_range", "A correctly signed t=9999999999 (fits i64) is out of tolerance.",
        secrets=[k1], headers=signed(k1, HUGE_TS, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "wrong_mac_stale_timestamp", "A wrong MAC with a stale timestamp is a signature mismatch.",
        secrets=[k1], headers=signed(k2, str(NOW - TOL - 1), body), body=body,
        expect=err("signature_mismatch"))
    add(s, "missing_signature_header", "A request without Stripe-Signature is missing its signature.",
        secrets=[k1], headers=hdrs("x")[:2], body=body, expect=err("missing_signature"))
    add(s, "missing_t_part", "A header with v1= but no t= is malformed.",
        secrets=[k1], headers=hdrs(f"v1={sig(k1, t, body)}"), body=body,
        expect=err("malformed_signature"))
    add(s, "no_v1_only_v0", "A header with t= and only a v0 entry (no v1) is malformed.",
        secrets=[k1], headers=hdrs(f"t={t},v0={sig(k1, t, body)}"), body=body,
        expect=err("malformed_signature"))
    add(s, "part_without_equals", "A header part without '=' is malformed.",
        secrets=[k1], headers=hdrs(f"t={t},oops,v1={sig(k1, t, body)}"), body=body,
        expect=err("malformed_signature"))
    for name, tv, why in [
        ("negative_timestamp", NEG_TS, "a negative t= is"),
        ("overflow_timestamp", OVERFLOW_TS, "a t= overflowing i64 is"),
        ("empty_timestamp", "", "an empty t= is"),
    ]:
        add(s, name, f"Even when signed over it, {why} malformed.",
            secrets=[k1], headers=signed(k1, tv, body), body=body,
            expect=err("malformed_signature"))
    add(s, "duplicate_header_different", "Two Stripe-Signature headers with different values are malformed.",
        secrets=[k1], headers=h + [["Stripe-Signature", f"t={t},v1={GARBAGE_HEX}"]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# Slack
# --------------------------------------------------------------------------------------


def gen_slack():
    s = "slack"
    k1 = "8f742231b10e8888abcd99yyyzzz85a5"
    k2 = "3c9e1a7b5d2f40688e1c2b3a4d5e6f70"
    body = compact({
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "team_id": "T061EG9R6", "api_app_id": "A0PNCHHK2",
        "event": {"type": "app_mention", "user": "U061F7AUR",
                  "text": "<@U0LAN0Z89> is it everything a river should be?",
                  "ts": "1515449522.000016", "channel": "C0LAN2Q65",
                  "event_ts": "1515449522000016"},
        "type": "event_callback", "event_id": "Ev0LAN670R", "event_time": 1515449522,
        "authed_users": ["U0LAN0Z89"],
    })
    EID, et = "Ev0LAN670R", "event_callback"
    t = str(T)

    def sig(key, t, bd):
        return "v0=" + hx(mac(b(key), b"v0:" + b(t) + b":", bd))

    def hdrs(sigv, t, sname="X-Slack-Signature", tname="X-Slack-Request-Timestamp"):
        h = [["Content-Type", "application/json"], ["User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"]]
        if t is not None:
            h.append([tname, t])
        if sigv is not None:
            h.append([sname, sigv])
        return h

    def signed(key, t, bd, **kw):
        return hdrs(sig(key, t, bd), t, **kw)

    # ---- accepted
    add(s, "valid", "A correctly signed event_callback is accepted; id is event_id, type is type.",
        secrets=[k1], headers=signed(k1, t, body), body=body, expect=ok(EID, et))
    add(s, "uppercase_hex", "An uppercase hex signature is accepted.",
        secrets=[k1], headers=hdrs("v0=" + sig(k1, t, body)[3:].upper(), t), body=body,
        expect=ok(EID, et))
    add(s, "header_names_lowercase", "Header names match case-insensitively (all lowercase).",
        secrets=[k1], headers=signed(k1, t, body, sname="x-slack-signature", tname="x-slack-request-timestamp"),
        body=body, expect=ok(EID, et))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, t, body), body=body, expect=ok(EID, et))
    uv = compact({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
                  "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                  "type": "url_verification"})
    add(s, "url_verification_sha256_id", "A url_verification body has no event_id, so the id is sha256: + hex SHA-256 of the body.",
        secrets=[k1], headers=signed(k1, t, uv), body=uv, expect=ok(sha256_id(uv), "url_verification"))
    add(s, "tolerance_exact_past", "A timestamp exactly tolerance seconds in the past is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL), body), body=body, expect=ok(EID, et))
    add(s, "tolerance_exact_future", "A timestamp exactly tolerance seconds in the future is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL), body), body=body, expect=ok(EID, et))
    add(s, "custom_tolerance_accepts", "With tolerance 600 a timestamp 500 s old is accepted.",
        secrets=[k1], headers=signed(k1, str(NOW - 500), body), body=body, tolerance=600,
        expect=ok(EID, et))
    h = signed(k1, t, body)
    add(s, "duplicate_headers_identical", "Signature and timestamp headers repeated with identical values are accepted.",
        secrets=[k1], headers=h + [h[2], h[3]], body=body, expect=ok(EID, et))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=tamper(body, "river", "rivet"),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, t, body), body=body, expect=err("signature_mismatch"))
    add(s, "truncated_signature", "A 63-hex-char signature matches nothing.",
        secrets=[k1], headers=hdrs(sig(k1, t, body)[:-1], t), body=body,
        expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty v0= value matches nothing.",
        secrets=[k1], headers=hdrs("v0=", t), body=body, expect=err("signature_mismatch"))
    add(s, "non_hex_signature", "A 64-char non-hex signature matches nothing.",
        secrets=[k1], headers=hdrs("v0=" + NON_HEX_64, t), body=body,
        expect=err("signature_mismatch"))
    add(s, "signed_without_v0_prefix", "A MAC over \"{t}:\"+body (missing the \"v0:\" prefix) is a mismatch.",
        secrets=[k1], headers=hdrs("v0=" + hx(mac(b(k1), b(t) + b":", body)), t), body=body,
        expect=err("signature_mismatch"))
    add(s, "stale_timestamp", "A correctly signed request tolerance+1 seconds old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - TOL - 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "future_timestamp", "A correctly signed request tolerance+1 seconds in the future is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW + TOL + 1), body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "custom_tolerance_rejects", "With tolerance 60 a correctly signed request 61 s old is out of tolerance.",
        secrets=[k1], headers=signed(k1, str(NOW - 61), body), body=body, tolerance=60,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "huge_timestamp_in_range", "A correctly signed timestamp 9999999999 (fits i64) is out of tolerance.",
        secrets=[k1], headers=signed(k1, HUGE_TS, body), body=body,
        expect=err("timestamp_out_of_tolerance"))
    add(s, "wrong_mac_stale_timestamp", "A wrong MAC with a stale timestamp is a signature mismatch.",
        secrets=[k1], headers=signed(k2, str(NOW - TOL - 1), body), body=body,
        expect=err("signature_mismatch"))
    add(s, "missing_signature_header", "A request without X-Slack-Signature is missing its signature.",
        secrets=[k1], headers=hdrs(None, t), body=body, expect=err("missing_signature"))
    add(s, "missing_timestamp_header", "A request without X-Slack-Request-Timestamp is missing its signature material.",
        secrets=[k1], headers=hdrs(sig(k1, t, body), None), body=body,
        expect=err("missing_signature"))
    for name, tv, why in [
        ("negative_timestamp", NEG_TS, "a negative timestamp is"),
        ("overflow_timestamp", OVERFLOW_TS, "a timestamp overflowing i64 is"),
        ("plus_sign_timestamp", "+" + t, "a timestamp with a leading '+' is"),
    ]:
        add(s, name, f"Even when signed over it, {why} malformed.",
            secrets=[k1], headers=signed(k1, tv, body), body=body,
            expect=err("malformed_signature"))
    add(s, "duplicate_signature_header_different",
        "Two X-Slack-Signature headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Slack-Signature", "v0=" + GARBAGE_HEX]], body=body,
        expect=err("malformed_signature"))
    add(s, "duplicate_timestamp_header_different",
        "Two X-Slack-Request-Timestamp headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Slack-Request-Timestamp", str(T - 1)]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, t, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, t, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# --------------------------------------------------------------------------------------
# Shopify
# --------------------------------------------------------------------------------------


def gen_shopify():
    s = "shopify"
    k1 = "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"
    k2 = "shpss_rotated_0f1e2d3c4b5a69788796"
    WID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    body = compact({
        "id": 820982911946154508, "email": "jon@example.com", "created_at": "2025-11-20T05:14:58-05:00",
        "total_price": "199.00", "currency": "USD", "financial_status": "paid",
        "line_items": [{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1,
                        "price": "199.00"}],
    })
    TOPIC = "orders/create"

    def sig(key, bd):
        return b64(mac(b(key), bd))

    def hdrs(sigv, topic=TOPIC, wid=WID, case=str):
        h = [[case("Content-Type"), "application/json"], [case("X-Shopify-Topic"), topic],
             [case("X-Shopify-Shop-Domain"), "example.myshopify.com"],
             [case("X-Shopify-API-Version"), "2025-10"]]
        if wid is not None:
            h.append([case("X-Shopify-Webhook-Id"), wid])
        if sigv is not None:
            h.append([case("X-Shopify-Hmac-Sha256"), sigv])
        return h

    def signed(key, bd, **kw):
        return hdrs(sig(key, bd), **kw)

    # ---- accepted
    add(s, "valid", "A correctly signed orders/create is accepted; id is X-Shopify-Webhook-Id, type the topic.",
        secrets=[k1], headers=signed(k1, body), body=body, expect=ok(WID, TOPIC))
    add(s, "header_names_lowercase", "Header names match case-insensitively (all lowercase).",
        secrets=[k1], headers=signed(k1, body, case=str.lower), body=body, expect=ok(WID, TOPIC))
    add(s, "header_names_uppercase", "Header names match case-insensitively (all uppercase).",
        secrets=[k1], headers=signed(k1, body, case=str.upper), body=body, expect=ok(WID, TOPIC))
    add(s, "rotation_second_secret", "With two configured secrets, a signature made with the second one is accepted.",
        secrets=[k1, k2], headers=signed(k2, body), body=body, expect=ok(WID, TOPIC))
    cust = compact({"id": 706405506930370084, "email": "bob@example.com", "first_name": "Bob",
                    "last_name": "Norman", "created_at": "2025-11-20T05:10:00-05:00"})
    add(s, "other_topic", "Another topic (customers/create) is accepted.",
        secrets=[k1], headers=signed(k1, cust, topic="customers/create",
                                     wid="e1c2a3b4-0000-4b37-8a5f-bf7d70bcd099"),
        body=cust, expect=ok("e1c2a3b4-0000-4b37-8a5f-bf7d70bcd099", "customers/create"))
    add(s, "no_webhook_id_sha256_id", "Without X-Shopify-Webhook-Id the id is sha256: + hex SHA-256 of the body.",
        secrets=[k1], headers=signed(k1, body, wid=None), body=body,
        expect=ok(sha256_id(body), TOPIC))
    h = signed(k1, body)
    add(s, "duplicate_headers_identical", "Hmac and webhook-id headers repeated with identical values are accepted.",
        secrets=[k1], headers=h + [h[-2], h[-1]], body=body, expect=ok(WID, TOPIC))
    pretty = (json.dumps(json.loads(body), indent=2) + "\n").encode()
    add(s, "pretty_body_trailing_newline", "A pretty-printed body with a trailing newline is verified over its exact bytes.",
        secrets=[k1], headers=signed(k1, pretty), body=pretty, expect=ok(WID, TOPIC))
    add(s, "no_timestamp_check", "Shopify has no signed timestamp: a receiver clock years away still accepts.",
        secrets=[k1], headers=signed(k1, body), body=body, now=4102444800, expect=ok(WID, TOPIC))
    add(s, "verify_only_non_json", "Verify-only accepts a correctly signed non-JSON body (no parsing).",
        secrets=[k1], headers=signed(k1, NON_JSON_BODY), body=NON_JSON_BODY, verify_only=True,
        expect={"ok": True, "id": WID})
    add(s, "topic_not_signed",
        "X-Shopify-Topic is not signed: a captured orders/create body re-sent as orders/paid verifies as orders/paid.",
        secrets=[k1], headers=signed(k1, body, topic="orders/paid"), body=body, expect=ok(WID, "orders/paid"))

    # ---- rejected
    add(s, "tampered_body", "One byte of the body changed after signing is a signature mismatch.",
        secrets=[k1], headers=signed(k1, body), body=tamper(body, '"199.00","currency"', '"199.01","currency"'),
        expect=err("signature_mismatch"))
    add(s, "wrong_secret", "A signature made with another secret is a signature mismatch.",
        secrets=[k1], headers=signed(k2, body), body=body, expect=err("signature_mismatch"))
    full = mac(b(k1), body)
    add(s, "truncated_signature", "A base64 value decoding to 31 bytes matches nothing.",
        secrets=[k1], headers=hdrs(b64(full[:31])), body=body, expect=err("signature_mismatch"))
    add(s, "empty_signature", "An empty X-Shopify-Hmac-Sha256 value matches nothing.",
        secrets=[k1], headers=hdrs(""), body=body, expect=err("signature_mismatch"))
    add(s, "non_base64_signature", "A 44-char value that is not base64 matches nothing.",
        secrets=[k1], headers=hdrs("*" * 43 + "="), body=body, expect=err("signature_mismatch"))
    add(s, "hex_instead_of_base64", "The MAC sent as hex instead of base64 matches nothing.",
        secrets=[k1], headers=hdrs(full.hex()), body=body, expect=err("signature_mismatch"))
    add(s, "missing_signature_header", "A request without X-Shopify-Hmac-Sha256 is missing its signature.",
        secrets=[k1], headers=hdrs(None), body=body, expect=err("missing_signature"))
    add(s, "duplicate_signature_header_different",
        "Two X-Shopify-Hmac-Sha256 headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Shopify-Hmac-Sha256", b64(bytes(32))]], body=body,
        expect=err("malformed_signature"))
    add(s, "duplicate_webhook_id_different",
        "Two X-Shopify-Webhook-Id headers with different values are malformed.",
        secrets=[k1], headers=h + [["X-Shopify-Webhook-Id", "00000000-0000-4000-8000-000000000000"]],
        body=body, expect=err("malformed_signature"))
    add(s, "duplicate_topic_header_different",
        "Two X-Shopify-Topic headers with different values are malformed: the topic is not signed.",
        secrets=[k1], headers=h + [["X-Shopify-Topic", "orders/paid"]], body=body,
        expect=err("malformed_signature"))
    add(s, "reserialized_body", "A body re-serialized by a JSON library (signature over the original) is a mismatch.",
        secrets=[k1], headers=signed(k1, body), body=reserialize(body),
        expect=err("signature_mismatch"))
    add(s, "signed_non_json", "A correctly signed body that is not JSON is an invalid payload.",
        secrets=[k1], headers=signed(k1, NON_JSON_BODY), body=NON_JSON_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_signed", "A correctly signed non-UTF-8 body is an invalid payload.",
        secrets=[k1], headers=signed(k1, NON_UTF8_BODY), body=NON_UTF8_BODY,
        expect=err("invalid_payload"))
    add(s, "non_utf8_body_unsigned", "A non-UTF-8 body with a signature over other bytes is a mismatch.",
        secrets=[k1], headers=signed(k1, body), body=NON_UTF8_BODY,
        expect=err("signature_mismatch"))


# ======================================================================================
# Reference verifier: re-derives every vector's outcome from its JSON alone.
# ======================================================================================


class Reject(Exception):
    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
HEX64_RE = re.compile(r"[0-9a-fA-F]{64}")


def values(headers, *names):
    names = {n.lower() for n in names}
    return [v for n, v in headers if n.lower() in names]


def single(headers, *names):
    vs = values(headers, *names)
    if not vs:
        return None
    if len(set(vs)) > 1:
        raise Reject("malformed_signature")
    return vs[0]


def parse_ts(s):
    if not re.fullmatch(r"[0-9]+", s) or int(s) > I64_MAX:
        raise Reject("malformed_signature")
    return int(s)


def dec_hex(s):
    return bytes.fromhex(s) if HEX64_RE.fullmatch(s) else None


def dec_b64(s, n):
    try:
        d = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None
    return d if len(d) == n else None


def kv_parts(value):
    out = []
    for part in value.split(","):
        if "=" not in part:
            raise Reject("malformed_signature")
        out.append(part.split("=", 1))
    return out


def prefixed(value, prefix):
    assert value.startswith(prefix), "vector generator never omits the prefix"
    return value[len(prefix):]


def any_match(sigs, keys, *parts):
    return any(sig is not None and hmac.compare_digest(sig, mac(k, *parts))
               for sig in sigs for k in keys)


def window(t, v):
    if abs(v["now"] - t) > v.get("tolerance", TOL):
        raise Reject("timestamp_out_of_tolerance")


def check_signature(v, body):
    """Returns a dict of header-derived facts; raises Reject for any signature-stage failure."""
    p, hs = v["provider"], v["headers"]
    raw_keys = [b(sct) for sct in v["secrets"]]
    if p == "botdog":
        hv = single(hs, "X-Webhook-Signature")
        if hv is None:
            raise Reject("missing_signature")
        parts = kv_parts(hv)
        ts = {val for k, val in parts if k == "t"}
        sigs = [val for k, val in parts if k == "s"]
        if len(ts) != 1 or not sigs:
            raise Reject("malformed_signature")
        (tstr,) = ts
        t = parse_ts(tstr)
        if not any_match([dec_hex(x) for x in sigs], raw_keys, b(tstr) + b".", body):
            raise Reject("signature_mismatch")
        window(t, v)
        return {}
    if p in ("pollybot", "breakcold", "slack"):
        sname, tname, pre = {
            "pollybot": ("X-Webhook-Signature", "X-Webhook-Timestamp", "sha256="),
            "breakcold": ("X-Webhook-Signature", "X-Webhook-Timestamp", "sha256="),
            "slack": ("X-Slack-Signature", "X-Slack-Request-Timestamp", "v0="),
        }[p]
        sv, tv = single(hs, sname), single(hs, tname)
        dlv = single(hs, "X-Webhook-Delivery-Id") if p == "breakcold" else None
        body_only = p == "pollybot" and v.get("options", {}).get("pollybot_body_only", False)
        if sv is None or (tv is None and not body_only):
            raise Reject("missing_signature")
        t = parse_ts(tv) if tv is not None else None
        sig = dec_hex(prefixed(sv, pre))
        matched = False
        if tv is not None:
            if p == "pollybot":
                matched = any_match([sig], raw_keys, body, b(tv))
            elif p == "breakcold":
                matched = any_match([sig], raw_keys, b(tv) + b".", body)
            else:
                matched = any_match([sig], raw_keys, b"v0:" + b(tv) + b":", body)
        if body_only and not matched:
            matched = any_match([sig], raw_keys, body)
        if not matched:
            raise Reject("signature_mismatch")
        if t is not None:
            window(t, v)
        return {"delivery_id": dlv}
    if p == "breakcold-legacy":
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Reject("malformed_signature")
        assert isinstance(doc, dict)
        if "secret" not in doc:
            raise Reject("missing_signature")
        if not isinstance(doc["secret"], str):
            raise Reject("malformed_signature")
        if not any(hmac.compare_digest(b(doc["secret"]), k) for k in raw_keys):
            raise Reject("signature_mismatch")
        return {}
    if p == "standard":
        mid = single(hs, "webhook-id", "svix-id")
        tv = single(hs, "webhook-timestamp", "svix-timestamp")
        sv = single(hs, "webhook-signature", "svix-signature")
        if mid is None or tv is None or sv is None:
            raise Reject("missing_signature")
        t = parse_ts(tv)
        entries = [e.split(",", 1) for e in sv.split(" ") if "," in e]
        entries = [(ver, val) for ver, val in entries if ver in ("v1", "v1a")]
        if not entries:
            raise Reject("malformed_signature")
        hkeys = [base64.b64decode(k[6:]) for k in v["secrets"] if k.startswith("whsec_")]
        pkeys = [Ed25519PublicKey.from_public_bytes(base64.b64decode(k[5:]))
                 for k in v["secrets"] if k.startswith("whpk_")]
        signed = b(mid) + b"." + b(tv) + b"." + body
        matched = False
        for ver, val in entries:
            if ver == "v1":
                matched |= any_match([dec_b64(val, 32)], hkeys, signed)
            else:
                sig = dec_b64(val, 64)
                for pk in pkeys if sig is not None else []:
                    try:
                        pk.verify(sig, signed)
                        matched = True
                    except InvalidSignature:
                        pass
        if not matched:
            raise Reject("signature_mismatch")
        window(t, v)
        return {"delivery_id": mid}
    if p == "github":
        sv = single(hs, "X-Hub-Signature-256")
        dlv = single(hs, "X-GitHub-Delivery")
        event_type = single(hs, "X-GitHub-Event")
        if sv is None:
            raise Reject("missing_signature")
        if not any_match([dec_hex(prefixed(sv, "sha256="))], raw_keys, body):
            raise Reject("signature_mismatch")
        return {"delivery_id": dlv, "event_type": event_type}
    if p == "stripe":
        sv = single(hs, "Stripe-Signature")
        if sv is None:
            raise Reject("missing_signature")
        parts = kv_parts(sv)
        ts = {val for k, val in parts if k == "t"}
        sigs = [val for k, val in parts if k == "v1"]
        if len(ts) != 1 or not sigs:
            raise Reject("malformed_signature")
        (tstr,) = ts
        t = parse_ts(tstr)
        if not any_match([dec_hex(x) for x in sigs], raw_keys, b(tstr) + b".", body):
            raise Reject("signature_mismatch")
        window(t, v)
        return {}
    if p == "shopify":
        sv = single(hs, "X-Shopify-Hmac-Sha256")
        wid = single(hs, "X-Shopify-Webhook-Id")
        event_type = single(hs, "X-Shopify-Topic")
        if sv is None:
            raise Reject("missing_signature")
        if not any_match([dec_b64(sv, 32)], raw_keys, body):
            raise Reject("signature_mismatch")
        return {"delivery_id": wid, "event_type": event_type}
    raise AssertionError(p)


def need(cond):
    if not cond:
        raise Reject("invalid_payload")


def is_str(x):
    return isinstance(x, str)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def is_iso(x):
    return is_str(x) and ISO_RE.fullmatch(x) is not None


BOTDOG_DATES = ("visitedAt", "sentAt", "acceptedAt", "repliedAt")
BREAKCOLD_REQUIRED = {
    "record.created": ("id",), "record.updated": ("id",), "record.deleted": ("id",),
    "note.created": ("recordId", "noteId"), "note.updated": ("recordId", "noteId"),
    "note.deleted": ("recordId", "noteId"),
    "task.created": ("recordId", "taskId"), "task.completed": ("recordId", "taskId"),
    "relation.added": ("sourceRecordId", "targetRecordId"),
    "relation.removed": ("sourceRecordId", "targetRecordId"),
    "call.linked": ("recordId", "callId"), "call.unlinked": ("recordId", "callId"),
    "file.uploaded": ("recordId", "fileName"), "file.deleted": ("recordId", "fileName"),
}


def parse_event(v, body, facts):
    """Returns (id, event_type) or raises Reject('invalid_payload')."""
    p = v["provider"]
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Reject("invalid_payload")
    if p == "botdog":
        need(isinstance(doc, dict) and is_str(doc.get("id")) and is_str(doc.get("eventType"))
             and is_iso(doc.get("timestamp")))
        for f in ("contactEmails", "contactPhones"):
            if f in doc:
                need(isinstance(doc[f], list) and all(is_str(x) for x in doc[f]))
        for f in BOTDOG_DATES:
            if f in doc:
                need(is_iso(doc[f]))
        if "message" in doc:
            need(doc["message"] is None or is_str(doc["message"]))
        return doc["id"] or sha256_id(body), doc["eventType"]
    if p == "pollybot":
        need(isinstance(doc, dict) and is_str(doc.get("event")) and is_int(doc.get("timestamp"))
             and isinstance(doc.get("data"), dict) and is_str(doc["data"].get("id")))
        return derived_id(f"{doc['event']}:{doc['data']['id']}:{doc['timestamp']}", body), doc["event"]
    if p == "breakcold":
        need(isinstance(doc, dict) and is_str(doc.get("eventId")) and is_str(doc.get("event"))
             and is_iso(doc.get("timestamp")) and isinstance(doc.get("data"), dict))
        for f in BREAKCOLD_REQUIRED.get(doc["event"], ()):
            need(is_str(doc["data"].get(f)))
        # The signed eventId first; the unsigned X-Webhook-Delivery-Id only when it is empty.
        return doc["eventId"] or facts.get("delivery_id") or sha256_id(body), doc["event"]
    if p == "breakcold-legacy":
        need(is_str(doc.get("event")) and "payload" in doc)
        pl = doc["payload"]
        if doc["event"].startswith("lead."):
            need(isinstance(pl, dict) and is_str(pl.get("id")))
        assert isinstance(pl, dict) and is_str(pl.get("id"))
        stamp = pl.get("updated_at") or pl.get("created_at")
        assert is_str(stamp)
        return derived_id(f"{doc['event']}:{pl['id']}:{stamp}", body), doc["event"]
    if p == "standard":
        need(isinstance(doc, dict) and is_str(doc.get("type")) and "data" in doc)
        if "timestamp" in doc:
            need(is_iso(doc["timestamp"]))
        return facts["delivery_id"] or sha256_id(body), doc["type"]
    if p in ("github", "shopify"):
        return facts["delivery_id"] or sha256_id(body), facts["event_type"]
    if p in ("stripe", "slack"):
        assert isinstance(doc, dict) and is_str(doc.get("type"))
        key = "id" if p == "stripe" else "event_id"
        return (doc[key] if is_str(doc.get(key)) and doc[key] else sha256_id(body)), doc["type"]
    raise AssertionError(p)


def reference_verify(v):
    body = base64.b64decode(v["body_base64"]) if "body_base64" in v else b(v["body"])
    try:
        facts = check_signature(v, body)
        if v.get("verify_only"):
            out = {"ok": True}
            if facts.get("delivery_id"):
                out["id"] = facts["delivery_id"]
            return out
        id_, et = parse_event(v, body, facts)
        return {"ok": True, "id": id_, "event_type": et}
    except Reject as r:
        return {"error": r.kind}


# ======================================================================================
# main
# ======================================================================================


def render(v):
    return json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    for g in (gen_botdog, gen_pollybot, gen_breakcold, gen_breakcold_legacy, gen_standard,
              gen_github, gen_stripe, gen_slack, gen_shopify):
        g()

    failures = []
    for scheme in SCHEMES:
        for name, v in VECTORS[scheme].items():
            got = reference_verify(v)
            if got != v["expect"]:
                failures.append(f"{scheme}/{name}: expect {v['expect']} but reference says {got}")
            # Round-trip: the rendered file must load back to the same vector.
            assert json.loads(render(v)) == v
    if failures:
        raise SystemExit("reference verifier disagrees:\n  " + "\n  ".join(failures))

    stale, differ = [], []
    for scheme in SCHEMES:
        d = os.path.join(HERE, scheme)
        wanted = {f"{n}.json": render(v) for n, v in VECTORS[scheme].items()}
        existing = set(os.listdir(d)) if os.path.isdir(d) else set()
        for f in sorted(existing - set(wanted)):
            if f.endswith(".json"):
                stale.append(os.path.join(scheme, f))
                if not check:
                    os.remove(os.path.join(d, f))
        for f, text in sorted(wanted.items()):
            path = os.path.join(d, f)
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
            if old != text:
                differ.append(os.path.join(scheme, f))
                if not check:
                    os.makedirs(d, exist_ok=True)
                    with open(path, "w", encoding="utf-8", newline="\n") as fh:
                        fh.write(text)

    print(f"{'scheme':<18}{'accepted':>9}{'rejected':>9}{'total':>7}")
    ta = tr = 0
    for scheme in SCHEMES:
        vs = VECTORS[scheme].values()
        a = sum(1 for v in vs if v["expect"].get("ok"))
        r = len(VECTORS[scheme]) - a
        ta, tr = ta + a, tr + r
        print(f"{scheme:<18}{a:>9}{r:>9}{a + r:>7}")
    print(f"{'total':<18}{ta:>9}{tr:>9}{ta + tr:>7}")
    print("Standard Webhooks published example reproduced: " + SPEC_SIG)

    if check:
        if stale or differ:
            print("out of date: " + ", ".join(stale + differ), file=sys.stderr)
            sys.exit(1)
        print("vectors are up to date")
    else:
        print(f"wrote {len(differ)} file(s), removed {len(stale)} stale file(s)")


if __name__ == "__main__":
    main()
