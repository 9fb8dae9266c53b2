// The offer form's live preview. After a short pause in typing, the form is posted as if
// Preview were pressed (the server renders the landing page from the unsaved values and
// writes nothing) and the preview frame takes the new page. Without this script the Preview
// button does the same with a page load, so the form works with scripting off.
(function () {
  "use strict";
  var form = document.getElementById("offer-form-fields");
  if (!form || !window.fetch || !window.DOMParser) return;
  var timer = null;
  var latest = 0;

  function show(fresh) {
    var current = document.getElementById("preview");
    if (!current) {
      form.closest(".card").after(document.importNode(fresh, true));
      return;
    }
    var frame = current.querySelector("iframe");
    var source = fresh.querySelector("iframe");
    if (frame && source) frame.srcdoc = source.getAttribute("srcdoc");
    current.setAttribute("data-live", String(latest));
  }

  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    body.set("preview", "1");
    var mine = ++latest;
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        // An older answer arriving after a newer one is dropped.
        if (html === null || mine !== latest) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("preview");
        if (fresh) show(fresh);
      })
      .catch(function () { /* the Preview button still works */ });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  });
})();
