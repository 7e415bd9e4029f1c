"""Reading many returned forms on every core: worker processes read files, the caller writes the store.

A month of a province is thousands of small workbooks, and reading one (guards, XML scan, calamine, cell
checks) costs several times what storing it does. `ReadPool` starts worker processes
(`python -m djctl.io.read_workers module:function`), sends them lists of paths over their standard input and reads back,
in the order sent, what each file held: the parsed form, or its refusal (message, hint, problems). A worker
imports only its reader, never the store, and writes nothing but its answers. Only our own children are
unpickled.

Nothing changes for the user but the time: every file is read by the same function as in one process, the
answers come back in file order, and a worker whose parent dies ends at its next read (its standard input
closes). A worker that dies (a reader crashing the process on a hostile file) is replaced: each file of the
chunk it was reading is read by a worker of its own, and the one that kills its reader is refused, in
Chinese, while every other file is read as usual. Where no process can be started, the caller reads
everything itself.
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

#: what a user is told of a file whose reader died on it (here, and for an .xls read in a child: io/xls_child.py)
CRASH_HINT = "文件可能已损坏或被改动过；请在办公软件中打开并「另存为」Excel 工作簿（.xlsx）后再导入"


def child_env() -> dict[str, str]:
    """The environment of a child process that runs djctl code: it imports this very djctl, installed or not
    (a checkout run with PYTHONPATH, the tests)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


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
        self.workers = workers
        self.procs: list[subprocess.Popen] = []
        self.restarts = 0  # times the workers were started again after one died
        self._spawn()

    def _spawn(self) -> None:
        env = child_env()
        try:
            for _ in range(self.workers):
                self.procs.append(subprocess.Popen([sys.executable, "-m", "djctl.io.read_workers", self.spec],
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
        start = 0
        while start < len(chunks):
            failed = yield from self._run(chunks, start)
            if failed is None:
                return
            # a worker died (or garbled its answer) on this chunk: each of its files is read in a process of its
            # own, so that the one that kills its reader is refused and no other is lost; then fresh workers
            yield from self._isolated(chunks[failed])
            self.close()
            self.restarts += 1
            self._spawn()
            start = failed + 1

    def _run(self, chunks: list[list[str]], start: int) -> Iterator[tuple[Any, Refusal | None]]:
        """Answers for chunks[start:] from the workers; returns the index of a chunk they failed on (None when
        every chunk was answered). Without workers, each file is read here."""
        n = len(self.procs)
        if self.broken or not n:
            for chunk in chunks[start:]:
                for path in chunk:
                    yield read_file(self.spec, path)
            return None
        sent = start

        def send() -> None:
            nonlocal sent
            if sent < len(chunks):
                try:
                    proc = self.procs[(sent - start) % n]
                    pickle.dump(chunks[sent], proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    proc.stdin.flush()
                except (OSError, ValueError):
                    pass  # the worker is gone: its first chunk not answered is the one it died on (below)
                sent += 1

        for _ in range(2 * n):  # two messages in flight per worker: it never waits for the next one
            send()
        for i in range(start, len(chunks)):
            chunk = chunks[i]
            try:
                answers = pickle.load(self.procs[(i - start) % n].stdout)
            except Exception:  # noqa: BLE001 - the worker died (on this chunk) or garbled its answer
                answers = None
            if answers is None or len(answers) != len(chunk):
                self.broken = True
                return i
            send()
            for path, answer in zip(chunk, answers):
                yield read_file(self.spec, path) if isinstance(answer, str) else answer
        return None

    def _isolated(self, chunk: list[str]) -> Iterator[tuple[Any, Refusal | None]]:
        """Each file of `chunk` read by a worker of its own; a file its worker dies on is refused."""
        for path in chunk:
            with ReadPool(self.spec, 1) as one:
                if one.broken:  # no process could start: read here, as without workers
                    yield read_file(self.spec, path)
                    continue
                proc = one.procs[0]
                try:
                    pickle.dump([path], proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    proc.stdin.flush()
                    answers = pickle.load(proc.stdout)
                except Exception:  # noqa: BLE001 - the reader died on this very file, or garbled its answer
                    one.close()
                    if proc.returncode in (0, None):  # not a death: read it here, as without workers
                        answers = [READ_HERE]
                    else:
                        yield None, Refusal(f"读取这份文件时程序异常结束（退出码 {proc.returncode}），未导入",
                                            CRASH_HINT)
                        continue
            answer = answers[0] if len(answers) == 1 else READ_HERE
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
    # the module under its own name, not as __main__: a Refusal it pickles must unpickle in the caller (as
    # __main__.Refusal it did not, and the first refused form sent every later file back to the caller)
    from djctl.io import read_workers

    read_workers._worker(sys.argv[1])
