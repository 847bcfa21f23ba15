// The transcript polls a small HTML fragment: new messages and status changes appear
// without a reload. No library and no build step; served by the app (whitenoise).
(function () {
  "use strict";
  var box = document.getElementById("transcript");
  if (!box || !window.fetch) return;
  var url = box.dataset.pollUrl;
  var every = (Number(box.dataset.pollSeconds) || 2) * 1000;

  // Not while the operator is typing an edit or has an edit form open: a re-render
  // would throw their text away. The next poll after they finish catches up.
  function busy() {
    var active = document.activeElement;
    if (active && box.contains(active) && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName)) {
      return true;
    }
    return box.querySelector("details[open]") !== null;
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  }

  function poll() {
    if (document.hidden || busy()) return schedule();
    fetch(url + "?v=" + encodeURIComponent(box.dataset.version), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        var version = response.headers.get("X-Transcript-Version");
        // 204: nothing new. No version header: not the fragment (a login page after
        // the session ended): leave the page as it is.
        if (response.status !== 200 || !version) return;
        return response.text().then(function (html) {
          var follow = nearBottom();
          box.innerHTML = html;
          box.dataset.version = version;
          if (follow && box.lastElementChild) box.lastElementChild.scrollIntoView({ block: "end" });
        });
      })
      .catch(function () {
        /* the network blinked: the next poll tries again */
      })
      .then(schedule);
  }

  function schedule() {
    window.setTimeout(poll, every);
  }

  schedule();
})();
