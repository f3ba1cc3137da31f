import { useEffect, useState } from "preact/hooks";
import { errorText, gql, userErrorsText, type UserError } from "../api";
import { formatNumber, formatTime, plural } from "../format";
import { href } from "../router";
import { useCan } from "../session";

interface Dependent {
  kind: string;
  name: string;
}

interface Row {
  id: string;
  name: string;
  displayName: string;
  type: string;
  audience: string;
  state: string;
  draft: boolean;
  status: string;
  statusDetail: string | null;
  memberCount: number;
  lastRefreshedAt: string | null;
  tags: string[];
  dependents: Dependent[];
}

const LIST = `query Segments($search: String, $tags: [String!], $type: SegmentType, $orderBy: SegmentOrderInput, $after: String) {
  segments(search: $search, tags: $tags, type: $type, orderBy: $orderBy, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name displayName type audience state draft status statusDetail memberCount lastRefreshedAt tags dependents { kind name } } }
  }
}`;

type SortField = "NAME" | "TYPE" | "STATE" | "STATUS" | "LAST_REFRESHED_AT" | "AUDIENCE" | "MEMBER_COUNT";
const COLUMNS: { label: string; field: SortField | null }[] = [
  { label: "Name", field: "NAME" },
  { label: "Type", field: "TYPE" },
  { label: "Audience", field: "AUDIENCE" },
  { label: "State", field: "STATE" },
  { label: "Status", field: "STATUS" },
  { label: "Members", field: "MEMBER_COUNT" },
  { label: "Last refreshed", field: "LAST_REFRESHED_AT" },
  { label: "Tags", field: null },
];
const BUSY = new Set(["QUEUED", "REFRESHING"]);

interface Confirm {
  action: "delete" | "deactivate";
  ids: string[];
  dependents: { segment: string; dependents: Dependent[] }[];
}

export function SegmentsPage() {
  const can = useCan();
  const [rows, setRows] = useState<Row[]>([]);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [tags, setTags] = useState("");
  const [type, setType] = useState("");
  const [sort, setSort] = useState<{ field: SortField; direction: "ASC" | "DESC" }>({ field: "NAME", direction: "ASC" });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [loading, setLoading] = useState(true);

  function variables(after: string | null) {
    const tagList = tags.split(",").map((s) => s.trim()).filter(Boolean);
    return {
      search: search.trim() || null,
      tags: tagList.length ? tagList : null,
      type: type || null,
      orderBy: sort,
      after,
    };
  }

  async function load(after: string | null = null) {
    setLoading(true);
    try {
      const data = await gql<{ segments: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Row }[] } }>(LIST, variables(after));
      const page = data.segments.edges.map((e) => e.node);
      setRows((old) => (after ? [...old, ...page] : page));
      setTotal(data.segments.totalCount);
      setNext(data.segments.pageInfo.hasNextPage ? data.segments.pageInfo.endCursor : null);
    } catch (exc) {
      setMessage({ text: errorText(exc), error: true });
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    const timer = setTimeout(() => void load(), 250);
    return () => clearTimeout(timer);
  }, [search, tags, type, sort.field, sort.direction]);

  // While a refresh runs, follow its status.
  useEffect(() => {
    if (!rows.some((r) => BUSY.has(r.status))) return;
    const timer = setTimeout(() => void load(), 1500);
    return () => clearTimeout(timer);
  }, [rows]);

  function toggleSort(field: SortField) {
    setSort((s) => ({ field, direction: s.field === field && s.direction === "ASC" ? "DESC" : "ASC" }));
  }

  function toggle(id: string) {
    setSelected((s) => {
      const copy = new Set(s);
      if (copy.has(id)) copy.delete(id);
      else copy.add(id);
      return copy;
    });
  }

  const ids = [...selected];
  const chosen = rows.filter((r) => selected.has(r.id));

  async function bulk(action: "refresh" | "activate" | "deactivate" | "delete", force = false) {
    setMessage(null);
    try {
      if (action === "refresh") {
        const d = await gql<{ refreshSegments: { jobId: string | null; userErrors: UserError[] } }>(
          `mutation($ids: [ID!]!) { refreshSegments(ids: $ids) { jobId userErrors { code field message } } }`, { ids });
        const errors = d.refreshSegments.userErrors;
        setMessage(errors.length ? { text: userErrorsText(errors), error: true } : { text: `Refresh queued for ${plural(ids.length, "segment")}.`, error: false });
      } else if (action === "delete") {
        const d = await gql<{ deleteSegments: { deletedIds: string[]; dependents: Dependent[]; userErrors: UserError[] } }>(
          `mutation($ids: [ID!]!, $force: Boolean!) { deleteSegments(ids: $ids, force: $force) { deletedIds dependents { kind name } userErrors { code field message } } }`, { ids, force });
        const r = d.deleteSegments;
        const text = [`Deleted ${plural(r.deletedIds.length, "segment")}.`, userErrorsText(r.userErrors)].filter(Boolean).join(" ");
        setMessage({ text, error: r.userErrors.length > 0 });
      } else {
        const state = action === "activate" ? "ACTIVE" : "INACTIVE";
        const d = await gql<{ setSegmentsState: { userErrors: UserError[] } }>(
          `mutation($ids: [ID!]!, $state: SegmentState!) { setSegmentsState(ids: $ids, state: $state) { userErrors { code field message } } }`, { ids, state });
        const errors = d.setSegmentsState.userErrors;
        setMessage(errors.length ? { text: userErrorsText(errors), error: true } : { text: `${action === "activate" ? "Activated" : "Deactivated"} ${plural(ids.length, "segment")}.`, error: false });
      }
      setSelected(new Set());
      setConfirm(null);
      await load();
    } catch (exc) {
      setMessage({ text: errorText(exc), error: true });
    }
  }

  /** Deleting or deactivating a segment others read: say who first. */
  function guarded(action: "delete" | "deactivate") {
    const dependents = chosen.filter((r) => r.dependents.length).map((r) => ({ segment: r.name, dependents: r.dependents }));
    if (action === "delete" || dependents.length) setConfirm({ action, ids, dependents });
    else void bulk(action);
  }

  return (
    <section aria-labelledby="segments-title">
      <div class="page-head">
        <h1 id="segments-title">Segments</h1>
        {can("MANAGE_SEGMENTS") && <a class="button primary" href={href("builder")}>New segment</a>}
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>Search <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="name" /></label>
        <label>Tags <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} placeholder="vip, spring" /></label>
        <label>Type
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">any</option>
            {["DYNAMIC", "STATIC", "COMPOUND", "EXPANSION"].map((t) => <option value={t}>{t.toLowerCase()}</option>)}
          </select>
        </label>
      </form>
      {can("MANAGE_SEGMENTS") && (
        <div class="bulk" role="toolbar" aria-label="Bulk actions">
          <span>{selected.size ? `${selected.size} selected` : "Select segments for bulk actions"}</span>
          <button type="button" disabled={!selected.size} onClick={() => void bulk("refresh")}>Refresh</button>
          <button type="button" disabled={!selected.size} onClick={() => void bulk("activate")}>Activate</button>
          <button type="button" disabled={!selected.size} onClick={() => guarded("deactivate")}>Deactivate</button>
          <button type="button" class="danger" disabled={!selected.size} onClick={() => guarded("delete")}>Delete</button>
        </div>
      )}
      {confirm && (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-title">
          <h2 id="confirm-title">{confirm.action === "delete" ? `Delete ${plural(confirm.ids.length, "segment")}?` : `Deactivate ${plural(confirm.ids.length, "segment")}?`}</h2>
          {confirm.dependents.length ? (
            <>
              <p>These segments are in use:</p>
              <ul>{confirm.dependents.map((d) => <li><strong>{d.segment}</strong>: used by {d.dependents.map((x) => `${x.kind.toLowerCase()} ${x.name}`).join(", ")}</li>)}</ul>
              {confirm.action === "delete" && <p>A forced delete tells them they lost an input.</p>}
            </>
          ) : <p>Nothing uses them.</p>}
          <div class="row">
            {confirm.action === "delete" && confirm.dependents.length ? (
              <button type="button" class="danger" onClick={() => void bulk("delete", true)}>Delete anyway</button>
            ) : (
              <button type="button" class="danger" onClick={() => void bulk(confirm.action)}>{confirm.action === "delete" ? "Delete" : "Deactivate"}</button>
            )}
            <button type="button" onClick={() => setConfirm(null)}>Cancel</button>
          </div>
        </div>
      )}
      {message && <p class={message.error ? "error" : "notice"} role={message.error ? "alert" : "status"}>{message.text}</p>}
      <div class="table-wrap">
        <table class="segments">
          <caption class="sr-only">Segments, sorted by {sort.field.toLowerCase()} {sort.direction === "ASC" ? "ascending" : "descending"}</caption>
          <thead>
            <tr>
              {can("MANAGE_SEGMENTS") && (
                <th scope="col"><input type="checkbox" aria-label="Select all" checked={rows.length > 0 && selected.size === rows.length}
                  onChange={(e) => setSelected(e.currentTarget.checked ? new Set(rows.map((r) => r.id)) : new Set())} /></th>
              )}
              {COLUMNS.map((c) => (
                <th scope="col" aria-sort={c.field && sort.field === c.field ? (sort.direction === "ASC" ? "ascending" : "descending") : undefined}>
                  {c.field ? (
                    <button type="button" class="sort" onClick={() => toggleSort(c.field!)}>
                      {c.label}{sort.field === c.field ? (sort.direction === "ASC" ? " ▲" : " ▼") : ""}
                    </button>
                  ) : c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} class={selected.has(r.id) ? "selected" : undefined}>
                {can("MANAGE_SEGMENTS") && (
                  <td><input type="checkbox" aria-label={`Select ${r.name}`} checked={selected.has(r.id)} onChange={() => toggle(r.id)} /></td>
                )}
                <td><a href={href("segments", r.id)}>{r.displayName || r.name}</a>{r.displayName && r.displayName !== r.name && <div class="muted">{r.name}</div>}</td>
                <td>{r.type.toLowerCase()}</td>
                <td>{r.audience}</td>
                <td>{r.state.toLowerCase()}{r.draft && <span class="badge warn">draft</span>}</td>
                <td>
                  <span class={`status s-${r.status.toLowerCase()}`}>{r.status.toLowerCase().replace("_", " ")}</span>
                  {r.statusDetail && <div class={r.status === "FAILED" ? "error small" : "muted small"}>{r.statusDetail}</div>}
                </td>
                <td class="num">{formatNumber(r.memberCount)}</td>
                <td>{formatTime(r.lastRefreshedAt)}</td>
                <td>{r.tags.map((t) => <span class="tag">{t}</span>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted" role="status">{loading ? "Loading…" : `${plural(rows.length, "segment")} shown of ${formatNumber(total)}`}</p>
      {next && <button type="button" onClick={() => void load(next)}>Load more</button>}
    </section>
  );
}
