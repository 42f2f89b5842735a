// Live progress of the exports a page shows: each element with
// data-events follows its job's server-sent events and fills in the
// fields named by its children's data-field.
"use strict";
(function () {
  function fill(job, ev) {
    job.dataset.state = ev.state;
    job.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.dataset.field;
      var value = ev[name];
      if (name === "permille") {
        el.value = ev.permille;
        el.textContent = ev.percent;
        return;
      }
      if (name === "state") {
        el.className = "status status-" + String(ev.state).toLowerCase();
      }
      if (name === "reason") {
        el.hidden = !ev.reason;
      }
      el.textContent = value === undefined || value === null ? "" : String(value);
    });
  }
  function follow(job) {
    var source = new EventSource(job.dataset.events);
    source.addEventListener("progress", function (e) { fill(job, JSON.parse(e.data)); });
    source.addEventListener("end", function (e) {
      fill(job, JSON.parse(e.data));
      source.close();
      job.querySelectorAll("form.cancel").forEach(function (f) { f.hidden = true; });
    });
    source.addEventListener("failure", function (e) {
      var err = JSON.parse(e.data);
      var reason = job.querySelector("[data-field=reason]");
      if (reason) {
        reason.hidden = false;
        reason.textContent = err.detail + (err.errorCode ? " (" + err.errorCode + ")" : "");
      }
      source.close();
    });
    source.onerror = function () {
      // A signed-out session answers 401, which ends the stream: reload to
      // sign in again. A dropped connection is retried by the browser.
      if (source.readyState === EventSource.CLOSED) {
        window.location.reload();
      }
    };
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-events]").forEach(follow);
  });
})();
