/* Offline outbox of the tablet pages (templates/tablet/_outbox.html), issue 8.

   Entries that could not be sent (no network) are kept in IndexedDB ("jf-outbox") with their
   idempotency key, household, item, the date of the deed and the time they were captured; a
   badge counts them. They are sent when the network returns (the "online" event, page load,
   and a retry every 20 s), in one request per village to its sync endpoint (JSON, with a
   fresh CSRF token in X-CSRFToken). The server posts each key at most once
   (scoring.services.post_entry), so a retry after a lost answer posts nothing twice. An
   entry the server refuses (household moved, item retired, cap reached...) stays on the
   device, listed with its Chinese reason, until the cadre fixes its item or date and sends it
   again, or drops it. Nothing is deleted without a "posted" answer or the cadre's drop.
   Each answer is told to the page as an "outbox:posted" / "outbox:refused" event
   (detail {entry, result}), so a page showing the entry as waiting can update it.
   Also registers the service worker (/sw.js). Exposes window.JFOutbox = {add, sync, all}. */
(function () {
  "use strict";
  var box = document.getElementById("outbox");
  if (!box) { return; }
  var syncUrl = box.getAttribute("data-sync-url");
  // A shared tablet: each cadre sees and sends only the entries they captured.
  var userId = box.getAttribute("data-user");
  var badge = box.querySelector("[data-outbox-badge]");
  var statusEl = box.querySelector("[data-outbox-status]");
  var refusedList = box.querySelector("[data-outbox-refused]");
  var items = [];
  try { items = JSON.parse(box.getAttribute("data-items") || "[]"); } catch (e) { items = []; }
  function t(name) { return box.getAttribute("data-t-" + name) || ""; }

  if ("serviceWorker" in navigator) {
    var uncontrolled = !navigator.serviceWorker.controller;
    navigator.serviceWorker.register(box.getAttribute("data-sw"), { scope: "/" }).catch(function () {});
    if (uncontrolled) {   // this page came before the worker: have it cached too (sw.js)
      navigator.serviceWorker.ready.then(function (reg) {
        if (reg.active) { reg.active.postMessage({ type: "cache-page", url: location.href }); }
      });
    }
  }

  // --- IndexedDB, promise-wrapped
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open("jf-outbox", 1);
        req.onupgradeneeded = function () { req.result.createObjectStore("entries", { keyPath: "key" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("entries", mode);
        var store = t.objectStore("entries");
        var out = work(store);
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function everything() { return tx("readonly", function (s) { return s.getAll(); }); }
  function all() {
    return everything().then(function (entries) {
      return entries.filter(function (e) { return String(e.user_id) === userId; });
    });
  }
  function put(entry) { return tx("readwrite", function (s) { s.put(entry); }); }
  function remove(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  /* Keep ``rows`` ({key, household_id, item_id, deed_date, problems, label, item_name}) on
     the device, waiting to be sent to this page's village. */
  function add(rows) {
    var now = new Date().toISOString();
    return rows.reduce(function (p, row) {
      return p.then(function () {
        var entry = Object.assign({}, row, { sync_url: syncUrl, user_id: userId,
                                             state: "waiting", message: "",
                                             captured_at: row.captured_at || now });
        return put(entry);
      });
    }, Promise.resolve()).then(render);
  }

  function itemName(id) {
    for (var i = 0; i < items.length; i++) { if (String(items[i].id) === String(id)) { return items[i].name; } }
    return "";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function refusedRow(entry) {
    var li = el("li", "list-group-item list-group-item-danger py-3");
    li.setAttribute("data-outbox-key", entry.key);
    li.appendChild(el("div", "fs-5 fw-semibold", entry.label + " · " + (entry.item_name || "") + " · " + entry.deed_date));
    li.appendChild(el("div", "fs-5", entry.message));
    var row = el("div", "d-flex flex-wrap gap-2 mt-2 align-items-center");
    var select = el("select", "form-select form-select-lg w-auto");
    select.setAttribute("aria-label", t("item"));
    items.forEach(function (it) {
      var o = el("option", "", it.name);
      o.value = it.id;
      if (String(it.id) === String(entry.item_id)) { o.selected = true; }
      select.appendChild(o);
    });
    var date = el("input", "form-control form-control-lg w-auto");
    date.type = "date";
    date.value = entry.deed_date;
    date.setAttribute("aria-label", t("date"));
    var retry = el("button", "btn btn-danger btn-lg-touch", t("retry"));
    retry.type = "button";
    retry.addEventListener("click", function () {
      entry.item_id = select.value;
      entry.item_name = itemName(select.value) || entry.item_name;
      entry.deed_date = date.value || entry.deed_date;
      entry.state = "waiting";
      entry.message = "";
      put(entry).then(sync);
    });
    var drop = el("button", "btn btn-outline-dark btn-lg-touch", t("drop"));
    drop.type = "button";
    drop.setAttribute("data-outbox-drop", "");
    drop.addEventListener("click", function () {
      if (drop.getAttribute("data-armed") !== "1") {  // a second tap confirms: no pop-up
        drop.setAttribute("data-armed", "1");
        drop.textContent = t("confirm-drop");
        return;
      }
      remove(entry.key).then(render);
    });
    if (items.length) { row.appendChild(select); }
    row.appendChild(date);
    row.appendChild(retry);
    row.appendChild(drop);
    li.appendChild(row);
    return li;
  }

  function render() {
    return all().then(function (entries) {
      badge.textContent = String(entries.length);
      box.classList.toggle("d-none", entries.length === 0);
      refusedList.textContent = "";
      entries.filter(function (e) { return e.state === "refused"; }).forEach(function (e) {
        refusedList.appendChild(refusedRow(e));
      });
      document.dispatchEvent(new CustomEvent("outbox:changed", { detail: { count: entries.length } }));
      return entries;
    });
  }

  function say(text) { statusEl.textContent = text; }

  function jsonOrNull(res) {
    var type = res.headers.get("Content-Type") || "";
    if (!res.ok || type.indexOf("application/json") !== 0) { return null; }
    return res.json();
  }

  /* Tell the page (batch.js) what became of a sent entry: ``detail`` is {entry, result}. */
  function tell(name, entry, result) {
    document.dispatchEvent(new CustomEvent(name, { detail: { entry: entry, result: result } }));
  }

  function sendTo(url, entries) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(jsonOrNull).then(function (info) {
        if (!info) { say(t("login")); return 0; }
        var rows = entries.map(function (e) {
          return { key: e.key, household_id: e.household_id, item_id: e.item_id,
                   deed_date: e.deed_date, problems: e.problems, quantity: e.quantity,
                   points: e.points, checks: e.checks };
        });
        return fetch(url, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json",
                     "X-CSRFToken": info.csrf_token },
          body: JSON.stringify({ rows: rows })
        }).then(jsonOrNull).then(function (answer) {
          if (!answer) { say(t("login")); return 0; }
          var byKey = {};
          entries.forEach(function (e) { byKey[e.key] = e; });
          var posted = 0;
          return answer.results.reduce(function (p, r) {
            return p.then(function () {
              var e = byKey[r.key];
              if (!e) { return null; }
              if (r.status === "posted") {
                posted += 1;
                return remove(r.key).then(function () { tell("outbox:posted", e, r); });
              }
              e.state = "refused";
              e.message = r.message;
              return put(e).then(function () { tell("outbox:refused", e, r); });
            });
          }, Promise.resolve()).then(function () { return posted; });
        });
      });
  }

  var syncing = null;
  /* Send every waiting entry; resolves with the number posted (0 when offline). */
  function sync() {
    if (syncing) { return syncing; }
    syncing = all().then(function (entries) {
      var waiting = entries.filter(function (e) { return e.state === "waiting"; });
      if (!waiting.length) { return 0; }
      if (navigator.onLine === false) { say(t("offline")); return 0; }
      var groups = {};
      waiting.forEach(function (e) { (groups[e.sync_url] = groups[e.sync_url] || []).push(e); });
      return Object.keys(groups).reduce(function (p, url) {
        return p.then(function (n) { return sendTo(url, groups[url]).then(function (m) { return n + m; }); });
      }, Promise.resolve(0)).then(function (n) {
        if (n) { say(t("synced").replace("{n}", n)); }
        return n;
      });
    }).catch(function () { say(t("offline")); return 0; })
      .then(function (n) { syncing = null; return render().then(function () { return n; }); });
    return syncing;
  }

  box.querySelector("[data-outbox-sync]").addEventListener("click", sync);
  window.addEventListener("online", function () {
    if (statusEl.textContent === t("offline")) { say(""); }  // the network is back
    sync();
  });
  window.addEventListener("offline", function () { say(t("offline")); });
  setInterval(function () { if (navigator.onLine !== false) { sync(); } }, 20000);
  render().then(sync);

  window.JFOutbox = { add: add, sync: sync, all: all, say: say };
})();
