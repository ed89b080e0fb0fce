/* Tillit dialogue widget: one plain file, no framework, no inline script or style (CSP-safe).
 * Embed: <div data-tillit-dialogue data-token="WIDGET TOKEN" data-lang="sv"></div>
 *        <script src="https://tillit.example.com/static/tillit-dialogue.js" defer></script>
 * It asks /api/v1/dialogues/widget/TOKEN/next (same fatigue rules as every channel) and posts
 * the answer to the ask's own link with Accept: application/json. */
(function () {
  "use strict";
  var SCRIPT = document.currentScript;
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }
  function render(box, base, q) {
    var form = el("form", { "class": "dialogue-widget" });
    form.appendChild(el("p", {}, q.text));
    if (q.scale) {
      q.scale.forEach(function (v) {
        var label = el("label", { "class": "scale-point" });
        label.appendChild(el("input", { type: "radio", name: "score", value: String(v), required: "" }));
        label.appendChild(el("span", {}, String(v)));
        form.appendChild(label);
      });
    }
    q.options.forEach(function (o) {
      var label = el("label", { "class": "row" });
      label.appendChild(el("input", { type: q.type === "multiple" ? "checkbox" : "radio", name: "choices", value: o.value }));
      label.appendChild(document.createTextNode(" " + o.label));
      form.appendChild(label);
    });
    if (q.type === "text" || q.key === "rel_never") {
      form.appendChild(el("textarea", { name: "text", rows: "3", required: "", "aria-label": q.text }));
    }
    if (q.follow_up) {
      form.appendChild(el("textarea", { name: "follow_up", rows: "2", "aria-label": q.follow_up, placeholder: q.follow_up }));
    }
    form.appendChild(el("button", { type: "submit" }, q.submit_label || "OK"));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(base + "/d/" + encodeURIComponent(q.token), {
        method: "POST", headers: { "Accept": "application/json" },
        body: new URLSearchParams(new FormData(form))
      }).then(function (r) {
        box.textContent = r.ok ? "\u2713" : "";
      });
    });
    box.textContent = "";
    box.appendChild(form);
  }
  function start(box) {
    var script = SCRIPT || document.querySelector("script[src$='tillit-dialogue.js']");
    var base = box.getAttribute("data-base") || (script ? new URL(script.src).origin : "");
    var url = base + "/api/v1/dialogues/widget/" + encodeURIComponent(box.getAttribute("data-token")) +
      "/next?language=" + encodeURIComponent(box.getAttribute("data-lang") || "");
    fetch(url, { headers: { "Accept": "application/json" } }).then(function (r) {
      if (r.status === 200) { return r.json().then(function (q) { render(box, base, q); }); }
    });
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-tillit-dialogue]"), start);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
