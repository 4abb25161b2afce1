#!/usr/bin/env python3
"""Generate a labelled JSONL corpus for `portcullis-mask-eval`.

Each line is {"text": "...", "entities": [{"start": b, "end": e, "kind": k}]}
with UTF-8 *byte* offsets. Texts come in several shapes (prose, JSON,
markdown tables, logs, code) and locales (en_US, en_GB, de_DE, es_ES, nl_NL,
pl_PL, fr_FR, plus en_CA/en_IN for SIN and Aadhaar), and mix entities with
hard negatives that look similar but must not be masked: UUIDs, hashes,
order numbers, timestamps, Luhn/IBAN/SSN near misses, documentation keys.

`cargo xtask eval` runs it (Faker is pinned in tests/requirements.txt and
installed into .tools/venv by `cargo xtask setup`) and evaluates the result.
By hand:

    .tools/venv/bin/python filters/masking/eval/gen_corpus.py --n 4000 --seed 7 > /tmp/corpus.jsonl
    cargo run --release -p portcullis-masking --bin portcullis-mask-eval -- /tmp/corpus.jsonl

Entities whose detector needs a context word (national IDs, bare SSNs, ABA
routing numbers, national phone forms) are written next to their usual label
("NHS number", "PESEL", "Tel."), as they appear in real documents.
"""

import argparse
import base64
import datetime
import hashlib
import json
import random
import string
import sys
import uuid

from faker import Faker

LOCALES = ["en_US", "en_GB", "de_DE", "es_ES", "nl_NL", "pl_PL", "fr_FR"]
ALNUM = string.ascii_letters + string.digits
# Dates end here rather than "now", so that a seed always gives the same corpus.
EPOCH_END = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


class Text:
    """Builds a text and records entity spans as UTF-8 byte offsets."""

    def __init__(self):
        self.parts = []
        self.size = 0
        self.entities = []

    def add(self, s):
        self.parts.append(s)
        self.size += len(s.encode("utf-8"))

    def entity(self, kind, value):
        start = self.size
        self.add(value)
        self.entities.append({"start": start, "end": self.size, "kind": kind})

    def json_string(self, kind, value):
        """A JSON string literal whose content is the entity (escapes included)."""
        dumped = json.dumps(value)
        self.add('"')
        if kind:
            self.entity(kind, dumped[1:-1])
        else:
            self.add(dumped[1:-1])
        self.add('"')

    def sample(self):
        return {"text": "".join(self.parts), "entities": self.entities}


# ---------------------------------------------------------------- generators


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def group(s, sizes, sep):
    out, i = [], 0
    for n in sizes:
        out.append(s[i : i + n])
        i += n
    if i < len(s):
        out.append(s[i:])
    return sep.join(x for x in out if x)


def credit_card(fk, rng):
    kind = rng.choice(["visa16", "mastercard", "amex", "discover", "jcb16", "diners", "visa16"])
    number = fk.credit_card_number(card_type=kind)
    style = rng.random()
    if style < 0.4:
        return number
    sep = " " if style < 0.8 else "-"
    if len(number) == 15:
        return group(number, [4, 6, 5], sep)
    if len(number) == 14:
        return group(number, [4, 6, 4], sep)
    return group(number, [4, 4, 4, 4, 3], sep)


def iban(fk, rng):
    value = fk.iban()
    if rng.random() < 0.5:
        value = group(value, [4] * 9, " ")
    return value


def nhs(rng):
    while True:
        d = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(x * (10 - i) for i, x in enumerate(d)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, d)) + str(check)
            return group(s, [3, 3, 4], " ") if rng.random() < 0.6 else s


VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]
VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def aadhaar(rng):
    body = [rng.randint(2, 9)] + [rng.randint(0, 9) for _ in range(10)]
    c = 0
    for i, x in enumerate(reversed(body)):
        c = VERHOEFF_D[c][VERHOEFF_P[(i + 1) % 8][x]]
    s = "".join(map(str, body)) + str(VERHOEFF_INV[c])
    return group(s, [4, 4, 4], " ") if rng.random() < 0.7 else s


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(payload):
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def segwit(rng):
    prog = bytes(rng.randrange(256) for _ in range(20))
    acc, bits, data = 0, 0, [0]
    for b in prog:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    hrp = "bc"
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = bech32_polymod(exp + data + [0] * 6) ^ 1
    check = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + check)


def btc(rng):
    if rng.random() < 0.35:
        return segwit(rng)
    version = rng.choice([b"\x00", b"\x05"])
    return base58check(version + bytes(rng.randrange(256) for _ in range(20)))


def eth(rng):
    h = "".join(rng.choice("0123456789abcdef") for _ in range(40))
    return "0x" + (h.upper() if rng.random() < 0.1 else h)


def token(rng, n, alphabet=ALNUM):
    while True:
        t = "".join(rng.choice(alphabet) for _ in range(n))
        if any(c.isdigit() for c in t) and any(c.isalpha() for c in t):
            return t


def secret(rng):
    kind = rng.choice(
        ["aws_access_key", "github_token", "gitlab_token", "slack_token", "stripe_key",
         "openai_key", "anthropic_key", "google_api_key", "jwt"]
    )
    if kind == "aws_access_key":
        v = rng.choice(["AKIA", "ASIA"]) + token(rng, 16, string.ascii_uppercase + "234567")
    elif kind == "github_token":
        v = ("ghp_" + token(rng, 36)) if rng.random() < 0.7 else ("github_pat_" + token(rng, 22) + "_" + token(rng, 59))
    elif kind == "gitlab_token":
        v = "glpat-" + token(rng, 20, ALNUM + "_-")
    elif kind == "slack_token":
        v = "xoxb-%d-%d-%s" % (rng.randrange(10**11, 10**12), rng.randrange(10**12, 10**13), token(rng, 24))
    elif kind == "stripe_key":
        v = rng.choice(["sk_live_", "sk_test_", "rk_live_"]) + token(rng, 24)
    elif kind == "openai_key":
        v = ("sk-proj-" + token(rng, 48, ALNUM + "_-")) if rng.random() < 0.6 else ("sk-" + token(rng, 48))
    elif kind == "anthropic_key":
        v = "sk-ant-api03-" + token(rng, 93, ALNUM + "_-") + "AA"
    elif kind == "google_api_key":
        v = "AIza" + token(rng, 35, ALNUM + "_-")
    else:
        b64 = lambda d: base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).rstrip(b"=").decode()
        header = b64({"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"})
        payload = b64({"sub": str(rng.randrange(10**9)), "iat": rng.randrange(1_600_000_000, 1_800_000_000)})
        v = header + "." + payload + "." + token(rng, 43, ALNUM + "_-")
    return kind, v


def pem(rng):
    kind = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randrange(120, 900)))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (kind, "\n".join(lines), kind)


def password(rng):
    alphabet = ALNUM + "!@#$%^&*_-+=?"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(10, 28)))


# Context labels for the kinds that need them, by locale where it matters.
LABELS = {
    "us_ssn": ["SSN", "SSN:", "social security number"],
    "us_itin": ["ITIN", "ITIN:"],
    "aba_routing": ["routing number", "ABA", "Routing no."],
    "uk_nhs": ["NHS number", "NHS no.", "NHS:"],
    "ca_sin": ["SIN", "social insurance number", "SIN:"],
    "in_aadhaar": ["Aadhaar", "Aadhaar no.", "UIDAI"],
    "es_nif": ["DNI", "NIF", "DNI/NIF:"],
    "es_nie": ["NIE", "NIE:"],
    "nl_bsn": ["BSN", "burgerservicenummer", "BSN:"],
    "pl_pesel": ["PESEL", "nr PESEL", "PESEL:"],
}

PHONE_WORDS = {
    "en_US": "Phone:", "en_GB": "Tel:", "de_DE": "Telefon:", "es_ES": "Teléfono:",
    "nl_NL": "Telefoon:", "pl_PL": "Telefon:", "fr_FR": "Tél. :",
}

CC = {"en_US": "1", "en_GB": "44", "de_DE": "49", "es_ES": "34", "nl_NL": "31", "pl_PL": "48", "fr_FR": "33"}


def phone(fk, rng, locale):
    digits = "".join(ch for ch in fk.msisdn() if ch.isdigit())[-9:]
    cc = CC.get(locale, "1")
    if cc == "1":
        digits = str(rng.randint(2, 9)) + digits[1:]
        return rng.choice([
            "+1 %s %s %s" % (digits[:3], digits[3:6], digits[6:] + str(rng.randint(0, 9))),
            "+1 (%s) %s-%s" % (digits[:3], digits[3:6], digits[6:] + str(rng.randint(0, 9))),
        ]), True
    if rng.random() < 0.5:
        return "+%s %s %s %s" % (cc, digits[:2], digits[2:5], digits[5:]), True
    return "0" + digits[:2] + " " + digits[2:5] + " " + digits[5:], False


def entity(fk, fakers, rng, locale):
    """One (kind, value, label) triple; label is a context word or None."""
    r = rng.random()
    if r < 0.13:
        return "credit_card", credit_card(fk, rng), None
    if r < 0.22:
        return "iban", iban(fk if locale != "en_US" else fakers["de_DE"], rng), None
    if r < 0.32:
        return "email", fk.email(), None
    if r < 0.40:
        value, international = phone(fk, rng, locale)
        return "phone", value, None if international else PHONE_WORDS.get(locale, "Phone:")
    if r < 0.45:
        return "ipv4", fk.ipv4(), None
    if r < 0.47:
        return "ipv6", fk.ipv6(), None
    if r < 0.49:
        return "mac_address", fk.mac_address(), None
    if r < 0.52:
        return "btc_address", btc(rng), None
    if r < 0.54:
        return "eth_address", eth(rng), None
    if r < 0.64:
        kind = rng.choice(list(LABELS))
        us, ca, inn, es, nl, pl = (fakers[k] for k in ["en_US", "en_CA", "en_IN", "es_ES", "nl_NL", "pl_PL"])
        value = {
            "us_ssn": lambda: us.ssn() if rng.random() < 0.7 else us.ssn().replace("-", ""),
            "us_itin": lambda: us.itin(),
            "aba_routing": lambda: us.aba(),
            "uk_nhs": lambda: nhs(rng),
            "ca_sin": lambda: ca.ssn(),
            "in_aadhaar": lambda: aadhaar(rng),
            "es_nif": lambda: es.nif(),
            "es_nie": lambda: es.nie(),
            "nl_bsn": lambda: nl.ssn(),
            "pl_pesel": lambda: pl.pesel(),
        }[kind]()
        return kind, value, rng.choice(LABELS[kind])
    if r < 0.84:
        kind, value = secret(rng)
        return kind, value, None
    if r < 0.87:
        return "private_key", pem(rng), None
    return "generic_secret", password(rng), None


def negative(fk, rng):
    """Text that looks like an entity but is not one."""
    card = fk.credit_card_number(card_type="visa16")
    bad_card = card[:-1] + str((int(card[-1]) + rng.randint(1, 9)) % 10)
    good_iban = fk.iban()
    bad_iban = good_iban[:2] + "%02d" % ((int(good_iban[2:4]) + rng.randint(1, 50)) % 100) + good_iban[4:]
    choices = [
        lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        lambda: hashlib.md5(str(rng.random()).encode()).hexdigest(),
        lambda: hashlib.sha1(str(rng.random()).encode()).hexdigest(),
        lambda: hashlib.sha256(str(rng.random()).encode()).hexdigest(),
        lambda: "order #%d" % rng.randrange(10**7, 10**10),
        lambda: "invoice %d" % rng.randrange(10**8, 10**12),
        lambda: fk.iso8601(end_datetime=EPOCH_END) + "Z",
        lambda: fk.date(end_datetime=EPOCH_END),
        lambda: "%02d:%02d:%02d" % (rng.randrange(24), rng.randrange(60), rng.randrange(60)),
        lambda: "v%d.%d.%d" % (rng.randrange(10), rng.randrange(30), rng.randrange(100)),
        lambda: "%0.2f EUR" % (rng.random() * 10000),
        lambda: bad_card if not luhn_ok(bad_card) else "4111 1111 1111 1112",
        lambda: bad_iban,
        lambda: rng.choice(["000", "666", "9%02d" % rng.randrange(100)]) + "-%02d-%04d" % (rng.randrange(1, 40), rng.randrange(1, 10**4)),
        lambda: "AKIAIOSFODNN7EXAMPLE",
        lambda: "sk-your-api-key-here",
        lambda: "api_key = \"<YOUR_API_KEY>\"",
        lambda: "password: changeme",
        lambda: "token=${GITHUB_TOKEN}",
        lambda: "sha256:" + hashlib.sha256(str(rng.random()).encode()).hexdigest(),
        lambda: "commit %s" % hashlib.sha1(str(rng.random()).encode()).hexdigest()[:12],
        lambda: "ISBN 978-%d-%02d-%06d-%d" % (rng.randrange(10), rng.randrange(100), rng.randrange(10**6), rng.randrange(10)),
        lambda: "%d items, %d%% done" % (rng.randrange(1000), rng.randrange(100)),
        lambda: fk.postcode(),
        lambda: "%.4f, %.4f" % (fk.latitude(), fk.longitude()),
    ]
    return rng.choice(choices)()


# ---------------------------------------------------------------- shapes


def prose(t, fk, items, negs, rng):
    t.add(fk.sentence() + " ")
    for kind, value, label in items:
        lead = rng.choice(["Please use", "My details:", "Here it is", "Noted", "See", "Updated"])
        t.add(lead + " ")
        if label:
            t.add(label + " ")
        elif kind == "generic_secret":
            t.add(rng.choice(["password=", "password: ", "client_secret: "]))
        t.entity(kind, value)
        t.add(rng.choice([". ", ", thanks. ", " — ", ".\n"]))
        if negs and rng.random() < 0.5:
            t.add(fk.sentence()[:-1] + " (" + negs.pop() + "). ")
    for n in negs:
        t.add("Reference " + n + ". ")
    t.add(fk.sentence())


def as_json(t, fk, items, negs, rng):
    t.add('{"id": ')
    t.json_string(None, str(uuid.UUID(int=rng.getrandbits(128))))
    t.add(', "name": ')
    t.json_string(None, fk.name())
    for i, (kind, value, label) in enumerate(items):
        key = (label or kind).strip(":. ").lower().replace(" ", "_").replace("/", "_")
        if kind == "generic_secret":
            key = rng.choice(["password", "client_secret", "db_password"])
        t.add(', "%s_%d": ' % (key, i) if key in ("phone", "email") else ', "%s": ' % key)
        t.json_string(kind, value)
    for i, n in enumerate(negs):
        t.add(', "ref%d": ' % i)
        t.json_string(None, n)
    t.add(', "note": ')
    t.json_string(None, fk.sentence())
    t.add("}")


def table(t, fk, items, negs, rng):
    t.add("| # | field | value |\n|---|---|---|\n")
    for i, (kind, value, label) in enumerate(items):
        t.add("| %d | %s | " % (i + 1, (label or kind.replace("_", " ")).strip(":")))
        if label:
            t.add(label + " ")
        elif kind == "generic_secret":
            t.add("password=")
        if kind == "private_key":
            value = value.replace("\n", " ")
        t.entity(kind, value)
        t.add(" |\n")
    for i, n in enumerate(negs):
        t.add("| %d | ref | %s |\n" % (len(items) + i + 1, n))


def logs(t, fk, items, negs, rng):
    for kind, value, label in items:
        t.add("%sZ %s [%s] " % (fk.iso8601(end_datetime=EPOCH_END), rng.choice(["INFO", "WARN", "DEBUG"]), fk.user_name()))
        if label:
            t.add(label + " ")
        elif kind == "generic_secret":
            t.add("auth password=")
        else:
            t.add(rng.choice(["value=", "got ", "user ", "from ", "key "]))
        if kind == "private_key":
            t.add("\n")
        t.entity(kind, value)
        t.add(" status=%d\n" % rng.choice([200, 201, 401, 403, 500]))
    for n in negs:
        t.add("%sZ INFO request_id=%s ref=%s\n" % (fk.iso8601(end_datetime=EPOCH_END), uuid.UUID(int=rng.getrandbits(128)), n))


def code(t, fk, items, negs, rng):
    t.add(rng.choice(["# config.py\n", "// settings.js\n", "# .env\n"]))
    for i, (kind, value, label) in enumerate(items):
        name = (label or kind).strip(":. ").upper().replace(" ", "_").replace("/", "_")
        if kind == "generic_secret":
            name = rng.choice(["DB_PASSWORD", "SECRET_KEY", "client_secret"])
        if kind == "private_key":
            t.add('%s = """\n' % name)
            t.entity(kind, value)
            t.add('\n"""\n')
            continue
        t.add("%s_%d = \"" % (name, i))
        t.entity(kind, value)
        t.add('"\n')
    for i, n in enumerate(negs):
        t.add("REF_%d = %s\n" % (i, json.dumps(n)))


SHAPES = [prose, as_json, table, logs, code]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4000, help="number of samples")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    Faker.seed(args.seed)
    # Some Faker providers (es_ES `nie`) draw from the global generator.
    random.seed(args.seed)
    fakers = {loc: Faker(loc) for loc in LOCALES + ["en_CA", "en_IN"]}
    for _ in range(args.n):
        locale = rng.choice(LOCALES)
        fk = fakers[locale]
        items = [entity(fk, fakers, rng, locale) for _ in range(rng.randint(0, 4))]
        negs = [negative(fk, rng) for _ in range(rng.randint(0, 3))]
        t = Text()
        rng.choice(SHAPES)(t, fk, items, negs, rng)
        sys.stdout.write(json.dumps(t.sample(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
