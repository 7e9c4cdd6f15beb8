"""The program that runs a learner's notebook inside the sandbox.

Standalone (standard library, NumPy and IPython): ``sandbox.py`` copies it
with ``rnncourse/grading/_codec.py`` into the sandbox's private folder ``/work``
and starts it there as ``python -S /work/_runner.py``. It

1. reads ``request.json`` and ``inputs.npz`` (then deletes them);
2. makes ``rnncourse``, ``torch``, ``scipy`` and ``nbgrader`` unimportable
   with a clear message, except ``rnncourse.grading.<any>``, whose checks
   do nothing (the grader verifies outside);
3. runs the code cells in order in one IPython ``InteractiveShell``,
   capturing each cell's output (capped) with a time bound per cell, and
   carries on after a failing cell;
4. for each part: defines the part's substitutes in the learner's namespace,
   calls the learner's function on every case (a time bound per call),
   encodes what it returned, and restores the learner's own definitions.

It reports on the pipe the grader passes (``RNNCOURSE_REPORT_FD``), one JSON object per line, as it goes:
``{"cell": i}`` before cell ``i``, ``{"outputs": i, "list": [...]}`` after it,
``{"case": [grade_id, name]}`` before a call, ``{"part": grade_id, "values":
{...}, "npz": base64}`` after a part and ``{"done": true}`` at the end. The
learner's code could write there too: that only changes its own answers,
which the grader verifies outside.
"""

from __future__ import annotations

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
import time
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rnncourse.grading import _codec
else:
    import _codec

REPORT_FD = int(os.environ.get("RNNCOURSE_REPORT_FD", "3"))  # the grader passes its pipe
WORK = "/work"
MASKED = ("rnncourse", "torch", "torchgen", "functorch", "scipy", "nbgrader")
MASK_MESSAGES = {
    "rnncourse": "rnncourse's implementations are not available while grading: write the computation yourself",
    "nbgrader": "nbgrader is not available while grading",
}
DEFAULT_MASK_MESSAGE = "{name} is not available while grading: write the computation yourself with NumPy"
CELL_PREFIX = "<ipython-input-"
CELL_FILE = re.compile(r"<ipython-input-\d+-[0-9a-f]+>")

# The runner's own tools, taken before any learner code can patch them.
_write = os.write
_dumps = json.dumps
_monotonic = time.monotonic


class TimeLimit(BaseException):
    """Raised by the alarm in learner code that ran past its bound (a BaseException: harder to swallow)."""


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


# ---- masking ----------------------------------------------------------------------------------


def _noop(*args: object, **kwargs: object) -> None:
    """Every check of ``rnncourse.grading`` inside the sandbox: the grader verifies outside."""


class _NoopChecks(types.ModuleType):
    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("__"):
            raise AttributeError(name)
        return _noop


class _Masker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds every masked name: ``rnncourse.grading[.x]`` as no-op checks, the rest as ImportError."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: object = None) -> Any:
        top = fullname.partition(".")[0]
        if top not in MASKED:
            return None
        if fullname == "rnncourse" or fullname.startswith("rnncourse.grading"):
            is_package = fullname.count(".") < 2
            return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)
        message = MASK_MESSAGES.get(top, DEFAULT_MASK_MESSAGE.format(name=top))
        raise ImportError(message, name=fullname)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name.startswith("rnncourse.grading."):
            return _NoopChecks(spec.name)
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ in ("rnncourse", "rnncourse.grading"):
            module.__path__ = []


def install_masks() -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in MASKED:
            del sys.modules[name]
    sys.meta_path.insert(0, _Masker())


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


def _alarm(signum: int, frame: object) -> None:
    raise TimeLimit


def start_timer(seconds: float) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def stop_timer() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


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


def error_output(error: BaseException, names: CellNames, cell: int, limits: dict[str, Any]) -> dict[str, Any]:
    """nbformat's error output, with a short traceback of the learner's frames only."""
    ename, evalue = type(error).__name__, _safe_str(error)
    if isinstance(error, TimeLimit):
        ename, evalue = "TimeLimit", f"cell {cell} ran longer than the {limits['cell_seconds']:g} s limit"
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


# ---- the shell --------------------------------------------------------------------------------


class Runner:
    def __init__(self, limits: dict[str, Any]) -> None:
        from IPython.core.displayhook import DisplayHook
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell

        self.limits = limits
        self.names = CellNames()
        self.capture = Capture(limits["output_bytes"])
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

        self.shell = InteractiveShell.instance(colors="nocolor", history_length=0)
        self.shell.display_pub = Publisher(shell=self.shell)
        self.shell.displayhook = Hook(shell=self.shell, cache_size=0)
        self.shell.display_trap.hook = self.shell.displayhook
        self.shell._showtraceback = lambda *args, **kwargs: None  # type: ignore[method-assign]  # reported from the exception
        self.stdout = CaptureStream("stdout", lambda: self.capture, self.names)
        self.stderr = CaptureStream("stderr", lambda: self.capture, self.names)

    def run_cell(self, index: int, source: str) -> None:
        report({"cell": index})
        self.capture = Capture(self.limits["output_bytes"])
        self.names.by_count[self.shell.execution_count] = index
        error: BaseException | None = None
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        try:
            start_timer(self.limits["cell_seconds"])
            result = self.shell.run_cell(source, store_history=True, silent=False)
            stop_timer()
            error = result.error_before_exec or result.error_in_exec
        except BaseException as raised:  # the alarm or a limit outside IPython's own handler
            stop_timer()
            error = raised
            self.shell.execution_count += 1
        finally:
            stop_timer()
            sys.stdout, sys.stderr = saved
        if self.capture.overflowed and not isinstance(error, OutputLimit):
            error = OutputLimit()
        outputs = self.capture.outputs
        if error is not None:
            outputs.append(error_output(error, self.names, index, self.limits))
        report({"outputs": index, "list": outputs})

    def run_part(self, part: dict[str, Any], inputs: dict[str, np.ndarray]) -> None:
        grade_id = part["grade_id"]
        namespace = self.shell.user_ns
        missing = object()
        own = {name: namespace.get(name, missing) for name in part["substitutes"]}
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
                    namespace, part["function"], encoded_args, inputs, arrays, f"c{number}_"
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
    ) -> Any:
        """The encoded value of ``function(*args)``, or the encoded exception it raised."""
        fn = namespace.get(function)
        if fn is None:
            return {"error": "NameError", "message": f"name '{function}' is not defined", "line": ""}
        if not callable(fn):
            return {"error": "TypeError", "message": f"'{function}' is not a function", "line": ""}
        args = _codec.decode(encoded_args, inputs)  # fresh copies: a call cannot change the next case
        self.capture = Capture(self.limits["output_bytes"])  # prints during a call are dropped
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        try:
            start_timer(self.limits["cell_seconds"])
            value = fn(*args)
            encoded = _codec.encode(value, arrays, prefix)
            stop_timer()
            return encoded
        except BaseException as error:
            stop_timer()
            frames = self.names.learner_frames(error)
            line = frames[-1][3] if frames else ""
            if isinstance(error, TimeLimit):
                seconds = self.limits["cell_seconds"]
                return {
                    "error": "TimeLimit",
                    "message": f"the call ran longer than the {seconds:g} s limit",
                    "line": line,
                }
            return _codec.encode_error(error, line)
        finally:
            stop_timer()
            sys.stdout, sys.stderr = saved


def main() -> None:
    os.chdir(WORK)
    with open(os.path.join(WORK, "request.json")) as file:
        request = json.load(file)
    with np.load(os.path.join(WORK, "inputs.npz"), allow_pickle=False) as stored:
        inputs = {name: stored[name] for name in stored.files}
    os.remove(os.path.join(WORK, "request.json"))
    os.remove(os.path.join(WORK, "inputs.npz"))
    install_masks()
    runner = Runner(request["limits"])
    for index, source in request["cells"]:
        runner.run_cell(index, source)
    for part in request["parts"]:
        runner.run_part(part, inputs)
    report({"done": True})
    sys.stdout.flush()
    os._exit(0)  # the learner's threads and atexit handlers do not hold the sandbox open


if __name__ == "__main__":
    main()
