// Copy buttons: <button data-copy="ID" hidden> copies the value of the element ID.
// Without JavaScript the buttons stay hidden and the read-only field is plain selectable text.
(function () {
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var target = document.getElementById(button.getAttribute('data-copy'));
    if (!target) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      var done = function (text) {
        button.textContent = text;
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      target.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(target.value).then(
          function () { done('Copied'); },
          function () { done('Press Ctrl+C to copy'); });
      } else {
        try { done(document.execCommand('copy') ? 'Copied' : 'Press Ctrl+C to copy'); }
        catch (e) { done('Press Ctrl+C to copy'); }
      }
    });
  });
  document.querySelectorAll('input.url[readonly]').forEach(function (field) {
    field.addEventListener('focus', function () { field.select(); });
  });
})();
