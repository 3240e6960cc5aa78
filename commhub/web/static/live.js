// Follows work under way without reloading: a page marks the parts that change with
// data-live (each with an id) and, while something moves, one element with
// data-refresh-seconds. Every few seconds the page is fetched again and each part's content
// is swapped for the fresh one, until the fresh page no longer asks to be followed. A part
// holding the keyboard focus is left alone, so that nobody loses the button they are on.
// Without JavaScript the page has a Refresh link.
(function () {
  var clock = document.querySelector("[data-refresh-seconds]");
  if (!clock || !window.fetch || !window.DOMParser) {
    return;
  }
  var seconds = Math.max(2, Number(clock.getAttribute("data-refresh-seconds")) || 5);

  function focusedIn(part) {
    var focused = document.activeElement;
    return focused && focused !== document.body && part.contains(focused);
  }

  function later() {
    window.setTimeout(refresh, seconds * 1000);
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live]").forEach(function (part) {
      var next = fresh.getElementById(part.id);
      if (next && !focusedIn(part) && part.innerHTML !== next.innerHTML) {
        part.innerHTML = next.innerHTML;  // the same element: a live region inside is announced
      }
    });
    if (fresh.querySelector("[data-refresh-seconds]")) {
      later();
    }
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (answer) {
        if (answer.redirected) {
          return;  // signed out, or the page moved: stop following
        }
        if (!answer.ok) {
          later();  // a passing error: try again
          return;
        }
        return answer.text().then(swap);
      })
      .catch(later);
  }
  later();
})();
