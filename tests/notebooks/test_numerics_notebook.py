"""notebooks/numerics.ipynb hunts the NaN of a training step down to its line and checks the
ranges of every value before bf16, with the numbers its text states (the run of
test_any_kernel, under a plain python3 kernelspec)."""

from __future__ import annotations

import re

import pytest

from tests.notebooks._run import execute

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def outputs_of(run, needle: str, mime: str = "text/plain") -> str:
    """The outputs (stdout and one kind of data) of the code cell whose source has `needle`."""
    for cell in run.nb.cells:
        if cell.cell_type == "code" and needle in cell.source:
            return "\n".join(
                o.get("text", "") + o.get("data", {}).get(mime, "") for o in cell.outputs
            )
    raise AssertionError(f"no cell with {needle!r}")


@pytest.fixture(scope="module")
def run(kernel_prefix):
    return execute("numerics.ipynb")


def test_the_loss_goes_nan_and_the_jit_hint_names_the_call(run):
    assert not run.errors, run.errors
    assert "jl-guard" not in run.data("text/html")
    assert "step 8: loss 5.4809\nstep 9: loss nan" in run.stdout
    hint = outputs_of(run, "%jit loss_fn").splitlines()[-1]
    assert hint == (
        "[jaxlab] the result holds 1 NaN; find where the first one is made: "
        "%numerics loss_fn(params, x, y)"
    )


def test_numerics_names_the_log_of_an_underflowed_probability(run):
    text = outputs_of(run, "n = %numerics")
    first = text.splitlines()[0]
    m = re.fullmatch(
        r"-Inf born in the forward pass at In \[(\d+)\], line (\d+): "
        r"log of a value that reaches 0\.0\.",
        first,
    )
    assert m, first
    model_cell = next(c for c in run.nb.cells if "def loss_fn" in c.source)
    assert int(m.group(1)) == model_cell.execution_count
    assert "jnp.log(probs)" in model_cell.source.splitlines()[int(m.group(2)) - 1]
    assert "log(0) * 0" in text and "xlogy" in text
    # the softmax did not overflow: exp reaches 5.09e32 (finite in f32), the logits span 95
    assert "f16: 3 outputs would overflow (up to 5.09e32, exp at In [" in text
    assert re.search(r"add\s+In \[\d+\], line \d+\s+f32\[512,10\]\s+-19\.78\s+75\.31", text)
    html = outputs_of(run, "n = %numerics", "text/html")
    assert re.search(r'<div class="jl-num-answer jl-bad-run">-Inf born in the forward pass', html)
    assert "<code>jax.scipy.special.xlogy(x, y)</code>" in html
    origin = outputs_of(run, "o = n.origin")
    assert re.fullmatch(
        r"\('log', 'In \[\d+\], line \d+', '-Inf', 'log\(0\) \* 0'\)", origin.strip()
    )


def test_inspect_numerics_opens_on_the_origin(run):
    text = outputs_of(run, "%inspect --numerics")
    assert text.startswith("-Inf born in the forward pass at In [")
    html = outputs_of(run, "%inspect --numerics", "text/html")
    assert len(re.findall(r'id="jl-numerics-origin-\w+"', html)) == 1
    assert '<span class="jl-val jl-val-origin"' in html
    assert "jl-mark-origin" in html or "jl-l jl-c" in html


def test_the_fix_trains_and_the_ranges_fit_bf16(run):
    m = re.search(r"loss ([\d.]+) -> ([\d.]+) after 300 steps", run.stdout)
    assert m and float(m.group(2)) < float(m.group(1)) / 5, run.stdout
    ranges = outputs_of(run, "ranges = %numerics --grad")
    lines = ranges.splitlines()
    assert re.fullmatch(
        r"No NaN or Inf in \d+ outputs; \|x\| spans [\d.e-]+ … [\d.]+ \(largest: .*\)\.", lines[0]
    ), lines[0]
    assert "  bf16: every float value fits" in lines
    f16 = next(line for line in lines if line.startswith("  f16:"))
    assert "would flush values to zero (up to 14.3 % of" in f16
    fp8 = next(line for line in lines if line.startswith("  fp8 e4m3:"))
    assert re.search(r"up to 9\d\.\d % of", fp8)
    report = outputs_of(run, 'cast_report("f16")')
    assert "'14.3%'" in report
    m = re.search(r"float32 ([\d.]+), bfloat16 ([\d.]+)", run.stdout)
    assert m and abs(float(m.group(1)) - float(m.group(2))) < 0.01 * float(m.group(1))
