// The flow form's live preview of the initiation message: as the operator types, the
// server renders it with sample values (flows.placeholders, the code that sends it).
(function () {
  "use strict";
  function start() {
    var box = document.querySelector(".flow-preview");
    var text = document.getElementById("id_initiation_message");
    if (!box || !text || !window.fetch) return;
    var timer = null;
    function refresh() {
      var url = box.dataset.previewUrl + "?text=" + encodeURIComponent(text.value);
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer) box.textContent = answer.preview; })
        .catch(function () {});
    }
    text.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    });
    if (!box.textContent.trim() && text.value) refresh();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
