// The console's only way to the server: signed requests to the public API, as the signed-in
// principal. The credentials live in this tab's sessionStorage, and nowhere else.
import { signedHeaders } from "./sigv4.js";

const STORAGE = "swiftkms-console-credentials";

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE));
  } catch {
    return null;
  }
}

export function signIn(accessKeyId, secretAccessKey, region) {
  sessionStorage.setItem(STORAGE, JSON.stringify({ accessKeyId, secretAccessKey, region }));
}

export function signOut() {
  sessionStorage.removeItem(STORAGE);
}

const TARGETS = { kms: "TrentService.", cloudtrail: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101." };

/// Calls `operation` of `service` (`kms` or `cloudtrail`) with `body`; the parsed answer, or an
/// ApiError with AWS's error code and message.
export async function call(service, operation, body = {}) {
  const signedIn = credentials();
  if (!signedIn) throw new ApiError("NotSignedIn", "Sign in first.");
  const text = JSON.stringify(body);
  const headers = await signedHeaders({ ...signedIn, service, host: location.host, target: TARGETS[service] + operation, body: text });
  const response = await fetch("/", { method: "POST", headers, body: text, credentials: "omit", cache: "no-store" });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(answer.__type || `HTTP ${response.status}`, answer.message || "");
  return answer;
}

export const kms = (operation, body) => call("kms", operation, body);
export const cloudtrail = (operation, body) => call("cloudtrail", operation, body);
