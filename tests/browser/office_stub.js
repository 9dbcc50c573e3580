// A stand-in for Office.js in the browser tests: an Outlook mailbox with one email, which
// records every call the task pane makes in window.__officeCalls.
// `?mode=compose` on the pane's URL makes the item an email being written.
"use strict";

window.__officeCalls = [];

(function () {
  const record = (name, args) => window.__officeCalls.push({ name, args });
  const succeeded = (value) => ({ status: "succeeded", value });
  const composing = new URLSearchParams(window.location.search).get("mode") === "compose";
  const roaming = {};

  const readItem = {
    itemType: "message",
    itemId: "AAMkAD-open-email",
    subject: "Quote for rocket skates",
    from: { displayName: "Wile E. Coyote", emailAddress: "wile@acme.example" },
  };
  const composeItem = {
    itemType: "message",
    addFileAttachmentAsync(uri, name, options, callback) {
      record("addFileAttachmentAsync", [uri, name]);
      callback(succeeded("attachment-1"));
    },
  };

  window.Office = {
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    context: {
      mailbox: {
        item: composing ? composeItem : readItem,
        getSelectedItemsAsync(callback) {
          record("getSelectedItemsAsync", []);
          callback(succeeded([{ itemId: "AAMkAD-open-email" }, { itemId: "AAMkAD-second" }]));
        },
      },
      roamingSettings: {
        get(name) {
          record("roamingSettings.get", [name]);
          return roaming[name];
        },
        set(name, value) {
          record("roamingSettings.set", [name]);
          roaming[name] = value;
        },
        remove(name) {
          record("roamingSettings.remove", [name]);
          delete roaming[name];
        },
        saveAsync(callback) {
          record("roamingSettings.saveAsync", []);
          if (callback) callback(succeeded());
        },
      },
    },
    onReady(callback) {
      record("onReady", []);
      const info = { host: "Outlook", platform: "PC" };
      window.setTimeout(() => callback(info), 0);
      return Promise.resolve(info);
    },
  };
})();
