"""The program that runs a learner's notebook inside the sandbox.

Standalone (standard library, NumPy and IPython): ``sandbox.py`` binds it,
read-only and compiled, with ``rnncourse/grading/_codec.py``, into the sandbox's
private folder ``/work`` and starts it there as ``python -S /work/_runner.pyc``. The
grader talks to it over two pipes: it writes requests on
``RNNCOURSE_REQUEST_FD`` and reads reports on ``RNNCOURSE_REPORT_FD``, one
JSON object per line each way. The runner

1. reads the first request: the code cells, the limits and the libraries the
   notebook's parts may import;
2. makes ``rnncourse``, ``torch``, ``scipy`` and ``nbgrader`` unimportable
   with a clear message (except ``rnncourse.grading.<any>``, whose checks do
   nothing: the grader verifies outside), and so is every other library
   that is neither in the standard library nor allowed by a part;
3. runs the code cells in order in one IPython ``InteractiveShell``,
   capturing each cell's output (capped), with a bound on each cell's CPU
   time and a looser one on its wall-clock time, and carries on after a
   failing cell;
4. then, part by part, says it is ready and reads the next part's request:
   the part's cases (their inputs) and its substitutes (correct earlier
   functions). It defines the substitutes in the learner's namespace, calls
   the learner's function on every case (the same time bounds per call),
   records whether a call changed its arguments in place, encodes what it
   returned, restores the learner's own definitions and forgets the request.

So nothing of a part reaches the learner's interpreter before that part is
checked, and each part's request holds only earlier parts' code.

Reports: ``{"cell": i}`` before cell ``i``, ``{"outputs": i, "list": [...]}``
after it, ``{"ready": true}`` when it waits for a part, ``{"case": [grade_id,
name]}`` before a call, ``{"part": grade_id, "values": {...}, "npz": base64}``
after a part and ``{"done": true}`` at the end. The learner's code can write
on these pipes too: the grader takes each record once, in this order, rebuilds
outputs from their text alone, and verifies answers outside, so a forged record
changes at most the learner's own answers.
"""

from __future__ import annotations

import gc

# Start-up (NumPy, IPython, the shell) makes a few hundred thousand objects, none of them
# garbage: the collector's passes over them cost about 9 ms of an empty sandbox's 160 ms
# (measured side by side). main() freezes what start-up made and turns it back on before the
# first cell, so the learner's code runs with the collector as usual (tests/autograder/test_sandbox.py).
gc.disable()

import base64
import importlib.abc
import importlib.machinery
import io
import json
import linecache
import os
import re
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rnncourse.grading import _codec
else:
    import _codec

REPORT_FD = int(os.environ.get("RNNCOURSE_REPORT_FD", "3"))  # the grader passes its pipes
REQUEST_FD = int(os.environ.get("RNNCOURSE_REQUEST_FD", "4"))
WORK = "/work"
MASKED = ("rnncourse", "torch", "torchgen", "functorch", "scipy", "nbgrader")
MASK_MESSAGES = {
    "rnncourse": "rnncourse's implementations are not available while grading: write the computation yourself",
    "nbgrader": "nbgrader is not available while grading",
}
DEFAULT_MASK_MESSAGE = "{name} is not available while grading: write the computation yourself with NumPy"
NOT_ALLOWED_MESSAGE = (
    "{name} is not available while grading: this exercise's parts may use {allowed} and "
    "Python's standard library only"
)
CELL_PREFIX = "<ipython-input-"
CELL_FILE = re.compile(r"<ipython-input-\d+-[0-9a-f]+>")
SITE = "/opt/site-packages"  # where the sandbox shows the venv's packages

# The runner's own tools, taken before any learner code can patch them.
_write = os.write
_dumps = json.dumps
_loads = json.loads
_monotonic = time.monotonic


class TimeLimit(BaseException):
    """Raised by a timer in learner code that ran past its bound (a BaseException: harder to swallow)."""


class OutputLimit(BaseException):
    """Raised in learner code that printed more than a cell may."""


def report(message: dict[str, Any]) -> None:
    """One line on the report pipe; a learner who closed it only loses its own report."""
    data = (_dumps(message, allow_nan=True) + "\n").encode()
    try:
        while data:
            data = data[_write(REPORT_FD, data) :]
    except OSError:
        pass


class Requests:
    """The grader's requests, one JSON object per line, read as the runner needs them."""

    def __init__(self, fd: int) -> None:
        self.file = os.fdopen(fd, "rb", buffering=1 << 16)

    def next(self) -> dict[str, Any] | None:
        line = self.file.readline()
        if not line:
            return None
        message = _loads(line)
        return message if isinstance(message, dict) else None


# ---- masking ----------------------------------------------------------------------------------


def _noop(*args: object, **kwargs: object) -> None:
    """Every check of ``rnncourse.grading`` inside the sandbox: the grader verifies outside."""


class _NoopChecks(types.ModuleType):
    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("__"):
            raise AttributeError(name)
        return _noop


class _Masker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers every import the notebook may not make.

    ``rnncourse.grading[.x]`` gives checks that do nothing; the masked names
    and every library that is neither in the standard library, nor allowed
    by a part, nor already loaded by the runner itself raise ImportError.
    """

    def __init__(self, allowed: Sequence[str]) -> None:
        self.allowed = frozenset(allowed)
        self.loaded = frozenset(name.partition(".")[0] for name in sys.modules)
        self.allowed_text = ", ".join(sorted(self.allowed)) or "no library"

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: object = None) -> Any:
        top = fullname.partition(".")[0]
        if top in MASKED:
            if fullname == "rnncourse" or fullname.startswith("rnncourse.grading"):
                is_package = fullname.count(".") < 2
                return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)
            message = MASK_MESSAGES.get(top, DEFAULT_MASK_MESSAGE.format(name=top))
            raise ImportError(message, name=fullname)
        if top in sys.stdlib_module_names or top in self.allowed or top in self.loaded or top == "_codec":
            return None
        raise ImportError(NOT_ALLOWED_MESSAGE.format(name=top, allowed=self.allowed_text), name=fullname)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name.startswith("rnncourse.grading."):
            return _NoopChecks(spec.name)
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ in ("rnncourse", "rnncourse.grading"):
            module.__path__ = []


def install_masks(allowed: Sequence[str]) -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in MASKED:
            del sys.modules[name]
    sys.meta_path.insert(0, _Masker(allowed))


# ---- output capture ---------------------------------------------------------------------------


class Capture:
    """One cell's outputs as nbformat dicts, at most ``limit`` characters of text in all."""

    def __init__(self, limit: int) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.left = limit
        self.overflowed = False

    def add_text(self, name: str, text: str) -> None:
        if not text:
            return
        if self.left <= 0:
            self.overflowed = True
            raise OutputLimit
        kept = text[: self.left]
        self.left -= len(text)
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += kept
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": kept})

    def add_display(self, text: str) -> None:
        if self.left <= 0:
            self.overflowed = True
            raise OutputLimit
        kept = text[: self.left]
        self.left -= len(text)
        self.outputs.append({"output_type": "display_data", "data": {"text/plain": kept}, "metadata": {}})


class CaptureStream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` while learner code runs."""

    def __init__(self, name: str, sink: Callable[[], Capture], names: CellNames) -> None:
        self.name_ = name
        self.sink = sink
        self.names = names

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = self.names.rename(str(text))
        self.sink().add_text(self.name_, text)
        return len(text)

    def isatty(self) -> bool:
        return False


# ---- time bounds ------------------------------------------------------------------------------


class Timer:
    """A bound on the CPU time of what runs now (``ITIMER_PROF``), and a looser one on its wall-clock time.

    CPU time does not depend on how busy the machine is, so a cell gets the
    same verdict at any load; the wall-clock bound stops a cell that waits
    (sleeps, blocks) instead of computing.
    """

    def __init__(self, wait_seconds: float) -> None:
        self.why = ""
        self.wait_seconds = wait_seconds

    def _cpu(self, signum: int, frame: object) -> None:
        self.why = "cpu"
        raise TimeLimit

    def _wall(self, signum: int, frame: object) -> None:
        self.why = "wall"
        raise TimeLimit

    def start(self, seconds: float) -> None:
        self.why = ""
        signal.signal(signal.SIGPROF, self._cpu)
        signal.signal(signal.SIGALRM, self._wall)
        signal.setitimer(signal.ITIMER_PROF, seconds)
        signal.setitimer(signal.ITIMER_REAL, max(self.wait_seconds, seconds))

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)

    def describe(self, what: str, seconds: float) -> str:
        """Why ``what`` (e.g. "cell 4", "the call") was stopped, in plain words."""
        if self.why == "wall":
            waited = max(self.wait_seconds, seconds)
            return f"{what} took longer than {waited:g} s of wall-clock time (was it waiting, asleep or blocked?)"
        return f"{what} ran longer than the {seconds:g} s limit"


# ---- errors -----------------------------------------------------------------------------------


class CellNames:
    """Maps IPython's cell file names (``<ipython-input-N-hash>``) to ``<cell i>`` (notebook index)."""

    def __init__(self) -> None:
        self.by_count: dict[int, int] = {}

    def name(self, filename: str) -> str | None:
        if not filename.startswith(CELL_PREFIX):
            return None
        count = filename[len(CELL_PREFIX) :].partition("-")[0]
        index = self.by_count.get(int(count)) if count.isdigit() else None
        return f"<cell {index}>" if index is not None else "<cell>"

    def rename(self, text: str) -> str:
        """``text`` with IPython's cell file names (e.g. in a warning) as ``<cell i>``."""
        if CELL_PREFIX not in text:
            return text
        return CELL_FILE.sub(lambda match: self.name(match.group(0)) or match.group(0), text)

    def learner_frames(self, error: BaseException) -> list[tuple[str, int, str, str]]:
        """(cell name, line number, function, source line) of the learner's own frames, innermost last."""
        frames = []
        tb = error.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            name = self.name(code.co_filename)
            if name is not None:
                line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
                frames.append((name, tb.tb_lineno, code.co_name, line))
            tb = tb.tb_next
        return frames


def error_output(
    error: BaseException, names: CellNames, cell: int, limits: dict[str, Any], timer: Timer
) -> dict[str, Any]:
    """nbformat's error output, with a short traceback of the learner's frames only."""
    ename, evalue = type(error).__name__, _safe_str(error)
    if isinstance(error, TimeLimit):
        ename, evalue = "TimeLimit", timer.describe(f"cell {cell}", limits["cell_seconds"])
    elif isinstance(error, OutputLimit):
        ename = "OutputLimit"
        evalue = f"cell {cell} printed more than {limits['output_bytes']:,} characters; the rest was dropped"
    elif isinstance(error, SystemExit):
        evalue = "the notebook called sys.exit"
    elif isinstance(error, MemoryError):
        evalue = f"cell {cell} needed more memory than the limit of {limits['memory_bytes'] / 1024**3:g} GiB"
    traceback = []
    for name, lineno, function, line in names.learner_frames(error):
        where = f"{name}, line {lineno}" + ("" if function == "<module>" else f", in {function}")
        traceback.append(f"{where}\n    {line}" if line else where)
    if isinstance(error, SyntaxError) and error.text:
        traceback.append(f"<cell {cell}>, line {error.lineno}\n    {error.text.strip()}")
    traceback.append(f"{ename}: {evalue}")
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except BaseException:
        return "<message failed>"


# ---- libraries a part may not call ------------------------------------------------------------


class LibraryMonitor:
    """Records calls into installed libraries that a part does not allow (in any thread it starts).

    Used only for a part that allows fewer libraries than the notebook may
    import: for the others, the import masks already keep every other library out.
    """

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self.calls: list[str] = []
        self.installed = False

    @staticmethod
    def _library(filename: str) -> str | None:
        """The installed library a file belongs to (its top-level name), or None for any other code."""
        if filename.startswith("<frozen"):  # the import machinery: what it runs is no call of the learner's
            return "<import>"
        if not filename.startswith(SITE + "/"):
            return None
        return filename[len(SITE) + 1 :].split("/", 1)[0].split(".", 1)[0]

    def profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        # Only where the learner's code (or the standard library on its behalf) enters a library:
        # what an allowed library does inside itself is its own business.
        if self._library(frame.f_code.co_filename if event == "c_call" else _caller_file(frame)):
            return
        if event == "call":
            library = self._library(frame.f_code.co_filename)
            if library is not None and library not in self.allowed:
                self.calls.append(f"{library}.{frame.f_code.co_qualname}")
        elif event == "c_call":
            library = (getattr(arg, "__module__", None) or "").partition(".")[0]
            if library in _installed() and library not in self.allowed:
                self.calls.append(f"{library}.{getattr(arg, '__name__', '?')}")

    def __enter__(self) -> LibraryMonitor:
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)
        self.installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.installed = sys.getprofile() is self.profile
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def _caller_file(frame: types.FrameType) -> str:
    return frame.f_back.f_code.co_filename if frame.f_back is not None else ""


_INSTALLED: frozenset[str] | None = None


def _installed() -> frozenset[str]:
    """The top-level names of the installed libraries."""
    global _INSTALLED
    if _INSTALLED is None:
        try:
            _INSTALLED = frozenset(entry.split(".")[0].split("-")[0] for entry in os.listdir(SITE))
        except OSError:
            _INSTALLED = frozenset()
    return _INSTALLED


# ---- the shell --------------------------------------------------------------------------------


class Runner:
    def __init__(self, limits: dict[str, Any], imports: Sequence[str]) -> None:
        from IPython.core.displayhook import DisplayHook
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        self.limits = limits
        self.imports = frozenset(imports)
        self.names = CellNames()
        self.capture = Capture(limits["output_bytes"])
        self.timer = Timer(float(limits.get("wait_seconds", 4 * limits["cell_seconds"])))
        runner = self

        class Publisher(DisplayPublisher):  # type: ignore[misc]
            def publish(self, data: dict[str, Any], *args: object, **kwargs: object) -> None:
                runner.capture.add_display(str(data.get("text/plain", "")))

            def clear_output(self, wait: bool = False) -> None:
                pass

        class Hook(DisplayHook):  # type: ignore[misc]
            def write_output_prompt(self) -> None:
                pass

            def write_format_data(self, format_dict: dict[str, Any], md_dict: object = None) -> None:
                runner.capture.add_display(str(format_dict.get("text/plain", "")))

        class Shell(InteractiveShell):  # type: ignore[misc]
            def init_completer(self) -> None:
                """No tab completion: nobody types here, and making it cost every sandbox about 5 ms."""

        # No history database: nothing reads it, and opening one (and its saving thread) cost
        # every sandbox about 9 ms of its start-up.
        settings = Config()
        settings.HistoryManager.enabled = False
        self.shell = Shell.instance(colors="nocolor", history_length=0, config=settings)
        self.shell.display_pub = Publisher(shell=self.shell)
        self.shell.displayhook = Hook(shell=self.shell, cache_size=0)
        self.shell.display_trap.hook = self.shell.displayhook
        # Errors are reported from the exception itself (error_output), not formatted by IPython.
        self.shell.showtraceback = lambda *args, **kwargs: None  # type: ignore[method-assign]
        self.shell._showtraceback = lambda *args, **kwargs: None  # type: ignore[method-assign]
        # The exercises' ungraded cells start with %%try_it (rnncourse.grading.lab, not importable
        # here): the cell runs as it is (see try_it).
        self.shell.register_magic_function(self.try_it, magic_kind="cell", magic_name="try_it")  # type: ignore[call-arg, arg-type]
        self.stdout = CaptureStream("stdout", lambda: self.capture, self.names)
        self.stderr = CaptureStream("stderr", lambda: self.capture, self.names)

    def try_it(self, line: str, cell: str) -> None:
        """``%%try_it``: run the cell's body in the learner's namespace, raising its error.

        As in the lab, a function of the notebook that still raises
        ``NotImplementedError`` is named in one printed line instead.
        """
        result = self.shell.run_cell(cell, store_history=False, silent=False)
        error = result.error_in_exec
        if isinstance(error, NotImplementedError):
            frames = self.names.learner_frames(error)
            if frames and frames[-1][2] != "<module>":
                print(
                    f"This cell uses {frames[-1][2]}: write it first (it still raises NotImplementedError)."
                )
                return
        result.raise_error()

    def run_cell(self, index: int, source: str) -> None:
        report({"cell": index})
        self.capture = Capture(self.limits["output_bytes"])
        self.names.by_count[self.shell.execution_count] = index
        error: BaseException | None = None
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        try:
            self.timer.start(self.limits["cell_seconds"])
            result = self.shell.run_cell(source, store_history=True, silent=False)
            self.timer.stop()
            error = result.error_before_exec or result.error_in_exec
        except BaseException as raised:  # the timer or a limit outside IPython's own handler
            self.timer.stop()
            error = raised
            self.shell.execution_count += 1
        finally:
            self.timer.stop()
            sys.stdout, sys.stderr = saved
        if self.capture.overflowed and not isinstance(error, OutputLimit):
            error = OutputLimit()
        outputs = self.capture.outputs
        if error is not None:
            outputs.append(error_output(error, self.names, index, self.limits, self.timer))
        report({"outputs": index, "list": outputs})

    def run_part(self, part: dict[str, Any]) -> None:
        """Call the learner's function on the part's cases; report what came back, then forget the part."""
        grade_id = str(part["grade_id"])
        inputs = _decode_npz(str(part.get("npz", "")))
        namespace = self.shell.user_ns
        missing = object()
        own = {name: namespace.get(name, missing) for name in part["substitutes"]}
        allowed = frozenset(part.get("imports", ()))
        monitored = not self.imports <= allowed  # the notebook may import a library this part may not use
        values: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        try:
            for name, source in part["substitutes"].items():
                private: dict[str, Any] = {"__name__": f"substitute_{name}"}
                exec(compile(source, f"<substitute {name}>", "exec"), private)
                namespace[name] = private[name]
            timed_out = ""
            for number, (case, encoded_args) in enumerate(part["cases"]):
                report({"case": [grade_id, case]})
                if timed_out:
                    # One endless call is enough to know: the others would each cost the whole limit.
                    values[case] = {"error": "TimeLimit", "message": timed_out, "line": ""}
                    continue
                values[case] = self.call(
                    namespace,
                    str(part["function"]),
                    encoded_args,
                    inputs,
                    arrays,
                    f"c{number}_",
                    part.get("parameters", []),
                    allowed if monitored else None,
                )
                if isinstance(values[case], dict) and values[case].get("error") == "TimeLimit":
                    timed_out = f"not run: the call for case '{case}' ran longer than the limit"
        finally:
            for name, value in own.items():
                if value is missing:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        report({"part": grade_id, "values": values, "npz": base64.b64encode(buffer.getvalue()).decode()})

    def call(
        self,
        namespace: dict[str, Any],
        function: str,
        encoded_args: Any,
        inputs: dict[str, np.ndarray],
        arrays: dict[str, np.ndarray],
        prefix: str,
        parameters: Sequence[str],
        allowed: frozenset[str] | None,
    ) -> Any:
        """The encoded value of ``function(*args)``, or the encoded exception, in-place change or forbidden call."""
        fn = namespace.get(function)
        if fn is None:
            return {"error": "NameError", "message": f"name '{function}' is not defined", "line": ""}
        if not callable(fn):
            return {"error": "TypeError", "message": f"'{function}' is not a function", "line": ""}
        args = _codec.decode(encoded_args, inputs)  # fresh copies: a call cannot change the next case
        before = _codec.decode(encoded_args, inputs)  # what the arguments were, to find in-place changes
        self.capture = Capture(self.limits["output_bytes"])  # prints during a call are dropped
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        monitor = LibraryMonitor(allowed) if allowed is not None else None
        try:
            self.timer.start(self.limits["cell_seconds"])
            if monitor is not None:
                with monitor:
                    value = fn(*args)
            else:
                value = fn(*args)
            self.timer.stop()
        except BaseException as error:
            self.timer.stop()
            frames = self.names.learner_frames(error)
            line = frames[-1][3] if frames else ""
            if isinstance(error, TimeLimit):
                message = self.timer.describe("the call", self.limits["cell_seconds"])
                return {"error": "TimeLimit", "message": message, "line": line}
            return _codec.encode_error(error, line)
        finally:
            self.timer.stop()
            sys.stdout, sys.stderr = saved
        if monitor is not None and (monitor.calls or not monitor.installed):
            calls = (
                ", ".join(sorted(set(monitor.calls))) or "sys.setprofile (the call monitor was switched off)"
            )
            return {"error": "ForbiddenCall", "message": calls, "line": ""}
        changed = _codec.changed_paths(before, args)
        if changed:
            where = _codec.describe_path(changed[0], parameters)
            return {"error": "ModifiedInPlace", "message": where, "line": ""}
        self.timer.start(self.limits["cell_seconds"])
        try:  # encoding may run the learner's code (an ndarray subclass's hooks)
            return _codec.encode(value, arrays, prefix)
        except BaseException as error:
            message = self.timer.describe("reading the returned value", self.limits["cell_seconds"])
            if isinstance(error, TimeLimit):
                return {"error": "TimeLimit", "message": message, "line": ""}
            return _codec.encode_error(error)
        finally:
            self.timer.stop()


def _decode_npz(text: str) -> dict[str, np.ndarray]:
    if not text:
        return {}
    with np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


def main() -> None:
    os.chdir(WORK)
    requests = Requests(REQUEST_FD)
    header = requests.next() or {}
    cells, limits = header.get("cells", []), header["limits"]
    runner = Runner(limits, header.get("imports", []))  # IPython first: the masks keep what is loaded
    install_masks(header.get("imports", []))
    gc.freeze()  # start-up's objects: never garbage, and no later collection walks them again
    gc.enable()
    for index, source in cells:
        runner.run_cell(int(index), str(source))
    del header, cells
    while True:
        report({"ready": True})
        request = requests.next()
        if request is None or request.get("end"):
            break
        runner.run_part(request)
        del request
        gc.collect()
    report({"done": True})
    sys.stdout.flush()
    os._exit(0)  # the learner's threads and atexit handlers do not hold the sandbox open


if __name__ == "__main__":
    main()
