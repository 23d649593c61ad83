// Passkeys (WebAuthn) on the staff two-step pages: add one, or verify a login with one.
// The server sends the options as JSON (base64url fields) and checks the answer (portal/passkeys.py).
(function () {
  "use strict";

  function fromB64url(value) {
    const b64 = value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  }

  function toB64url(buffer) {
    let text = "";
    new Uint8Array(buffer).forEach((byte) => { text += String.fromCharCode(byte); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function credentialJson(credential) {
    const response = credential.response;
    const out = {id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
                 clientExtensionResults: credential.getClientExtensionResults(), response: {}};
    ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"].forEach((key) => {
      if (response[key]) { out.response[key] = toB64url(response[key]); }
    });
    if (response.getTransports) { out.response.transports = response.getTransports(); }
    return out;
  }

  async function post(form, url, body) {
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const reply = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: JSON.stringify(body || {})});
    const data = await reply.json();
    if (!reply.ok) { throw new Error(data.error || "The server refused the passkey."); }
    return data;
  }

  function status(form, text) { form.querySelector(".passkey-status").textContent = text; }

  const register = document.getElementById("passkey-register");
  if (register) {
    register.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const options = await post(register, register.dataset.optionsUrl);
        options.challenge = fromB64url(options.challenge);
        options.user.id = fromB64url(options.user.id);
        (options.excludeCredentials || []).forEach((c) => { c.id = fromB64url(c.id); });
        const credential = await navigator.credentials.create({publicKey: options});
        const done = await post(register, register.dataset.url, {credential: credentialJson(credential),
          name: register.querySelector("[name=name]").value});
        status(register, "Passkey “" + done.name + "” added.");
        window.location.reload();
      } catch (error) { status(register, error.message || String(error)); }
    });
  }

  const login = document.getElementById("passkey-login");
  if (login) {
    login.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const options = await post(login, login.dataset.optionsUrl);
        options.challenge = fromB64url(options.challenge);
        (options.allowCredentials || []).forEach((c) => { c.id = fromB64url(c.id); });
        const credential = await navigator.credentials.get({publicKey: options});
        const done = await post(login, login.dataset.url, {credential: credentialJson(credential)});
        window.location.assign(done.redirect);
      } catch (error) { status(login, error.message || String(error)); }
    });
  }
})();
