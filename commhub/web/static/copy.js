// "Copy" beside a read-only field: shown only where the browser can copy, and it says so
// once it has. Without JavaScript the field is still there to select.
(function () {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var said = document.querySelector('[data-copied="' + button.getAttribute("data-copy") + '"]');
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (said) {
          said.textContent = "Copied.";
        }
      });
    });
  });
})();
