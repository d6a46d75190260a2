/* The chain's tree in the admin (parties.admin.OrganizationAdmin): after a drag, mptt reloads the
   page, which would land at its top, far from the node dragged. Here the page comes back where the
   user was, the dragged node marked, and the outcome (moved, or refused and why) floats over the tree
   (static/css/admin-tree.css) instead of sitting at the top, out of sight. */
(function () {
  "use strict";
  var KEY = "wangge-tree-drag";
  var FRESH_MS = 60 * 1000;

  document.addEventListener("mousedown", function (event) {
    var handle = event.target.closest && event.target.closest("div.drag-handle");
    if (!handle) return;
    var node = handle.closest("tr").querySelector(".tree-node");
    sessionStorage.setItem(KEY, JSON.stringify({ pk: node && node.dataset.pk, y: window.scrollY, at: Date.now() }));
  });

  window.addEventListener("load", function () {
    var saved = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
    if (!saved) return;
    var drag = JSON.parse(saved);
    if (!drag || Date.now() - drag.at > FRESH_MS) return;
    var lists = document.querySelectorAll("ul.messagelist");
    if (lists.length) {
      var toast = document.createElement("div");
      toast.className = "tree-toast";
      toast.setAttribute("role", "status");
      lists.forEach(function (list) { toast.appendChild(list); });
      toast.addEventListener("click", function () { toast.remove(); }); // read: a click puts it away
      document.body.appendChild(toast);
    }
    // After mptt's own start-up, which focuses (and so scrolls to) the first row.
    window.setTimeout(function () {
      var node = drag.pk && document.querySelector('.tree-node[data-pk="' + drag.pk + '"]');
      var row = node && node.closest("tr");
      if (row) {
        row.classList.add("tree-dragged");
        row.focus({ preventScroll: true });
      }
      window.scrollTo(0, drag.y);
    }, 0);
  });
})();
