// Loaded on pages with widgets, after require.js and before embed-amd.js
// (the order of nb_ipywidgets_js in _config.yml). Three fixes for the
// vendored @jupyter-widgets/html-manager 1.0 bundle in this theme, and (4)
// the rule for live-only controls:
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

  // 4. Controls made with rnnlib.viz.live_interact need a kernel; a page of
  //    the built book has none (this script is not loaded in Jupyter). The
  //    html-manager renders the widget's _dom_classes as classes of its
  //    element: for every ".rnnbook-live-only" box, disable its controls
  //    (inputs, buttons, selects, the noUiSlider "disabled" attribute, the
  //    editable slider read-outs), grey them, and show its hidden note,
  //    completed with this page's notebook and its Binder launch link.
  //    The boxes render asynchronously, so a MutationObserver re-applies it.
  var CONTROL = ".widget-inline-hbox, .widget-play, .widget-button, .widget-toggle-button";
  function notebookPath() {
    // .../book/01_rnn.html -> book/01_rnn.ipynb (the path in the repository)
    var m = window.location.pathname.match(/((?:book\/)[^?#]*?)\.html$/);
    return m ? m[1] + ".ipynb" : "book/NN_name.ipynb";
  }
  function binderUrl() {
    var a = document.querySelector("a[href*='mybinder.org'], a[href*='/v2/gh/']");
    return a ? a.href : null;
  }
  function disableLiveOnly() {
    var boxes = document.querySelectorAll(".rnnbook-live-only");
    for (var b = 0; b < boxes.length; b++) {
      var box = boxes[b];
      box.classList.add("rnnbook-no-kernel");
      var els = box.querySelectorAll("input, button, select, textarea");
      for (var i = 0; i < els.length; i++) {
        if (!els[i].disabled) { els[i].disabled = true; }
      }
      var sliders = box.querySelectorAll(".noUi-target");
      for (i = 0; i < sliders.length; i++) {
        if (!sliders[i].hasAttribute("disabled")) { sliders[i].setAttribute("disabled", "true"); }
      }
      var handles = box.querySelectorAll(".noUi-handle[tabindex]");
      for (i = 0; i < handles.length; i++) { handles[i].removeAttribute("tabindex"); }
      var edits = box.querySelectorAll("[contenteditable='true']");
      for (i = 0; i < edits.length; i++) { edits[i].setAttribute("contenteditable", "false"); }
      var controls = box.querySelectorAll(CONTROL);
      for (i = 0; i < controls.length; i++) {
        if (controls[i].classList.contains("rnnbook-live-note") ||
            controls[i].classList.contains("widget-html")) { continue; }
        if (!controls[i].classList.contains("rnnbook-disabled")) {
          controls[i].classList.add("rnnbook-disabled");
          controls[i].setAttribute("aria-disabled", "true");
          controls[i].title = "Needs a running Python kernel (Binder or Jupyter)";
        }
      }
      // the note's HTML may be (re)written after the box appeared: complete
      // whatever is not completed yet, every time (idempotent)
      var notes = box.querySelectorAll(".rnnbook-live-note");
      for (i = 0; i < notes.length; i++) {
        var note = notes[i];
        if (note.style.display === "none") { note.style.display = ""; }
        var code = note.querySelector(".rnnbook-nb-path:not([data-rnnbook-done])");
        if (code) {
          code.setAttribute("data-rnnbook-done", "1");
          code.textContent = "jupyter lab " + notebookPath();
        }
        var url = binderUrl(), span = note.querySelector(".rnnbook-binder");
        if (url && span && !span.querySelector("a")) {
          var link = document.createElement("a");
          link.href = url;
          link.textContent = span.textContent;
          span.textContent = "";
          span.appendChild(link);
        }
      }
    }
  }
  var liveStyle = document.createElement("style");
  liveStyle.textContent =
    ".rnnbook-no-kernel .rnnbook-disabled { opacity: 0.45; cursor: not-allowed; }\n" +
    ".rnnbook-no-kernel .rnnbook-disabled * { pointer-events: none; }\n" +
    // the note's own layout says display: none (hidden in Jupyter); the
    // html-manager may apply that style after this script ran, so win by rule
    ".rnnbook-no-kernel .rnnbook-live-note { display: block !important; }\n" +
    ".rnnbook-live-note { margin: 0.3em 0 0.6em 0; padding: 0.35em 0.6em;" +
    " border-left: 3px solid var(--pst-color-warning, #c80); font-size: 0.9em;" +
    " line-height: 1.4; white-space: normal; max-width: 100%; }\n" +
    ".rnnbook-live-note, .rnnbook-live-note .widget-html-content { white-space: normal;" +
    " line-height: 1.45 !important; height: auto !important; }";
  document.head.appendChild(liveStyle);
  function watch() {
    disableLiveOnly();
    new MutationObserver(disableLiveOnly).observe(document.body, {childList: true, subtree: true});
    // the html-manager also rewrites a widget's contents and styles without
    // adding elements (no childList mutation): look again for a few seconds
    var runs = 0, timer = setInterval(function () {
      disableLiveOnly();
      if (++runs >= 20) { clearInterval(timer); }
    }, 500);
  }
  if (document.body) { watch(); } else { document.addEventListener("DOMContentLoaded", watch); }
})();
