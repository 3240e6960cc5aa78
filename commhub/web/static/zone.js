// Tell the server the browser's time zone once, so that times show in it until the user
// picks a zone of their own on /account. The only script on the staff pages.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names need no encoding in a cookie: letters, digits, "/", "_", "+", "-".
  if (zone && /^[A-Za-z0-9\/_+-]+$/.test(zone) && document.cookie.indexOf("commhub_tz=") === -1) {
    document.cookie = "commhub_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    if (document.body && document.body.dataset.zoneSource === "default" && zone !== "UTC") {
      window.location.reload();
    }
  }
})();
