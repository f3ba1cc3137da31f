// The console's only way to the server: POST /graphql (and the members CSV download), with the
// API key from sessionStorage as `Authorization: Bearer <key>` (server/api/auth.py).

const KEY_STORAGE = "segments.apiKey";

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Whether this tab chose how to call the API: with a key, or without one ("" where allowed). */
export function hasSession(): boolean {
  return sessionStorage.getItem(KEY_STORAGE) !== null;
}

/** A key, "" for none (local development), or null to forget the session. */
export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

function authHeaders(): Record<string, string> {
  const key = storedKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** A request the API refused as a whole: no key (401), a GraphQL error, or the network. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface UserError {
  code: string;
  field: string[];
  message: string;
  span?: { line: number; column: number } | null;
}

let unauthenticated: () => void = () => {};

/** Called when the server answers 401 (the key was revoked or the session has none). */
export function onUnauthenticated(handler: () => void): void {
  unauthenticated = handler;
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (exc) {
    throw new ApiError(`the server cannot be reached (${String(exc)})`, "NETWORK", 0);
  }
  const body = await response.json().catch(() => null);
  const first = body?.errors?.[0];
  if (response.status === 401) {
    unauthenticated();
    throw new ApiError(first?.message ?? "an API key is required", "UNAUTHENTICATED", 401);
  }
  if (first) {
    throw new ApiError(first.message, first.extensions?.code ?? "ERROR", response.status);
  }
  if (!response.ok || !body?.data) {
    throw new ApiError(`HTTP ${response.status}`, "HTTP", response.status);
  }
  return body.data as T;
}

/** Downloads a segment's members as CSV: fetched with the key (a plain link could not send it). */
export async function downloadMembersCsv(id: string, name: string, columns: string[]): Promise<number> {
  const query = columns.length ? `?columns=${encodeURIComponent(columns.join(","))}` : "";
  const response = await fetch(`/segments/${encodeURIComponent(id)}/members.csv${query}`, {
    headers: authHeaders(),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(body?.errors?.[0]?.message ?? `HTTP ${response.status}`, "HTTP", response.status);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `${name}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob.size;
}

export function errorText(exc: unknown): string {
  return exc instanceof Error ? exc.message : String(exc);
}

export function userErrorsText(errors: UserError[]): string {
  return errors.map((e) => `${e.message}${e.field.length ? ` (${e.field.join(".")})` : ""}`).join("; ");
}
