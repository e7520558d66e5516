// The call screen: the satisfaction part shows once the customer is reached; scores are required then, unless the
// customer declined the survey. Keys (1–4 outcome, Y/U, Ctrl+Enter save and next, Esc put the call back) are the
// layout's shortcut keys (data-key, app.js).
(function () {
  "use strict";

  function showReached(form) {
    const reached = form.querySelector("input[name=outcome][value=reached]");
    const part = document.getElementById("reached-part");
    if (part) part.hidden = !(reached && reached.checked);
    const declined = document.getElementById("survey-declined");
    form.querySelectorAll("#scores input").forEach(function (input) {
      input.disabled = Boolean(declined && declined.checked);
      input.required = Boolean(reached && reached.checked) && !input.disabled;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A store filter submits on change (no inline onchange: the CSP allows no inline script).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    const form = document.getElementById("outcome-form");
    if (!form) return;
    showReached(form);
    form.addEventListener("change", function (event) {
      showReached(form);
      const firstScore = form.querySelector("#scores input");
      if (event.target.name === "satisfied" && firstScore && !firstScore.disabled) firstScore.focus();
    });
  });
})();
