#!/usr/bin/env python3
"""Check q source files with qls (PyPI q-lang-server, a stdio language server).

usage: qls_check.py [--qls PATH] [--timeout SECS] [--root DIR] [--syntax-only]
                    [--ignore REGEX]... FILE...

Starts one qls, sends initialize / initialized, opens each file (didOpen) and
collects the textDocument/publishDiagnostics for it (waits at most --timeout
seconds per file for the first one, then briefly for updates), then shuts qls down.
Prints every diagnostic as `file:line:col severity message` (1-based line and
column; severity 1=error 2=warning 3=info 4=hint). Exit status: 0 if no diagnostic
has severity 1 or 2, 1 if any does, 2 on a usage or protocol failure (qls missing,
died, or no diagnostics for a file in time). Standard library only.

Note: qls 1.0.5 also lints. It reports unused locals/arguments ("'y' is defined
but never used.") with severity 1 and names it cannot resolve ("cannot find name
'.x.y'", e.g. functions defined by a shared library or another file) with
severity 2. `--ignore REGEX` still prints matching diagnostics, tagged [ignored],
but does not fail on them; `--syntax-only` ignores those two lints (so only
parse errors such as unexpected `)]}`, unclosed `{[(` or strings fail).
`k)` lines are reported as errors.
qls indexes every .q file under the workspace root (default: the common parent
directory of FILEs; --root to choose): a name defined in any of them counts as
defined/used, so results depend on the files that sit beside the checked ones.
"""

import argparse
import json
import os
import pathlib
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}
SETTLE = 0.3  # seconds of quiet after the first publish for a file


def default_qls():
    here = pathlib.Path(__file__).resolve().parents[2] / ".tools" / "bin" / "qls"
    if here.exists():
        return str(here)
    return shutil.which("qls")


class Lsp:
    def __init__(self, cmd):
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.msgs = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        out = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    key, _, val = line.decode("ascii", "replace").partition(":")
                    if key.lower() == "content-length":
                        length = int(val.strip())
                if length is None:
                    continue
                body = out.read(length)
                if len(body) < length:
                    return
                self.msgs.put(json.loads(body))
        finally:
            self.msgs.put(None)  # EOF marker

    def send(self, obj):
        data = json.dumps(obj).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def get(self, deadline):
        """Next message before deadline (monotonic); None on timeout or EOF."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return self.msgs.get(timeout=remaining)
        except queue.Empty:
            return None

    def answer_server_request(self, msg):
        # e.g. workspace/configuration, client/registerCapability
        if msg.get("method") == "workspace/configuration":
            result = [None] * len(msg.get("params", {}).get("items", []))
        else:
            result = None
        self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check q files with qls")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--qls", default=default_qls())
    ap.add_argument("--timeout", type=float, default=10.0, help="max seconds per file")
    ap.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                    help="do not fail on diagnostics whose message matches (repeatable)")
    ap.add_argument("--root", help="workspace root qls indexes (default: common parent)")
    ap.add_argument("--syntax-only", action="store_true",
                    help="ignore the 'never used' and 'cannot find name' lints")
    args = ap.parse_args(argv)
    if args.syntax_only:
        args.ignore += [r"is defined but never used", r"^cannot find name "]
    if not args.qls or not os.access(args.qls, os.X_OK):
        print("qls_check: qls not found (run scripts/test-env.sh)", file=sys.stderr)
        return 2

    paths = [pathlib.Path(f).resolve() for f in args.files]
    for p in paths:
        if not p.is_file():
            print("qls_check: no such file: {}".format(p), file=sys.stderr)
            return 2
    by_uri = {p.as_uri(): f for p, f in zip(paths, args.files)}
    if args.root:
        root = pathlib.Path(args.root).resolve()
    else:
        root = pathlib.Path(os.path.commonpath([str(p.parent) for p in paths]))

    lsp = Lsp([args.qls])
    diags = {}
    failed = False
    try:
        init_id = lsp.request("initialize", {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name or "/"}],
            "capabilities": {"textDocument": {"publishDiagnostics": {}}},
            "clientInfo": {"name": "qls_check"},
        })
        deadline = time.monotonic() + args.timeout
        while True:
            msg = lsp.get(deadline)
            if msg is None:
                print("qls_check: no answer to initialize", file=sys.stderr)
                return 2
            if msg.get("id") == init_id and "method" not in msg:
                if "error" in msg:
                    print("qls_check: initialize failed: {}".format(msg["error"]), file=sys.stderr)
                    return 2
                break
            if "id" in msg and "method" in msg:
                lsp.answer_server_request(msg)
        lsp.notify("initialized", {})

        for p in paths:
            uri = p.as_uri()
            lsp.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "q", "version": 1,
                "text": p.read_text(encoding="utf-8", errors="replace"),
            }})
            deadline = time.monotonic() + args.timeout
            got = False
            while True:
                msg = lsp.get(deadline)
                if msg is None:
                    break
                if "id" in msg and "method" in msg:
                    lsp.answer_server_request(msg)
                    continue
                if msg.get("method") == "textDocument/publishDiagnostics":
                    puri = msg["params"]["uri"]
                    diags[puri] = msg["params"].get("diagnostics", [])
                    if puri == uri and not got:
                        got = True
                        deadline = min(deadline, time.monotonic() + SETTLE)
            if not got:
                if lsp.proc.poll() is not None:
                    print("qls_check: qls exited ({})".format(lsp.proc.returncode), file=sys.stderr)
                else:
                    print("qls_check: no diagnostics for {} within {}s".format(
                        by_uri[uri], args.timeout), file=sys.stderr)
                return 2

        try:
            sid = lsp.request("shutdown", None)
            deadline = time.monotonic() + 2
            while True:
                msg = lsp.get(deadline)
                if msg is None or msg.get("id") == sid:
                    break
            lsp.notify("exit", None)
        except (BrokenPipeError, OSError):
            pass
    finally:
        try:
            lsp.proc.stdin.close()
        except OSError:
            pass
        try:
            lsp.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            lsp.proc.kill()
            lsp.proc.wait(timeout=2)

    ignore = [re.compile(r) for r in args.ignore]
    for p in paths:
        uri = p.as_uri()
        for d in sorted(diags.get(uri, []), key=lambda d: (
                d["range"]["start"]["line"], d["range"]["start"]["character"])):
            sev = d.get("severity", 1)
            start = d["range"]["start"]
            msg = " ".join(str(d.get("message", "")).split())
            skip = any(r.search(msg) for r in ignore)
            print("{}:{}:{} {} {}{}".format(by_uri[uri], start["line"] + 1,
                                            start["character"] + 1, SEVERITY.get(sev, sev),
                                            msg, " [ignored]" if skip else ""))
            if sev in (1, 2) and not skip:
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
