// Fill empty time-zone fields with the zone the browser runs in (the server validates it).
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.querySelectorAll('[data-browser-timezone], #browser-timezone').forEach(function (el) {
    if (!el.value) { el.value = zone; }
  });
})();
