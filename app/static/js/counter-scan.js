/* Points-supermarket counter (templates/rewards/counter.html): scan the household's
   door-plate QR code with the tablet camera (html5-qrcode, vendored) and search with the link
   it holds; the server finds the household by the token in the link. */
(function () {
  "use strict";
  var button = document.querySelector("[data-scan]");
  var box = document.getElementById("qr-reader");
  if (!button || !box || typeof Html5Qrcode === "undefined") { return; }
  var form = button.closest("form") || document.querySelector("form[role=search]");
  var input = document.querySelector("input[name=q]");
  var scanner = null;

  function stop() {
    if (scanner) {
      var s = scanner;
      scanner = null;
      s.stop().catch(function () {}).then(function () { box.classList.add("d-none"); });
    } else {
      box.classList.add("d-none");
    }
  }

  button.addEventListener("click", function () {
    if (scanner) { stop(); return; }
    box.classList.remove("d-none");
    scanner = new Html5Qrcode("qr-reader", { verbose: false });
    scanner.start({ facingMode: "environment" }, { fps: 10, qrbox: function (w, h) {
        var side = Math.max(150, Math.floor(Math.min(w, h) * 0.8));
        return { width: side, height: side };
      } },
      function (text) {
        input.value = text;
        stop();
        form.submit();
      },
      function () {}
    ).catch(function () {
      box.classList.add("d-none");
      scanner = null;
      var msg = button.getAttribute("data-no-camera");
      if (msg) { window.alert(msg); }
    });
  });
})();
