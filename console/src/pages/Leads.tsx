import { useEffect, useState } from "preact/hooks";
import { errorText, gql } from "../api";
import { formatCell, formatNumber, formatTime } from "../format";

interface Model {
  id: string;
  name: string;
  state: string;
  entity: string;
  publishedVersion: number | null;
  lastRunAt: string | null;
  versions: { version: number; grades: { name: string }[] }[];
}

interface LeadRow {
  key: string;
  score: number;
  grade: string | null;
  salesReady: boolean;
  salesReadyAt: string | null;
  properties: Record<string, unknown>;
}

interface LeadDetail extends LeadRow {
  version: number;
  breakdown: { rule: number; condition: string; label: string; points: number }[];
  history: { at: string; version: number; score: number | null; grade: string | null; salesReady: boolean }[];
}

const MODELS = `{ scoreModels(first: 50) { edges { node { id name state entity publishedVersion lastRunAt versions { version grades { name } } } } } }`;
const LEADS = `query Leads($model: ID!, $grade: String, $salesReady: Boolean, $after: String) {
  leads(model: $model, grade: $grade, salesReady: $salesReady, first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { key score grade salesReady salesReadyAt properties } }
  }
}`;
const LEAD = `query Lead($model: ID!, $profile: String!) { lead(model: $model, profile: $profile) {
  key score grade salesReady salesReadyAt version properties
  breakdown { rule condition label points }
  history(first: 20) { at version score grade salesReady }
} }`;

const NAME_FIELDS = ["name", "firstName", "lastName", "email", "jobTitle", "city", "country", "industry"];

export function LeadsPage() {
  const [models, setModels] = useState<Model[] | null>(null);
  const [model, setModel] = useState<string>("");
  const [grade, setGrade] = useState("");
  const [salesReady, setSalesReady] = useState("");
  const [rows, setRows] = useState<LeadRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [lead, setLead] = useState<LeadDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    gql<{ scoreModels: { edges: { node: Model }[] } }>(MODELS).then((d) => {
      const list = d.scoreModels.edges.map((e) => e.node);
      setModels(list);
      const first = list.find((m) => m.publishedVersion != null) ?? list[0];
      if (first) setModel(first.id);
    }, (exc) => setError(errorText(exc)));
  }, []);

  async function load(after: string | null) {
    if (!model) return;
    try {
      const d = await gql<{ leads: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: LeadRow }[] } }>(LEADS, {
        model, grade: grade || null, salesReady: salesReady === "" ? null : salesReady === "yes", after,
      });
      const page = d.leads.edges.map((e) => e.node);
      setRows((old) => (after ? [...old, ...page] : page));
      setNext(d.leads.pageInfo.hasNextPage ? d.leads.pageInfo.endCursor : null);
      setError(null);
    } catch (exc) {
      setError(errorText(exc));
    }
  }

  useEffect(() => {
    setLead(null);
    void load(null);
  }, [model, grade, salesReady]);

  async function open(key: string) {
    try {
      const d = await gql<{ lead: LeadDetail | null }>(LEAD, { model, profile: key });
      setLead(d.lead);
    } catch (exc) {
      setError(errorText(exc));
    }
  }

  const current = models?.find((m) => m.id === model);
  const grades = [...new Set(current?.versions.flatMap((v) => v.grades.map((g) => g.name)) ?? [])];
  const shown = rows.length ? NAME_FIELDS.filter((f) => f in rows[0].properties).slice(0, 4) : [];

  return (
    <section aria-labelledby="leads-title">
      <div class="page-head"><h1 id="leads-title">Leads</h1></div>
      {error && <p class="error" role="alert">{error}</p>}
      {models && models.length === 0 && <p class="muted">No score model yet: a marketer defines one through the API (docs/scoring.md).</p>}
      {models && models.length > 0 && (
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <label>Model
            <select value={model} onChange={(e) => setModel(e.currentTarget.value)}>
              {models.map((m) => <option value={m.id}>{m.name} ({m.entity}, {m.state.toLowerCase()})</option>)}
            </select>
          </label>
          <label>Grade
            <select value={grade} onChange={(e) => setGrade(e.currentTarget.value)}>
              <option value="">any</option>
              {grades.map((g) => <option value={g}>{g}</option>)}
            </select>
          </label>
          <label>Sales-ready
            <select value={salesReady} onChange={(e) => setSalesReady(e.currentTarget.value)}>
              <option value="">any</option>
              <option value="yes">yes</option>
              <option value="no">no</option>
            </select>
          </label>
          {current?.lastRunAt && <span class="muted small">scored {formatTime(current.lastRunAt)}</span>}
        </form>
      )}
      <div class="split">
        <div class="table-wrap">
          <table class="leads">
            <thead><tr><th scope="col">Lead</th><th scope="col">Score</th><th scope="col">Grade</th><th scope="col">Sales-ready</th>{shown.map((f) => <th scope="col">{f}</th>)}</tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr class={lead?.key === r.key ? "selected" : undefined}>
                  <td><button type="button" class="link" onClick={() => void open(r.key)}>{r.key}</button></td>
                  <td class="num">{r.score.toFixed(1)}</td>
                  <td>{r.grade ?? "—"}</td>
                  <td>{r.salesReady ? <span class="badge ok">ready</span> : "no"}</td>
                  {shown.map((f) => <td>{formatCell(r.properties[f])}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
          {model && rows.length === 0 && <p class="muted">No leads match.</p>}
          {next && <button type="button" onClick={() => void load(next)}>Load more</button>}
        </div>
        {lead && (
          <aside class="panel lead" aria-labelledby="lead-title">
            <h2 id="lead-title">{lead.key}: {lead.score.toFixed(1)} points</h2>
            <p class="muted small">grade {lead.grade ?? "—"} · {lead.salesReady ? `sales-ready since ${formatTime(lead.salesReadyAt)}` : "not sales-ready"} · model version {lead.version}</p>
            <h3>Breakdown</h3>
            <table>
              <thead><tr><th scope="col">Rule</th><th scope="col">Points</th></tr></thead>
              <tbody>{lead.breakdown.map((b) => <tr><td>{b.label || <code>{b.condition}</code>}</td><td class="num">{formatNumber(b.points)}</td></tr>)}</tbody>
            </table>
            <h3>History</h3>
            <ol class="plain">
              {lead.history.map((h) => <li>{formatTime(h.at)}: {h.score == null ? "left the audience" : `${h.score.toFixed(1)} (${h.grade ?? "—"})`}{h.salesReady ? " · sales-ready" : ""}</li>)}
            </ol>
            <button type="button" onClick={() => setLead(null)}>Close</button>
          </aside>
        )}
      </div>
    </section>
  );
}
