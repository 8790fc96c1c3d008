// Loaded on pages with widgets, after require.js and before embed-amd.js
// (the order of nb_ipywidgets_js in _config.yml). Three fixes for the
// vendored @jupyter-widgets/html-manager 1.0 bundle in this theme:
(function () {
  "use strict";
  // 1. embed-amd.js loads its FontAwesome 4 fonts relative to the URL that
  //    require.js gives the "@jupyter-widgets/..." modules, i.e. next to the
  //    page by default (404s). Point those module paths at the vendored
  //    folder (the modules themselves are all defined inside embed-amd.js).
  var widgetsDir = document.currentScript.src.replace(/[^\/]*$/, "") + "widgets";
  window.require.config({paths: {
    "@jupyter-widgets": widgetsDir,
    "@jupyter-widgets/html-manager/dist": widgetsDir
  }});

  // 2. The widgets typeset their descriptions with the MathJax 2 call
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, el]); the book loads
  //    MathJax 3, which has typesetPromise instead. Map the one onto the other.
  function shim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) {
      return;
    }
    mj.Hub = {
      Queue: function (job) {
        var el = Array.isArray(job) ? job[2] : undefined;
        var m = window.MathJax;
        if (m && m.startup && m.startup.promise && m.typesetPromise) {
          m.startup.promise.then(function () {
            return m.typesetPromise(el ? [el] : undefined);
          });
        }
      }
    };
  }
  shim();  // in case the widgets typeset before MathJax 3 has started
  // MathJax 3 (a deferred script) replaces window.MathJax before this runs
  document.addEventListener("DOMContentLoaded", shim);

  // 3. The theme's FontAwesome 6 (autoReplaceSvg: "nest", set in <head> by
  //    book/_ext/rnnbook_sphinx.py) draws the Play button's icon as an <svg>
  //    inside its <i> and takes the classes off the <i>. When playing starts
  //    the widget sets the <i>'s class to "fa fa-pause"; FontAwesome does not
  //    follow that change, so the stale "play" <svg> would stay next to the
  //    pause glyph that the widgets' own FontAwesome 4 font now draws. Once
  //    the widget has set an icon class, show only that glyph.
  var style = document.createElement("style");
  style.textContent =
    ".jupyter-widgets i[data-fa-i2svg][class*='fa-'] > svg { display: none; }";
  document.head.appendChild(style);
})();
