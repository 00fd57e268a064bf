// Portal users: conveniences on top of forms that work without JavaScript.
// - select-all checkbox for the list and a confirmation before bulk actions;
// - the company's email filled in when a company is picked (still editable);
// - only the client fields that fit the chosen role are shown;
// - regenerate and copy buttons for generated passphrases;
// - reading a chosen CSV file into the import form's text area.
(function () {
  "use strict";

  function agencyBase() {
    var parts = window.location.pathname.split("/");
    return "/" + parts[1] + "/manage/portal-users";
  }

  // Select all on this page.
  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var form = all.closest("form");
    var picks = form ? form.querySelectorAll("[data-pick]") : [];
    all.addEventListener("change", function () {
      picks.forEach(function (pick) { pick.checked = all.checked; });
    });
    picks.forEach(function (pick) {
      pick.addEventListener("change", function () {
        var ticked = Array.prototype.filter.call(picks, function (p) { return p.checked; }).length;
        all.checked = ticked === picks.length && ticked > 0;
        all.indeterminate = ticked > 0 && ticked < picks.length;
      });
    });
  });

  // Bulk actions: nothing ticked, nothing sent; deactivation asks first. Deleting goes to the
  // confirmation page, which names how many users.
  document.querySelectorAll("[data-bulk-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var ticked = form.querySelectorAll("[data-pick]:checked").length;
      var action = event.submitter ? event.submitter.value : "";
      if (ticked === 0) {
        event.preventDefault();
        window.alert("Tick at least one user first.");
        return;
      }
      if (action === "deactivate" &&
          !window.confirm("Deactivate " + ticked + " user" + (ticked === 1 ? "" : "s") + "? They are signed out at once.")) {
        event.preventDefault();
      }
    });
  });

  // The user form: company email and which client fields apply.
  document.querySelectorAll("[data-user-form]").forEach(function (form) {
    var company = form.querySelector("[data-company-select]");
    var email = form.querySelector("#email");
    var role = form.querySelector("[data-role-select]");
    var filled = "";
    if (company && email) {
      company.addEventListener("change", function () {
        var option = company.options[company.selectedIndex];
        var suggested = option ? option.getAttribute("data-email") || "" : "";
        if (email.value === "" || email.value === filled) {
          email.value = suggested;
          filled = suggested;
        }
      });
    }
    function showScope() {
      if (!role) { return; }
      var option = role.options[role.selectedIndex];
      var spans = option && option.getAttribute("data-spans") === "yes";
      var chosen = option && option.value !== "";
      form.querySelectorAll("[data-scope]").forEach(function (part) {
        var many = part.getAttribute("data-scope") === "many";
        part.hidden = chosen && (many !== spans);
      });
    }
    if (role) {
      role.addEventListener("change", showScope);
      showScope();
    }
    // "All clients" and a chosen list exclude each other: picking one clears the other.
    var everyClient = form.querySelector("#all_clients");
    var someClients = form.querySelectorAll("input[name=clients]");
    if (everyClient) {
      everyClient.addEventListener("change", function () {
        if (everyClient.checked) {
          someClients.forEach(function (box) { box.checked = false; });
        }
      });
      someClients.forEach(function (box) {
        box.addEventListener("change", function () {
          if (box.checked) { everyClient.checked = false; }
        });
      });
    }
  });

  // Passphrases: regenerate from the server, copy to the clipboard.
  document.querySelectorAll("[data-passphrase]").forEach(function (box) {
    var input = box.querySelector("input");
    var regenerate = box.querySelector("[data-regenerate]");
    var copy = box.querySelector("[data-copy]");
    var status = box.querySelector("[data-copy-status]");
    if (regenerate) {
      regenerate.hidden = false;
      regenerate.addEventListener("click", function () {
        fetch(agencyBase() + "/passphrase", { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
          .then(function (text) {
            input.value = text;
            if (status) { status.textContent = "A new passphrase is filled in."; }
          })
          .catch(function () {
            if (status) { status.textContent = "Could not make a new passphrase; reload the page."; }
          });
      });
    }
    if (copy && navigator.clipboard) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          if (status) { status.textContent = "Copied."; }
        });
      });
    }
  });

  // CSV import: a chosen file fills the text area.
  document.querySelectorAll("[data-csv-file]").forEach(function (field) {
    var picker = field.querySelector("input[type=file]");
    var area = document.getElementById("csv");
    if (!picker || !area || !window.FileReader) { return; }
    field.hidden = false;
    picker.addEventListener("change", function () {
      var file = picker.files && picker.files[0];
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () { area.value = reader.result; };
      reader.readAsText(file);
    });
  });
}());
