// Keyboard for the callback pages. Queue: N next call, ↑/↓ select a row, Enter open it.
// Call screen: 1–4 outcome, Y/U satisfied or not, Ctrl+Enter save and next, Esc put the call back.
// Keys typed into a text field are left alone (except Ctrl+Enter, which saves from anywhere).
(function () {
  "use strict";

  function typing(event) {
    const el = event.target;
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(el.type)));
  }

  function queueKeys(event) {
    const next = document.getElementById("next-call");
    const rows = Array.from(document.querySelectorAll("#queue tr[data-href]"));
    const current = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    if ((event.key === "n" || event.key === "N") && next) {
      event.preventDefault();
      next.click();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && rows.length) {
      event.preventDefault();
      const index = Math.max(0, Math.min(rows.length - 1, current + (event.key === "ArrowDown" ? 1 : -1)));
      rows.forEach(function (row) { row.classList.remove("selected"); });
      rows[index].classList.add("selected");
      rows[index].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter" && current >= 0) {
      event.preventDefault();
      window.location.href = rows[current].dataset.href;
    }
  }

  function showReached(form) {
    const reached = form.querySelector("input[name=outcome][value=reached]");
    const part = document.getElementById("reached-part");
    if (part) part.hidden = !(reached && reached.checked);
    // Scores are required once reached, unless the customer declined the survey (then they are not asked).
    const declined = document.getElementById("survey-declined");
    form.querySelectorAll("#scores input").forEach(function (input) {
      input.disabled = Boolean(declined && declined.checked);
      input.required = Boolean(reached && reached.checked) && !input.disabled;
    });
  }

  function callKeys(event, form) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      document.getElementById("save-next").click();
      return;
    }
    if (typing(event)) return;
    const key = event.key.toLowerCase();
    const choice = form.querySelector('input[type=radio][data-key="' + key + '"]');
    if (choice) {
      event.preventDefault();
      choice.checked = true;
      showReached(form);
      if (choice.name === "satisfied" || choice.value === "reached") {
        const firstScore = form.querySelector("#scores input");
        if (choice.name === "satisfied" && firstScore) firstScore.focus();
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      document.getElementById("release").click();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A store filter submits on change (no inline onchange: the CSP allows no inline script).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    const form = document.getElementById("outcome-form");
    if (form) {
      showReached(form);
      form.addEventListener("change", function () { showReached(form); });
      document.addEventListener("keydown", function (event) { callKeys(event, form); });
    } else if (document.getElementById("queue")) {
      document.addEventListener("keydown", function (event) { if (!typing(event)) queueKeys(event); });
    }
  });
})();
