"""Execute a notebook with nbclient and collect its outputs by kind. Each notebook runs once a
test session in a kernel: the tests that read its outputs share the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class Executed:
    nb: nbformat.NotebookNode

    def outputs(self):
        for cell in self.nb.cells:
            if cell.cell_type == "code":
                yield from cell.outputs

    @property
    def errors(self) -> list:
        return [o for o in self.outputs() if o.output_type == "error"]

    @property
    def stdout(self) -> str:
        return "".join(o.get("text", "") for o in self.outputs() if o.get("name") == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(o.get("text", "") for o in self.outputs() if o.get("name") == "stderr")

    @property
    def clean(self) -> bool:
        """No error output and no guard warning anywhere."""
        return not self.errors and "jl-guard" not in self.data("text/html")

    def data(self, mime: str) -> str:
        return "".join(o.get("data", {}).get(mime, "") for o in self.outputs())


# the plain ipykernel kernelspec of this Python (no jaxlab preloaded): a notebook runs in any
# kernel with jaxlab installed, since it starts with `%load_ext jaxlab`
PLAIN_KERNEL = "python3"

_runs: dict[tuple[str, str], Executed] = {}


def execute(name: str, kernel_name: str = PLAIN_KERNEL, timeout: int = 600) -> Executed:
    """The notebook `name` run top to bottom in `kernel_name` (nbclient raises at an error in
    a cell not tagged to raise), once a session: later calls return the same run."""
    key = (name, kernel_name)
    if key not in _runs:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        NotebookClient(
            nb,
            kernel_name=kernel_name,
            timeout=timeout,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        ).execute()
        _runs[key] = Executed(nb)
    return _runs[key]
