// crmsync's Outlook task pane: plain JavaScript on Office.js, no build step.
//
// The pane holds a licence seat while it is open: signing in opens a plugin session, a heartbeat
// keeps it alive, and closing the pane ends it. Every failure is shown in words, never as JSON.
"use strict";

(function () {
  // The pane is served by crmsync itself, so the API is on the same origin, beside /addin/.
  const API = new URL("../api/v1/", window.location.href);
  const TOKEN_SETTING = "crmsyncToken";
  const heartbeatSeconds = Number(document.body.dataset.heartbeatSeconds) || 60;
  const state = { token: null, sessionId: null, heartbeat: null };

  const $ = (id) => document.getElementById(id);

  function say(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = kind || "info";
  }

  // The server's details are phrases ("no licence seat is free: …"): shown as sentences, except
  // that one starting with an email address keeps the address as it is.
  function sentence(text) {
    const trimmed = String(text).trim();
    const startsWithAddress = trimmed.split(/\s/, 1)[0].includes("@");
    const capitalized = startsWithAddress
      ? trimmed
      : trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
    return /[.!?]$/.test(capitalized) ? capitalized : capitalized + ".";
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function detailOf(response) {
    try {
      const body = await response.json();
      return typeof body.detail === "string" ? body.detail : "";
    } catch (_notJson) {
      return "";
    }
  }

  async function describeFailure(response) {
    const detail = await detailOf(response);
    switch (response.status) {
      case 401:
        return "Your crmsync token was not accepted" + (detail ? ` (${detail})` : "") +
          ". Sign in again with a valid token.";
      case 403:
        return detail ? "Not allowed: " + sentence(detail) : "You are not allowed to do that.";
      case 404:
        return detail && detail !== "Not Found"
          ? sentence(detail)
          : "This feature is not available on this crmsync server yet.";
      case 409:
        return detail ? sentence(detail) : "That conflicts with what crmsync has; try again.";
      case 422:
        return "Please check what you entered: " + (detail ? sentence(detail) : "it was refused.");
      default:
        return `crmsync had a problem (error ${response.status})` +
          (detail ? ": " + sentence(detail) : ". Try again later or ask your administrator.");
    }
  }

  function headers() {
    return { Authorization: "Bearer " + state.token, "Content-Type": "application/json" };
  }

  async function call(method, path, body) {
    let response;
    try {
      response = await fetch(new URL(path, API), {
        method,
        headers: headers(),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_network) {
      throw new ApiError("crmsync cannot be reached. Check your connection and try again.", 0);
    }
    if (!response.ok) {
      throw new ApiError(await describeFailure(response), response.status);
    }
    return response.status === 204 ? null : response.json();
  }

  // The token lives in Outlook's roaming settings (private to this add-in and mailbox), or in
  // the browser's storage where the pane runs outside Outlook.
  const tokenStore = {
    roaming() {
      return Office.context && Office.context.roamingSettings;
    },
    load() {
      const roaming = this.roaming();
      return roaming ? roaming.get(TOKEN_SETTING) : window.localStorage.getItem(TOKEN_SETTING);
    },
    save(token) {
      const roaming = this.roaming();
      if (!roaming) {
        window.localStorage.setItem(TOKEN_SETTING, token);
        return;
      }
      roaming.set(TOKEN_SETTING, token);
      roaming.saveAsync();
    },
    forget() {
      const roaming = this.roaming();
      if (!roaming) {
        window.localStorage.removeItem(TOKEN_SETTING);
        return;
      }
      roaming.remove(TOKEN_SETTING);
      roaming.saveAsync();
    },
  };

  // --- the licence session -------------------------------------------------------------------

  async function openSession() {
    const session = await call("POST", "sessions", { kind: "plugin" });
    state.sessionId = session.session_id;
  }

  async function beat() {
    try {
      await call("POST", `sessions/${encodeURIComponent(state.sessionId)}/heartbeat`);
    } catch (error) {
      if (error.status !== 409 && error.status !== 404) {
        say(error.message, "error");
        return;
      }
      // The session timed out (the computer slept, say): take a seat again if one is free.
      try {
        await openSession();
      } catch (reopenError) {
        say(reopenError.message, "error");
      }
    }
  }

  function endSession() {
    window.clearInterval(state.heartbeat);
    if (!state.sessionId) {
      return;
    }
    const ending = state.sessionId;
    state.sessionId = null;
    // keepalive lets the request outlive the closing pane; it may carry the bearer header,
    // which navigator.sendBeacon cannot.
    fetch(new URL(`sessions/${encodeURIComponent(ending)}`, API), {
      method: "DELETE",
      headers: headers(),
      keepalive: true,
    }).catch(() => {});
  }

  async function signIn(token) {
    state.token = token;
    await openSession();
    tokenStore.save(token);
    state.heartbeat = window.setInterval(beat, heartbeatSeconds * 1000);
    $("sign-in").hidden = true;
    $("main").hidden = false;
    $("sign-out").hidden = false;
    say("Signed in.", "ok");
  }

  function showSignIn(message) {
    $("main").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    if (message) {
      say(message, "error");
    }
  }

  // --- search and filing ---------------------------------------------------------------------

  function recordItem(record) {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "target";
    box.dataset.entity = record.entity;
    box.dataset.id = String(record.id);
    label.append(box, ` ${record.label} (${record.entity})`);
    if (record.detail) {
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = record.detail;
      label.append(detail);
    }
    item.append(label);
    return item;
  }

  async function search(event) {
    event.preventDefault();
    const query = $("query").value.trim();
    const params = new URLSearchParams({ q: query });
    if ($("entity").value) {
      params.set("entity", $("entity").value);
    }
    try {
      const records = await call("GET", "crm/search?" + params);
      $("results").replaceChildren(...records.map(recordItem));
      say(records.length ? `${records.length} records found.` : `No CRM records match “${query}”.`);
    } catch (error) {
      say(error.message, "error");
    }
  }

  function chosenTargets() {
    return Array.from(document.querySelectorAll("input.target:checked")).map((box) => ({
      entity: box.dataset.entity,
      id: Number(box.dataset.id),
    }));
  }

  function selectedItemIds() {
    const mailbox = Office.context.mailbox;
    const current = mailbox.item && mailbox.item.itemId ? [mailbox.item.itemId] : [];
    if (typeof mailbox.getSelectedItemsAsync !== "function") {
      return Promise.resolve(current);
    }
    // Several emails selected at once (Mailbox 1.13) are filed together.
    return new Promise((resolve) => {
      mailbox.getSelectedItemsAsync((result) => {
        const selected = result.status === Office.AsyncResultStatus.Succeeded ? result.value : [];
        resolve(selected.length ? selected.map((item) => item.itemId) : current);
      });
    });
  }

  function plural(count, noun) {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
  }

  async function fileEmails() {
    const targets = chosenTargets();
    if (!targets.length) {
      say("Choose one or more records to file to: search, then tick them.", "error");
      return;
    }
    const itemIds = await selectedItemIds();
    if (!itemIds.length) {
      say("Open or select an email to file.", "error");
      return;
    }
    try {
      const filed = await call("POST", "filings", { item_ids: itemIds, targets });
      const emails = Array.isArray(filed) ? filed.length : itemIds.length;
      say(`Filed ${plural(emails, "email")} to ${plural(targets.length, "record")}.`, "ok");
    } catch (error) {
      say("The email was not filed. " + error.message, "error");
    }
  }

  // --- the sender as a contact ---------------------------------------------------------------

  function prefillSender() {
    const from = Office.context.mailbox.item && Office.context.mailbox.item.from;
    if (!from || !from.emailAddress) {
      return;
    }
    const name = (from.displayName || "").trim();
    const split = name.lastIndexOf(" ");
    $("sender-first").value = split > 0 ? name.slice(0, split) : "";
    $("sender-last").value = split > 0 ? name.slice(split + 1) : name;
    $("sender-email").value = from.emailAddress;
  }

  async function addSender(event) {
    event.preventDefault();
    const body = {
      first_name: $("sender-first").value.trim() || null,
      last_name: $("sender-last").value.trim(),
      email: $("sender-email").value.trim(),
      company_name: $("sender-company").value.trim() || null,
    };
    try {
      const person = await call("POST", "crm/persons", body);
      say(`Added ${person.label} to the CRM and to your Outlook contacts.`, "ok");
    } catch (error) {
      say("The contact was not added. " + error.message, "error");
    }
  }

  // --- shared documents ----------------------------------------------------------------------

  function attach(documentInfo) {
    // Outlook downloads the file itself, without the pane's token: the documents API gives a
    // signed download_url for that; the content path is the fallback.
    const url = documentInfo.download_url ||
      new URL(`documents/${documentInfo.id}/content`, API).toString();
    const item = Office.context.mailbox.item;
    item.addFileAttachmentAsync(url, documentInfo.filename, {}, (result) => {
      if (result.status === Office.AsyncResultStatus.Succeeded) {
        say(`Attached ${documentInfo.filename}.`, "ok");
      } else {
        const reason = result.error && result.error.message ? result.error.message : "unknown";
        say(`Outlook could not attach ${documentInfo.filename}: ${sentence(reason)}`, "error");
      }
    });
  }

  function documentItem(documentInfo) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "attach";
    button.textContent = "Attach";
    button.addEventListener("click", () => attach(documentInfo));
    item.append(button, ` ${documentInfo.filename}`);
    return item;
  }

  async function showDocuments() {
    try {
      const page = await call("GET", "documents?shared=true");
      $("documents").replaceChildren(...page.items.map(documentItem));
      say(page.items.length ? "Choose a document to attach." : "There are no shared documents.");
    } catch (error) {
      say("The shared documents could not be listed. " + error.message, "error");
    }
  }

  // --- start ---------------------------------------------------------------------------------

  function showForMode() {
    // Compose forms can take attachments; read forms have a sender and can be filed.
    const item = Office.context.mailbox && Office.context.mailbox.item;
    const composing = Boolean(item && typeof item.addFileAttachmentAsync === "function");
    document.querySelectorAll("[data-read-only]").forEach((el) => (el.hidden = composing));
    document.querySelectorAll("[data-compose-only]").forEach((el) => (el.hidden = !composing));
  }

  function start() {
    showForMode();
    prefillSender();
    $("sign-in").addEventListener("submit", (event) => {
      event.preventDefault();
      signIn($("token").value.trim()).catch((error) => showSignIn(error.message));
    });
    $("sign-out").addEventListener("click", () => {
      endSession();
      tokenStore.forget();
      showSignIn();
      say("Signed out.");
    });
    $("search").addEventListener("submit", search);
    $("file").addEventListener("click", fileEmails);
    $("sender").addEventListener("submit", addSender);
    $("show-documents").addEventListener("click", showDocuments);
    window.addEventListener("pagehide", endSession);

    const saved = tokenStore.load();
    if (saved) {
      signIn(saved).catch((error) => showSignIn(error.message));
    } else {
      showSignIn();
    }
  }

  Office.onReady(start);
})();
