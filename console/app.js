// The console's pages. Everything shown comes from signed API calls (api.js) made as the
// signed-in principal; the DOM is built with textContent only, never from HTML strings.
import { ApiError, cloudtrail, credentials, kms, signIn, signOut } from "./api.js";

const app = document.getElementById("app");

/// An element: `h("a", { href: "#/" }, "text", child)`. Attributes starting with "on" are
/// listeners; children are strings (text) or nodes.
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function show(title, ...content) {
  document.title = `${title} · SwiftKMS console`;
  app.replaceChildren(h("h1", {}, title), ...content.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
  app.focus();
}

function problem(error) {
  const code = error instanceof ApiError ? error.code : "Error";
  return h("div", { class: "error", role: "alert" }, h("strong", {}, code), error.message ? `: ${error.message}` : "");
}

/// Runs `action` for a button, showing its error (AWS's code and message) or `done`.
function acting(status, action, done) {
  return async (event) => {
    event.preventDefault();
    status.replaceChildren();
    try {
      await action();
      if (done) status.replaceChildren(h("div", { class: "notice", role: "status" }, done));
    } catch (error) {
      status.replaceChildren(problem(error));
    }
  };
}

const date = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace(".000", "") : "");

// MARK: Sign-in

function signInPage() {
  document.getElementById("nav").hidden = true;
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack" },
    h("label", {}, "Access key ID", h("input", { name: "accessKeyId", required: true, autocomplete: "username", spellcheck: "false" })),
    h("label", {}, "Secret access key", h("input", { name: "secretAccessKey", type: "password", required: true, autocomplete: "current-password" })),
    h("label", {}, "Region", h("input", { name: "region", required: true, value: "us-east-1", spellcheck: "false" })),
    h("button", { type: "submit" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    signIn(data.get("accessKeyId").trim(), data.get("secretAccessKey"), data.get("region").trim());
    location.hash = "#/keys";
    route();
  });
  show(
    "Sign in",
    h("p", {}, "Every page is made of requests signed in this tab with these credentials, as the AWS CLI would sign them. They stay in this tab only, and signing out forgets them."),
    form,
  );
}

// MARK: Keys

const STATES = ["Enabled", "Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Unavailable", "Creating", "Updating"];
const SPECS = ["SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "SM2"];
const USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"];
const ORIGINS = ["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"];
const PAGE = 25;

/// Runs `task` over `items`, at most `width` at a time.
async function inBatches(items, width, task) {
  const results = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return results;
}

async function keysPage() {
  show("Keys", h("p", {}, "Loading…"));
  let ids = [];
  let marker;
  do {
    const page = await kms("ListKeys", marker ? { Limit: 1000, Marker: marker } : { Limit: 1000 });
    ids.push(...page.Keys.map((k) => k.KeyId));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  const aliases = {};
  marker = undefined;
  do {
    const page = await kms("ListAliases", marker ? { Limit: 1000, Marker: marker } : { Limit: 1000 });
    for (const alias of page.Aliases) if (alias.TargetKeyId) (aliases[alias.TargetKeyId] ??= []).push(alias.AliasName);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  const keys = (await inBatches(ids, 8, (id) => kms("DescribeKey", { KeyId: id }).then((r) => r.KeyMetadata)))
    .sort((a, b) => b.CreationDate - a.CreationDate);

  const select = (name, values) => h("label", {}, name, h("select", { name }, h("option", { value: "" }, "Any"), values.map((v) => h("option", { value: v }, v))));
  const filters = h("form", { class: "filters", role: "search" },
    h("label", {}, "Search", h("input", { name: "search", type: "search", placeholder: "ID, alias or description" })),
    select("State", STATES), select("Spec", SPECS), select("Usage", USAGES), select("Origin", ORIGINS));
  const results = h("div", {});
  let start = 0;
  const render = () => {
    const data = new FormData(filters);
    const text = data.get("search").trim().toLowerCase();
    const shown = keys.filter((k) =>
      (!text || [k.KeyId, k.Description, ...(aliases[k.KeyId] ?? [])].some((v) => v && v.toLowerCase().includes(text))) &&
      (!data.get("State") || k.KeyState === data.get("State")) && (!data.get("Spec") || k.KeySpec === data.get("Spec")) &&
      (!data.get("Usage") || k.KeyUsage === data.get("Usage")) && (!data.get("Origin") || k.Origin === data.get("Origin")));
    start = Math.min(start, Math.max(0, shown.length - 1));
    const page = shown.slice(start, start + PAGE);
    const table = h("table", {},
      h("caption", { class: "muted" }, `${shown.length} of ${keys.length} keys`),
      h("thead", {}, h("tr", {}, ["Key", "Aliases", "State", "Spec", "Usage"].map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col", class: "optional" }, "Origin"), h("th", { scope: "col", class: "optional" }, "Created"))),
      h("tbody", {}, page.map((k) => h("tr", {},
        h("td", {}, h("a", { href: `#/keys/${k.KeyId}` }, k.KeyId), k.Description ? h("div", { class: "muted" }, k.Description) : null),
        h("td", {}, (aliases[k.KeyId] ?? []).join(", ")), h("td", {}, k.KeyState), h("td", {}, k.KeySpec), h("td", {}, k.KeyUsage),
        h("td", { class: "optional" }, k.Origin), h("td", { class: "optional" }, date(k.CreationDate))))));
    const pager = h("div", { class: "pager" },
      h("button", { type: "button", class: "secondary", disabled: start === 0, onclick: () => { start -= PAGE; render(); } }, "Previous"),
      h("span", {}, shown.length ? `${start + 1}–${start + page.length}` : "none"),
      h("button", { type: "button", class: "secondary", disabled: start + PAGE >= shown.length, onclick: () => { start += PAGE; render(); } }, "Next"));
    results.replaceChildren(h("div", { class: "table-wrap" }, table), pager);
  };
  for (const type of ["input", "change"]) filters.addEventListener(type, () => { start = 0; render(); });
  filters.addEventListener("submit", (event) => event.preventDefault());
  show("Keys", h("p", {}, h("a", { href: "#/create" }, "Create a key")), filters, results);
  render();
}

// MARK: A key

async function keyPage(id) {
  show(id, h("p", {}, "Loading…"));
  const key = (await kms("DescribeKey", { KeyId: id })).KeyMetadata;
  const [aliases, tags, policy, grants, rotation, store] = await Promise.all([
    kms("ListAliases", { KeyId: id }).then((r) => r.Aliases).catch((e) => e),
    kms("ListResourceTags", { KeyId: id }).then((r) => r.Tags).catch((e) => e),
    kms("GetKeyPolicy", { KeyId: id, PolicyName: "default" }).then((r) => r.Policy).catch((e) => e),
    kms("ListGrants", { KeyId: id }).then((r) => r.Grants).catch((e) => e),
    key.KeySpec === "SYMMETRIC_DEFAULT" && key.Origin === "AWS_KMS"
      ? kms("GetKeyRotationStatus", { KeyId: id }).catch((e) => e) : Promise.resolve(null),
    key.CustomKeyStoreId
      ? kms("DescribeCustomKeyStores", { CustomKeyStoreId: key.CustomKeyStoreId }).then((r) => r.CustomKeyStores[0]).catch((e) => e) : Promise.resolve(null),
  ]);
  const status = h("div", { "aria-live": "polite" });
  const rows = [
    ["ARN", h("code", {}, key.Arn)], ["Description", key.Description], ["State", key.KeyState], ["Key spec", key.KeySpec],
    ["Usage", key.KeyUsage], ["Origin", key.Origin], ["Created", date(key.CreationDate)], ["Key manager", key.KeyManager],
    ["Deletion date", date(key.DeletionDate)], ["Multi-Region", key.MultiRegion ? "yes" : "no"], ["Custom key store", key.CustomKeyStoreId],
    ["Primary key", key.MultiRegionConfiguration?.PrimaryKey?.Arn],
    ["Replicas", (key.MultiRegionConfiguration?.ReplicaKeys ?? []).map((r) => r.Region).join(", ")],
  ].filter(([, value]) => value);
  const reload = () => keyPage(id).catch(failed);
  const waiting = h("input", { name: "window", type: "number", min: 7, max: 30, value: 30, inputmode: "numeric" });
  const actions = h("div", { class: "actions" },
    key.KeyState === "Disabled" ? h("button", { type: "button", onclick: acting(status, async () => { await kms("EnableKey", { KeyId: id }); await reload(); }) }, "Enable") : null,
    key.KeyState === "Enabled" ? h("button", { type: "button", class: "secondary", onclick: acting(status, async () => { await kms("DisableKey", { KeyId: id }); await reload(); }) }, "Disable") : null,
    key.KeyState === "PendingDeletion"
      ? h("button", { type: "button", onclick: acting(status, async () => { await kms("CancelKeyDeletion", { KeyId: id }); await reload(); }) }, "Cancel deletion")
      : [h("label", {}, "Waiting period (days)", waiting),
         h("button", { type: "button", class: "danger", onclick: acting(status, async () => {
           await kms("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: Number(waiting.value) });
           await reload();
         }) }, "Schedule deletion")]);
  const list = (value, render) => (value instanceof Error ? problem(value) : value.length ? h("ul", {}, value.map(render)) : h("p", { class: "muted" }, "None."));
  show(key.KeyId,
    h("dl", {}, rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
    actions, status,
    h("h2", {}, "Aliases"), list(aliases, (a) => h("li", {}, a.AliasName)),
    h("h2", {}, "Tags"), list(tags, (t) => h("li", {}, `${t.TagKey} = ${t.TagValue}`)),
    store ? [h("h2", {}, "Custom key store"), store instanceof Error ? problem(store) : h("dl", {},
      [["Name", store.CustomKeyStoreName], ["Type", store.CustomKeyStoreType], ["Connection", store.ConnectionState],
       ["Error", store.ConnectionErrorCode], ["Proxy", store.XksProxyConfiguration?.UriEndpoint], ["External key", key.XksKeyConfiguration?.Id]]
        .filter(([, v]) => v).map(([n, v]) => [h("dt", {}, n), h("dd", {}, v)]))] : null,
    rotation ? [h("h2", {}, "Rotation"), rotation instanceof Error ? problem(rotation) : rotationSection(id, rotation)] : null,
    h("h2", {}, "Key policy"), policy instanceof Error ? problem(policy) : policyEditor(id, policy),
    h("h2", {}, "Grants"), grants instanceof Error ? problem(grants) : grantsSection(id, grants, reload),
    key.KeyUsage === "ENCRYPT_DECRYPT" && key.KeySpec === "SYMMETRIC_DEFAULT" && key.KeyState === "Enabled" ? [h("h2", {}, "Use"), useSection(id)] : null,
    h("h2", {}, "Audit"), h("p", {}, h("a", { href: `#/audit?ResourceName=${encodeURIComponent(key.KeyId)}` }, "Every request that named this key")),
    usageChart(id));
}

const base64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/// Encrypt, Decrypt and GenerateDataKey with a symmetric key, as the CLI session does. The
/// plaintexts shown are the user's own, in this page only.
function useSection(id) {
  const status = h("div", { "aria-live": "polite" });
  const plaintext = h("textarea", { name: "plaintext", class: "short", "aria-label": "Plaintext" });
  const context = h("input", { name: "context", placeholder: "app=demo", spellcheck: "false" });
  const ciphertext = h("textarea", { name: "ciphertext", class: "short", "aria-label": "Ciphertext (base64)", spellcheck: "false" });
  const output = h("div", {});
  const encryptionContext = () => Object.fromEntries(context.value.split(",").map((p) => p.trim()).filter(Boolean).map((p) => p.split("=").map((x) => x.trim())));
  return [
    h("form", { class: "stack" },
      h("label", {}, "Plaintext", plaintext), h("label", {}, "Encryption context (key=value, comma-separated)", context),
      h("label", {}, "Ciphertext (base64)", ciphertext),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: acting(status, async () => {
          const answer = await kms("Encrypt", { KeyId: id, Plaintext: base64(new TextEncoder().encode(plaintext.value)), EncryptionContext: encryptionContext() });
          ciphertext.value = answer.CiphertextBlob;
        }, "Encrypted.") }, "Encrypt"),
        h("button", { type: "button", onclick: acting(status, async () => {
          const answer = await kms("Decrypt", { CiphertextBlob: ciphertext.value.trim(), EncryptionContext: encryptionContext() });
          plaintext.value = new TextDecoder().decode(unbase64(answer.Plaintext));
        }, "Decrypted.") }, "Decrypt"),
        h("button", { type: "button", class: "secondary", onclick: acting(status, async () => {
          const answer = await kms("GenerateDataKey", { KeyId: id, KeySpec: "AES_256", EncryptionContext: encryptionContext() });
          output.replaceChildren(h("dl", {}, h("dt", {}, "Data key (plaintext, base64)"), h("dd", {}, h("code", {}, answer.Plaintext)),
            h("dt", {}, "Data key (encrypted, base64)"), h("dd", {}, h("code", {}, answer.CiphertextBlob))));
        }) }, "Generate a data key"))),
    status, output];
}

/// Requests that named the key, by day, over its last 500 events: a bar chart drawn with SVG.
function usageChart(id) {
  const figure = h("figure", {}, h("figcaption", {}, "Requests that named this key, by day (its last 500 events)"));
  (async () => {
    const days = new Map();
    let token;
    for (let page = 0; page < 10; page++) {
      const answer = await cloudtrail("LookupEvents", { MaxResults: 50, LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: id }], ...(token ? { NextToken: token } : {}) });
      for (const event of answer.Events) {
        const day = date(event.EventTime).slice(0, 10);
        days.set(day, (days.get(day) ?? 0) + 1);
      }
      token = answer.NextToken;
      if (!token) break;
    }
    const entries = [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(-30);
    const most = Math.max(1, ...entries.map(([, n]) => n));
    const svg = (tag, attributes) => {
      const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
      return element;
    };
    const width = 30 * entries.length + 10;
    const chart = svg("svg", { viewBox: `0 0 ${width} 140`, width, height: 140, role: "img", "aria-label": entries.map(([d, n]) => `${d}: ${n}`).join("; ") });
    entries.forEach(([day, count], index) => {
      const height = Math.round((count / most) * 100);
      const bar = svg("rect", { x: 10 + index * 30, y: 110 - height, width: 22, height, fill: "#0b5ed7" });
      bar.append(svg("title", {}));
      bar.firstChild.textContent = `${day}: ${count}`;
      const label = svg("text", { x: 21 + index * 30, y: 128, "text-anchor": "middle", "font-size": 9, fill: "#16191f" });
      label.textContent = day.slice(5);
      const value = svg("text", { x: 21 + index * 30, y: 105 - height, "text-anchor": "middle", "font-size": 10, fill: "#16191f" });
      value.textContent = String(count);
      chart.append(bar, label, value);
    });
    figure.append(chart);
  })().catch((error) => figure.append(problem(error)));
  return figure;
}

/// The key policy in an editor; saving sends PutKeyPolicy, and the server's refusal
/// (MalformedPolicyDocumentException, its message naming what is wrong) shows under it.
function policyEditor(id, policy) {
  const status = h("div", { "aria-live": "polite" });
  let text = policy;
  try {
    text = JSON.stringify(JSON.parse(policy), null, 2);
  } catch {}
  const editor = h("textarea", { name: "policy", "aria-label": "Key policy (JSON)", spellcheck: "false" }, text);
  return h("form", {}, editor,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: acting(status, () => kms("PutKeyPolicy", { KeyId: id, PolicyName: "default", Policy: editor.value }), "Policy saved.") }, "Save policy")),
    status);
}

function grantsSection(id, grants, reload) {
  const status = h("div", { "aria-live": "polite" });
  const grantee = h("input", { name: "grantee", placeholder: "arn:aws:iam::111122223333:user/alice", spellcheck: "false" });
  const operations = ["Encrypt", "Decrypt", "GenerateDataKey", "ReEncryptFrom", "ReEncryptTo", "DescribeKey", "Sign", "Verify", "GenerateMac", "VerifyMac", "CreateGrant", "RetireGrant"];
  const boxes = operations.map((o) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "operation", value: o }), o));
  const table = grants.length
    ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Grantee", "Operations", "Grant ID", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, grants.map((g) => h("tr", {},
          h("td", {}, g.GranteePrincipal), h("td", {}, g.Operations.join(", ")), h("td", {}, h("code", {}, g.GrantId)),
          h("td", {}, h("div", { class: "actions" },
            h("button", { type: "button", class: "secondary", "aria-label": `Retire grant ${g.GrantId}`,
              onclick: acting(status, async () => { await kms("RetireGrant", { KeyId: id, GrantId: g.GrantId }); await reload(); }) }, "Retire"),
            h("button", { type: "button", class: "danger", "aria-label": `Revoke grant ${g.GrantId}`,
              onclick: acting(status, async () => { await kms("RevokeGrant", { KeyId: id, GrantId: g.GrantId }); await reload(); }) }, "Revoke"))))))))
    : h("p", { class: "muted" }, "None.");
  const form = h("form", { class: "stack" }, h("label", {}, "Grantee principal", grantee),
    h("fieldset", {}, h("legend", {}, "Operations"), boxes), h("button", { type: "submit" }, "Create grant"));
  form.addEventListener("submit", acting(status, async () => {
    const chosen = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    await kms("CreateGrant", { KeyId: id, GranteePrincipal: grantee.value.trim(), Operations: chosen });
    await reload();
  }));
  return [table, form, status];
}

function rotationSection(id, rotation) {
  const status = h("div", { "aria-live": "polite" });
  const history = h("div", {});
  kms("ListKeyRotations", { KeyId: id }).then((r) => history.replaceChildren(r.Rotations.length
    ? h("table", {}, h("caption", { class: "muted" }, "Rotations"),
        h("thead", {}, h("tr", {}, ["Date", "Type"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, r.Rotations.map((x) => h("tr", {}, h("td", {}, date(x.RotationDate)), h("td", {}, x.RotationType)))))
    : h("p", { class: "muted" }, "Not rotated yet."))).catch((error) => history.replaceChildren(problem(error)));
  const rows = [["Automatic rotation", rotation.KeyRotationEnabled ? `every ${rotation.RotationPeriodInDays} days` : "off"],
    ["Next rotation", date(rotation.NextRotationDate)], ["Last on-demand rotation", date(rotation.OnDemandRotationStartDate)]].filter(([, v]) => v);
  return [h("dl", {}, rows.map(([n, v]) => [h("dt", {}, n), h("dd", {}, v)])),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: acting(status, () => kms(rotation.KeyRotationEnabled ? "DisableKeyRotation" : "EnableKeyRotation", { KeyId: id }), "Saved; reload to see it.") },
        rotation.KeyRotationEnabled ? "Turn automatic rotation off" : "Turn automatic rotation on"),
      h("button", { type: "button", class: "secondary", onclick: acting(status, async () => { await kms("RotateKeyOnDemand", { KeyId: id }); await keyPage(id); }) }, "Rotate now")),
    status, history];
}

// MARK: Aliases

async function aliasesPage() {
  const status = h("div", { "aria-live": "polite" });
  const aliases = [];
  let marker;
  do {
    const page = await kms("ListAliases", marker ? { Limit: 1000, Marker: marker } : { Limit: 1000 });
    aliases.push(...page.Aliases);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  const name = h("input", { name: "AliasName", placeholder: "alias/my-key", spellcheck: "false", required: true });
  const target = h("input", { name: "TargetKeyId", placeholder: "key ID or ARN", spellcheck: "false", required: true });
  const form = h("form", { class: "stack" }, h("label", {}, "Alias name", name), h("label", {}, "Target key", target), h("button", { type: "submit" }, "Create alias"));
  form.addEventListener("submit", acting(status, async () => {
    await kms("CreateAlias", { AliasName: name.value.trim(), TargetKeyId: target.value.trim() });
    await aliasesPage();
  }));
  const own = aliases.filter((a) => !a.AliasName.startsWith("alias/aws/") || a.TargetKeyId);
  show("Aliases",
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Alias", "Key", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, own.map((a) => h("tr", {},
        h("td", {}, a.AliasName),
        h("td", {}, a.TargetKeyId ? h("a", { href: `#/keys/${a.TargetKeyId}` }, a.TargetKeyId) : h("span", { class: "muted" }, "(made on first use)")),
        h("td", {}, a.AliasName.startsWith("alias/aws/") ? null : h("button", { type: "button", class: "danger", "aria-label": `Delete ${a.AliasName}`,
          onclick: acting(status, async () => { await kms("DeleteAlias", { AliasName: a.AliasName }); await aliasesPage(); }) }, "Delete"))))))),
    h("h2", {}, "Create an alias"), form, status);
}

// MARK: Create a key

const USAGES_OF = (spec) =>
  spec === "SYMMETRIC_DEFAULT" ? ["ENCRYPT_DECRYPT"]
  : spec.startsWith("HMAC") ? ["GENERATE_VERIFY_MAC"]
  : spec.startsWith("RSA") ? ["ENCRYPT_DECRYPT", "SIGN_VERIFY"]
  : spec === "SM2" ? ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"]
  : spec.startsWith("ECC_NIST_P") ? ["SIGN_VERIFY", "KEY_AGREEMENT"]
  : ["SIGN_VERIFY"];

/// What AWS's console says of each choice, in short.
function describeSpec(spec, usage) {
  if (spec === "SYMMETRIC_DEFAULT") return "A 256-bit AES-GCM key that never leaves the server: encrypts up to 4 KB, and the data keys of envelope encryption. Rotation available.";
  if (spec.startsWith("HMAC")) return `An HMAC key (${spec.slice(5)} bits): GenerateMac and VerifyMac with HMAC_SHA_${spec.slice(5)}; the key never leaves the server.`;
  const pair = "An asymmetric key pair: the private key never leaves the server; GetPublicKey gives the public key to anyone allowed";
  if (usage === "SIGN_VERIFY") return `${pair}, to verify signatures without calling the server.`;
  if (usage === "ENCRYPT_DECRYPT") return `${pair}, to encrypt for the key without calling the server (${spec.startsWith("RSA") ? "RSAES_OAEP_SHA_1 or _256" : "SM2PKE"}).`;
  return `${pair}; DeriveSharedSecret agrees on a secret with another party's public key (ECDH).`;
}

async function createPage() {
  const status = h("div", { "aria-live": "polite" });
  const spec = h("select", { name: "KeySpec" }, SPECS.map((s) => h("option", { value: s }, s)));
  const usage = h("select", { name: "KeyUsage" });
  const about = h("p", { class: "muted", "aria-live": "polite" });
  const fillUsages = () => usage.replaceChildren(...USAGES_OF(spec.value).map((u) => h("option", { value: u }, u)));
  const describe = () => about.replaceChildren(describeSpec(spec.value, usage.value));
  spec.addEventListener("change", () => { fillUsages(); describe(); });
  usage.addEventListener("change", describe);
  fillUsages();
  describe();
  const stores = await kms("DescribeCustomKeyStores", {}).then((r) => r.CustomKeyStores).catch(() => []);
  const origin = h("select", { name: "Origin" },
    h("option", { value: "AWS_KMS" }, "AWS_KMS: key material made here"),
    h("option", { value: "EXTERNAL" }, "EXTERNAL: you import the key material (symmetric, HMAC or asymmetric)"),
    stores.some((s) => s.CustomKeyStoreType === "AWS_CLOUDHSM") ? h("option", { value: "AWS_CLOUDHSM" }, "AWS_CLOUDHSM: in an HSM key store") : null,
    stores.some((s) => s.CustomKeyStoreType === "EXTERNAL_KEY_STORE") ? h("option", { value: "EXTERNAL_KEY_STORE" }, "EXTERNAL_KEY_STORE: in an external key manager") : null);
  const store = h("select", { name: "CustomKeyStoreId" }, stores.map((s) => h("option", { value: s.CustomKeyStoreId }, `${s.CustomKeyStoreName} (${s.CustomKeyStoreId}, ${s.ConnectionState})`)));
  const storeField = h("label", { hidden: true }, "Custom key store", store);
  const xksKey = h("label", { hidden: true }, "External key ID", h("input", { name: "XksKeyId", spellcheck: "false" }));
  origin.addEventListener("change", () => {
    storeField.hidden = !["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"].includes(origin.value);
    xksKey.hidden = origin.value !== "EXTERNAL_KEY_STORE";
  });
  const form = h("form", { class: "stack" },
    h("label", {}, "Key spec", spec), h("label", {}, "Key usage", usage), about,
    h("label", {}, "Origin", origin), storeField, xksKey,
    h("label", {}, "Description", h("input", { name: "Description" })),
    h("label", {}, "Alias (optional)", h("input", { name: "Alias", placeholder: "alias/my-key", spellcheck: "false" })),
    h("button", { type: "submit" }, "Create key"), status);
  form.addEventListener("submit", acting(status, async () => {
    const data = new FormData(form);
    const request = { KeySpec: data.get("KeySpec"), KeyUsage: data.get("KeyUsage"), Origin: data.get("Origin"), Description: data.get("Description") };
    if (!storeField.hidden) request.CustomKeyStoreId = data.get("CustomKeyStoreId");
    if (!xksKey.hidden) request.XksKeyId = data.get("XksKeyId");
    const key = (await kms("CreateKey", request)).KeyMetadata;
    if (data.get("Alias").trim()) await kms("CreateAlias", { AliasName: data.get("Alias").trim(), TargetKeyId: key.KeyId });
    location.hash = `#/keys/${key.KeyId}`;
  }));
  show("Create a key", form);
}

// MARK: The audit trail

async function auditPage(query) {
  const status = h("div", { "aria-live": "polite" });
  const keys = ["", "ResourceName", "EventName", "Username", "EventId", "ReadOnly", "ResourceType", "EventSource", "AccessKeyId"];
  const attribute = [...query.keys()].find((k) => keys.includes(k)) ?? "";
  const form = h("form", { class: "filters" },
    h("label", {}, "Attribute", h("select", { name: "key" }, keys.map((k) => h("option", { value: k, selected: k === attribute }, k || "Any")))),
    h("label", {}, "Value", h("input", { name: "value", value: attribute ? query.get(attribute) : "" })),
    h("label", {}, "From (UTC)", h("input", { name: "from", type: "datetime-local", value: query.get("from") ?? "" })),
    h("label", {}, "To (UTC)", h("input", { name: "to", type: "datetime-local", value: query.get("to") ?? "" })),
    h("button", { type: "submit" }, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    if (data.get("key")) next.set(data.get("key"), data.get("value"));
    for (const bound of ["from", "to"]) if (data.get(bound)) next.set(bound, data.get(bound));
    location.hash = `#/audit?${next}`;
  });
  // The inputs' local date and time, read as UTC (as the table shows times).
  const seconds = (text) => Date.parse(text.length === 16 ? `${text}:00Z` : `${text}Z`) / 1000;
  const results = h("div", {});
  const detail = h("div", {});
  const links = h("p", { role: "status" });
  const loaded = [];
  let token;
  const more = async () => {
    const request = { MaxResults: 50 };
    if (attribute) request.LookupAttributes = [{ AttributeKey: attribute, AttributeValue: query.get(attribute) }];
    if (query.get("from")) request.StartTime = seconds(query.get("from"));
    if (query.get("to")) request.EndTime = seconds(query.get("to"));
    if (token) request.NextToken = token;
    const page = await cloudtrail("LookupEvents", request);
    token = page.NextToken;
    for (const event of page.Events) {
      const record = JSON.parse(event.CloudTrailEvent);
      loaded.push({ record, bytes: new TextEncoder().encode(event.CloudTrailEvent) });
      results.querySelector("tbody").append(h("tr", {},
        h("td", {}, date(event.EventTime)),
        h("td", {}, h("a", { href: "#", onclick: (e) => { e.preventDefault(); detail.replaceChildren(h("h2", {}, `Event ${event.EventId}`), h("pre", {}, JSON.stringify(record, null, 2))); detail.scrollIntoView(); } }, event.EventName)),
        h("td", {}, event.Username ?? ""), h("td", { class: "optional" }, (event.Resources ?? []).map((r) => r.ResourceName).join(", ")),
        h("td", {}, record.errorCode ?? "")));
    }
    moreButton.hidden = !token;
    links.replaceChildren(await checkLinks(loaded));
  };
  const moreButton = h("button", { type: "button", class: "secondary", onclick: acting(status, more) }, "More");
  results.append(h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Time", "Event", "User"].map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col", class: "optional" }, "Resources"), h("th", { scope: "col" }, "Error"))),
    h("tbody", {}))));
  show("Audit trail", form, links, status, results, h("div", { class: "pager" }, moreButton), detail);
  await more().catch((error) => status.replaceChildren(problem(error)));
}

/// Checks, in this browser, the chain links between the events shown: where an event and the
/// next of its chain are both here, the second must name the SHA-256 of the first's bytes
/// (docs/audit.md). The whole trail and its signed checkpoints: `swiftkms audit verify`.
async function checkLinks(events) {
  const byPlace = new Map();
  for (const { record, bytes } of events) {
    const links = record.additionalEventData ?? {};
    if (links.auditChain !== undefined) byPlace.set(`${links.auditChain}/${links.auditSequence}`, { links, bytes, id: record.eventID });
  }
  let checked = 0;
  for (const { links, id } of byPlace.values()) {
    const previous = byPlace.get(`${links.auditChain}/${links.auditSequence - 1}`);
    if (!previous) continue;
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", previous.bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
    if (digest !== links.previousEventDigest) {
      return h("span", { class: "error" }, `Broken chain link: event ${id} does not name the digest of event ${previous.id}, the one before it in chain ${links.auditChain}.`);
    }
    checked += 1;
  }
  return `Chain links between the events shown: ${checked} checked in this browser, all hold.`;
}

// MARK: Routing

function failed(error) {
  show("Something went wrong", problem(error), h("p", {}, h("a", { href: "#/keys" }, "Back to the keys")));
}

async function route() {
  if (!credentials()) return signInPage();
  document.getElementById("nav").hidden = false;
  const [path, search] = location.hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  try {
    if (parts[0] === "keys" && parts[1]) await keyPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "create") await createPage();
    else if (parts[0] === "aliases") await aliasesPage();
    else if (parts[0] === "audit") await auditPage(new URLSearchParams(search ?? ""));
    else await keysPage();
  } catch (error) {
    failed(error);
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  location.hash = "#/";
  route();
});
window.addEventListener("hashchange", route);
route();
