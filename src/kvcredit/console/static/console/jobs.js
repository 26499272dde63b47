// A job's progress bar: poll its JSON every second until it is done or failed.
(function () {
  "use strict";
  function watch(box) {
    var url = box.getAttribute("data-job-url");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          box.setAttribute("data-state", job.state);
          box.querySelector(".job-state").textContent = job.state_label;
          box.querySelector(".job-count").textContent =
            job.done + (job.total ? " / " + job.total : "");
          var bar = box.querySelector("progress");
          bar.value = job.percent;
          bar.textContent = job.percent + "%";
          var reason = box.querySelector(".job-reason");
          reason.textContent = job.reason || "";
          reason.hidden = !job.reason;
          if (job.state === "QUEUED" || job.state === "RUNNING") {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    var state = box.getAttribute("data-state");
    if (state === "QUEUED" || state === "RUNNING") { tick(); }
  }
  document.querySelectorAll(".job-progress[data-job-url]").forEach(watch);
})();
