"""Output safety: copy is plain text (or escaped HTML), never markup a browser would run.

Escaped HTML (``&lt;b&gt;``) is fine; raw tags, script-ish URL schemes (also
when hidden with entities or control characters) and event handlers are not.
"""

from __future__ import annotations

import html
import re

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

SCRIPT_RE = re.compile(r"<\s*/?\s*script\b", re.IGNORECASE)
TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(?=[\s/>])[^<>]*>?")
_GAP = r"[\s\x00-\x1f]*"
SCHEME_RE = re.compile(
    r"(?<![A-Za-z])(?:"
    + _GAP.join("javascript")
    + "|"
    + _GAP.join("vbscript")
    + "|"
    + _GAP.join("livescript")
    + r")"
    + _GAP
    + r":(?P<after>\s*)",
    re.IGNORECASE,
)
DATA_URL_RE = re.compile(r"data\s*:\s*text/html|data\s*:\s*[\w/+.-]*;base64", re.IGNORECASE)
HANDLER_RE = re.compile(
    r"(?<![\w])on(?:error|load|unload|click|dblclick|mouse\w*|key\w*|focus\w*|blur|submit|change|"
    r"input|animation\w*|pointer\w*|touch\w*|drag\w*|toggle|begin|end|wheel|scroll|copy|paste|"
    r"resize|select|play|pause|beforeunload)\s*=",
    re.IGNORECASE,
)
_URL_CONTEXT = set("=\"'(<[`")
# zero-width and bidi-control characters hide words from every rule (and from reviewers);
# a zero-width joiner is only allowed inside an emoji sequence
INVISIBLE_RE = re.compile(
    "[\u200b\u200c\u2060\ufeff\u202a-\u202e\u2066-\u2069\u00ad]"
    "|(?<=[^\\W\\d_])\u200d|\u200d(?=[^\\W\\d_])"
)


def safety(f: FieldText, opts: CheckOptions) -> list[Violation]:
    text = f.text
    out: list[Violation] = []

    def add(rule: str, msg: str, s: int, e: int) -> None:
        out.append(
            f.violation(rule, "block", msg, s, e, suggestion="plain text only; escape any markup")
        )

    for m in INVISIBLE_RE.finditer(text):
        add(
            "output.invisible_char",
            f"contains an invisible character U+{ord(m.group()):04X}",
            m.start(),
            m.end(),
        )
    for m in SCRIPT_RE.finditer(text):
        add("output.script", "contains a <script> tag", m.start(), m.end())
    for m in TAG_RE.finditer(text):
        if not SCRIPT_RE.match(m.group()):
            add("output.html", f"contains raw HTML markup '{m.group()[:30]}'", m.start(), m.end())
    decoded = html.unescape(text) if "&" in text else text
    sources = [(text, True)] if decoded == text else [(text, True), (decoded, False)]
    seen = False
    for src, exact in sources:
        for m in SCHEME_RE.finditer(src):
            before = src[: m.start()].rstrip()[-1:]
            if m.group("after") and before not in _URL_CONTEXT:
                continue  # "JavaScript: a beginner's guide" is prose, not a URL
            if not seen:
                s, e = (m.start(), m.end()) if exact else (0, len(text))
                add("output.js_url", "contains a script URL (javascript:/vbscript:)", s, e)
                seen = True
        for m in DATA_URL_RE.finditer(src):
            s, e = (m.start(), m.end()) if exact else (0, len(text))
            add("output.js_url", "contains an executable data: URL", s, e)
    for m in HANDLER_RE.finditer(decoded):
        s, e = (m.start(), m.end()) if decoded is text else (0, len(text))
        add("output.event_handler", "contains an HTML event handler", s, e)
    return out
