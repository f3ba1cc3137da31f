import { useEffect, useState } from "preact/hooks";
import { errorText, gql } from "../api";
import { formatCell, plural } from "../format";
import { entity, graphInfo, type SchemaAttribute } from "../graph";

interface Member {
  key: string;
  sinceVersion: number;
  properties: Record<string, unknown>;
}

const MEMBERS = `query Members($id: ID!, $first: Int!, $after: String, $columns: [String!]) { segment(id: $id) {
  members(first: $first, after: $after, columns: $columns) { totalCount pageInfo { hasNextPage endCursor } edges { node { key sinceVersion properties } } }
} }`;

interface Props {
  id: string;
  audience: string;
  /** The active membership version: a new one reloads the first page. */
  version: number;
  /** Chosen columns (null: the API's default); the CSV download uses them too. */
  columns: string[] | null;
  onColumns: (columns: string[]) => void;
  onError: (message: string) => void;
}

/** The 100-member preview with chosen columns, and "see all" paging through every member. */
export function MembersPanel({ id, audience, version, columns, onColumns, onError }: Props) {
  const [attributes, setAttributes] = useState<SchemaAttribute[]>([]);
  const [members, setMembers] = useState<{ total: number; rows: Member[]; next: string | null } | null>(null);
  const [pageSize, setPageSize] = useState(100);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);

  async function loadMembers(after: string | null) {
    try {
      const data = await gql<{ segment: { members: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Member }[] } } }>(
        MEMBERS, { id, first: pageSize, after, columns });
      const m = data.segment.members;
      setMembers({ total: m.totalCount, rows: m.edges.map((e) => e.node), next: m.pageInfo.hasNextPage ? m.pageInfo.endCursor : null });
    } catch (exc) {
      onError(errorText(exc));
    }
  }

  useEffect(() => {
    setCursors([null]);
    void loadMembers(null);
  }, [id, columns, pageSize, version]);
  useEffect(() => {
    graphInfo().then((g) => setAttributes(entity(g, audience)?.attributes ?? []), () => {});
  }, [audience]);

  const memberColumns = members?.rows.length ? Object.keys(members.rows[0].properties) : [];
  return (
    <section class="panel" aria-labelledby="members-title">
      <div class="panel-head">
        <h2 id="members-title">{pageSize === 100 && cursors.length === 1 ? "Preview (first 100 members)" : "Members"}</h2>
        <details class="columns">
          <summary>Columns</summary>
          <fieldset>
            <legend class="sr-only">Columns</legend>
            {attributes.map((a) => {
              const shown = columns ?? memberColumns;
              return (
                <label class="check">
                  <input type="checkbox" checked={shown.includes(a.name)} onChange={(e) => {
                    const set = new Set(shown);
                    if (e.currentTarget.checked) set.add(a.name);
                    else set.delete(a.name);
                    onColumns(attributes.map((x) => x.name).filter((n) => set.has(n)));
                  }} />{a.name}
                </label>
              );
            })}
          </fieldset>
        </details>
      </div>
      {members ? (
        <>
          <div class="table-wrap">
            <table class="members">
              <thead><tr><th scope="col">key</th>{memberColumns.map((c) => <th scope="col">{c}</th>)}</tr></thead>
              <tbody>{members.rows.map((m) => <tr><td>{m.key}</td>{memberColumns.map((c) => <td>{formatCell(m.properties[c])}</td>)}</tr>)}</tbody>
            </table>
          </div>
          <div class="row pager">
            <span class="muted" data-testid="members-total">{plural(members.total, "member")}{cursors.length > 1 ? ` · page ${cursors.length}` : ""}</span>
            {cursors.length > 1 && <button type="button" onClick={() => { const prev = cursors.slice(0, -1); setCursors(prev); void loadMembers(prev[prev.length - 1]); }}>Previous page</button>}
            {members.next && (cursors.length > 1 || pageSize !== 100
              ? <button type="button" onClick={() => { setCursors([...cursors, members.next]); void loadMembers(members.next); }}>Next page</button>
              : <button type="button" onClick={() => { setCursors([null, members.next]); void loadMembers(members.next); }}>See all</button>)}
            <label>Rows per page
              <select value={pageSize} onChange={(e) => setPageSize(Number(e.currentTarget.value))}>
                {[25, 100, 500].map((n) => <option value={n}>{n}</option>)}
              </select>
            </label>
          </div>
        </>
      ) : <p role="status">Loading members…</p>}
    </section>
  );
}
