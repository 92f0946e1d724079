// The models page: follow a retraining job, then reload the page with its result.
(function () {
  var box = document.getElementById("retrain-job");
  if (!box || box.dataset.status === "done" || box.dataset.status === "failed") return;
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
      box.querySelector("progress").value = j.job.progress;
      box.querySelector(".msg").textContent = j.job.status + " " + (j.job.message || "");
      if (j.job.status === "done" || j.job.status === "failed") { window.location.reload(); } else { setTimeout(tick, 1000); }
    });
  }
  setTimeout(tick, 1000);
})();
