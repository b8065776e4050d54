/* Small behaviours without inline scripts (the Content-Security-Policy allows scripts only
   from our own files):
   - <button data-action="print"> prints the page (door plates);
   - <button data-confirm="..."> in a form asks before submitting. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action='print']");
    if (target) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
