"""The site's diagrams, drawn with matplotlib and written as SVG (text as paths, no fonts).

Three figures, made for this course (none is copied from the source tutorial):

* ``rnn-vs-lstm.svg``: an RNN cell beside an LSTM cell, with the LSTM's four gates and its
  cell state (tutorial section "RNN Transition to LSTM").
* ``unrolled-image.svg``: a 28 x 28 image read as 28 time steps of 28 pixels, the hidden
  state of the last step going to the readout (tutorial section "Model A: 1 Hidden Layer").
* ``parameter-groups.svg``: Model A's six parameter groups drawn to scale, the four gates'
  blocks marked inside each recurrent matrix (tutorial section "Step 6", "Parameters
  Breakdown"). Names and shapes are read from a real :class:`lstm_helpers.LSTMModel`.

The output is byte-for-byte reproducible: no date in the metadata and a fixed seed for the
ids matplotlib writes. The site build calls :func:`render_all`; to look at the files run
``.venv/bin/python -m site_hooks.diagrams OUTDIR``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

# Colours shared by the three figures.
GATE = "#f6c667"      # sigmoid gates
TANH = "#9cc9ea"      # tanh layers
CELL = "#c0392b"      # the cell state line
HIDDEN = "#2c3e50"    # hidden state and input lines
PANEL = "#f4f6f7"     # cell background
GATE_BANDS = {"i": "#f6c667", "f": "#f1948a", "g": "#9cc9ea", "o": "#a9dfbf"}

_STYLE = {
    "svg.fonttype": "path",          # glyphs as paths: the page needs no font
    "svg.hashsalt": "lstm-course",   # stable ids, so the SVG bytes are reproducible
    "font.family": "DejaVu Sans",    # ships with matplotlib, same glyphs everywhere
    "font.size": 11,
    "mathtext.fontset": "dejavusans",
}


def _arrow(ax, start, end, color=HIDDEN, lw=1.6, head=True, z=2):
    style = "-|>" if head else "-"
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12,
                                 color=color, lw=lw, shrinkA=0, shrinkB=0, zorder=z))


def _line(ax, points, color=HIDDEN, lw=1.6, z=2):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, lw=lw, solid_capstyle="round", zorder=z)


def _box(ax, center, text, color, width=0.9, height=0.6, fontsize=13):
    x, y = center
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                fc=color, ec=HIDDEN, lw=1.2, zorder=4))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=5)


def _op(ax, center, symbol, radius=0.24):
    ax.add_patch(Circle(center, radius, fc="white", ec=HIDDEN, lw=1.2, zorder=4))
    ax.text(center[0], center[1], symbol, ha="center", va="center", fontsize=12, zorder=5)


def _panel(ax, x0, y0, x1, y1):
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0,
                                boxstyle="round,pad=0.02,rounding_size=0.3",
                                fc=PANEL, ec="#aab7b8", lw=1.2, zorder=0))


def rnn_vs_lstm() -> plt.Figure:
    """The RNN cell (left) beside the LSTM cell (right), both for one time step t."""
    fig, (rnn, lstm) = plt.subplots(1, 2, figsize=(10, 4.4),
                                    gridspec_kw={"width_ratios": [0.62, 1]})

    # RNN cell: one state h, one tanh layer.
    _panel(rnn, 0.4, 0.4, 5.2, 5.4)
    _line(rnn, [(-0.5, 1.0), (2.6, 1.0)])
    _line(rnn, [(1.2, -0.5), (1.2, 1.0)])
    _arrow(rnn, (2.6, 1.0), (2.6, 2.45))
    _box(rnn, (2.6, 2.8), r"$\tanh$", TANH, width=1.1)
    _line(rnn, [(2.6, 3.1), (2.6, 4.2), (4.0, 4.2)])
    _arrow(rnn, (4.0, 4.2), (6.0, 4.2))
    _arrow(rnn, (4.0, 4.2), (4.0, 6.2))
    rnn.text(-0.55, 1.25, r"$h_{t-1}$", ha="left", fontsize=14)
    rnn.text(1.0, -0.45, r"$x_t$", ha="right", fontsize=14)
    rnn.text(5.3, 4.4, r"$h_t$", ha="left", fontsize=14)
    rnn.text(4.15, 5.9, r"$h_t$ (output)", ha="left", fontsize=11)
    rnn.text(1.5, -0.3, r"$h_t = \tanh(W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh})$",
             ha="left", fontsize=10)
    rnn.set_title("RNN cell: one state, the hidden state $h$", fontsize=13)
    rnn.set_xlim(-0.8, 6.9)

    # LSTM cell: hidden state h and cell state c, four gates.
    _panel(lstm, 0.4, 0.4, 9.8, 5.4)
    # the cell state runs along the top, changed only by a product and a sum
    _line(lstm, [(-0.5, 4.8), (2.2, 4.8)], color=CELL, lw=3)
    _op(lstm, (2.2, 4.8), r"$\times$")
    _line(lstm, [(2.44, 4.8), (4.3, 4.8)], color=CELL, lw=3)
    _op(lstm, (4.3, 4.8), "+")
    _line(lstm, [(4.54, 4.8), (9.9, 4.8)], color=CELL, lw=3)
    _arrow(lstm, (9.9, 4.8), (10.9, 4.8), color=CELL, lw=3)
    # input and previous hidden state meet on a bus that feeds every gate
    _line(lstm, [(-0.5, 1.0), (6.8, 1.0)])
    _line(lstm, [(1.0, -0.5), (1.0, 1.0)])
    gates = [(2.2, r"$\sigma$", GATE, "f"), (3.6, r"$\sigma$", GATE, "i"),
             (5.0, r"$\tanh$", TANH, "g"), (6.8, r"$\sigma$", GATE, "o")]
    for x, label, colour, name in gates:
        _arrow(lstm, (x, 1.0), (x, 1.9))
        _box(lstm, (x, 2.2), label, colour)
        lstm.text(x + 0.5, 1.55, f"${name}_t$", fontsize=12, ha="left")
    # forget gate scales the old cell state
    _arrow(lstm, (2.2, 2.5), (2.2, 4.56))
    # input gate times candidate, added to the cell state
    _line(lstm, [(3.6, 2.5), (3.6, 3.6), (4.06, 3.6)])
    _line(lstm, [(5.0, 2.5), (5.0, 3.6), (4.54, 3.6)])
    _op(lstm, (4.3, 3.6), r"$\times$")
    _arrow(lstm, (4.3, 3.84), (4.3, 4.56))
    # output: tanh of the new cell state, gated by o
    _arrow(lstm, (8.2, 4.8), (8.2, 3.9))
    _box(lstm, (8.2, 3.6), r"$\tanh$", TANH, width=0.9, height=0.5, fontsize=11)
    _line(lstm, [(8.2, 3.35), (8.2, 2.44)])
    _line(lstm, [(7.25, 2.2), (7.96, 2.2)])
    _op(lstm, (8.2, 2.2), r"$\times$")
    _line(lstm, [(8.2, 1.96), (8.2, 1.0), (9.3, 1.0)])
    _arrow(lstm, (9.3, 1.0), (10.9, 1.0))
    _line(lstm, [(9.3, 1.0), (9.3, 4.65)])
    _arrow(lstm, (9.3, 4.95), (9.3, 6.2))
    lstm.text(-0.55, 5.05, r"$c_{t-1}$", fontsize=14, color=CELL)
    lstm.text(10.15, 5.05, r"$c_t$", fontsize=14, color=CELL)
    lstm.text(-0.55, 1.25, r"$h_{t-1}$", fontsize=14)
    lstm.text(1.2, -0.45, r"$x_t$", fontsize=14)
    lstm.text(10.15, 1.25, r"$h_t$", fontsize=14)
    lstm.text(9.45, 5.9, r"$h_t$ (output)", fontsize=11)
    lstm.text(5.1, 0.55, r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad "
              r"h_t = o_t \odot \tanh(c_t)$", ha="center", fontsize=10)
    lstm.text(0.6, 5.95, "cell state $c$ (long-term memory)", fontsize=11, color=CELL)
    lstm.set_title("LSTM cell: hidden state $h$ and cell state $c$, four gates", fontsize=13)
    lstm.set_xlim(-0.8, 11.5)

    for ax in (rnn, lstm):
        ax.set_ylim(-0.8, 6.5)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.text(0.5, 0.015,
             r"$\sigma$: sigmoid gate (0 = block, 1 = pass)    "
             r"$f$ forget, $i$ input, $g$ candidate, $o$ output    "
             r"$\times$, $\odot$: element-wise product",
             ha="center", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def synthetic_digit(size: int = 28) -> np.ndarray:
    """A hand-drawn looking "7" on a size x size grid, values in [0, 1].

    Drawn from line segments so the site needs no data set; it only illustrates how an
    image becomes a sequence of rows.
    """
    strokes = [((5.5, 2.2), (21.5, 2.0)), ((21.5, 2.0), (12.0, 25.0)),
               ((10.0, 13.0), (19.0, 13.0))]
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    distance = np.full((size, size), np.inf)
    for (x0, y0), (x1, y1) in strokes:
        d = np.array([x1 - x0, y1 - y0])
        t = np.clip(((xx - x0) * d[0] + (yy - y0) * d[1]) / (d @ d), 0, 1)
        distance = np.minimum(distance, np.hypot(xx - (x0 + t * d[0]), yy - (y0 + t * d[1])))
    return np.clip(1.6 - distance / 1.1, 0, 1)


def unrolled_image() -> plt.Figure:
    """An image unrolled into 28 time steps: row t is the input x_t of step t."""
    image = synthetic_digit()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    # the image, 28 x 28, one unit per pixel, drawn at 1/7 scale
    s = 1 / 7
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=1, extent=(0, 28 * s, 1.2, 1.2 + 28 * s),
              origin="upper", interpolation="nearest")
    ax.add_patch(Rectangle((0, 1.2), 28 * s, 28 * s, fill=False, ec=HIDDEN, lw=1))
    ax.text(2.0, 0.75, "one MNIST image\n28 × 28 pixels", ha="center", va="center")
    shown = [0, 1, 2, 13, 27]
    colours = ["C0", "C1", "C2", "C4", "C3"]
    for t, colour in zip(shown, colours):
        top = 1.2 + 28 * s - t * s
        ax.add_patch(Rectangle((0, top - s), 28 * s, s, fill=False, ec=colour, lw=1.4))

    # the sequence: one LSTM step per row, the states carried to the right
    xs = {0: 5.6, 1: 7.4, 2: 9.2, 13: 11.6, 27: 13.8}
    for (t, colour) in zip(shown, colours):
        x = xs[t]
        ax.imshow(image[t:t + 1], cmap="gray_r", vmin=0, vmax=1, aspect="auto",
                  extent=(x - 0.7, x + 0.7, 0.55, 0.8), interpolation="nearest")
        ax.add_patch(Rectangle((x - 0.7, 0.55), 1.4, 0.25, fill=False, ec=colour, lw=1.4))
        ax.text(x, 0.3, f"$x_{{{t}}}$ = row {t}", ha="center", fontsize=10, color=colour)
        _arrow(ax, (x, 0.82), (x, 1.55))
        _box(ax, (x, 1.9), "LSTM", TANH, width=1.2, height=0.7, fontsize=11)
        ax.text(x, 2.5, f"t = {t}", ha="center", fontsize=10)
    for a, b in [(0, 1), (1, 2), (13, 27)]:
        _arrow(ax, (xs[a] + 0.6, 1.9), (xs[b] - 0.6, 1.9))
    _line(ax, [(xs[2] + 0.6, 1.9), (xs[2] + 0.95, 1.9)])
    ax.text((xs[2] + xs[13]) / 2, 1.9, "⋯", ha="center", va="center", fontsize=16)
    _arrow(ax, (xs[13] - 0.95, 1.9), (xs[13] - 0.6, 1.9))
    ax.text((xs[0] + xs[1]) / 2, 2.08, "$h, c$", ha="center", fontsize=10)
    # the last hidden state is read out
    _arrow(ax, (xs[27], 2.25), (xs[27], 3.15))
    ax.text(xs[27] + 0.12, 2.9, r"$h_{27}$ = out[:, -1, :]", fontsize=10)
    _box(ax, (xs[27], 3.5), "Linear 100 → 10", GATE, width=2.2, height=0.6, fontsize=11)
    _arrow(ax, (xs[27], 3.8), (xs[27], 4.45))
    ax.text(xs[27], 4.6, "10 logits, one per digit 0–9", ha="center", fontsize=10)
    ax.text(9.7, -0.35, "28 time steps (seq_dim = 28), 28 features per step (input_dim = 28)\n"
            "the same 784 numbers a feedforward net takes as one flat vector",
            ha="center", va="top", fontsize=11)
    ax.set_xlim(-0.2, 15.8)
    ax.set_ylim(-1.3, 5.3)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def _model_a_parameters() -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of Model A's parameter groups, from a real LSTMModel(28, 100, 1, 10)."""
    from lstm_helpers import LSTMModel  # torch is imported only when this figure is drawn

    model = LSTMModel(input_dim=28, hidden_dim=100, layer_dim=1, output_dim=10)
    return [(name, tuple(p.shape)) for name, p in model.named_parameters()]


def parameter_groups() -> plt.Figure:
    """Model A's six parameter groups drawn to scale (100 rows or columns = 1 unit).

    Grouped as in the tutorial's breakdown: input -> gates, hidden state -> gates, hidden
    state -> output. The recurrent weights and biases stack the four gates along their
    first dimension in PyTorch's order (i, f, g, o), so each shows four bands of 100 rows.
    The number under each name is its position in ``model.parameters()``.
    """
    groups = _model_a_parameters()
    index = {name: k for k, (name, _) in enumerate(groups)}
    shapes = dict(groups)
    clusters = [
        ("input → gates", ["lstm.weight_ih_l0", "lstm.bias_ih_l0"]),
        ("hidden state → gates", ["lstm.weight_hh_l0", "lstm.bias_hh_l0"]),
        ("hidden state → output (readout)", ["fc.weight", "fc.bias"]),
    ]
    fig, ax = plt.subplots(figsize=(12, 5.2))
    unit, top, x = 1 / 100, 4.2, 0.0
    for title, names in clusters:
        left = x
        for name in names:
            shape = shapes[name]
            rows = shape[0]
            width = max(shape[1] * unit, 0.12) if len(shape) == 2 else 0.12
            slot = max(width, 1.9)
            x0 = x + (slot - width) / 2
            if name.startswith("lstm."):
                band = rows // 4
                for k, gate in enumerate("ifgo"):
                    y = top - (k + 1) * band * unit
                    ax.add_patch(Rectangle((x0, y), width, band * unit,
                                           fc=GATE_BANDS[gate], ec=HIDDEN, lw=0.8))
                    if width >= 0.25:
                        ax.text(x0 + width / 2, y + band * unit / 2, gate, ha="center",
                                va="center", fontsize=13)
            else:
                ax.add_patch(Rectangle((x0, top - rows * unit), width, rows * unit,
                                       fc="#d7bde2", ec=HIDDEN, lw=0.8))
            centre = x + slot / 2
            ax.text(centre, top + 0.12, str(list(shape)), ha="center", va="bottom",
                    fontsize=12.5)
            ax.text(centre, -0.1, name, ha="center", va="top", fontsize=11)
            ax.text(centre, -0.5, f"parameters() #{index[name]}", ha="center", va="top",
                    fontsize=10, color="#566573")
            x += slot + 0.25
        right = x - 0.25
        _line(ax, [(left, 4.85), (right, 4.85)], lw=1.0)
        ax.text((left + right) / 2, 4.95, title, ha="center", va="bottom", fontsize=12.5)
        x += 0.6
    total = sum(int(np.prod(shape)) for _, shape in groups)
    ax.text(0, 5.65, f"Model A: {len(groups)} parameter groups, {total:,} numbers. "
            "Each recurrent group stacks four gates of 100 rows: 4 × 100 = 400.",
            fontsize=12.5)
    legend = [Rectangle((0, 0), 1, 1, fc=GATE_BANDS[g], ec=HIDDEN) for g in "ifgo"]
    ax.legend(legend, ["i: input gate", "f: forget gate", "g: candidate cell",
                       "o: output gate"], loc="center right", fontsize=11, frameon=False)
    ax.set_xlim(-0.3, x + 1.6)
    ax.set_ylim(-0.9, 6.0)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


DIAGRAMS = {
    "rnn-vs-lstm.svg": rnn_vs_lstm,
    "unrolled-image.svg": unrolled_image,
    "parameter-groups.svg": parameter_groups,
}


def render_svg(figure: plt.Figure) -> bytes:
    """The figure as SVG bytes, without the creation date, then closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight",
                   pad_inches=0.1)
    plt.close(figure)
    return buffer.getvalue()


def render_all() -> dict[str, bytes]:
    """Every diagram as ``{file name: SVG bytes}``, drawn with the site's fixed style."""
    # "default" first: a user's matplotlibrc or style must not change the site's drawings.
    with matplotlib.style.context(["default", _STYLE]):
        return {name: render_svg(draw()) for name, draw in DIAGRAMS.items()}


def main(argv: list[str]) -> int:
    """Write every diagram into the folder given as the only argument."""
    if len(argv) != 1:
        print("usage: python -m site_hooks.diagrams OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, svg in render_all().items():
        (out / name).write_bytes(svg)
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
