"""One error tree: CoinferError above InstanceError, OptionError and InfeasibleAssignmentError,
exported from both packages; the CLI maps by class (a method that cannot take an option exits 2)."""

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

import formulations
import solvers
from formulations.errors import UnknownOptionError
from solvers.cli import main
from tests.helpers import INSTANCES


def test_the_tree_and_its_exports():
    for cls in (formulations.InstanceError, formulations.OptionError, formulations.InfeasibleAssignmentError):
        assert issubclass(cls, formulations.CoinferError) and issubclass(cls, ValueError)
    assert solvers.CoinferError is formulations.CoinferError and solvers.OptionError is formulations.OptionError
    assert issubclass(UnknownOptionError, solvers.OptionError) and issubclass(UnknownOptionError, TypeError)


def test_unknown_options_are_option_errors_and_type_errors():
    problem = formulations.load(INSTANCES / "partition" / "tiny_chain.json")
    with pytest.raises(solvers.OptionError, match="unexpected keyword"):
        solvers.solve(problem, method="qdmp", seed=3)
    with pytest.raises(TypeError):
        solvers.solve(problem, seed=3)


@pytest.mark.parametrize("argv", [
    ["solve", str(INSTANCES / "partition" / "tiny_chain.json"), "-m", "qdmp", "--seed", "1"],
    ["solve", str(INSTANCES / "partition" / "tiers" / "worked_example.json"), "-m", "mincut"],
])
def test_a_method_that_cannot_take_an_option_or_feature_exits_2(argv, tmp_path):
    import json

    if argv[-1] == "mincut":  # a k-tier instance with a constraint: mincut cannot take it
        data = json.loads(open(argv[1]).read())
        data["constraints"] = {"latency_max_ms": 200.0}
        path = tmp_path / "capped.json"
        path.write_text(json.dumps(data))
        argv = ["solve", str(path), "-m", "mincut"]
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main(argv)
    assert code == 2 and "internal error" not in err.getvalue(), err.getvalue()
