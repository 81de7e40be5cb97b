#!/usr/bin/env python3
"""Turns a docs/api page (Markdown) into a man(7) page.

    md2man.py [--version TEXT] [--date YYYY-MM-DD] PAGE.md OUTPUT

The API pages are the one source of the section 3 manual: `make` runs this
on every docs/api/<function>.md and installs the result as
<function>.3 (Makefile.am, "API man pages"); tests/scripts/man.sh renders
every installed page and fails on any warning.

The page starts with a front matter block (docs/api/README.md); the index,
docs/api/README.md, becomes libcashback.3, an overview whose front matter
also has "Name: libcashback - <what it is>":

    ---
    Title: cashback_report
    Section: 3
    Source: libcashback
    ---

and then uses only what the API pages use: "# " sections, "## "
subsections, paragraphs, "- " and "1. " lists (continuation lines
indented), pipe tables, fenced and indented code blocks, `code`,
**bold**, *emphasis* and [links](target). It is converted, not
interpreted:

- sections become .SH/.SS, paragraphs .PP, list items .IP, a table one .TP
  per row (its first cell as the tag, the second as the text, any further
  cell on a line of its own after its column heading), a code block an
  indented .nf/.fi block;
- `code` and **bold** become bold, *emphasis* italic, a link to another
  API page its name in bold followed by "(3)", a link to another page of
  docs/ its text naming the file in italic ("docs/errors.md"), any other
  link its text;
- roff is escaped: a backslash is \\e, a line never starts with "." or "'",
  hyphens in code are \\-, quotes and the characters that groff would
  typeset differently (`, ', ^, ~) in code are their ASCII glyphs, and any
  non-ASCII character is written as \\[uXXXX], so that the page is ASCII;
- NAME becomes one "name \\- summary" line (what whatis(1) reads), and the
  SEE ALSO list of API pages the usual ".BR name (3)," list.

The date of the page is SOURCE_DATE_EPOCH when set, else the modification
time of the Markdown file (kept by the release tarball), so that a build
is reproducible. Exits 1 with "PAGE:LINE: what" on anything it does not
understand, rather than writing a wrong page.
"""

import os
import re
import sys
import time

API_LINK = re.compile(r"^([a-z0-9_]+)\.md$")


class Error(Exception):
    pass


def escape_text(s, code=False):
    """Escapes plain text (no inline markup) for a roff text line."""
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-" and code:
            out.append("\\-")
        elif ch == "'" and code:
            out.append("\\(aq")
        elif ch == "`":
            out.append("\\(ga")
        elif ch == "^":
            out.append("\\(ha")
        elif ch == "~":
            out.append("\\(ti")
        elif ord(ch) > 126 or (ord(ch) < 32 and ch not in "\t\n"):
            if ch in "\u00a0":
                out.append("\\ ")
            else:
                out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def inline(text, where):
    """Converts the inline Markdown of a paragraph (lines joined by \\n)."""
    out = []
    i = 0
    n = len(text)
    font = []  # a stack of "B"/"I" for ** and *

    def cur():
        return font[-1] if font else "R"

    while i < n:
        c = text[i]
        if c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise Error("%s: unterminated `code`" % where)
            code = escape_text(text[i + 1 : j].replace("\n", " "), code=True)
            # A long span may break after these (\: is an invisible break
            # point); the page is never hyphenated (.nh).
            code = re.sub(r"([,;/|&])", r"\1\\:", code)
            out.append("\\fB" + code + "\\f" + cur())
            i = j + 1
        elif text.startswith("**", i):
            if font and font[-1] == "B":
                font.pop()
            else:
                font.append("B")
            out.append("\\f" + cur())
            i += 2
        elif c == "*" and (
            (font and font[-1] == "I")
            or (i + 1 < n and not text[i + 1].isspace())
        ):
            if font and font[-1] == "I":
                font.pop()
            else:
                font.append("I")
            out.append("\\f" + cur())
            i += 1
        elif c == "[":
            m = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)").match(text, i)
            if not m:
                out.append("[")
                i += 1
                continue
            label, target = m.group(1), m.group(2)
            api = API_LINK.match(target)
            if api and label.strip("`") == api.group(1):
                out.append("\\fB" + escape_text(api.group(1)) + "\\f" + cur() + "(3)")
            elif target.startswith("../") and not re.search(r"[:#]", target):
                # Another page of docs/: the manual's reader has no link to
                # follow, so name the file in the source tree.
                doc = "docs/" + target[3:]
                base = os.path.basename(doc)
                if base in label:
                    a, b = label.split(base, 1)
                    out.append(
                        inline(a, where) + "\\fI" + escape_text(doc) + "\\f" + cur()
                        + inline(b, where)
                    )
                else:
                    out.append(inline(label, where) + " (\\fI" + escape_text(doc) + "\\f" + cur() + ")")
            else:
                out.append(inline(label, where))
            i = m.end()
        else:
            out.append(escape_text(c))
            i += 1
    if font:
        raise Error("%s: unterminated ** or *" % where)
    return "".join(out)


def text_lines(s):
    """Splits converted text into roff input lines: no leading blanks, none
    starting with a control character."""
    lines = []
    for line in s.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line[0] in ".'":
            line = "\\&" + line
        lines.append(line)
    return lines


def split_row(line, where):
    """The cells of a pipe table row; a | inside `code` is not a separator."""
    body = line.strip()
    if not (body.startswith("|") and body.endswith("|")):
        raise Error("%s: a table row must start and end with |" % where)
    body = body[1:-1]
    cells, cur, code = [], [], False
    for ch in body:
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    cells.append("".join(cur).strip())
    return cells


def page_date(path):
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = int(epoch) if epoch else int(os.stat(path).st_mtime)
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def convert(path, version, date):
    with open(path, encoding="utf-8") as f:
        src = f.read().split("\n")
    if src and src[-1] == "":
        src.pop()

    # Front matter.
    meta = {}
    if not src or src[0] != "---":
        raise Error("%s:1: no front matter (---, Title:, Section:, ---)" % path)
    k = 1
    while k < len(src) and src[k] != "---":
        m = re.match(r"^([A-Za-z]+): *(.*)$", src[k])
        if not m:
            raise Error("%s:%d: bad front matter line" % (path, k + 1))
        meta[m.group(1)] = m.group(2)
        k += 1
    if k == len(src):
        raise Error("%s:1: unterminated front matter" % path)
    for key in ("Title", "Section", "Source"):
        if key not in meta:
            raise Error("%s:1: front matter lacks %s:" % (path, key))
    title, section = meta["Title"], meta["Section"]
    if not re.match(r"^[a-z0-9_]+$", title) or not re.match(r"^[1-8]$", section):
        raise Error("%s:1: bad Title or Section" % path)

    source = meta["Source"] + (" " + version if version else "")
    out = [
        '.\\" Generated by docs/md2man.py from %s: edit that page, not this file.'
        % ("docs/api/" + os.path.basename(path)),
        '.TH %s %s %s "%s" "libcashback manual"'
        % (title.upper(), section, date, source),
        # Identifiers are long: no hyphenation, and ragged right rather than
        # wide gaps.
        ".nh",
        ".ad l",
    ]
    # An overview page (docs/api/README.md, installed as libcashback.3) has
    # no NAME section: its front matter names it, and its title heading
    # opens the DESCRIPTION.
    overview = "Name" in meta
    if overview:
        nm = re.match(r"^([a-z0-9_]+) - (.+)$", meta["Name"])
        if not nm or nm.group(1) != title:
            raise Error('%s:1: Name: must read "%s - what it is"' % (path, title))
        out += [".SH NAME", escape_text(title) + " \\- " + inline(nm.group(2), path)]

    lines = src[k + 1 :]
    first = k + 2  # the line number of lines[0]
    i = 0
    sect = None

    def where(j):
        return "%s:%d" % (path, first + j)

    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indented = line.startswith("    ")
        if line.startswith("```") or indented:
            if indented:
                # An indented block: up to a line indented less.
                j = i
                while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                    j += 1
                while j > i and not lines[j - 1].strip():
                    j -= 1
                block = [s[4:] for s in lines[i:j]]
                nxt = j
            else:
                j = i + 1
                while j < len(lines) and lines[j] != "```":
                    j += 1
                if j == len(lines):
                    raise Error("%s: unterminated code block" % where(i))
                block = lines[i + 1 : j]
                nxt = j + 1
            out += [".PP", ".RS 4", ".nf"]
            for code in block:
                if "\t" in code:
                    raise Error("%s: a tab in a code block" % where(i))
                esc = escape_text(code, code=True)
                if esc[:1] in (".", "'"):
                    esc = "\\&" + esc
                out.append(esc if esc.strip() else "")
            out += [".fi", ".RE"]
            i = nxt
            continue
        m = re.match(r"^(#{1,2}) (.+)$", line)
        if m:
            heading = m.group(2).strip()
            if m.group(1) == "#" and overview:
                overview = False
                sect = "DESCRIPTION"
                out.append(".SH DESCRIPTION")
            elif m.group(1) == "#":
                sect = heading
                out.append('.SH "%s"' % heading.upper().replace('"', ""))
            else:
                out.append('.SS "%s"' % heading.replace('"', ""))
            i += 1
            if sect == "NAME":
                j = i
                para = []
                while j < len(lines) and not lines[j].startswith("#"):
                    if lines[j].strip():
                        para.append(lines[j].strip())
                    j += 1
                name = " ".join(para)
                nm = re.match(r"^([a-z0-9_, ]+) - (.+)$", name)
                if not nm:
                    raise Error('%s: NAME must read "name - what it does"' % where(i))
                out.append(
                    escape_text(nm.group(1)) + " \\- " + inline(nm.group(2), where(i))
                )
                i = j
            elif sect == "SEE ALSO":
                j = i
                refs = []
                while j < len(lines) and not lines[j].startswith("#"):
                    s = lines[j].strip()
                    if s:
                        lm = re.match(r"^- \[`?([a-z0-9_]+)`?\]\(([a-z0-9_]+)\.md\)$", s)
                        if not lm or lm.group(1) != lm.group(2):
                            refs = None
                            break
                        refs.append(lm.group(1))
                    j += 1
                if refs:
                    for r, name in enumerate(refs):
                        out.append(".BR %s (3)%s" % (name, "," if r + 1 < len(refs) else ""))
                    i = j
            continue
        if line.startswith("|"):
            rows = []
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                rows.append(split_row(lines[j], where(j)))
                j += 1
            if len(rows) < 2 or not all(re.match(r"^:?-+:?$", c) for c in rows[1]):
                raise Error("%s: a table needs a heading row and a --- row" % where(i))
            head, body = rows[0], rows[2:]
            for r, row in enumerate(body):
                if len(row) != len(head):
                    raise Error(
                        "%s: %d cells, the heading has %d" % (where(i + 2 + r), len(row), len(head))
                    )
            out += [".PP", ".TP", "\\fI" + inline(head[0], where(i)) + "\\fR"]
            for c, h in enumerate(head[1:]):
                out += ([".br"] if c else []) + text_lines("\\fI" + inline(h, where(i)) + "\\fR")
            for r, row in enumerate(body):
                w = where(i + 2 + r)
                out += [".TP"] + text_lines(inline(row[0], w))
                out += text_lines(inline(row[1], w))
                # A third column and more: a line each, "heading: cell".
                for h, c in zip(head[2:], row[2:]):
                    out += [".br"] + text_lines(inline(h, w) + ": " + inline(c, w))
            i = j
            continue
        lm = re.match(r"^(- |([0-9]+)\. )(.*)$", line)
        if lm:
            bullet = "\\(bu" if lm.group(2) is None else lm.group(2) + "."
            indent = len(lm.group(1))
            item = [lm.group(3)]
            j = i + 1
            while j < len(lines) and lines[j].startswith(" " * indent) and lines[j].strip():
                item.append(lines[j].strip())
                j += 1
            if j < len(lines) and lines[j].startswith("  ") and lines[j].strip():
                raise Error("%s: a list item continues with a wrong indent" % where(j))
            out.append(".IP %s %d" % (bullet, 4 if lm.group(2) is not None else 2))
            out += text_lines(inline("\n".join(item), where(i)))
            i = j
            continue
        if line.startswith("\t"):
            raise Error("%s: a line starts with a tab" % where(i))
        para = []
        j = i
        while j < len(lines):
            s = lines[j]
            if not s.strip() or s.startswith(("#", "```", "|", "- ")) or re.match(r"^[0-9]+\. ", s):
                break
            para.append(s)
            j += 1
        out.append(".PP")
        out += text_lines(inline("\n".join(para), where(i)))
        i = j
    # .PP right after a heading or before a list is redundant; groff and
    # mandoc -T lint warn about some of them: drop them.
    cleaned = []
    for idx, line in enumerate(out):
        prev = cleaned[-1] if cleaned else ""
        nxt = out[idx + 1] if idx + 1 < len(out) else ""
        if line == ".PP" and (
            prev.startswith((".SH", ".SS")) or nxt.startswith((".TP", ".IP"))
        ):
            continue
        cleaned.append(line)
    return "\n".join(cleaned) + "\n"


def main(argv):
    version = ""
    date = None
    args = argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--version" and len(args) > 1:
            version = args[1]
            args = args[2:]
        elif args[0] == "--date" and len(args) > 1:
            date = args[1]
            args = args[2:]
        else:
            break
    if len(args) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    src, dst = args
    try:
        page = convert(src, version, date or page_date(src))
    except Error as e:
        sys.stderr.write("md2man: %s\n" % e)
        return 1
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write("md2man: %s: %s\n" % (src, e))
        return 1
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(page)
    os.replace(tmp, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
