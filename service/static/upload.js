// Import page: drop files on the form, upload by XHR with a progress bar, show the results in
// place. Without this script the form posts as a plain multipart form and works the same.
(function () {
  var form = document.getElementById('import-form');
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector('input[type=file]');
  var zone = form.querySelector('[data-dropzone]');
  var chosen = form.querySelector('[data-chosen]');
  var box = form.querySelector('[data-progress]');
  var bar = box.querySelector('progress');
  var status = box.querySelector('[role=status]');
  var button = form.querySelector('button[type=submit]');
  var results = document.getElementById('import-results');
  var maxBytes = Number(form.getAttribute('data-max-bytes')) || Infinity;
  var dropped = null; // files dropped where the browser will not let us set input.files

  function files() { return dropped || Array.prototype.slice.call(input.files || []); }
  function total(list) { return list.reduce(function (sum, f) { return sum + f.size; }, 0); }
  function mb(bytes) {
    if (bytes < 1048576) { return Math.max(1, Math.round(bytes / 1024)) + ' KB'; }
    return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + ' MB';
  }

  function say(text) { box.hidden = false; status.textContent = text; }

  function listChosen() {
    var list = files();
    chosen.textContent = '';
    list.forEach(function (f) {
      var item = document.createElement('li');
      item.textContent = f.name + ' (' + mb(f.size) + ')';
      chosen.appendChild(item);
    });
    chosen.hidden = list.length === 0;
    if (total(list) > maxBytes) {
      say('These files add up to ' + mb(total(list)) + ', more than the ' + mb(maxBytes) +
          ' one upload may carry: choose fewer, or split the archive.');
    } else { box.hidden = true; }
  }

  input.addEventListener('change', function () { dropped = null; listChosen(); });

  ['dragenter', 'dragover'].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add('dragging'); });
  });
  ['dragleave', 'drop'].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove('dragging'); });
  });
  zone.addEventListener('drop', function (e) {
    e.preventDefault();
    if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
    try { input.files = e.dataTransfer.files; dropped = null; } catch (err) {
      dropped = Array.prototype.slice.call(e.dataTransfer.files);
    }
    listChosen();
  });

  function finished(xhr) {
    button.disabled = false;
    bar.value = 100;
    if ([200, 400, 413].indexOf(xhr.status) === -1) {
      say('The upload failed (error ' + xhr.status + '). Please try again.');
      return;
    }
    box.hidden = true;
    results.innerHTML = xhr.responseText;
    var heading = results.querySelector('h2');
    if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus(); }
    if (xhr.status === 200) { form.reset(); dropped = null; listChosen(); }
  }

  form.addEventListener('submit', function (e) {
    var list = files();
    if (!list.length) { return; } // the server answers with the error next to the field
    e.preventDefault();
    if (total(list) > maxBytes) { listChosen(); return; }
    var data = new FormData(form);
    if (dropped) {
      data.delete(input.name);
      dropped.forEach(function (f) { data.append(input.name, f, f.name); });
    }
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.upload.addEventListener('progress', function (p) {
      if (!p.lengthComputable) { return; }
      bar.value = Math.round(100 * p.loaded / p.total);
      say('Uploading: ' + bar.value + '% (' + mb(p.loaded) + ' of ' + mb(p.total) + ')');
    });
    xhr.upload.addEventListener('load', function () {
      bar.removeAttribute('value'); // indeterminate while the server imports
      say('Uploaded. Importing your runs…');
    });
    xhr.addEventListener('load', function () { finished(xhr); });
    xhr.addEventListener('error', function () {
      button.disabled = false;
      say('The upload did not go through. Check your connection and try again.');
    });
    button.disabled = true;
    bar.value = 0;
    say('Uploading…');
    xhr.send(data);
  });
})();
