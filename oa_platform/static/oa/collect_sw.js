/* Service worker of the web form pages (served at /f/sw.js, scope /f/): the pages and their static files are
   kept in a cache so a form opens with no network; a page is fetched fresh when the network answers in time.
   Answers are not handled here: the page keeps them in IndexedDB and sends them itself (collect_form.js). */
"use strict";
var CACHE = "oa-collect-v1";
// A weak network gets this long before the cached copy is shown instead.
var NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function fromNetwork(request) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, NETWORK_TIMEOUT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      resolve(response);
    }, function (error) { clearTimeout(timer); reject(error); });
  });
}

function cached(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      if (hit) return hit;
      throw new Error("not cached");
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return; // answers go straight to the server; the page retries them
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = url.pathname.indexOf("/f/") === 0 && url.pathname !== "/f/sw.js";
  var asset = url.pathname.indexOf("/static/") === 0 || /^\/oa\/[^/]+\/areas\/$/.test(url.pathname);
  if (!page && !asset) return;
  event.respondWith(fromNetwork(request).catch(function () { return cached(request); }));
});
