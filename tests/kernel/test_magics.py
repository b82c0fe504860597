"""The spine's promises through a real ipykernel: the seed articles' values via the magics."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel

SEED_FUNCTIONS = """
def tanh(x):
    y = jnp.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)

def rectified_cube(x):
    r = 1
    if x < 0.:
        for i in range(3):
            r *= x
        r = -r
    else:
        for i in range(3):
            r *= x
    return r

def mapping(v):
    x = v[0]
    y = v[1]
    z = v[2]
    return jnp.array([x*x, y*z])

def f(x):
    return x**2 + 2*x + 1

def square_array(x):
    return x**2

def fn(x):
    return x + x*x + x*x*x
"""


@pytest.fixture(scope="module", autouse=True)
def seed_functions(kernel):
    kernel.ok(SEED_FUNCTIONS)


def test_extension_is_preloaded_by_the_kernelspec(kernel):
    assert kernel.value("'grad' in get_ipython().magics_manager.magics['line']")
    assert kernel.value("'jaxlab.preload' in get_ipython().extension_manager.loaded")


def test_tanh_derivatives(kernel):
    kernel.ok("d1 = %grad tanh(1.0)\nd3 = %grad tanh(1.0) --order 3")
    assert kernel.value("float(d1)") == pytest.approx(0.4199743, abs=1e-6)
    assert kernel.value("float(d3)") == pytest.approx(0.62162673, abs=1e-6)


def test_grad_through_python_control_flow(kernel):
    kernel.ok("g2 = %grad rectified_cube(2.)\ngm3 = %grad rectified_cube(-3.)")
    assert kernel.value("float(g2)") == 12.0
    assert kernel.value("float(gm3)") == -27.0
    kernel.ok(
        "third = []\n"
        "for i in range(5):\n"
        "    t = %grad rectified_cube(float(i)) --order 3\n"
        "    third.append(float(t))"
    )
    assert kernel.value("third") == [6.0] * 5


def test_jacfwd_of_vector_function(kernel):
    kernel.ok("J = %jacfwd mapping(jnp.array([4., 5., 9.]))")
    assert kernel.value("J.tolist()") == [[8.0, 0.0, 0.0], [0.0, 9.0, 5.0]]
    kernel.ok("Jr = %jacrev mapping(jnp.array([4., 5., 9.]))")
    assert kernel.value("Jr.tolist()") == [[8.0, 0.0, 0.0], [0.0, 9.0, 5.0]]


def test_polynomial_first_and_second_derivative(kernel):
    kernel.ok("df = %grad f(3.0)\nd2f = %grad f(3.0) --order 2\nH = %hessian f(3.0)")
    assert kernel.value("float(df)") == 8.0
    assert kernel.value("float(d2f)") == 2.0
    assert kernel.value("float(H)") == 2.0


def test_result_is_displayed_and_returned(kernel):
    result = kernel.ok("%grad f(3.0)")
    assert "8." in result.text


def test_jit_rebinds_and_reports_compilations(kernel):
    kernel.ok("original = square_array")
    rebind = kernel.ok("%jit square_array")
    assert "square_array is now jax.jit(square_array)" in rebind.stdout
    assert kernel.value("square_array.__wrapped__ is original")
    first = kernel.ok("r = square_array(jnp.array([1, 2, 3, 4]))")
    assert kernel.value("r.tolist()") == [1, 4, 9, 16]
    assert first.stdout.count("[jaxlab] compiled square_array(x: i32[4])") == 1
    again = kernel.ok("r = square_array(jnp.array([5, 6, 7, 8]))")
    assert "compiled" not in again.stdout  # same shape: no recompilation, no report
    other = kernel.ok("r = square_array(jnp.arange(6.0))")
    assert "compilation #2" in other.stdout
    kernel.ok("square_array = original")


def test_jit_call_reports_stage_timings_and_returns_result(kernel):
    result = kernel.ok("out = %jit square_array(jnp.array([1, 2, 3, 4]))")
    assert kernel.value("out.tolist()") == [1, 4, 9, 16]
    for stage in ("trace", "lower", "compile", "first run"):
        assert stage in result.stdout


def test_jit_static_argument(kernel):
    kernel.ok("def pown(x, n):\n    return x ** n")
    kernel.ok("p = %jit pown(jnp.arange(4.0), 3) --static-argnums 1")
    assert kernel.value("p.tolist()") == [0.0, 1.0, 8.0, 27.0]


def test_jit_cell_magic_jits_every_defined_function(kernel):
    result = kernel.ok(
        "%%jit\ndef cell_a(x):\n    return x + 1\ndef cell_b(x):\n    return x * 2\nlocal_value = 3"
    )
    assert "jitted cell_a, cell_b" in result.stdout
    assert kernel.value("hasattr(cell_a, 'lower') and hasattr(cell_b, 'lower')")
    assert kernel.value("local_value") == 3
    kernel.ok("y = cell_b(cell_a(jnp.ones(2)))")
    assert kernel.value("y.tolist()") == [4.0, 4.0]


def test_hlo_of_seed_function_is_one_loop_fusion(kernel):
    result = kernel.ok("h = %hlo fn(jnp.ones((200, 300), jnp.float32))\nh")
    fusions = kernel.value(
        "[(f.name, f.kind, sorted(set(f.opcodes))) for f in "
        "__import__('jaxlab.ir.fusions', fromlist=['x']).fusions_of(h.inspection.hlo_module)]"
    )
    assert len(fusions) == 1
    _, kind, opcodes = fusions[0]
    assert kind == "loop"
    assert opcodes == ["add", "multiply"]
    assert "1 fusion" in result.html
    entry_ops = kernel.value("[i.opcode for i in h.inspection.hlo_module.entry.instructions]")
    assert entry_ops == ["parameter", "fusion"]
    # the program from its first lines: no stack-frame tables of the kernel's, IPython's or
    # jaxlab's frames, in the HTML and in the text
    for shown in (result.html, result.text):
        for hidden in ("StackFrames", "FileNames", "ipykernel", "tornado", "interactiveshell"):
            assert hidden not in shown, hidden
        assert "jaxlab/" not in shown and "stages.py" not in shown
    lines = result.text.split("\n")
    assert next(k for k, line in enumerate(lines) if " = f32[200,300]" in line) < 8


def test_hlo_stablehlo_stage_and_jaxpr(kernel):
    kernel.ok("s = %hlo fn(jnp.ones(3)) --stage stablehlo\nj = %jaxpr fn(jnp.ones(3))")
    assert kernel.value("s.dialect") == "stablehlo"
    assert kernel.value("'stablehlo.multiply' in s")
    assert kernel.value("[e.primitive.name for e in j.source.eqns]") == [
        "mul",
        "add",
        "mul",
        "mul",
        "add",
    ]


def test_vmap_pairwise_l1(kernel):
    kernel.ok(
        "def l1(x, y):\n    return jnp.sum(jnp.abs(x - y))\n"
        "pts = jnp.array([[0., 0.], [1., 1.], [3., 0.]])\n"
        "d = %vmap l1(pts, jnp.array([1., 0.])) --in-axes (0,None)"
    )
    assert kernel.value("d.tolist()") == [1.0, 1.0, 2.0]
