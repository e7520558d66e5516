// dealerdesk web UI behaviour that htmx attributes do not cover: countdowns, keyboard selection in row lists,
// shortcut keys, clickable rows, the menus. Live updates (bell, major board) are htmx's SSE extension.
(function () {
  "use strict";

  // ---- the server's clock: countdowns run on it, so a PC clock that is off does not move deadlines ----
  const serverNow = document.querySelector('meta[name="server-now"]');
  const skew = serverNow ? Date.parse(serverNow.content) - Date.now() : 0;
  window.dealerdesk = Object.assign(window.dealerdesk || {}, { now: function () { return Date.now() + skew; } });

  // ---- countdowns: <span class="countdown" data-due="ISO">, first written by the server (templating.countdown_text),
  // in the same words: "剩余 14小时22分" / "已超时 3分钟"; `soon` under 4 hours, `overdue` once passed ----
  const english = document.documentElement.lang === "en";
  function duration(seconds) {
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    if (d) return english ? d + "d " + h + "h" : d + "天" + h + "小时";
    if (h) return english ? h + "h " + m + "m" : h + "小时" + m + "分";
    return english ? m + " min" : m + "分钟";
  }
  function countdowns() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      const left = Math.trunc((Date.parse(el.dataset.due) - window.dealerdesk.now()) / 1000);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 4 * 3600);
      el.textContent = (left < 0 ? (english ? "overdue by " : "已超时 ") : (english ? "left: " : "剩余 ")) + duration(Math.abs(left));
    });
  }

  // ---- row lists: ↑/↓ select a row, Enter picks it, Esc clears the search ----
  // <input data-rows="#list"> drives the `.selectable` rows of #list from the search box; a list with
  // `data-rows="page"` is driven from anywhere on the page outside a text field. Picking a row opens its
  // `data-href`, or fires `pick` on it (rows that do something else say hx-trigger="click, pick").
  function rowsOf(list) { return Array.from(list.querySelectorAll(".selectable")); }
  function pick(row) {
    if (row.dataset.href) window.location.href = row.dataset.href; else htmx.trigger(row, "pick");
  }
  function move(list, step) {
    const all = rowsOf(list);
    if (!all.length) return;
    const current = all.findIndex(function (row) { return row.classList.contains("selected"); });
    const index = current < 0 ? (step > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, current + step));
    all.forEach(function (row, i) { row.classList.toggle("selected", i === index); row.toggleAttribute("aria-selected", i === index); });
    all[index].scrollIntoView({ block: "nearest" });
  }
  // The rows answer what is in the box now (the server marks the fragment with its query; no search under way).
  function upToDate(list, input) {
    const holder = list.querySelector("[data-query]");
    return !input || (holder && holder.dataset.query === input.value.trim() && !input.classList.contains("htmx-request"));
  }
  function rowKeys(event, list, input) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(list, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && (input || list.querySelector(".selected"))) {
      event.preventDefault();
      const row = list.querySelector(".selectable.selected") || rowsOf(list)[0];
      if (upToDate(list, input)) {
        if (row) pick(row);
      } else {  // Enter before the results came: search now, take the first result when it arrives
        list.addEventListener("htmx:afterSettle", function () {
          if (rowsOf(list)[0] && upToDate(list, input)) pick(rowsOf(list)[0]);
        }, { once: true });
        htmx.trigger(input, "search");
      }
    } else if (event.key === "Escape" && input) {
      input.value = "";
      htmx.trigger(input, "search");
    }
  }

  // ---- shortcut keys: an element with data-key="n" (or "escape", "ctrl+enter") is clicked by that key ----
  // Plain keys are left alone while typing in a text field; Ctrl+… works anywhere.
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(el.type)));
  }
  function shortcut(event) {
    const key = ((event.ctrlKey || event.metaKey) ? "ctrl+" : "") + event.key.toLowerCase();
    if (!key.startsWith("ctrl+") && typing(event.target)) return;
    const target = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (target) { event.preventDefault(); target.click(); }
  }

  document.addEventListener("keydown", function (event) {
    const input = event.target.closest && event.target.closest("input[data-rows]");
    const list = input ? document.querySelector(input.dataset.rows)
      : !typing(event.target) && document.querySelector('[data-rows="page"]');
    if (list && ["ArrowDown", "ArrowUp", "Enter", "Escape"].includes(event.key)) rowKeys(event, list, input);
    if (!event.defaultPrevented) shortcut(event);
  });

  // A click anywhere on a row opens it; links inside the row keep their own behaviour (middle-click, copy).
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input") && !window.getSelection().toString()) {
      window.location.href = row.dataset.href;
    }
    // Clicking outside an open menu (user, notifications) closes it.
    document.querySelectorAll("details.user-menu[open], details.notif-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // An htmx request that fails (server error, network) would otherwise change nothing on the page.
  function showFailure() {
    const box = document.getElementById("toasts");
    if (!box) return;
    const note = document.createElement("div");
    note.className = "toast";
    note.setAttribute("role", "status");
    note.textContent = box.dataset.failedText;
    box.appendChild(note);
  }
  // ---- small behaviours the CSP keeps out of the templates (no inline handlers, no hx-on) ----
  // data-back: a button that goes back; data-autosubmit: a select that submits its form when changed.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-back]")) history.back();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]") && event.target.form) event.target.form.submit();
  });
  // data-swap-invalid: a form whose 400 answer (the form again, with its field errors) is swapped in like a success.
  // data-swap-refused: a form whose refusals (400, 403, 404, 429) are fragments saying why, shown in place; a whole
  // error page (a lost session) is not swapped into it and goes to the failure toast as before.
  const REFUSALS = [400, 403, 404, 429];
  document.addEventListener("htmx:beforeSwap", function (event) {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;  // the form (the event fires on the target)
    if (!source || !source.closest) return;
    const status = event.detail.xhr.status;
    const invalid = status === 400 && source.closest("[data-swap-invalid]");
    const refused = REFUSALS.includes(status) && source.closest("[data-swap-refused]") &&
      !/^\s*<(!doctype|html)/i.test(event.detail.serverResponse || "");
    if (invalid || refused) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // data-settle-focus="part-id #field": once the fragment part-id settles inside this element, focus #field.
  document.addEventListener("htmx:afterSettle", function (event) {
    const host = event.target.closest("[data-settle-focus]");
    if (!host) return;
    const [part, field] = host.dataset.settleFocus.split(" ");
    const input = event.target.id === part && host.querySelector(field);
    if (input) input.focus();
  });
  // data-sse-state="#badge": the badge's data-state follows the element's event stream (open / retrying).
  document.addEventListener("htmx:sseOpen", function (event) { sseState(event, "open"); });
  document.addEventListener("htmx:sseError", function (event) { sseState(event, "retrying"); });
  function sseState(event, state) {
    const host = event.target.closest("[data-sse-state]");
    const badge = host && document.querySelector(host.dataset.sseState);
    if (badge) badge.dataset.state = state;
  }

  // ---- narrow screens ----
  // data-nav-toggle: the menu button opens and closes the navigation (body.nav-open); Esc, a click outside
  // the navigation or following one of its links closes it.
  function setNav(open) {
    document.body.classList.toggle("nav-open", open);
    document.querySelectorAll("[data-nav-toggle]").forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-nav-toggle]")) {
      setNav(!document.body.classList.contains("nav-open"));
    } else if (document.body.classList.contains("nav-open") &&
               (!event.target.closest(".sidebar") || event.target.closest(".sidebar a"))) {
      setNav(false);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("nav-open")) setNav(false);
  });
  // table[data-cards]: on a narrow screen each row becomes a card; every cell is labelled with its column's
  // heading (data-label), unless the template labelled it already.
  function cardLabels(root) {
    root.querySelectorAll("table[data-cards]").forEach(function (table) {
      const heads = Array.from(table.querySelectorAll("thead th")).map(function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.from(row.children).forEach(function (cell, i) {
          if (!cell.hasAttribute("data-label") && heads[i]) cell.dataset.label = heads[i];
        });
      });
    });
  }

  document.addEventListener("htmx:responseError", showFailure);
  document.addEventListener("htmx:sendError", showFailure);

  htmx.onLoad(countdowns);  // the page, and every part htmx swaps in
  htmx.onLoad(function () { cardLabels(document); });
  window.setInterval(countdowns, 15000);
})();
