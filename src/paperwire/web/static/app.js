// Progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  // Maths: typeset $…$, $$…$$, \(…\) and \[…\] in .math elements, but only where
  // the text really holds TeX. Imported text often lost its backslashes
  // ("$Ccdot S2 where S1 is$"), so a segment of plain words is left as it is,
  // and one KaTeX cannot parse stays plain text (no red error). Outside maths,
  // TeX escapes such as "1\%" read as "1%".
  var OPENERS = [["$$", "$$", true], ["\\[", "\\]", true], ["\\(", "\\)", false], ["$", "$", false]];
  var ESCAPED = "%&#_${}";

  function looksLikeTex(src) {
    if (!src.trim() || src.length > 300) return false;
    var prose = src.replace(/\\(?:text|mathrm|textrm|textbf|textit|mbox|operatorname)\s*\{[^}]*\}/g, " ")
      .replace(/\\[A-Za-z]+/g, " ");
    var words = prose.match(/[A-Za-z]{3,}/g) || [];
    if (/[\\^_{}=<>+]/.test(src)) return words.length < 4;
    return /^\s*[A-Za-z0-9.,']{1,6}\s*$/.test(src);  // $n$, $k$, $10$, $QK$
  }

  function closing(text, close, from) {
    for (var j = text.indexOf(close, from); j >= 0; j = text.indexOf(close, j + 1)) {
      if (text[j - 1] !== "\\") return j;
    }
    return -1;
  }

  function mathParts(text) {
    var parts = [], plain = "", i = 0, changed = false;
    function flush() { if (plain) parts.push({ text: plain }); plain = ""; }
    while (i < text.length) {
      if (text[i] === "\\" && ESCAPED.indexOf(text[i + 1]) >= 0 && text[i + 1] !== undefined) {
        plain += text[i + 1]; i += 2; changed = true; continue;
      }
      var opener = null;
      for (var k = 0; k < OPENERS.length; k++) {
        if (text.startsWith(OPENERS[k][0], i)) { opener = OPENERS[k]; break; }
      }
      if (opener) {
        var from = i + opener[0].length, end = closing(text, opener[1], from);
        if (end > from && looksLikeTex(text.slice(from, end))) {
          try {
            var html = window.katex.renderToString(text.slice(from, end),
              { displayMode: opener[2], throwOnError: true, strict: "ignore", trust: false });
            flush(); parts.push({ html: html }); changed = true;
            i = end + opener[1].length;
            continue;
          } catch (e) { /* not valid TeX: keep the text as it is */ }
        }
      }
      plain += text[i]; i += 1;
    }
    flush();
    return changed ? parts : null;
  }

  function renderMath() {
    if (!window.katex || typeof window.katex.renderToString !== "function") return;
    document.querySelectorAll(".math").forEach(function (el) {
      var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), nodes = [];
      while (walker.nextNode()) nodes.push(walker.currentNode);
      nodes.forEach(function (node) {
        var parts = mathParts(node.nodeValue);
        if (!parts) return;
        var fragment = document.createDocumentFragment();
        parts.forEach(function (part) {
          if (part.html === undefined) { fragment.appendChild(document.createTextNode(part.text)); return; }
          var span = document.createElement("span");
          span.innerHTML = part.html;  // KaTeX's own markup, built from the text (trust: false)
          fragment.appendChild(span.firstChild);
        });
        node.parentNode.replaceChild(fragment, node);
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

  // The account menu closes when you click elsewhere (it opens and closes without this too).
  function closeMenusOnOutsideClick() {
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) menu.removeAttribute("open");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    closeMenusOnOutsideClick();
    enhanceVotes();
    renderMath();
  });
})();
