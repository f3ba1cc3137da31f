import { useEffect, useState } from "preact/hooks";
import { errorText, gql, userErrorsText, type UserError } from "../api";
import { formatNumber } from "../format";
import { graphInfo, type GraphInfo } from "../graph";
import { href } from "../router";
import { useCan } from "../session";

interface Feature {
  name: string;
  label: string;
}

interface Suggestion {
  name: string;
  displayName: string;
  definition: string;
  average: number | null;
  pValue: number | null;
  values: { name: string; value: number | null }[];
  estimate: { count: number | null; exact: boolean; margin: number | null } | null;
}

interface Suggestions {
  populationAverage: number | null;
  sampleSize: number;
  suggestions: Suggestion[];
  userErrors: UserError[];
}

const FIELDS = `populationAverage sampleSize userErrors { code field message }
  suggestions { name displayName definition average pValue values { name value } estimate { count exact margin } }`;
const FEATURES = `query($audience: String!) { suggestionFeatures(audience: $audience) { name label } }`;
const BY_MEASURE = `query($audience: String!, $measure: String!, $influencers: [String!]) {
  suggestSegments(audience: $audience, measure: $measure, influencers: $influencers, first: 5) { ${FIELDS} } }`;
const RFM = `query($audience: String!, $activity: String!, $monetary: String, $periodDays: Int!) {
  suggestRfmSegments(audience: $audience, activity: $activity, monetary: $monetary, periodDays: $periodDays) { ${FIELDS} } }`;
const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id name } userErrors { code field message } } }`;

const NUMERIC = /int|float|decimal|number|long|double/i;

function round(value: number | null | undefined): string {
  return value == null ? "—" : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function size(s: Suggestion): string {
  const e = s.estimate;
  if (!e || e.count == null) return "—";
  return e.exact || !e.margin ? formatNumber(e.count) : `${formatNumber(e.count)} ± ${formatNumber(e.margin)}`;
}

export function SuggestionsPage() {
  const [info, setInfo] = useState<GraphInfo | null>(null);
  const [tab, setTab] = useState<"measure" | "rfm">("measure");
  const [audience, setAudience] = useState("");
  const [features, setFeatures] = useState<Feature[]>([]);
  const [measure, setMeasure] = useState("");
  const [influencers, setInfluencers] = useState<string[]>([]);
  const [activity, setActivity] = useState("");
  const [monetary, setMonetary] = useState("");
  const [periodDays, setPeriodDays] = useState(365);
  // The tab a result came from: switching tabs mid-run must not show it in the other layout.
  const [result, setResult] = useState<(Suggestions & { kind: "measure" | "rfm" }) | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    graphInfo().then((g) => {
      setInfo(g);
      setAudience(g.audiences[0] ?? "");
    }, (exc) => setError(errorText(exc)));
  }, []);

  useEffect(() => {
    if (!audience) return;
    setResult(null);
    gql<{ suggestionFeatures: Feature[] }>(FEATURES, { audience }).then((d) => {
      setFeatures(d.suggestionFeatures);
      setMeasure(d.suggestionFeatures[0]?.name ?? "");
      setInfluencers([]);
    }, (exc) => setError(errorText(exc)));
  }, [audience]);

  // Activities: the related entities the features count (Order in "Order.total.sum_365d").
  const activities = info
    ? info.entities.filter((e) => !e.profile && features.some((f) => f.name.startsWith(`${e.name}.`))).map((e) => e.name)
    : [];
  useEffect(() => {
    if (!activities.includes(activity)) {
      setActivity(activities[0] ?? "");
      setMonetary("");
    }
  }, [activities.join(",")]);
  const money = info?.entities.find((e) => e.name === activity)?.attributes.filter((a) => NUMERIC.test(a.type)) ?? [];

  async function run(e: Event) {
    e.preventDefault();
    setRunning(true);
    setResult(null);
    try {
      const d = tab === "measure"
        ? (await gql<{ suggestSegments: Suggestions }>(BY_MEASURE, { audience, measure, influencers: influencers.length ? influencers : null })).suggestSegments
        : (await gql<{ suggestRfmSegments: Suggestions }>(RFM, { audience, activity, monetary: monetary || null, periodDays })).suggestRfmSegments;
      setResult({ ...d, kind: tab });
      setError(d.userErrors.length ? userErrorsText(d.userErrors) : null);
    } catch (exc) {
      setError(errorText(exc));
    } finally {
      setRunning(false);
    }
  }

  function switchTab(next: "measure" | "rfm") {
    setTab(next);
    setResult(null);
    setError(null);
  }

  return (
    <section aria-labelledby="suggestions-title">
      <div class="page-head"><h1 id="suggestions-title">Suggestions</h1></div>
      <div class="tabs suggestion-tabs" role="tablist" aria-label="Kind of suggestion">
        <button type="button" role="tab" aria-selected={tab === "measure"} onClick={() => switchTab("measure")}>Measure-based</button>
        <button type="button" role="tab" aria-selected={tab === "rfm"} onClick={() => switchTab("rfm")}>RFM</button>
      </div>
      <form class="filters" onSubmit={(e) => void run(e)}>
        <label>Audience
          <select value={audience} onChange={(e) => setAudience(e.currentTarget.value)}>
            {info?.audiences.map((a) => <option value={a}>{a}</option>)}
          </select>
        </label>
        {tab === "measure" ? (
          <>
            <label>Measure
              <select value={measure} onChange={(e) => setMeasure(e.currentTarget.value)}>
                {features.map((f) => <option value={f.name}>{f.label}</option>)}
              </select>
            </label>
            <label>Influencers (optional)
              <select multiple size={4}
                onChange={(e) => setInfluencers([...e.currentTarget.selectedOptions].map((o) => o.value))}>
                {features.filter((f) => f.name !== measure).map((f) => <option value={f.name} selected={influencers.includes(f.name)}>{f.label}</option>)}
              </select>
            </label>
          </>
        ) : (
          <>
            <label>Activity
              <select value={activity} onChange={(e) => { setActivity(e.currentTarget.value); setMonetary(""); }}>
                {activities.map((a) => <option value={a}>{a}</option>)}
              </select>
            </label>
            <label>Monetary (optional)
              <select value={monetary} onChange={(e) => setMonetary(e.currentTarget.value)}>
                <option value="">none</option>
                {money.map((a) => <option value={a.name}>{a.name}</option>)}
              </select>
            </label>
            <label>Period (days)
              <input type="number" min={1} value={periodDays} onInput={(e) => setPeriodDays(Number(e.currentTarget.value) || 365)} />
            </label>
          </>
        )}
        <button type="submit" class="primary" disabled={running || !audience || (tab === "measure" ? !measure : !activity)}>
          {running ? "Running…" : "Suggest"}
        </button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {result && result.kind === tab && !result.userErrors.length && (
        tab === "measure" ? <MeasureResult result={result} audience={audience} /> : <RfmResult result={result} audience={audience} />
      )}
    </section>
  );
}

function MeasureResult({ result, audience }: { result: Suggestions; audience: string }) {
  return (
    <>
      <p class="muted" data-testid="population">
        Population average {round(result.populationAverage)} over a sample of {formatNumber(result.sampleSize)} profiles.
      </p>
      {result.suggestions.length === 0 && <p class="muted">No segment differs from the population beyond chance.</p>}
      <ol class="plain suggestions">
        {result.suggestions.map((s) => (
          <li class="panel suggestion">
            <h2>{s.displayName}</h2>
            <pre><code>{s.definition}</code></pre>
            <p class="small">
              size {size(s)} · average {round(s.average)} · p-value {s.pValue == null ? "—" : s.pValue.toExponential(2)}
            </p>
            <CreateButton suggestion={s} audience={audience} />
          </li>
        ))}
      </ol>
    </>
  );
}

function RfmResult({ result, audience }: { result: Suggestions; audience: string }) {
  const columns = [...new Set(result.suggestions.flatMap((s) => s.values.map((v) => v.name)))];
  return (
    <div class="table-wrap">
      <table class="suggestions">
        <thead>
          <tr>
            <th scope="col">Cell</th><th scope="col">Definition</th><th scope="col">Size</th>
            {columns.map((c) => <th scope="col">{c}</th>)}
            <th scope="col"><span class="sr-only">Create</span></th>
          </tr>
        </thead>
        <tbody>
          {result.suggestions.map((s) => (
            <tr>
              <td>{s.displayName}</td>
              <td><code>{s.definition}</code></td>
              <td class="num">{size(s)}</td>
              {columns.map((c) => <td class="num">{round(s.values.find((v) => v.name === c)?.value)}</td>)}
              <td><CreateButton suggestion={s} audience={audience} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** createSegment with the suggestion's name and definition; offered only with MANAGE_SEGMENTS. */
function CreateButton({ suggestion, audience }: { suggestion: Suggestion; audience: string }) {
  const can = useCan();
  const [created, setCreated] = useState<{ id: string; name: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!can("MANAGE_SEGMENTS")) return null;
  if (created) return <a href={href("segments", created.id)}>Created {created.name}</a>;

  async function create() {
    setBusy(true);
    try {
      const d = await gql<{ createSegment: { segment: { id: string; name: string } | null; userErrors: UserError[] } }>(CREATE, {
        input: { name: suggestion.name, displayName: suggestion.displayName, audience, definition: { text: suggestion.definition } },
      });
      if (d.createSegment.segment && !d.createSegment.userErrors.length) setCreated(d.createSegment.segment);
      else setProblem(userErrorsText(d.createSegment.userErrors));
    } catch (exc) {
      setProblem(errorText(exc));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button type="button" disabled={busy} aria-label={`Create segment ${suggestion.name}`} onClick={() => void create()}>Create segment</button>
      {problem && <span class="error small" role="alert"> {problem}</span>}
    </>
  );
}
