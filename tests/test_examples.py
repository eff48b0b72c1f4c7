"""cnnlab.examples: every worked example from the seed decks matches its slide, and the CLI says so."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cnnlab import examples
from cnnlab.__main__ import main as cli

pytestmark = [pytest.mark.lec1, pytest.mark.lec2]

REQUIRED = ["blur", "vertical_edge", "cartesian_axes_conv", "cartesian_axes_pool", "vertical_line", "signal_1d",
            "params_56", "params_280", "params_conv_vs_fc", "net_39", "mnist1d_params", "mnist1d_lengths"]


@pytest.mark.parametrize("name", examples.names())
def test_example_matches_its_slide(name):
    ex = examples.get(name)
    assert ex.name == name and ex.source.startswith("seed 00") and ex.description
    assert ex.check(), f"{name}: cnnlab gives {ex.result()!r}, the slide {ex.expected!r}"


def test_required_examples_are_present():
    assert set(REQUIRED) <= set(examples.EXAMPLES)


def test_example_numbers_are_the_slides():
    # the expected values are data, not recomputed: pin the decks' numbers here too
    np.testing.assert_array_equal(examples.get("blur").expected, [[178, 175, 216], [141, 133, 183], [106, 117, 167]])
    np.testing.assert_array_equal(examples.get("blur").inputs["x"][1, 0], 244)  # the image's 244, not the slide's 144
    np.testing.assert_array_equal(examples.get("blur").inputs["k"] * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(examples.get("cartesian_axes_conv").expected,
                                  [[[2, -2], [-1, 1]], [[-1, -0.5], [3.5, 4]]])
    np.testing.assert_array_equal(examples.get("vertical_edge").expected, [[0, 30, 30, 0]] * 4)
    assert examples.get("params_conv_vs_fc").expected == (10, 372)
    assert examples.get("mnist1d_params").expected[1] == 2050


def test_inputs_are_read_only():
    x = examples.get("blur").inputs["x"]
    with pytest.raises(ValueError):
        x[0, 0] = 0


def test_get_unknown_name_lists_the_names():
    with pytest.raises(KeyError, match="blur"):
        examples.get("no_such_example")


def test_main_prints_every_example_and_exits_0(capsys):
    assert cli(["examples"]) == 0
    out = capsys.readouterr().out
    for name in examples.names():
        assert f"== {name}  [MATCH]" in out
    assert f"{len(examples.EXAMPLES)}/{len(examples.EXAMPLES)} worked examples match" in out
    assert "178" in out and "372" in out


def test_main_exits_1_on_a_mismatch(monkeypatch, capsys):
    wrong = dataclasses.replace(examples.get("blur"), expected=np.zeros((3, 3)))
    monkeypatch.setitem(examples.EXAMPLES, "blur", wrong)
    assert examples.main(["blur", "vertical_edge"]) == 1
    out = capsys.readouterr().out
    assert "== blur  [MISMATCH]" in out and "== vertical_edge  [MATCH]" in out and "MISMATCH: blur" in out


def test_main_reports_a_crashing_example(monkeypatch, capsys):
    def boom(inputs, params):
        raise RuntimeError("broken")

    monkeypatch.setitem(examples.EXAMPLES, "blur", dataclasses.replace(examples.get("blur"), compute=boom))
    assert examples.main([]) == 1
    assert "RuntimeError: broken" in capsys.readouterr().out


def test_main_rejects_unknown_names(capsys):
    assert examples.main(["blur", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
