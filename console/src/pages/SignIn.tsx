import { useState } from "preact/hooks";
import { errorText, gql, storeKey } from "../api";
import { VIEWER_QUERY, type Viewer } from "../session";

interface Props {
  viewer: Viewer | null;
  problem: string | null;
  onSignedIn: (viewer: Viewer) => void;
  onSignOut: () => void;
}

/** Sign-in with an API key, kept in sessionStorage for this tab only. */
export function SignInPage({ viewer, problem, onSignedIn, onSignOut }: Props) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(problem);
  const [busy, setBusy] = useState(false);

  async function signIn(withKey: string) {
    setBusy(true);
    setError(null);
    const previous = sessionStorage.getItem("segments.apiKey");
    storeKey(withKey);
    try {
      const data = await gql<{ viewer: Viewer }>(VIEWER_QUERY);
      onSignedIn(data.viewer);
    } catch (exc) {
      storeKey(previous);
      setError(errorText(exc));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin" id="main">
      <h1>Segments console</h1>
      {viewer && (
        <p>
          Signed in as <strong>{viewer.actor}</strong> ({viewer.role.toLowerCase()}).{" "}
          <a href="#/segments">Continue</a> or{" "}
          <button type="button" class="link" onClick={onSignOut}>sign out</button>.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void signIn(key.trim());
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          placeholder="the token printed by `segments keys create`"
        />
        <p class="hint">Kept for this browser tab only. Without a key the console works only where the server allows it (local development).</p>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !key.trim()}>Sign in</button>
          <button type="button" disabled={busy} onClick={() => void signIn("")}>Continue without a key</button>
        </div>
      </form>
    </main>
  );
}
