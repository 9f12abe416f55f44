// The API page. Opened from the machine a sandbox runs on, it signs every request in the browser
// with the sandbox project's credentials (X-KM-Tran-Token: HMAC-SHA256 over the exact body sent,
// keyed with the secret key's text) and can encrypt the request (JWE, RSA-OAEP-256 with A256GCM)
// and decrypt an encrypted answer. Anywhere else it is read-only documentation.
(async function () {
  "use strict";
  const SIGNED = [
    "X-KM-User-AspId",
    "X-KM-Correlation-Id",
    "X-KM-Access-Key",
    "X-KM-Tran-Token",
    "X-KM-Tran-Time",
    "X-KM-Time-Zone",
  ];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const bar = document.getElementById("try-it");
  const spec = await (await fetch("/openapi.json")).json();

  let credentials = null;
  try {
    const answer = await fetch("/docs/sandbox-credentials.json", { cache: "no-store" });
    if (answer.ok) {
      credentials = await answer.json();
    }
  } catch (_) {
    credentials = null;
  }
  if (!credentials || !window.crypto || !window.crypto.subtle) {
    bar.textContent =
      "Read-only documentation. Requests can be tried from this page in the sandbox, opened on the machine it runs on.";
    window.ui = SwaggerUIBundle({ spec, dom_id: "#swagger-ui", deepLinking: true, supportedSubmitMethods: [] });
    return;
  }

  // The page fills in the signed headers itself: they leave the forms.
  for (const item of Object.values(spec.paths)) {
    for (const operation of Object.values(item)) {
      operation.parameters = (operation.parameters || []).filter(
        (parameter) => !(parameter.in === "header" && SIGNED.includes(parameter.name)),
      );
    }
  }
  bar.innerHTML =
    '<strong>Sandbox.</strong> "Try it out" signs each request in this page with the sandbox project ' +
    '(<code id="try-it-asp"></code>). ' +
    '<label><input type="checkbox" id="try-it-encrypt"> Encrypt requests (JWE) and decrypt the answers</label> ' +
    '<span id="try-it-last"></span>';
  document.getElementById("try-it-asp").textContent = credentials.aspId;

  const hmacKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(credentials.secretKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const serverKey = await crypto.subtle.importKey(
    "spki",
    pemBytes(credentials.serverPublicKeyPem),
    { name: "RSA-OAEP", hash: "SHA-256" },
    false,
    ["encrypt"],
  );

  function pemBytes(pem) {
    return fromBase64(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  }
  function fromBase64(text) {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  }
  function fromBase64url(text) {
    return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/"));
  }
  function base64(bytes) {
    let text = "";
    for (const byte of new Uint8Array(bytes)) {
      text += String.fromCharCode(byte);
    }
    return btoa(text);
  }
  function base64url(bytes) {
    return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function digits(number, width) {
    return String(number).padStart(width, "0");
  }

  // JWE compact serialization to the server's key (RFC 7516): the header's text is the AAD.
  async function seal(plaintext) {
    const header = base64url(encoder.encode(JSON.stringify({ alg: "RSA-OAEP-256", enc: "A256GCM" })));
    const contentKey = crypto.getRandomValues(new Uint8Array(32));
    const wrapped = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, serverKey, contentKey);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const key = await crypto.subtle.importKey("raw", contentKey, "AES-GCM", false, ["encrypt"]);
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(header), tagLength: 128 },
        key,
        encoder.encode(plaintext),
      ),
    );
    const tag = sealed.slice(sealed.length - 16);
    const ciphertext = sealed.slice(0, sealed.length - 16);
    return [header, base64url(wrapped), base64url(iv), base64url(ciphertext), base64url(tag)].join(".");
  }

  // Opens an answer encrypted to the sandbox client's key, with the profile its header names.
  async function open(compact) {
    const [header, wrapped, iv, ciphertext, tag] = compact.split(".");
    const profile = JSON.parse(decoder.decode(fromBase64url(header)));
    const privateKey = await crypto.subtle.importKey(
      "pkcs8",
      pemBytes(credentials.clientPrivateKeyPem),
      { name: "RSA-OAEP", hash: profile.alg === "RSA-OAEP" ? "SHA-1" : "SHA-256" },
      false,
      ["decrypt"],
    );
    const contentKey = await crypto.subtle.decrypt({ name: "RSA-OAEP" }, privateKey, fromBase64url(wrapped));
    const key = await crypto.subtle.importKey("raw", contentKey, "AES-GCM", false, ["decrypt"]);
    const sealed = new Uint8Array([...fromBase64url(ciphertext), ...fromBase64url(tag)]);
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(header), tagLength: 128 },
      key,
      sealed,
    );
    return decoder.decode(plaintext);
  }

  async function sign(request) {
    if (request.method !== "POST") {
      return request;
    }
    let body = typeof request.body === "string" ? request.body : request.body == null ? "" : JSON.stringify(request.body);
    if (document.getElementById("try-it-encrypt").checked) {
      body = JSON.stringify({ encData: await seal(body) });
      request.headers["X-KM-Crypto-Key-Id"] = credentials.cryptoKeyId;
    }
    const now = new Date();
    const time =
      digits(now.getUTCFullYear(), 4) +
      digits(now.getUTCMonth() + 1, 2) +
      digits(now.getUTCDate(), 2) +
      digits(now.getUTCHours(), 2) +
      digits(now.getUTCMinutes(), 2) +
      digits(now.getUTCSeconds(), 2);
    const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (byte) => digits(byte.toString(16), 2))
      .join("")
      .slice(0, 7);
    const mac = await crypto.subtle.sign("HMAC", hmacKey, encoder.encode(body));
    request.body = body;
    request.headers["Content-Type"] = "application/json";
    request.headers["X-KM-User-AspId"] = credentials.aspId;
    request.headers["X-KM-Access-Key"] = credentials.accessKey;
    request.headers["X-KM-Correlation-Id"] = time.slice(2) + "-" + random;
    request.headers["X-KM-Tran-Time"] = time;
    request.headers["X-KM-Time-Zone"] = "UTC";
    request.headers["X-KM-Tran-Token"] =
      "KMV1:" + time + digits(now.getUTCMilliseconds(), 3) + ":" + base64(mac).replace(/=+$/, "");
    return request;
  }

  async function decrypt(response) {
    const last = document.getElementById("try-it-last");
    let parsed = null;
    try {
      parsed = JSON.parse(response.text);
    } catch (_) {
      parsed = null;
    }
    if (!parsed || typeof parsed.encData !== "string") {
      last.textContent = replayHint(parsed);
      return response;
    }
    try {
      const text = await open(parsed.encData);
      response.text = text;
      response.data = text;
      response.body = JSON.parse(text);
      response.obj = response.body;
      last.textContent = "The last answer came encrypted and was decrypted in this page.";
    } catch (_) {
      last.textContent = "The last answer came encrypted and could not be decrypted with the sandbox key.";
    }
    return response;
  }

  // The signature covers the body only, so the same body sent again within the request window
  // is a replay (000_093), whichever operation it goes to.
  function replayHint(answer) {
    const code = answer && answer.response && answer.response.code;
    return code === "000_093"
      ? "This body was sent before within the request window: its signature is spent (000_093). " +
          'Change the body to send it again (an extra member such as "clientNonce": 1 is ignored).'
      : "";
  }

  window.ui = SwaggerUIBundle({
    spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    requestInterceptor: sign,
    responseInterceptor: decrypt,
  });
})();
