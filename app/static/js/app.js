/* Small behaviours without inline scripts (the Content-Security-Policy allows scripts only
   from our own files):
   - <button data-action="print"> prints the page (door plates);
   - <button data-confirm="..."> in a form asks before submitting;
   - <select data-resubmit-clearing="name"> (a GET filter form's village) clears the field
     ``name`` (its villager group, which belongs to the old village) and submits the form,
     so the page comes back with the new village's groups to choose from. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action='print']");
    if (target) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-resubmit-clearing]");
    if (!select || !select.form) {
      return;
    }
    var stale = select.form.elements[select.getAttribute("data-resubmit-clearing")];
    if (stale) {
      stale.disabled = true;   // left out of the query
    }
    select.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
