"""Exercise 1, graded only: the formula on sizes the visible check never shows.

One size is far too large to build (a formula answers at once; a table of the six visible
sizes, or a model built and counted, does not). The counts come from ``lstm_count``, the
reference formula, which the visible check compares with PyTorch's own count on every size it
builds; it lives here, out of the students' package, so that no answer can call it.
"""

from lstm_helpers.checks.ex1_parameter_count import (
    SLIPS,
    TITLE,
    _judge,
    _not_a_function,
)
from lstm_helpers.checks.feedback import first_problem, passed

HIDDEN_CASES = [(3, 50, 5, 7), (100, 1, 2, 100), (28, 128, 6, 2), (13, 9, 1, 26),
                (28, 100_000, 50, 10)]


def lstm_count(input_dim, hidden_dim, layer_dim, gates=4, bias_vectors=2,
               every_layer_reads_input=False) -> int:
    """Parameters of a stacked ``nn.LSTM`` by formula (the defaults are PyTorch's)."""
    total = 0
    for layer in range(layer_dim):
        inputs = input_dim if layer == 0 or every_layer_reads_input else hidden_dim
        total += gates * hidden_dim * (inputs + hidden_dim) + bias_vectors * gates * hidden_dim
    return total


def model_count(sizes) -> int:
    """``LSTMModel(*sizes)``'s parameters: the LSTM and the readout ``nn.Linear``."""
    i, h, layers, o = sizes
    return lstm_count(i, h, layers) + h * o + o


def formula_slips(sizes) -> dict[str, int]:
    """The usual slips of exercise 1, by formula (sizes too large to build included)."""
    i, h, layers, o = sizes
    readout = h * o + o
    counts = {
        "one_bias": lstm_count(i, h, layers, bias_vectors=1) + readout,
        "input_everywhere": lstm_count(i, h, layers, every_layer_reads_input=True) + readout,
        "no_readout": lstm_count(i, h, layers),
        "no_readout_bias": lstm_count(i, h, layers) + h * o,
        "one_gate": lstm_count(i, h, layers, gates=1) + readout,
        "one_layer": lstm_count(i, h, 1) + readout,
    }
    return {SLIPS[key]: count for key, count in counts.items()}


def hidden_check_parameter_count(count_parameters):
    """The formula on five further sizes, one of them far too large to build."""
    title = TITLE + ", further sizes"
    problem = first_problem(
        lambda: _not_a_function(title, count_parameters),
        lambda: _judge(count_parameters, HIDDEN_CASES, model_count, title, formula_slips))
    if problem is not None:
        return problem
    return passed(title, f"The formula also holds on {len(HIDDEN_CASES)} further sizes.")
