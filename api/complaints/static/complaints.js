// Complaint pages: live deadline countdowns and the keyboard-first intake screen. No build step.
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";

  // ---- countdowns: <span class="countdown" data-due="ISO"> re-rendered every 30 s ----
  function duration(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    if (d) return en ? d + "d " + h + "h" : d + "天" + h + "小时";
    if (h) return en ? h + "h " + m + "m" : h + "小时" + m + "分";
    return en ? m + " min" : m + "分钟";
  }
  function tick() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - window.dealerdesk.now()) / 1000);
      var overdue = left < 0;
      el.classList.toggle("overdue", overdue);
      var text = el.querySelector(".cd-text");
      if (text) text.textContent = (overdue ? (en ? "overdue by " : "已超时 ") : (en ? "left: " : "剩余 ")) + duration(Math.abs(left));
    });
  }

  // ---- intake: type to look up, ↑/↓ pick a car, Enter takes it, Ctrl+Enter submits ----
  function wireIntake(form) {
    var lookup = form.querySelector("#lookup");
    var list = form.querySelector("#candidates");
    function rows() { return Array.from(list.querySelectorAll("tr.candidate")); }
    function current() { return rows().findIndex(function (r) { return r.classList.contains("selected"); }); }
    function mark(index) {
      var all = rows();
      all.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
      if (!all.length) return null;
      var row = all[Math.max(0, Math.min(index, all.length - 1))];
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
      row.scrollIntoView({ block: "nearest" });
      return row;
    }
    function take(row) {
      form.querySelector("#customer_id").value = row.dataset.customer;
      form.querySelector("#vehicle_id").value = row.dataset.vehicle;
      form.querySelector("#chosen_text").value = row.dataset.text;
      form.querySelector("#chosen-text").textContent = row.dataset.text;
      form.querySelector("#chosen").hidden = false;
      var query = "?customer_id=" + row.dataset.customer + "&vehicle_id=" + row.dataset.vehicle;
      htmx.ajax("GET", "/complaint-intake/repeat" + query, { target: form.querySelector("#repeat-check"), swap: "innerHTML" });
      var route = form.querySelector("#route");
      if (route) {
        htmx.ajax("GET", "/complaint-intake/route" + query, { target: route, swap: "innerHTML" });
      }
      form.querySelector("#content").focus();
    }
    lookup.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var i = current(), step = event.key === "ArrowDown" ? 1 : -1;
        mark(i < 0 ? (step > 0 ? 0 : rows().length - 1) : i + step);
      } else if (event.key === "Enter" && !event.ctrlKey) {
        event.preventDefault();
        var row = rows()[Math.max(current(), 0)];
        if (row) take(row);
      }
    });
    list.addEventListener("click", function (event) {
      var row = event.target.closest("tr.candidate");
      if (row) { mark(rows().indexOf(row)); take(row); }
    });
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
    var intake = document.getElementById("intake-form");
    if (intake) wireIntake(intake);
  });
})();
