// Passkeys (WebAuthn) for danang-sso: the one script of the passkey pages (/tai-khoan/passkey and /mfa).
// It shows the passkey form only where the browser can use one, runs the ceremony with the options the
// server wrote into the form's data-* attributes and hidden fields, and posts the authenticator's answer as
// an ordinary form (with the anti-forgery value). Every check happens on the server.
"use strict";

(function () {
  function bytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function text(buffer) {
    var view = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < view.length; i++) bin += String.fromCharCode(view[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function credentials(list) {
    return (list || "").split(",").filter(Boolean).map(function (id) {
      return { type: "public-key", id: bytes(id) };
    });
  }

  function failed(form) {
    var p = form.querySelector("#passkey-error");
    if (p) p.hidden = false;
  }

  function wire(form, ceremony) {
    if (!form) return;
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ceremony(form).then(function () { form.submit(); }, function () { failed(form); });
    });
  }

  // Adding a passkey on /tai-khoan/passkey.
  wire(document.getElementById("passkey-register"), function (form) {
    var d = form.dataset;
    return navigator.credentials.create({
      publicKey: {
        challenge: bytes(form.elements.challenge.value),
        rp: { id: d.rpId, name: d.rpName },
        user: { id: bytes(d.userId), name: d.userName, displayName: d.userName },
        pubKeyCredParams: [
          { type: "public-key", alg: -7 },
          { type: "public-key", alg: -8 },
          { type: "public-key", alg: -257 },
        ],
        excludeCredentials: credentials(d.exclude),
        authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
        attestation: "none",
        timeout: 120000,
      },
    }).then(function (credential) {
      form.elements.client_data_json.value = text(credential.response.clientDataJSON);
      form.elements.attestation_object.value = text(credential.response.attestationObject);
    });
  });

  // Proving a passkey on /mfa.
  wire(document.getElementById("passkey-form"), function (form) {
    var d = form.dataset;
    return navigator.credentials.get({
      publicKey: {
        challenge: bytes(form.elements.challenge.value),
        rpId: d.rpId,
        allowCredentials: credentials(d.allow),
        userVerification: "preferred",
        timeout: 120000,
      },
    }).then(function (credential) {
      form.elements.credential_id.value = text(credential.rawId);
      form.elements.client_data_json.value = text(credential.response.clientDataJSON);
      form.elements.authenticator_data.value = text(credential.response.authenticatorData);
      form.elements.signature.value = text(credential.response.signature);
    });
  });
})();
