"""man pages stay in step with --help: every long option one names, the other names too."""
import os
import re
import subprocess
import sys

OPT = re.compile(r"--[a-z][a-z0-9-]*[a-z0-9]")


def main(ssmflow, src):
    failures = []
    for cmd in ("export", "extract", "info", "score", "train"):
        page = os.path.join(src, "man", f"ssmflow-{cmd}.1")
        if not os.path.exists(page):
            failures.append(f"{cmd}: no man page {page}")
            continue
        text = open(page).read().replace("\\-", "-")
        in_man = set(OPT.findall(text.split(".SH OPTIONS", 1)[-1].split(".SH ", 1)[0]))
        out = subprocess.run([ssmflow, cmd, "--help"], capture_output=True, text=True).stdout
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
