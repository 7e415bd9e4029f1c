"""Reading many returned forms on every core: worker processes read files, the caller writes the store.

A month of a province is thousands of small workbooks, and reading one (guards, XML scan, calamine, cell
checks) costs several times what storing it does. `ReadPool` starts worker processes
(`python -m djctl.io.read_workers module:function`), sends them lists of paths over their standard input and reads back,
in the order sent, what each file held: the parsed form, or its refusal (message, hint, problems). A worker
imports only its reader, never the store, and writes nothing but its answers. Only our own children are
unpickled.

Nothing changes for the user but the time: every file is read by the same function as in one process, the
answers come back in file order, a worker that fails or crashes makes the caller read the rest itself, and a
worker whose parent dies ends at its next read (its standard input closes).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from djctl.errors import DjctlError, InputError, Problem

#: below this many files to read, one process (starting workers costs about 0.2 s)
MIN_FILES = 200
MAX_WORKERS = 4
CHUNK = 16  # files per message: enough to make a message's cost small, few enough to keep every core busy


@dataclass(frozen=True)
class Refusal:
    """A DjctlError as a worker sends it back (exceptions with keyword arguments do not unpickle)."""

    message: str
    hint: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def error(self) -> InputError:
        return InputError(self.message, problems=self.problems, hint=self.hint)


#: a worker's answer for a file its reader failed on with something other than a refusal: the caller reads
#: that file itself, so that the failure is the caller's, exactly as without workers
READ_HERE = "read-here"


def reader(spec: str) -> Any:
    """The reading function a spec names: "module:function", a function of one Path."""
    module, name = spec.split(":")
    return getattr(import_module(module), name)


def read_file(spec: str, path: str) -> tuple[Any, Refusal | None]:
    """(form, None) or (None, refusal): one file read as a worker reads it (other exceptions propagate)."""
    try:
        return reader(spec)(Path(path)), None
    except DjctlError as exc:
        return None, Refusal(exc.message, exc.hint, list(getattr(exc, "problems", []) or []))


def workers_for(files: int) -> int:
    """How many workers for this many files to read: DJCTL_IMPORT_WORKERS when set (1: none), else one per
    core up to MAX_WORKERS once there are MIN_FILES files."""
    raw = os.environ.get("DJCTL_IMPORT_WORKERS", "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    if files < MIN_FILES:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


class ReadPool:
    """Worker processes reading files with one function ("module:function"). Use as a context manager;
    `read(paths)` yields (form, refusal) per path in order (refusal None when the form was read)."""

    def __init__(self, spec: str, workers: int) -> None:
        self.spec = spec
        self.procs: list[subprocess.Popen] = []
        env = dict(os.environ)
        # the workers import this very djctl, installed or not (a checkout run with PYTHONPATH, the tests)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            for _ in range(workers):
                self.procs.append(subprocess.Popen([sys.executable, "-m", "djctl.io.read_workers", spec],
                                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env))
        except OSError:
            self.close()  # no workers (a locked-down machine): the caller reads everything itself
        self.broken = not self.procs

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for p in self.procs:
            for stream in (p.stdin, p.stdout):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def read(self, paths: Sequence[str]) -> Iterator[tuple[Any, Refusal | None]]:
        chunks = [list(paths[i:i + CHUNK]) for i in range(0, len(paths), CHUNK)]
        n = len(self.procs)
        sent = 0

        def send() -> None:
            nonlocal sent
            if sent < len(chunks) and not self.broken:
                try:
                    proc = self.procs[sent % n]
                    pickle.dump(chunks[sent], proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    proc.stdin.flush()
                except (OSError, ValueError):
                    self.broken = True
                    return
                sent += 1

        for _ in range(2 * n):  # two messages in flight per worker: it never waits for the next one
            send()
        for i, chunk in enumerate(chunks):
            answers = None
            if i < sent and not self.broken:
                try:
                    answers = pickle.load(self.procs[i % n].stdout)
                except Exception:  # noqa: BLE001 - a worker died or garbled its answer: read the rest here
                    self.broken = True
            if answers is None or len(answers) != len(chunk):
                answers = [READ_HERE] * len(chunk)
            send()
            for path, answer in zip(chunk, answers):
                yield read_file(self.spec, path) if isinstance(answer, str) else answer


def _worker(spec: str) -> None:
    """The worker's loop: a list of paths in, a list of answers out, until its standard input closes."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a reader might print can garble the answers
    from djctl.io import xls_child

    xls_child.IN_WORKER = True  # a worker is a child already: an .xls that kills it goes back to the caller
    reader(spec)  # imported before the first message
    while True:
        try:
            paths = pickle.load(inp)
        except EOFError:
            return
        answers: list[Any] = []
        for path in paths:
            try:
                answers.append(read_file(spec, path))
            except Exception:  # noqa: BLE001 - not a refusal: the caller reads this file itself
                answers.append(READ_HERE)
        try:
            pickle.dump(answers, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        except (BrokenPipeError, OSError):
            return


if __name__ == "__main__":
    import signal
    import warnings

    warnings.filterwarnings("ignore")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's: it stops, our input closes, we end
    _worker(sys.argv[1])
