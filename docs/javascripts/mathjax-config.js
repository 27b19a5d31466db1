// MathJax 3 settings for the site; read by assets/mathjax/tex-svg.js, which loads after
// this file. The site build (site_hooks/mkdocs_hooks.py) adds both scripts only to the
// pages that hold a formula.
//
// Only one kind of element is typeset: <span class="arithmatex">\( ... \)</span> and
// <div class="arithmatex">\[ ... \]</div>, which pymdownx.arithmatex writes for the
// Markdown pages and site_hooks/pages.py for the notebooks' $ ... $ and $$ ... $$.
// A dollar sign anywhere else on a page (code, printed outputs) is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  startup: {
    elements: [".arithmatex"],
  },
  svg: { fontCache: "global" },
};
