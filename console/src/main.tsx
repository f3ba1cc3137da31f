import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, gql, hasSession, onUnauthenticated, storeKey, storedKey } from "./api";
import { href, navigate, useRoute } from "./router";
import { VIEWER_QUERY, ViewerContext, type Viewer } from "./session";
import { BuilderPage } from "./pages/Builder";
import { LeadsPage } from "./pages/Leads";
import { SegmentPage } from "./pages/SegmentDetail";
import { SegmentsPage } from "./pages/Segments";
import { SignInPage } from "./pages/SignIn";
import { SuggestionsPage } from "./pages/Suggestions";
import "./styles.css";

function App() {
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [checking, setChecking] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const route = useRoute();

  async function identify() {
    if (!hasSession()) {
      // No key yet: the sign-in page asks (probing without one would log a 401 where keys are required).
      setChecking(false);
      return;
    }
    setChecking(true);
    try {
      const data = await gql<{ viewer: Viewer }>(VIEWER_QUERY);
      setViewer(data.viewer);
      setProblem(null);
    } catch (exc) {
      setViewer(null);
      setProblem(errorText(exc));
      storeKey(null);
    } finally {
      setChecking(false);
    }
  }

  useEffect(() => {
    onUnauthenticated(() => setViewer(null));
    void identify();
  }, []);

  // A new page takes the focus, as a page load would: keyboard users start at its top.
  const page = route.join("/");
  useEffect(() => {
    if (viewer) focusMain();
  }, [page, viewer?.actor]);

  function signOut() {
    storeKey(null);
    setViewer(null);
    navigate("/signin");
  }

  if (checking) return <p class="loading" role="status">Loading…</p>;
  if (!viewer || route[0] === "signin") {
    return <SignInPage viewer={viewer} problem={problem} onSignedIn={(v) => { setViewer(v); navigate("/segments"); }} onSignOut={signOut} />;
  }
  const can = (p: string) => viewer.permissions.includes(p as never);
  let content;
  if (route[0] === "segments" && route[1]) content = <SegmentPage id={route[1]} />;
  else if (route[0] === "builder" && can("MANAGE_SEGMENTS")) content = <BuilderPage id={route[1] ?? null} />;
  else if (route[0] === "leads" && can("READ_SCORES")) content = <LeadsPage />;
  else if (route[0] === "suggestions" && can("READ_SEGMENTS")) content = <SuggestionsPage />;
  else content = <SegmentsPage />;

  return (
    <ViewerContext.Provider value={viewer}>
      {/* Not a hash link: the hash is the route. */}
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); focusMain(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href={href("segments")}>Segments</a>
        <nav aria-label="Main">
          <a href={href("segments")} aria-current={route[0] === "segments" || !route[0] ? "page" : undefined}>Segments</a>
          {can("MANAGE_SEGMENTS") && <a href={href("builder")} aria-current={route[0] === "builder" ? "page" : undefined}>New segment</a>}
          {can("READ_SEGMENTS") && <a href={href("suggestions")} aria-current={route[0] === "suggestions" ? "page" : undefined}>Suggestions</a>}
          {can("READ_SCORES") && <a href={href("leads")} aria-current={route[0] === "leads" ? "page" : undefined}>Leads</a>}
        </nav>
        <div class="who">
          <span title={viewer.permissions.join(", ")}>{viewer.actor} · {viewer.role.toLowerCase()}{storedKey() ? "" : " (no key)"}</span>
          <button type="button" class="link" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>{content}</main>
    </ViewerContext.Provider>
  );
}

function focusMain(): void {
  requestAnimationFrame(() => document.getElementById("main")?.focus({ preventScroll: false }));
}

render(<App />, document.getElementById("app")!);
