// Progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  function renderMath() {
    if (typeof window.renderMathInElement !== "function") return;
    document.querySelectorAll(".math").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false }
        ],
        throwOnError: false
      });
    });
  }

  // Upvote without a page reload; falls back to the normal form post on error.
  function enhanceVotes() {
    document.querySelectorAll("form[data-vote]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var data = new FormData(form);
        // form.getAttribute: the form has an input named "action", which shadows form.action.
        fetch(form.getAttribute("action"), { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (res) {
            form.querySelector(".count").textContent = res.upvotes;
            form.classList.toggle("voted", res.voted);
            form.querySelector("input[name=action]").value = res.voted ? "down" : "up";
            var button = form.querySelector("button");
            button.setAttribute("aria-pressed", res.voted ? "true" : "false");
            button.title = res.voted ? "Remove upvote" : "Upvote";
          })
          .catch(function () { form.submit(); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceVotes();
    renderMath();
  });
})();
