// The export job page: poll the job and show its progress, then the download links.
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  var bar = document.getElementById("export-progress");
  var message = document.getElementById("export-message");
  var error = document.getElementById("export-error");
  var list = document.getElementById("export-downloads");
  var messages = JSON.parse(document.getElementById("export-messages").textContent);
  function show(status) {
    bar.value = status.progress;
    bar.textContent = Math.round(status.progress * 100) + " %";
    message.textContent = messages[status.message] || status.message || status.status;
    if (status.error) { error.textContent = status.error; error.hidden = false; }
    if (status.status === "done" && !list.children.length) {
      status.downloads.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = item.url; a.textContent = item.name; a.setAttribute("download", "");
        li.appendChild(a); list.appendChild(li);
      });
    }
    return status.status === "done" || status.status === "failed";
  }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (status) { if (!show(status)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (!show(JSON.parse(document.getElementById("export-status").textContent))) poll();
})();
