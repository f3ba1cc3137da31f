import { useEffect, useState } from "preact/hooks";
import { downloadMembersCsv, errorText, gql, userErrorsText, type UserError } from "../api";
import { MembersPanel } from "../components/MembersPanel";
import { TrendChart, type TrendPoint } from "../components/TrendChart";
import { formatNumber, formatTime, plural } from "../format";
import { currentPath, href, navigate } from "../router";
import { useCan } from "../session";

interface Run {
  id: string;
  status: string;
  trigger: string;
  definitionVersion: number;
  membershipVersion: number | null;
  finishedAt: string | null;
  memberCount: number | null;
  enteredCount: number | null;
  exitedCount: number | null;
  error: string | null;
  entered?: string[];
  exited?: string[];
}

interface Detail {
  id: string;
  name: string;
  displayName: string;
  description: string;
  type: string;
  audience: string;
  state: string;
  draft: boolean;
  status: string;
  statusDetail: string | null;
  lastRefreshedAt: string | null;
  tags: string[];
  schedule: { kind: string; cron: string | null };
  membershipVersion: number;
  memberCount: number;
  lostInputs: string[];
  definition: { version: number; text: string; valid: boolean; diagnostics: { code: string; message: string; span: { line: number; column: number } | null }[] } | null;
  weeklyGrowth: { current: number; previous: number; delta: number; since: string } | null;
  trend: TrendPoint[];
  runs: Run[];
  dependents: { kind: string; name: string; id: string }[];
  usages: { kind: string; consumer: string; description: string }[];
  exports: { name: string }[];
}

const RANGES: Record<string, number> = { "7 days": 7, "30 days": 30, "90 days": 90, "1 year": 365 };

const DETAIL = `query Detail($id: ID!, $from: DateTime!, $to: DateTime!, $members: Boolean!) { segment(id: $id) {
  id name displayName description type audience state draft status statusDetail lastRefreshedAt tags
  schedule { kind cron } membershipVersion memberCount lostInputs
  definition { version text valid diagnostics { code message span { line column } } }
  weeklyGrowth { current previous delta since }
  trend(from: $from, to: $to) { at memberCount membershipVersion }
  runs(first: 5) { id status trigger definitionVersion membershipVersion finishedAt memberCount enteredCount exitedCount error
    entered(first: 20) @include(if: $members) exited(first: 20) @include(if: $members) }
  dependents { kind id name } usages { kind consumer description } exports { name }
} }`;

const BUSY = new Set(["QUEUED", "REFRESHING"]);
const PAYLOAD = `segment { id name } userErrors { code field message }`;

type Dialog = { kind: "duplicate" | "rename" | "tags" | "similar"; value: string } | { kind: "delete"; value: string };

export function SegmentPage({ id }: { id: string }) {
  const can = useCan();
  const [segment, setSegment] = useState<Detail | null>(null);
  const [range, setRange] = useState("30 days");
  const [span, setSpan] = useState<{ from: Date; to: Date }>({ from: new Date(), to: new Date() });
  const [columns, setColumns] = useState<string[] | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(
    currentPath().includes("saved=draft") ? { text: "Saved as a draft: the definition does not compile yet.", error: false } : null,
  );
  const [dialog, setDialog] = useState<Dialog | null>(null);

  async function load() {
    const to = new Date(Date.now() + 60_000);
    const from = new Date(to.getTime() - RANGES[range] * 86_400_000);
    try {
      const data = await gql<{ segment: Detail | null }>(DETAIL, { id, from: from.toISOString(), to: to.toISOString(), members: can("READ_MEMBERS") });
      setSpan({ from, to });
      setSegment(data.segment);
      if (!data.segment) setMessage({ text: "No such segment.", error: true });
    } catch (exc) {
      setMessage({ text: errorText(exc), error: true });
    }
  }


  useEffect(() => void load(), [id, range]);
  // Follow a running refresh.
  useEffect(() => {
    if (segment && !BUSY.has(segment.status) && message?.text === "Refresh queued.") setMessage(null);
    if (!segment || !BUSY.has(segment.status)) return;
    const timer = setTimeout(() => void load(), 1000);
    return () => clearTimeout(timer);
  }, [segment]);

  async function mutate(query: string, variables: Record<string, unknown>, done: string, field: string) {
    setMessage(null);
    try {
      const data = await gql<Record<string, { userErrors: UserError[]; segment?: { id: string } | null; dependents?: { kind: string; name: string }[] }>>(query, variables);
      const payload = data[field];
      if (payload.userErrors.length) {
        const deps = payload.dependents?.length ? ` Used by: ${payload.dependents.map((d) => `${d.kind.toLowerCase()} ${d.name}`).join(", ")}.` : "";
        setMessage({ text: userErrorsText(payload.userErrors) + deps, error: true });
        return null;
      }
      setMessage({ text: done, error: false });
      setDialog(null);
      return payload;
    } catch (exc) {
      setMessage({ text: errorText(exc), error: true });
      return null;
    }
  }

  async function simple(mutation: string, done: string) {
    const result = await mutate(`mutation($id: ID!) { ${mutation}(id: $id) { ${PAYLOAD} } }`, { id }, done, mutation);
    if (result) await load();
  }

  async function refresh() {
    const result = await mutate(`mutation($ids: [ID!]!) { refreshSegments(ids: $ids) { jobId userErrors { code field message } } }`, { ids: [id] }, "Refresh queued.", "refreshSegments");
    if (result) await load();
  }

  async function submitDialog() {
    if (!dialog || !segment) return;
    const value = dialog.value.trim();
    if (dialog.kind === "duplicate") {
      const r = await mutate(`mutation($id: ID!, $name: String!) { duplicateSegment(id: $id, name: $name) { ${PAYLOAD} } }`, { id, name: value }, `Duplicated as ${value}.`, "duplicateSegment");
      if (r?.segment) navigate(`/segments/${encodeURIComponent(r.segment.id)}`);
    } else if (dialog.kind === "rename") {
      if (await mutate(`mutation($id: ID!, $name: String!) { renameSegment(id: $id, name: $name) { ${PAYLOAD} } }`, { id, name: value }, `Renamed to ${value}.`, "renameSegment")) await load();
    } else if (dialog.kind === "tags") {
      const tags = value.split(",").map((s) => s.trim()).filter(Boolean);
      if (await mutate(`mutation($id: ID!, $tags: [String!]!) { setSegmentTags(id: $id, tags: $tags) { ${PAYLOAD} } }`, { id, tags }, "Tags saved.", "setSegmentTags")) await load();
    } else if (dialog.kind === "similar") {
      const r = await mutate(`mutation($input: CreateExpansionSegmentInput!) { createExpansionSegment(input: $input) { ${PAYLOAD} } }`,
        { input: { name: value, source: id } }, `Created ${value}; refresh it to find the similar customers.`, "createExpansionSegment");
      if (r?.segment) navigate(`/segments/${encodeURIComponent(r.segment.id)}`);
    } else if (dialog.kind === "delete") {
      const force = segment.dependents.length > 0;
      const r = await mutate(`mutation($id: ID!, $force: Boolean!) { deleteSegment(id: $id, force: $force) { deletedId dependents { kind name } userErrors { code field message } } }`,
        { id, force }, "Deleted.", "deleteSegment");
      if (r) navigate("/segments");
    }
  }

  async function download() {
    if (!segment) return;
    try {
      const bytes = await downloadMembersCsv(id, segment.name, columns ?? []);
      setMessage({ text: `Downloaded ${segment.name}.csv (${formatNumber(bytes)} bytes).`, error: false });
    } catch (exc) {
      setMessage({ text: errorText(exc), error: true });
    }
  }

  if (!segment) return message ? <p class={message.error ? "error" : "notice"} role="alert">{message.text}</p> : <p role="status">Loading…</p>;

  const manage = can("MANAGE_SEGMENTS");
  const lastRun = segment.runs.find((r) => r.status === "SUCCESSFUL");
  const dialogLabels = { duplicate: "New name", rename: "New name", tags: "Tags (comma separated)", similar: "Name of the similar-customers segment", delete: "" };

  return (
    <section aria-labelledby="segment-title" class="detail">
      <div class="page-head">
        <div>
          <h1 id="segment-title">{segment.displayName || segment.name}</h1>
          <p class="muted">
            {segment.name} · {segment.type.toLowerCase()} · {segment.audience} · {segment.state.toLowerCase()}
            {segment.draft && <span class="badge warn">draft</span>} · schedule {segment.schedule.kind.toLowerCase()}{segment.schedule.cron ? ` ${segment.schedule.cron}` : ""}
          </p>
          {segment.tags.map((t) => <span class="tag">{t}</span>)}
        </div>
        <a href={href("segments")}>All segments</a>
      </div>

      {message && <p class={message.error ? "error" : "notice"} role={message.error ? "alert" : "status"}>{message.text}</p>}

      <div class="actions-bar" role="toolbar" aria-label="Segment actions">
        {manage && <a class="button" href={href("builder", segment.id)}>Edit</a>}
        {manage && <button type="button" onClick={() => void refresh()} disabled={BUSY.has(segment.status)}>Refresh</button>}
        {manage && (segment.state === "ACTIVE"
          ? <button type="button" onClick={() => void simple("deactivateSegment", "Deactivated.")}>Deactivate</button>
          : <button type="button" onClick={() => void simple("activateSegment", "Activated.")}>Activate</button>)}
        {manage && segment.type === "DYNAMIC" && <button type="button" onClick={() => void simple("makeSegmentStatic", "Now static.")}>Make static</button>}
        {manage && segment.type === "STATIC" && <button type="button" onClick={() => void simple("makeSegmentDynamic", "Now dynamic.")}>Make dynamic</button>}
        {manage && <button type="button" onClick={() => setDialog({ kind: "duplicate", value: `${segment.name}_copy` })}>Duplicate</button>}
        {manage && <button type="button" onClick={() => setDialog({ kind: "rename", value: segment.name })}>Rename</button>}
        {manage && <button type="button" onClick={() => setDialog({ kind: "tags", value: segment.tags.join(", ") })}>Tags</button>}
        {manage && <button type="button" onClick={() => setDialog({ kind: "similar", value: `${segment.name}_similar` })}>Find similar customers</button>}
        {can("READ_MEMBERS") && <button type="button" onClick={() => void download()}>Download CSV</button>}
        {manage && <button type="button" class="danger" onClick={() => setDialog({ kind: "delete", value: "" })}>Delete</button>}
      </div>

      {dialog && (
        <form class="confirm" role="dialog" aria-labelledby="dialog-title" onSubmit={(e) => { e.preventDefault(); void submitDialog(); }}>
          <h2 id="dialog-title">{dialog.kind === "similar" ? "Find similar customers" : dialog.kind === "delete" ? `Delete ${segment.name}?` : dialog.kind[0].toUpperCase() + dialog.kind.slice(1)}</h2>
          {dialog.kind === "delete" ? (
            segment.dependents.length ? (
              <p class="error">In use by {segment.dependents.map((d) => `${d.kind.toLowerCase()} ${d.name}`).join(", ")}. Deleting anyway tells them they lost an input.</p>
            ) : <p>Nothing uses it.</p>
          ) : (
            <label>{dialogLabels[dialog.kind]} <input autoFocus value={dialog.value} onInput={(e) => setDialog({ ...dialog, value: e.currentTarget.value })} /></label>
          )}
          <div class="row">
            <button type="submit" class={dialog.kind === "delete" ? "danger" : "primary"}>{dialog.kind === "delete" ? (segment.dependents.length ? "Delete anyway" : "Delete") : "OK"}</button>
            <button type="button" onClick={() => setDialog(null)}>Cancel</button>
          </div>
        </form>
      )}

      <div class="cards">
        <div class="card">
          <h2>Members</h2>
          <p class="big" data-testid="member-count">{formatNumber(segment.memberCount)}</p>
          <p class="muted small">
            {segment.weeklyGrowth
              ? `${segment.weeklyGrowth.delta >= 0 ? "+" : ""}${formatNumber(segment.weeklyGrowth.delta)} in the last week (from ${formatNumber(segment.weeklyGrowth.previous)})`
              : "no growth figure before the first refresh"}
          </p>
        </div>
        <div class="card">
          <h2>Status</h2>
          <p><span class={`status s-${segment.status.toLowerCase()}`} data-testid="status">{segment.status.toLowerCase().replace("_", " ")}</span></p>
          {segment.statusDetail && <p class={segment.status === "FAILED" ? "error small" : "muted small"}>{segment.statusDetail}</p>}
          <p class="muted small">Last refreshed {formatTime(segment.lastRefreshedAt)}</p>
        </div>
        <div class="card">
          <h2>Last refresh</h2>
          {lastRun ? (
            <p data-testid="last-refresh">
              <strong>{formatNumber(lastRun.enteredCount)}</strong> entered, <strong>{formatNumber(lastRun.exitedCount)}</strong> left
              <span class="muted small"> · version {lastRun.membershipVersion} · {formatTime(lastRun.finishedAt)}</span>
            </p>
          ) : <p class="muted">No successful refresh yet.</p>}
          {lastRun?.entered && <KeyList label="Entered" keys={lastRun.entered} total={lastRun.enteredCount} />}
          {lastRun?.exited && <KeyList label="Left" keys={lastRun.exited} total={lastRun.exitedCount} />}
        </div>
        <div class="card">
          <h2>Usage</h2>
          {segment.dependents.length || segment.usages.length || segment.exports.length ? (
            <ul class="plain">
              {segment.dependents.map((d) => <li>{d.kind.toLowerCase()} <strong>{d.name}</strong></li>)}
              {segment.usages.map((u) => <li>{u.kind.toLowerCase()} <strong>{u.consumer}</strong> {u.description}</li>)}
              {segment.exports.map((x) => <li>export <strong>{x.name}</strong></li>)}
            </ul>
          ) : <p class="muted">Nothing uses it.</p>}
          {segment.lostInputs.length > 0 && <p class="error small">Lost inputs: {segment.lostInputs.join(", ")}</p>}
        </div>
      </div>

      <section class="panel" aria-labelledby="trend-title">
        <div class="panel-head">
          <h2 id="trend-title">Member count trend</h2>
          <label>Range
            <select value={range} onChange={(e) => setRange(e.currentTarget.value)}>
              {Object.keys(RANGES).map((r) => <option value={r}>last {r}</option>)}
            </select>
          </label>
        </div>
        {segment.trend.length ? <TrendChart points={segment.trend} from={span.from} to={span.to} /> : <p class="muted">No refresh in this range yet.</p>}
        <p class="muted small" data-testid="trend-points">{plural(segment.trend.length, "refresh")} in range</p>
      </section>

      {segment.definition && (
        <section class="panel" aria-labelledby="definition-title">
          <h2 id="definition-title">Definition <span class="muted small">version {segment.definition.version}</span></h2>
          <pre class="definition">{segment.definition.text}</pre>
          {!segment.definition.valid && (
            <ul class="error-list">{segment.definition.diagnostics.map((d) => <li>{d.span ? `Line ${d.span.line}, column ${d.span.column}: ` : ""}{d.message}</li>)}</ul>
          )}
        </section>
      )}

      {can("READ_MEMBERS") && <MembersPanel id={id} audience={segment.audience} version={segment.membershipVersion} columns={columns} onColumns={setColumns} onError={(text) => setMessage({ text, error: true })} />}

      <section class="panel" aria-labelledby="runs-title">
        <h2 id="runs-title">Recent refreshes</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Finished</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Members</th><th scope="col">Entered</th><th scope="col">Left</th><th scope="col">Definition</th></tr></thead>
            <tbody>
              {segment.runs.map((r) => (
                <tr>
                  <td>{formatTime(r.finishedAt)}</td>
                  <td><span class={`status s-${r.status.toLowerCase()}`}>{r.status.toLowerCase()}</span>{r.error && <div class="error small">{r.error}</div>}</td>
                  <td>{r.trigger.toLowerCase()}</td>
                  <td class="num">{formatNumber(r.memberCount)}</td>
                  <td class="num">{formatNumber(r.enteredCount)}</td>
                  <td class="num">{formatNumber(r.exitedCount)}</td>
                  <td>v{r.definitionVersion}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </section>
  );
}

function KeyList({ label, keys, total }: { label: string; keys: string[]; total: number | null }) {
  if (!keys.length) return null;
  const more = (total ?? keys.length) - keys.length;
  return (
    <p class="small keys" data-testid={`${label.toLowerCase()}-keys`}>
      {label}: {keys.join(", ")}{more > 0 ? ` and ${formatNumber(more)} more` : ""}
    </p>
  );
}
