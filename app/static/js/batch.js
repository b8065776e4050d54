/* Batch inspection grid (templates/tablet/inspect.html), issue 8.

   Every household passes every check until tapped: one tap marks one problem in that check,
   a second tap two problems, a third tap clears it. The row's score (max less per_problem
   per problem, floor 0) is shown as a guide; the server computes the points. Submit sends
   every row not yet posted in one request (outbox.js's sync endpoint) with a key per row made
   here, so a resubmit posts nothing twice. Posted rows lock; refused rows turn red with the
   reason and stay editable for a resubmit. Without a network the rows go to the outbox
   (IndexedDB), with their marks per check (shown again after a reload), and are sent when
   it returns; the outbox's "outbox:posted" / "outbox:refused" events update their rows. */
(function () {
  "use strict";
  var form = document.getElementById("batch");
  var box = document.getElementById("outbox");
  if (!form || !box) { return; }
  var syncUrl = box.getAttribute("data-sync-url");
  var statusEl = form.querySelector("[data-batch-status]");
  var submit = form.querySelector("[data-submit]");
  function t(name) { return form.getAttribute("data-t-" + name) || ""; }
  function cents(text) {
    var m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
    if (!m) { return 0; }
    var v = parseInt(m[2], 10) * 100 + parseInt(((m[3] || "") + "00").slice(0, 2), 10);
    return m[1] ? -v : v;
  }
  function showCents(c) {
    var s = String(Math.floor(c / 100));
    var r = c % 100;
    return r ? s + "." + (r < 10 ? "0" : "") + String(r).replace(/0$/, "") : s;
  }
  var maxC = cents(form.getAttribute("data-max"));
  var perC = cents(form.getAttribute("data-per"));

  function newKey() {
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-household]"));
  rows.forEach(function (tr) { tr.setAttribute("data-key", newKey()); });

  function problemsOf(tr) {
    return Array.prototype.reduce.call(tr.querySelectorAll(".check-cell"), function (n, b) {
      return n + parseInt(b.getAttribute("data-problems"), 10);
    }, 0);
  }
  function rescore(tr) {
    var left = Math.max(0, maxC - perC * problemsOf(tr));
    tr.querySelector("[data-score]").textContent = showCents(left);
  }

  form.addEventListener("click", function (ev) {
    var cell = ev.target.closest(".check-cell");
    if (!cell || cell.disabled) { return; }
    paint(cell, (parseInt(cell.getAttribute("data-problems"), 10) + 1) % 3);
    rescore(cell.closest("tr"));
  });

  function paint(cell, p) {
    cell.setAttribute("data-problems", String(p));
    cell.setAttribute("aria-pressed", p ? "true" : "false");
    cell.textContent = p === 0 ? "✓" : (p === 1 ? "✗" : "✗✗");
    cell.classList.toggle("check-fail", p > 0);
  }
  function checksOf(tr) {
    return Array.prototype.map.call(tr.querySelectorAll(".check-cell"), function (b) {
      return parseInt(b.getAttribute("data-problems"), 10) || 0;
    });
  }

  function lock(tr, text, cls) {
    tr.setAttribute("data-done", "1");
    tr.classList.remove("table-danger");
    if (cls) { tr.classList.add(cls); }
    tr.querySelectorAll(".check-cell").forEach(function (b) { b.disabled = true; });
    tr.querySelector("[data-result]").textContent = text;
  }

  function unlock(tr) {
    tr.removeAttribute("data-done");
    tr.classList.remove("table-warning", "table-danger");
    tr.querySelectorAll(".check-cell").forEach(function (b) { b.disabled = false; });
    tr.querySelector("[data-result]").textContent = "";
  }

  function pending() {
    return rows.filter(function (tr) { return tr.getAttribute("data-done") !== "1"; });
  }

  function rowData(tr, day) {
    return { key: tr.getAttribute("data-key"), household_id: tr.getAttribute("data-household"),
             item_id: form.getAttribute("data-item"), deed_date: day, problems: problemsOf(tr),
             checks: checksOf(tr),  // the marks per check, shown again after a reload
             label: tr.getAttribute("data-label"), item_name: form.getAttribute("data-item-name") };
  }

  function queue(trs, data) {
    return window.JFOutbox.add(data).then(function () {
      trs.forEach(function (tr) { lock(tr, t("queued"), "table-warning"); });
      statusEl.textContent = box.getAttribute("data-t-offline");
    });
  }

  // "已记分 10", or with 待审核 when a second cadre must approve the entry first
  function postedText(r) {
    return t("posted") + " " + showCents(cents(r.points)) +
      (r.entry_status === "awaiting_review" ? " · " + t("awaiting") : "");
  }

  function show(results, trs) {
    var byKey = {};
    trs.forEach(function (tr) { byKey[tr.getAttribute("data-key")] = tr; });
    var ok = 0, bad = 0;
    results.forEach(function (r) {
      var tr = byKey[r.key];
      if (!tr) { return; }
      if (r.status === "posted") {
        ok += 1;
        lock(tr, postedText(r), "table-success");
      } else {
        bad += 1;
        tr.classList.add("table-danger");
        tr.querySelector("[data-result]").textContent = r.message;
      }
    });
    var done = rows.length - pending().length;
    statusEl.textContent = bad ? t("done").replace("{ok}", done).replace("{bad}", bad)
                               : t("all").replace("{ok}", done);
  }

  // Rows already waiting in this device's outbox (captured offline, then the page was
  // reloaded) are shown as queued, with the marks captured per check, so they are not
  // captured twice under new keys. The row takes the entry's key, to follow its upload.
  window.JFOutbox.all().then(function (entries) {
    var day = form.querySelector("[name=deed_date]").value;
    entries.forEach(function (e) {
      if (String(e.item_id) !== form.getAttribute("data-item") || e.deed_date !== day) { return; }
      rows.forEach(function (tr) {
        if (tr.getAttribute("data-household") === String(e.household_id) &&
            tr.getAttribute("data-done") !== "1") {
          tr.setAttribute("data-key", e.key);
          if (Array.isArray(e.checks)) {
            tr.querySelectorAll(".check-cell").forEach(function (b, i) {
              paint(b, Math.min(2, Math.max(0, parseInt(e.checks[i], 10) || 0)));
            });
          }
          lock(tr, e.state === "refused" ? e.message : t("queued"),
               e.state === "refused" ? "table-danger" : "table-warning");
          var problems = parseInt(e.problems, 10) || 0;
          tr.querySelector("[data-score]").textContent = showCents(Math.max(0, maxC - perC * problems));
        }
      });
    });
    refreshSubmit();
  });

  function rowOfKey(key) {
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-key") === key) { return rows[i]; }
    }
    return null;
  }
  function queuedLeft() {
    return rows.some(function (tr) { return tr.classList.contains("table-warning"); });
  }
  function backOnline() {
    if (statusEl.textContent === box.getAttribute("data-t-offline")) { statusEl.textContent = ""; }
  }

  // The outbox sent a queued row: show it as posted (as a reload would), or, when the cadre
  // moved the entry to another item or date before it posted, free the row for today.
  document.addEventListener("outbox:posted", function (ev) {
    var e = ev.detail.entry, r = ev.detail.result;
    var tr = rowOfKey(e.key);
    if (!tr) { return; }
    var day = form.querySelector("[name=deed_date]").value;
    if (String(e.item_id) === form.getAttribute("data-item") && e.deed_date === day) {
      lock(tr, postedText(r), "table-success");
      tr.classList.remove("table-warning");
      tr.querySelector("[data-score]").textContent = showCents(cents(r.points));
    } else {
      unlock(tr);
      rescore(tr);
    }
    backOnline();
    settled();
    refreshSubmit();
  });
  // A queued row the server refused: its reason, as in the outbox list (fixed there).
  document.addEventListener("outbox:refused", function (ev) {
    var tr = rowOfKey(ev.detail.entry.key);
    if (!tr) { return; }
    tr.classList.remove("table-warning");
    tr.classList.add("table-danger");
    tr.querySelector("[data-result]").textContent = ev.detail.result.message;
    backOnline();
    settled();
  });
  // Once no queued row is left, say how the group stands: refused rows are not "scored"
  // (a row refused after an offline queue was counted as scored).
  var lastSummary = "";
  function settled() {
    if (queuedLeft() || (statusEl.textContent && statusEl.textContent !== lastSummary)) { return; }
    var ok = rows.filter(function (tr) { return tr.classList.contains("table-success"); }).length;
    var bad = rows.filter(function (tr) { return tr.classList.contains("table-danger"); }).length;
    lastSummary = bad ? t("done").replace("{ok}", ok).replace("{bad}", bad)
                      : t("all").replace("{ok}", ok);
    statusEl.textContent = lastSummary;
  }
  window.addEventListener("online", backOnline);

  function refreshSubmit() { submit.disabled = pending().length === 0; }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var day = form.querySelector("[name=deed_date]").value;
    var trs = pending();
    if (!trs.length || !day) { return; }
    var data = trs.map(function (tr) { return rowData(tr, day); });
    submit.disabled = true;
    var done = refreshSubmit;
    if (navigator.onLine === false) { queue(trs, data).then(done, done); return; }
    fetch(syncUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.json(); })
      .then(function (info) {
        return fetch(syncUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json",
                     "X-CSRFToken": info.csrf_token },
          body: JSON.stringify({ rows: data.map(function (d) {
            return { key: d.key, household_id: d.household_id, item_id: d.item_id,
                     deed_date: d.deed_date, problems: d.problems, checks: d.checks };
          }) })
        });
      })
      .then(function (res) {
        if (!res.ok) { throw new Error("status " + res.status); }
        return res.json();
      })
      .then(function (answer) { show(answer.results, trs); },
            function () { return queue(trs, data); })  // no answer: keep them on the device
      .then(done, done);
  });
  // every handler is in place: a tap from now on counts (scripts and tests wait for this)
  form.setAttribute("data-ready", "1");
})();
