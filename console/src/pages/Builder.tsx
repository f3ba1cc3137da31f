import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, gql, userErrorsText, type UserError } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { VisualBuilder } from "../components/VisualBuilder";
import type { CompileDiagnostic } from "../editor/segmentLang";
import { formatNumber } from "../format";
import { entity, graphInfo, type GraphInfo } from "../graph";
import { href, navigate } from "../router";

interface Estimate {
  count: number | null;
  exact: boolean;
  margin: number | null;
  sampleSize: number | null;
  audienceTotal: number | null;
  elapsedMs: number;
  clauses: { text: string; count: number }[];
}

interface Compiled {
  valid: boolean;
  text: string;
  json: Record<string, any> | null;
  audience: string | null;
  diagnostics: CompileDiagnostic[];
  estimate: Estimate | null;
}

const COMPILE = `query Compile($definition: DefinitionInput!, $estimate: Boolean!) {
  compileSegment(definition: $definition, estimate: $estimate) {
    valid text json audience
    diagnostics { code message span { line column } end { line column } }
    estimate { count exact margin sampleSize audienceTotal elapsedMs clauses { text count } }
  }
}`;

const LOAD = `query Load($id: ID!) { segment(id: $id) { id name displayName description type audience tags definition { text } } }`;
const SEGMENT_FIELDS = `segment { id name draft definition { valid } } userErrors { code field message span { line column } }`;

const TEMPLATE = "segment Customer\nwhere ";

export function BuilderPage({ id }: { id: string | null }) {
  const [graph, setGraph] = useState<GraphInfo | null>(null);
  const [segmentNames, setSegmentNames] = useState<string[]>([]);
  const [name, setName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const [type, setType] = useState("DYNAMIC");
  const [tags, setTags] = useState("");
  const [text, setText] = useState(id ? "" : TEMPLATE);
  const [revision, setRevision] = useState(0);
  const replaceText = (value: string) => {
    setText(value);
    setRevision((r) => r + 1);
  };
  const [compiled, setCompiled] = useState<Compiled | null>(null);
  const [pending, setPending] = useState(false);
  const [mode, setMode] = useState<"text" | "visual">("text");
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [saving, setSaving] = useState(false);
  const sequence = useRef(0);

  useEffect(() => {
    graphInfo().then(setGraph, (exc) => setMessage({ text: errorText(exc), error: true }));
    gql<{ segments: { edges: { node: { name: string } }[] } }>(`{ segments(first: 100) { edges { node { name } } } }`)
      .then((d) => setSegmentNames(d.segments.edges.map((e) => e.node.name)), () => {});
    if (id) {
      gql<{ segment: any }>(LOAD, { id }).then(({ segment }) => {
        if (!segment) return setMessage({ text: "No such segment.", error: true });
        setName(segment.name);
        setDisplayName(segment.displayName);
        setDescription(segment.description);
        setType(segment.type);
        setTags(segment.tags.join(", "));
        replaceText(segment.definition?.text ?? `segment ${segment.audience}\nwhere `);
      }, (exc) => setMessage({ text: errorText(exc), error: true }));
    }
  }, [id]);

  async function compile(definition: { text?: string; json?: unknown }): Promise<Compiled | null> {
    const mine = ++sequence.current;
    setPending(true);
    try {
      const data = await gql<{ compileSegment: Compiled }>(COMPILE, { definition, estimate: true });
      if (mine !== sequence.current) return null; // a newer edit is on its way
      setCompiled(data.compileSegment);
      return data.compileSegment;
    } catch (exc) {
      if (mine === sequence.current) setMessage({ text: errorText(exc), error: true });
      return null;
    } finally {
      if (mine === sequence.current) setPending(false);
    }
  }

  // Diagnostics and the estimate follow the text, debounced.
  const debounce = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (!text.trim()) return;
    setPending(true); // the estimate shown is stale from the first keystroke
    debounce.current = window.setTimeout(() => void compile({ text }), 300);
    return () => clearTimeout(debounce.current);
  }, [text]);

  async function visualChange(json: Record<string, unknown>) {
    clearTimeout(debounce.current); // a text compile still waiting must not undo this edit
    const result = await compile({ json });
    if (result?.valid) replaceText(result.text);
    else if (result) setMessage({ text: "The visual change does not compile: " + result.diagnostics.map((d) => d.message).join("; "), error: true });
  }

  const audience = compiled?.audience ?? /^\s*segment\s+([A-Za-z_]\w*)/i.exec(text)?.[1] ?? "Customer";
  const audienceEntity = graph ? entity(graph, audience) : undefined;

  async function save() {
    setSaving(true);
    setMessage(null);
    const tagList = tags.split(",").map((s) => s.trim()).filter(Boolean);
    try {
      let result: { segment: { id: string; draft: boolean; definition: { valid: boolean } | null } | null; userErrors: UserError[] };
      if (id) {
        const d = await gql<{ updateSegment: typeof result; setSegmentTags: { userErrors: UserError[] } }>(
          `mutation($input: UpdateSegmentInput!, $id: ID!, $tags: [String!]!) { updateSegment(input: $input) { ${SEGMENT_FIELDS} } setSegmentTags(id: $id, tags: $tags) { userErrors { code field message } } }`,
          { input: { id, displayName: displayName || null, description, definition: { text } }, id, tags: tagList });
        result = { ...d.updateSegment, userErrors: [...d.updateSegment.userErrors, ...d.setSegmentTags.userErrors] };
      } else {
        const d = await gql<{ createSegment: typeof result }>(`mutation($input: CreateSegmentInput!) { createSegment(input: $input) { ${SEGMENT_FIELDS} } }`, {
          input: { name, displayName: displayName || null, description, type, audience, definition: { text }, tags: tagList },
        });
        result = d.createSegment;
      }
      if (result.userErrors.length || !result.segment) {
        setMessage({ text: userErrorsText(result.userErrors), error: true });
        return;
      }
      const draft = result.segment.definition && !result.segment.definition.valid;
      navigate(`/segments/${encodeURIComponent(result.segment.id)}${draft ? "?saved=draft" : ""}`);
    } catch (exc) {
      setMessage({ text: errorText(exc), error: true });
    } finally {
      setSaving(false);
    }
  }

  const estimate = compiled?.estimate;
  const diagnostics = compiled && !compiled.valid ? compiled.diagnostics : [];
  return (
    <section aria-labelledby="builder-title" class="builder">
      <div class="page-head">
        <h1 id="builder-title">{id ? `Edit ${name}` : "New segment"}</h1>
        {id && <a href={href("segments", id)}>Back to the segment</a>}
      </div>
      <form
        class="builder-grid"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div class="fields">
          <label>Name <input required value={name} disabled={!!id} onInput={(e) => setName(e.currentTarget.value)} placeholder="oslo_newsletter" pattern="[A-Za-z_][A-Za-z0-9_]*" title="letters, digits and _; no spaces" /></label>
          <label>Display name <input value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} /></label>
          {!id && (
            <label>Type
              <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
                <option value="DYNAMIC">dynamic</option>
                <option value="STATIC">static</option>
              </select>
            </label>
          )}
          <label>Tags <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} placeholder="comma, separated" /></label>
          <label class="wide">Description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
        </div>
        <div class="tabs" role="tablist" aria-label="Definition view">
          <button type="button" role="tab" aria-selected={mode === "text"} onClick={() => setMode("text")}>Text</button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === "visual"}
            disabled={!compiled?.valid}
            title={compiled?.valid ? undefined : "Fix the definition first"}
            onClick={() => setMode("visual")}
          >Visual</button>
        </div>
        <div class="editor-pane">
          <span id="definition-label" class="label">Definition</span>
          <div hidden={mode !== "text"}>
            <CodeEditor value={text} revision={revision} diagnostics={diagnostics} graph={graph} segmentNames={segmentNames} onChange={setText} labelId="definition-label" />
          </div>
          {mode === "visual" && compiled?.json && graph && (
            <VisualBuilder json={compiled.json} attributes={audienceEntity?.attributes ?? []} entities={graph.entities} onChange={(j) => void visualChange(j)} />
          )}
          <div class="diagnostics" aria-live="polite">
            {diagnostics.length > 0 ? (
              <ul class="error-list">
                {diagnostics.map((d) => (
                  <li class="diagnostic">{d.span ? `Line ${d.span.line}, column ${d.span.column}: ` : ""}{d.message} <span class="muted">({d.code})</span></li>
                ))}
              </ul>
            ) : compiled?.valid ? <p class="ok">The definition compiles.</p> : null}
          </div>
        </div>
        <aside class="estimate" aria-labelledby="estimate-title" aria-busy={pending}>
          <h2 id="estimate-title">Estimated size {pending && <span class="muted small">updating…</span>}</h2>
          {estimate ? (
            <>
              <p class="big" data-testid="estimate-count">
                {estimate.count == null ? "over the time budget" : `${estimate.exact ? "" : "≈ "}${formatNumber(estimate.count)}`}
                {estimate.margin ? <span class="muted"> ± {formatNumber(estimate.margin)}</span> : null}
              </p>
              <p class="muted small">
                of {formatNumber(estimate.audienceTotal)} {audience} profiles · {estimate.exact ? "exact" : `sampled (${formatNumber(estimate.sampleSize)} read)`} · {estimate.elapsedMs} ms
              </p>
              {estimate.clauses.length > 0 && (
                <table class="clauses">
                  <caption>Per clause</caption>
                  <thead><tr><th scope="col">Clause</th><th scope="col">Profiles</th></tr></thead>
                  <tbody>{estimate.clauses.map((c) => <tr><td><code>{c.text}</code></td><td class="num">{formatNumber(c.count)}</td></tr>)}</tbody>
                </table>
              )}
            </>
          ) : <p class="muted">{compiled && !compiled.valid ? "Fix the definition to see its size." : "Type a definition."}</p>}
        </aside>
        <div class="actions">
          {message && <p class={message.error ? "error" : "notice"} role="alert">{message.text}</p>}
          {compiled && !compiled.valid && <p class="muted small">An invalid definition is saved as a draft.</p>}
          <button type="submit" class="primary" disabled={saving || !name}>{compiled && !compiled.valid ? "Save as draft" : "Save"}</button>
        </div>
      </form>
    </section>
  );
}
