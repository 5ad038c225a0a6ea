"""The HTTP/1.1 grammar, written once: each RFC rule as text above the pattern built from it.

The request writer (``wire/request.py``) checks what it sends with these
rules and the response parser (``wire/http11/``) checks what it receives.
Rules are read top to bottom, each built from the ones before it, as in
h11's ``_abnf.py``: tchar -> token -> field-name; VCHAR, obs-text ->
field-vchar -> field-value -> field-line (+ obs-fold); HTTP-version -> status-line;
chunk-size, quoted-string -> chunk-ext; and the CONNECT target, authority-form.

The patterns are ``str`` regexes. The parser decodes bytes as ISO-8859-1
(latin-1), which maps each byte to the character with the same number, so a
character offset is a byte offset and ``\\x80-\\xff`` below means bytes
0x80-0xFF.
"""

from __future__ import annotations

import re

# RFC 5234 Appendix B.1 (ABNF core rules):
#   VCHAR = %x21-7E   (visible characters)      SP = %x20      HTAB = %x09
#   DIGIT = %x30-39   HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"  (ABNF strings ignore case)
# A class's inside ("\x21-\x7e") is kept apart, so later rules can join several in one [...].
VCHAR = r"\x21-\x7e"
DIGIT = "[0-9]"
HEXDIG = "[0-9A-Fa-f]"

# RFC 9110 §5.5:  obs-text = %x80-FF
OBS_TEXT = r"\x80-\xff"

# RFC 9110 §5.6.3:  OWS = *( SP / HTAB )      BWS = OWS
OWS = "[ \t]*"
BWS = OWS

# RFC 9110 §5.6.2:  tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#                           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TCHAR_CLASS = "-!#$%&'*+.^_`|~0-9A-Za-z"
TCHAR = f"[{_TCHAR_CLASS}]"
NOT_TCHAR = f"[^{_TCHAR_CLASS}]"  # for saying which character broke a token

# RFC 9110 §5.6.2:  token = 1*tchar
TOKEN = f"{TCHAR}+"

# RFC 9110 §5.1:  field-name = token
FIELD_NAME = TOKEN

# RFC 9110 §5.5:  field-vchar = VCHAR / obs-text
FIELD_VCHAR = f"[{VCHAR}{OBS_TEXT}]"

# RFC 9110 §5.5:  field-value = *field-content
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
# The same strings, written as runs of field-vchar separated by runs of SP / HTAB: no two
# parts of the pattern can match the same character, so a failed match backtracks only
# linearly. (A looser pattern backtracked quadratically on a long run of spaces before a
# bad byte: 64 KiB took 40 s.)
FIELD_VALUE = f"(?:{FIELD_VCHAR}+(?:[ \t]+{FIELD_VCHAR}+)*)?"

# RFC 9112 §5:  field-line = field-name ":" OWS field-value OWS
# A field-value is empty or starts and ends with a field-vchar, so "OWS field-value OWS" is
# exactly any run of SP, HTAB and field-vchar: the pattern says just that (one character
# class, linear to match), and the value is that run with SP and HTAB stripped from its ends.
FIELD_LINE = f"{FIELD_NAME}:[ \t{VCHAR}{OBS_TEXT}]*"

# RFC 9112 §2.1:  HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
# RFC 9112 §2.2: "a recipient MAY recognize a single LF as a line terminator and ignore any
# preceding CR". wire does, in the head and the trailers (as h11 and llhttp do); a bare CR
# is never a line end. Chunk size lines and the end of chunk data need CRLF.
LINE_END = r"\r?\n"

# RFC 9112 §5.2:  obs-fold = OWS CRLF RWS      (RWS = 1*( SP / HTAB ), RFC 9110 §5.6.3)
# Obsolete line folding: a field value continued on a line that starts with SP or HTAB. A
# sender must not fold, but "A user agent that receives an obs-fold in a response message
# [...] MUST replace each received obs-fold with one or more SP octets prior to interpreting
# the field value": wire accepts it (with a bare LF too, as for any line end here) and the
# parser replaces each fold with one SP. The trailing OWS of the line before is part of the
# field line's match already, so the pattern adds only the line end, one SP or HTAB, and the
# rest of the continuation line (one character class again: linear to match).
OBS_FOLD = f"{LINE_END}[ \t][ \t{VCHAR}{OBS_TEXT}]*"
FOLDED_FIELD_LINE = f"{FIELD_LINE}(?:{OBS_FOLD})*"

# RFC 9112 §2.3:  HTTP-version = HTTP-name "/" DIGIT "." DIGIT      HTTP-name = %s"HTTP"
HTTP_VERSION = f"HTTP/({DIGIT})\\.({DIGIT})"

# RFC 9112 §4:  status-line = HTTP-version SP status-code SP [ reason-phrase ]
#   status-code = 3DIGIT      reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# wire also accepts a status line with no SP after the code (an empty reason), as h11 and
# llhttp do: the reason carries no meaning for a client.
# Groups: 1 major, 2 minor, 3 status-code, 4 reason-phrase (None when the SP is missing).
STATUS_LINE = f"{HTTP_VERSION} ({DIGIT}{{3}})(?: ([\t {VCHAR}{OBS_TEXT}]*))?"

# RFC 9112 §7.1:  chunk-size = 1*HEXDIG
CHUNK_SIZE = f"{HEXDIG}+"

# RFC 9110 §5.6.4:  quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
#   quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
QDTEXT = f"[\t \\x21\\x23-\\x5b\\x5d-\\x7e{OBS_TEXT}]"
QUOTED_PAIR = f"\\\\[\t {VCHAR}{OBS_TEXT}]"
QUOTED_STRING = f'"(?:{QDTEXT}|{QUOTED_PAIR})*"'

# RFC 9112 §7.1.1:  chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-name = token      chunk-ext-val = token / quoted-string
# One element, with groups: 1 chunk-ext-name, 2 chunk-ext-val (None when absent).
CHUNK_EXT_ELEMENT = f"{BWS};{BWS}({TOKEN})(?:{BWS}={BWS}({TOKEN}|{QUOTED_STRING}))?"
CHUNK_EXT = f"(?:{CHUNK_EXT_ELEMENT})*"

# RFC 9112 §7.1:  chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#                 last-chunk = 1*("0") [ chunk-ext ] CRLF
# The size line of either. Groups: 1 chunk-size, 2 the whole chunk-ext.
CHUNK_LINE = f"({CHUNK_SIZE})({CHUNK_EXT})\r\n"


# RFC 9112 §3.2.3 (a CONNECT request's target, sent to a proxy):
#   authority-form = uri-host ":" port
# RFC 3986 §3.2.2 and §3.2.3:
#   uri-host = IP-literal / IPv4address / reg-name       port = *DIGIT
#   IP-literal = "[" ( IPv6address / IPvFuture ) "]"
#   reg-name   = *( unreserved / pct-encoded / sub-delims )
#   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"    sub-delims = "!" / "$" / "&" / "'" / "(" / ")" /
#                                                                      "*" / "+" / "," / ";" / "="
# wire sends only a port it knows (1 to 5 digits), and checks an IPv6 literal's characters,
# not its structure (the proxy parses it). An IPv4 address is a reg-name as far as the
# characters go.
IP_LITERAL = r"\[[0-9A-Fa-f:.]+\]"
REG_NAME = r"[A-Za-z0-9\-._~%!$&'()*+,;=]+"
AUTHORITY_FORM = f"(?:{IP_LITERAL}|{REG_NAME}):[0-9]{{1,5}}"

# RFC 9112 §5:  field-line = field-name ":" OWS field-value OWS, as the request writer sends it:
# one SP after the colon, no OWS at the end, CRLF.
FIELD_LINES_SENT = f"(?:{FIELD_NAME}: {FIELD_VALUE}\r\n)*"

# RFC 3986 §2: the characters a URI may contain (unreserved, reserved, "%"). RFC 9112 §3.2: a
# request-target has no SP, CTL or non-ASCII, and no fragment ("#..."): the fragment stays in
# the client.
URI_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?[]@!$&'()*+,;=%"
URI_CHAR = f"[{re.escape(URI_CHARACTERS)}]"
NOT_URI_CHAR = f"[^{re.escape(URI_CHARACTERS)}]"  # for saying which character broke a target

# RFC 9112 §3.2:  origin-form = absolute-path [ "?" query ]    ("/v1/chat/completions")
#                 absolute-form = absolute-URI                  ("http://host/v1/...", for proxies)
# RFC 3986 §3.1:  scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
# As the request writer checks a target: URI characters only, either starting with "/" or
# with a scheme and its colon.
REQUEST_TARGET_SENT = f"(?:/{URI_CHAR}*|[A-Za-z][A-Za-z0-9+\\-.]*:{URI_CHAR}*)"

# RFC 9112 §2.1 and §3:  request-line = method SP request-target SP HTTP-version, then the
# field lines, then the empty line: a whole request head as the writer sends it. The writer
# checks a head with one match of this pattern (method = token, RFC 9110 §9.1), and counts its
# line ends: one per field and two more, or a value held a line end of its own.
REQUEST_HEAD_SENT = f"{TOKEN} {REQUEST_TARGET_SENT} {HTTP_VERSION}\r\n{FIELD_LINES_SENT}\r\n"

# --- compiled: what the request writer and the parser match with ---

TOKEN_RE = re.compile(TOKEN)
NOT_TCHAR_RE = re.compile(NOT_TCHAR)
NOT_URI_CHAR_RE = re.compile(NOT_URI_CHAR)
HTTP_VERSION_RE = re.compile(HTTP_VERSION)
FIELD_VALUE_RE = re.compile(FIELD_VALUE)
FIELD_LINE_RE = re.compile(FIELD_LINE)
REQUEST_HEAD_SENT_RE = re.compile(REQUEST_HEAD_SENT)
STATUS_LINE_RE = re.compile(STATUS_LINE)
AUTHORITY_FORM_RE = re.compile(AUTHORITY_FORM)
# A chunk size line is matched as bytes, as it arrives (latin-1 keeps the rule's classes).
CHUNK_LINE_RE = re.compile(CHUNK_LINE.encode("latin-1"))
CHUNK_EXT_ELEMENT_RE = re.compile(CHUNK_EXT_ELEMENT.encode("latin-1"))

# --- what the parser matches a head with (RFC 9112 §2.1: start-line CRLF *( field-line CRLF ) CRLF) ---

# The status line with its line end: it ends at the first LF.
STATUS_LINE_END_RE = re.compile(f"{STATUS_LINE}{LINE_END}")

# One field line cut in two: group 1 the field-name, group 2 "OWS field-value OWS" (the parser
# strips the OWS). MULTILINE, so "^" anchors a match at the start of a line: one findall over
# the field lines of a head (or a trailer section) checks and cuts them all, and every line
# matched when there are as many matches as line ends (a match is one whole line: it starts at
# a line start, and takes the first LF after it).
FIELD_LINE_PARTS_RE = re.compile(f"^({FIELD_NAME}):([ \t{VCHAR}{OBS_TEXT}]*){LINE_END}", re.MULTILINE)

# The field lines of a head or a trailer section (RFC 9112 §7.1.2: trailer-section =
# *( field-line CRLF )), each with any obs-fold continuations: the parser checks a section
# with this one match when a line in it starts with SP or HTAB. A line that starts with
# whitespace first in the section is no continuation: nothing precedes it to continue, and RFC
# 9112 §2.2 lets a recipient reject it right after the status line, which wire does.
FIELD_SECTION_RE = re.compile(f"(?:{FOLDED_FIELD_LINE}{LINE_END})*")
