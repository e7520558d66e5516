// Major-complaint pages: live countdowns to the 24-hour report deadline, and the board's live refresh.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function tick() {
    const now = window.dealerdesk.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      const left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      const s = Math.abs(left);
      const text = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
      el.textContent = (left >= 0 ? el.dataset.left : el.dataset.over) + " " + text;
      el.classList.toggle("late", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 4 * 3600);
    });
  }

  // The server says which major complaint changed; the board reloads its rows through the scoped query.
  function live() {
    const rows = document.getElementById("major-rows");
    const badge = document.getElementById("major-live");
    if (!rows || !window.EventSource) return;
    const source = new EventSource("/major/events");
    source.addEventListener("ready", function () { if (badge) badge.dataset.state = "open"; });
    source.addEventListener("major", function () { htmx.trigger(document.body, "major-changed"); });
    source.onerror = function () { if (badge) badge.dataset.state = "retrying"; };
    rows.addEventListener("htmx:afterSettle", function () {
      const count = document.getElementById("major-count");
      if (count) count.textContent = rows.querySelectorAll("tr[data-major-id]").length;
      tick();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    live();
  });
})();
