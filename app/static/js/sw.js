/* Service worker of the tablet pages (issue 8), served from /sw.js so its scope is the site.
   It caches the app shell (our CSS and JS, the vendored libraries) and the tablet pages a
   cadre opened (each page carries the rulebook items needed to score), network first: online,
   the tablet always sees the live page; offline, it gets the last copy. It handles nothing
   else: other pages, the public QR pages and every POST go to the network untouched.
   Entries made offline are kept by outbox.js in IndexedDB, not here. Logging out empties the
   page cache (the pages name households). */
"use strict";
var SHELL_CACHE = "jf-shell-v1";
var PAGE_CACHE = "jf-pages-v1";
var SHELL = [
  "/static/css/app.css",
  "/static/css/tablet.css",
  "/static/vendor/bootstrap-5.3.8/bootstrap.min.css",
  "/static/vendor/bootstrap-5.3.8/bootstrap.bundle.min.js",
  "/static/js/app.js",
  "/static/js/outbox.js",
  "/static/js/batch.js",
  "/static/js/counter-scan.js",
  "/static/vendor/html5-qrcode-2.3.8/html5-qrcode.min.js",
  "/static/favicon.svg",
  "/manifest.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      return cache.add(url).catch(function () {});  // one missing file must not block the rest
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n !== SHELL_CACHE && n !== PAGE_CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function cacheFor(url) {
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    return SHELL_CACHE;
  }
  if (url.pathname.indexOf("/tablet/") === 0 && !/\/sync$/.test(url.pathname)) {
    return PAGE_CACHE;
  }
  return null;
}

// The page that registered the worker was loaded before the worker controlled it, so it is
// not in the cache: the page asks for itself to be cached (outbox.js), or a tablet that
// opened the finder first could not open it again offline.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache-page" || typeof data.url !== "string") { return; }
  var url = new URL(data.url, self.location.origin);
  if (url.origin !== self.location.origin || cacheFor(url) !== PAGE_CACHE) { return; }
  event.waitUntil(fetch(url.href, { credentials: "same-origin" }).then(function (res) {
    if (res.ok && res.type === "basic" && !res.redirected) {
      return caches.open(PAGE_CACHE).then(function (cache) { return cache.put(url.href, res); });
    }
  }).catch(function () {}));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(caches.delete(PAGE_CACHE));
    return;
  }
  if (req.method !== "GET") { return; }
  var name = cacheFor(url);
  if (!name) { return; }
  event.respondWith(fetch(req).then(function (res) {
    if (res.ok && res.type === "basic" && !res.redirected) {
      var copy = res.clone();
      event.waitUntil(caches.open(name).then(function (cache) { return cache.put(req, copy); }));
    }
    return res;
  }).catch(function () {
    return caches.match(req).then(function (hit) {
      if (hit || req.mode !== "navigate" || name !== PAGE_CACHE) { return hit || Response.error(); }
      // the app's start page (/tablet/) redirects, so it is never cached: open the last
      // household finder instead
      return caches.open(PAGE_CACHE).then(function (cache) {
        return cache.keys().then(function (keys) {
          var finder = keys.filter(function (k) {
            return /\/tablet\/villages\/\d+$/.test(new URL(k.url).pathname);
          })[0];
          return finder ? cache.match(finder) : Response.error();
        });
      });
    });
  }));
});
