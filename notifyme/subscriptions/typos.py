"""Likely typos in an email's domain ("jane@gmial.con" → "jane@gmail.com"): pure, no I/O.

A shopper who mistypes the domain never gets the alert, and nothing tells them. We suggest, we
never correct: the address is stored as typed (someone may really use `gmail.co`), and the
answer of POST /proxy/subscribe carries `email_suggestion` for the form to offer. The theme
extension (extensions/notifyme-theme/assets/notify-me.js) runs the same rules, with the same
lists, before submitting; tests/subscriptions/test_typos.py keeps the two lists equal.

Rules, chosen to say nothing rather than something wrong:
- A domain we know (`KNOWN_DOMAINS`) is never questioned.
- Near a known mailbox provider: the name part ("gmial") within a small edit distance of the
  provider's name (transpositions count as one edit; none allowed for names of 4 letters or
  fewer, so `aon.com` and `zoo.com` are left alone; one up to 6 letters; two beyond), the
  suffix ("con", "co") within one edit, two edits at most in all. Real country endings near
  `.com` (`.co`, `.cm`, `.om`) are questioned only here, next to a provider's name, and one
  country ending is never swapped for another (`hotmail.be` and `yahoo.in` are real).
- Anywhere else, only endings that are no top-level domain at all (`COM_TYPOS`: `.con`, `.cmo`,
  ...) become `.com` (and `NET_TYPOS` `.net`).
"""

from __future__ import annotations

from functools import lru_cache

#: Common mailbox domains, most used first (a tie in distance goes to the earlier one).
KNOWN_DOMAINS: tuple[str, ...] = (
    "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com",
    "live.com", "msn.com", "me.com", "mac.com", "googlemail.com", "protonmail.com",
    "proton.me", "mail.com", "gmx.com", "gmx.net", "gmx.de", "gmx.at", "gmx.ch", "gmx.fr",
    "web.de", "t-online.de", "freenet.de", "yahoo.de", "hotmail.de", "outlook.de",
    "yahoo.fr", "hotmail.fr", "outlook.fr", "orange.fr", "free.fr", "laposte.net", "sfr.fr",
    "wanadoo.fr", "yahoo.es", "hotmail.es", "outlook.es", "yahoo.it", "hotmail.it",
    "libero.it", "yahoo.co.uk", "hotmail.co.uk", "btinternet.com", "comcast.net",
    "verizon.net", "att.net", "sbcglobal.net", "ymail.com", "rocketmail.com", "yandex.ru",
    "mail.ru", "qq.com", "zoho.com", "fastmail.com", "hey.com", "email.com",
)

#: Endings that are no top-level domain and are one slip from `.com` / `.net`.
COM_TYPOS: frozenset[str] = frozenset({
    "con", "cmo", "ocm", "cim", "cpm", "vom", "xom", "comm", "coom", "copm", "c0m", "cok",
    "ckm", "comn", "cin", "clm",
})
NET_TYPOS: frozenset[str] = frozenset({"nte", "ner", "nett", "met", "ent"})


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbours ("gmial" → "gmail" is one edit) each cost one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def _name_allowance(name: str) -> int:
    return 0 if len(name) <= 4 else 1 if len(name) <= 6 else 2


def _country_swap(suffix: str, known_suffix: str) -> bool:
    return suffix != known_suffix and len(suffix) == 2 and len(known_suffix) == 2


def domain_suggest(domain: str) -> str | None:
    """The domain the shopper probably meant, or None (a known or unrecognised domain)."""
    return _suggest(domain.strip().lower().rstrip("."))


#: Split once: (name, suffix, the name's edit allowance, the domain).
_KNOWN_PARTS = tuple((*known.partition(".")[::2], _name_allowance(known.partition(".")[0]), known)
                     for known in KNOWN_DOMAINS)


@lru_cache(maxsize=4096)
def _suggest(domain: str) -> str | None:
    # Cached: a storefront sees the same few hundred domains again and again, and this ran on
    # every signup (bench/storefront_load.py: 40 % of a signup's CPU before the length checks).
    if not domain or "." not in domain or domain in KNOWN_DOMAINS:
        return None
    name, _, suffix = domain.partition(".")
    best: tuple[int, str] | None = None
    for known_name, known_suffix, allowance, known in _KNOWN_PARTS:
        # A length difference is a lower bound of the distance: most candidates end here.
        if (abs(len(suffix) - len(known_suffix)) > 1
                or abs(len(name) - len(known_name)) > allowance
                or _country_swap(suffix, known_suffix)):
            continue
        suffix_edits = edit_distance(suffix, known_suffix)
        if suffix_edits > 1:
            continue
        name_edits = edit_distance(name, known_name)
        if name_edits > allowance:
            continue
        total = name_edits + suffix_edits
        if total <= 2 and (best is None or total < best[0]):
            best = (total, known)
    if best is not None:
        return best[1]
    head, _, tld = domain.rpartition(".")
    if head and tld in COM_TYPOS:
        return f"{head}.com"
    if head and tld in NET_TYPOS:
        return f"{head}.net"
    return None


def email_suggest(email: str) -> str | None:
    """`email` with the likely domain ("jane@gmial.con" → "jane@gmail.com"), or None.
    The local part is kept exactly as given."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return None
    suggested = domain_suggest(domain)
    return f"{local}@{suggested}" if suggested else None
