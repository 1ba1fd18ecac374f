"""man pages stay in step with --help: every long option one names, the other names too, and
the default --help gives an option (from the command's option table) is in the man page's
paragraph on it."""
import os
import re
import shlex
import subprocess
import sys

OPT = re.compile(r"--[a-z][a-z0-9-]*[a-z0-9]")
# An option's entry in --help: "  -o, --output FILE   text" and its indented continuation lines.
HELP_ENTRY = re.compile(r"^  (?:-\w, |    )--([a-z0-9-]+)")
DEFAULT = re.compile(r"\(default: ([^;]*?)(?:;[^)]*)?\)$")


def help_defaults(text):
    """{option: default} for the entries of --help that give one."""
    entries, name = {}, None
    for line in text.splitlines():
        m = HELP_ENTRY.match(line)
        if m:
            name = m.group(1)
            entries[name] = line[m.end():].strip()
        elif name and line.startswith(" " * 20):
            entries[name] += " " + line.strip()
        else:
            name = None
    out = {}
    for opt, body in entries.items():
        m = DEFAULT.search(body)
        if m:
            out[opt] = m.group(1)
    return out


def plain(troff):
    """Troff source as the words a reader sees: font macros applied (.BR a b is "ab"),
    escapes and other requests dropped."""
    words = []
    for line in troff.split("\n"):
        line = line.replace("\\-", "-").replace("\\(aq", "'").replace("\\(dq", "\x00")
        line = re.sub(r"\\f[BIRP]", "", line)
        m = re.match(r"^\.(B|I|BR|BI|IB|RB|IR|RI)\s+(.*)$", line)
        if m:
            args = [a.replace("\x00", '"') for a in shlex.split(m.group(2).replace("\\", ""))]
            line = (" " if m.group(1) in ("B", "I") else "").join(args)
        elif line.startswith("."):
            continue
        words.append(line.replace("\x00", '"'))
    return " ".join(" ".join(words).split())


def man_paragraphs(options_section):
    """{option: the plain text of the .TP paragraph that names it in its tag line}."""
    out = {}
    for block in options_section.split(".TP")[1:]:
        lines = block.strip("\n").split("\n")
        tag = plain(lines[0]) if lines else ""
        for o in OPT.findall(tag):
            out.setdefault(o[2:], plain(block))
    return out


NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w])")


def default_in(paragraph, value):
    """A number as any number of the same value (0.003 is 3e-3; 20 is not in 2048), other
    defaults as the same words."""
    try:
        v = float(value)
        return any(float(n) == v for n in NUMBER.findall(paragraph))
    except ValueError:
        pat = r"(?<![\w.])" + re.escape(value) + r"(?![\w])"
        return re.search(pat, paragraph, re.I) is not None


def main(ssmflow, src):
    failures = []
    for cmd in ("export", "extract", "info", "score", "train"):
        page = os.path.join(src, "man", f"ssmflow-{cmd}.1")
        if not os.path.exists(page):
            failures.append(f"{cmd}: no man page {page}")
            continue
        source = open(page).read()
        options = source.split(".SH OPTIONS", 1)[-1].split(".SH ", 1)[0]
        in_man = set(OPT.findall(options.replace("\\-", "-")))
        out = subprocess.run([ssmflow, cmd, "--help"], capture_output=True, text=True).stdout
        paragraphs = man_paragraphs(options)
        for opt, value in sorted(help_defaults(out).items()):
            if opt not in paragraphs:
                failures.append(f"{cmd}: --{opt}: no paragraph of its own in the man page")
            elif not default_in(paragraphs[opt], value):
                failures.append(f"{cmd}: --{opt}: the default '{value}' of --help is not "
                                "in the man page")
        in_help = set(OPT.findall(out))
        if not in_help:
            failures.append(f"{cmd}: --help lists no options")
        for o in sorted(in_help - in_man):
            failures.append(f"{cmd}: {o} is in --help but not in the man page's OPTIONS")
        for o in sorted(in_man - in_help):
            failures.append(f"{cmd}: {o} is in the man page but not in --help")
    top = open(os.path.join(src, "man", "ssmflow.1")).read()
    usage = subprocess.run([ssmflow, "--help"], capture_output=True, text=True).stdout
    for line in usage.splitlines():
        m = re.match(r"  ([a-z]+) ", line)
        if m and f".B {m.group(1)}\n" not in top:
            failures.append(f"ssmflow(1) does not describe the command {m.group(1)}")
    for f in failures:
        print("FAIL:", f)
    print(f"man pages checked, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
