// MathJax 3 settings for the whole site; read by assets/mathjax/tex-svg.js, which loads
// after this file (both are listed in mkdocs.yml, extra_javascript).
//
// Only two kinds of element are typeset:
// - on Markdown pages, pymdownx.arithmatex (generic mode) wraps each formula in
//   <span class="arithmatex">\( ... \)</span> or <div class="arithmatex">\[ ... \]</div>;
// - on notebook pages, the markdown cells (class jp-RenderedMarkdown) keep the notebook's
//   $ ... $ and $$ ... $$.
// A dollar sign anywhere else on a page (code, printed outputs) is left alone, and so is
// code inside those elements (MathJax skips <code> and <pre>).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  startup: {
    elements: [".arithmatex", ".jp-RenderedMarkdown", ".jp-RenderedLatex"],
  },
  svg: { fontCache: "global" },
};
