// The series form's next dates, refreshed while typing: asks /series/dates for the schedule
// fields and puts its answer in place. The form works without it ("Show the dates").
(function () {
  var form = document.getElementById("series-form");
  if (!form || !window.fetch || !window.URLSearchParams || !window.DOMParser) {
    return;
  }
  // Form control name: the query parameter /series/dates reads.
  var names = {
    cadence: "cadence", timezone: "timezone", shift: "shift", start: "start",
    holiday_country: "holidays", company_days: "company_days"
  };
  var timer = null;
  var asked = 0;

  function refresh() {
    var params = new URLSearchParams({ partial: "1" });
    Object.keys(names).forEach(function (field) {
      var control = form.elements[field];
      if (control) {
        params.set(names[field], control.value);
      }
    });
    var mine = ++asked;
    fetch(form.dataset.datesUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null || mine !== asked) {
          return;  // a later answer is on its way, or this one failed: keep what is shown
        }
        var holder = document.getElementById("series-dates");
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("series-dates");
        if (holder && fresh) {
          holder.innerHTML = fresh.innerHTML;  // the same live region, so it is announced
        }
      })
      .catch(function () {});
  }

  function later(event) {
    if (event.target && Object.prototype.hasOwnProperty.call(names, event.target.name)) {
      clearTimeout(timer);
      timer = setTimeout(refresh, 350);
    }
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
