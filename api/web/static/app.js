// dealerdesk web UI behaviour that htmx attributes do not cover: keyboard selection in result lists,
// clickable rows, the menus, the notification bell. No build step, no dependencies besides htmx.
(function () {
  "use strict";

  // ---- the server's clock: countdowns run on it, so a PC clock that is off does not move deadlines ----
  const serverNow = document.querySelector('meta[name="server-now"]');
  const skew = serverNow ? Date.parse(serverNow.content) - Date.now() : 0;
  window.dealerdesk = Object.assign(window.dealerdesk || {}, { now: function () { return Date.now() + skew; } });

  // ---- result lists: ↑/↓ select a row, Enter opens it, Esc clears the search ----
  // <input data-result-list="#results"> drives rows `tr[data-href]` inside the list element.
  function rows(list) {
    return Array.from(list.querySelectorAll("tr[data-href]"));
  }

  function select(list, index) {
    const all = rows(list);
    all.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
    if (!all.length) return null;
    const row = all[Math.max(0, Math.min(index, all.length - 1))];
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
    return row;
  }

  // The query the shown results answer (set by the server on the result fragment).
  function shownQuery(list) {
    const holder = list.querySelector("[data-query]");
    return holder ? holder.dataset.query : null;
  }

  function selectedIndex(list) {
    return rows(list).findIndex(function (row) { return row.classList.contains("selected"); });
  }

  function wireResultList(input) {
    const list = document.querySelector(input.dataset.resultList);
    if (!list) return;
    let openFirstWhenLoaded = false;

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        const current = selectedIndex(list);
        select(list, current < 0 ? (step > 0 ? 0 : rows(list).length - 1) : current + step);
      } else if (event.key === "Enter") {
        event.preventDefault();
        const current = selectedIndex(list);
        const upToDate = shownQuery(list) === input.value.trim() && !input.classList.contains("htmx-request");
        if (current >= 0 && upToDate) {
          window.location.href = rows(list)[current].dataset.href;
        } else if (upToDate && rows(list).length) {
          window.location.href = rows(list)[0].dataset.href;
        } else {
          openFirstWhenLoaded = true;
          htmx.trigger(input, "search");
        }
      } else if (event.key === "Escape") {
        input.value = "";
        htmx.trigger(input, "search");
      }
    });

    list.addEventListener("htmx:afterSettle", function () {
      const first = rows(list)[0];
      if (openFirstWhenLoaded && first && shownQuery(list) === input.value.trim()) {
        window.location.href = first.dataset.href;
      }
      openFirstWhenLoaded = false;
    });
  }

  // A click anywhere on a row opens it; links inside the row keep their own behaviour (middle-click, copy).
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input") && !window.getSelection().toString()) {
      window.location.href = row.dataset.href;
    }
  });

  // A short message in the corner that goes away by itself.
  function toast(content) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const note = document.createElement("div");
    note.className = "toast";
    note.setAttribute("role", "status");
    note.appendChild(content);
    box.appendChild(note);
    window.setTimeout(function () { note.remove(); }, 8000);
  }

  // An htmx request that fails (server error, network) would otherwise change nothing on the page.
  document.addEventListener("htmx:responseError", showFailure);
  document.addEventListener("htmx:sendError", showFailure);
  function showFailure() {
    const box = document.getElementById("toasts");
    if (box) toast(document.createTextNode(box.dataset.failedText));
  }

  // ---- the bell: live notifications from the server's event stream (SSE) ----
  // `unread` carries the count on connect; each `notification` adds one, lists it and shows a toast.
  // Every entry links to /notifications/<id>, which marks it read and opens its subject.
  function wireBell(bell) {
    const badge = bell.querySelector(".badge");
    const menu = bell.closest("details");
    const panel = menu.querySelector(".notif-panel");
    const english = document.documentElement.lang === "en";
    let unread = 0;

    function showCount(count) {
      unread = count;
      bell.dataset.unread = String(count);
      badge.textContent = count > 99 ? "99+" : String(count);
      badge.hidden = count <= 0;
    }

    function entry(item) {
      const title = (english && item.title_en) || item.title_zh || item.title_en || "";
      const node = document.createElement(item.id ? "a" : "span");
      if (item.id) node.href = "/notifications/" + item.id;  // marks it read, then goes to its subject
      node.textContent = title;
      return node;
    }

    function addToList(item) {
      const list = panel.querySelector(".notif-list");
      const empty = list.querySelector(".notif-empty");
      if (empty) empty.remove();
      const li = document.createElement("li");
      li.className = "notif-item unread";
      li.appendChild(entry(item));
      list.prepend(li);
    }

    // Opening the bell loads the latest notifications from the server (the list, unread marked, and the count).
    let loading = null;
    function loadMenu() {
      const here = window.location.pathname + window.location.search;
      const url = panel.dataset.menu + "?next=" + encodeURIComponent(here);
      const request = fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          if (loading !== request) return;
          const holder = document.createElement("div");
          holder.innerHTML = html;
          const body = holder.querySelector(".notif-body");
          if (!body) return;
          panel.querySelector(".notif-body").replaceWith(body);
          showCount(parseInt(body.dataset.unread, 10) || 0);
        })
        .catch(function () { showFailure(); });
      loading = request;
    }
    menu.addEventListener("toggle", function () { if (menu.open) loadMenu(); });

    if (!window.EventSource || !bell.dataset.events) return;
    const source = new EventSource(bell.dataset.events);
    source.addEventListener("unread", function (event) {
      showCount(JSON.parse(event.data).unread || 0);
    });
    source.addEventListener("notification", function (event) {
      const item = JSON.parse(event.data);
      showCount(unread + 1);
      addToList(item);
      toast(entry(item));
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // Clicking outside an open menu (user, notifications) closes it.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open], details.notif-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-result-list]").forEach(wireResultList);
    const bell = document.getElementById("notif-bell");
    if (bell) wireBell(bell);
    document.querySelectorAll("[data-back]").forEach(function (button) {
      button.addEventListener("click", function () { window.history.back(); });
    });
  });
})();
