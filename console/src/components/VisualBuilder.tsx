// A visual group / condition view of a definition's JSON form (grammar/segment.schema.json).
// It edits the tree in place and keeps every node it cannot edit exactly as it was, so switching
// to text (compileSegment of the JSON gives the canonical text) and back loses nothing.
import type { SchemaAttribute, SchemaEntity } from "../graph";

type Json = Record<string, any>;

interface Props {
  json: Json;
  attributes: SchemaAttribute[];
  entities: SchemaEntity[];
  onChange: (json: Json) => void;
}

const OPS = ["=", "!=", "<", "<=", ">", ">="];

function ident(name: string): Json {
  return { node: "Identifier", name };
}

function dotted(name: string): Json {
  return { node: "Dotted", name: ident(name), qualifier: null };
}

function literalFor(type: string, raw: string): Json {
  switch (type) {
    case "INTEGER":
    case "FLOAT":
      return { node: "NumberLiteral", value: raw === "" || Number.isNaN(Number(raw)) ? 0 : Number(raw) };
    case "BOOLEAN":
      return { node: "BooleanLiteral", value: raw === "true" };
    case "DATE":
      return { node: "DateLiteral", value: raw || new Date().toISOString().slice(0, 10) };
    case "DATETIME":
      return { node: "DateTimeLiteral", value: raw || new Date().toISOString().slice(0, 16) };
    default:
      return { node: "StringLiteral", value: raw };
  }
}

function literalText(value: Json): string {
  if (value.node === "RelativeLiteral") return `${value.amount} ${value.unit}s ${value.future ? "from now" : "ago"}`;
  return String(value.value);
}

export function newCondition(attributes: SchemaAttribute[]): Json {
  const first = attributes.find((a) => a.type === "STRING") ?? attributes[0];
  return { node: "Comparison", attribute: dotted(first?.name ?? "name"), op: "=", value: literalFor(first?.type ?? "STRING", "") };
}

/** A short label for a node the view shows but does not edit. */
function summary(node: Json): string {
  const attr = node.attribute?.name?.name;
  switch (node.node) {
    case "InWindow":
    case "Anniversary": {
      const w = node.window ?? {};
      const when = w.node === "RollingWindow" ? `${w.relation} ${w.amount} ${w.unit}s` : w.node === "DayWindow" ? `is ${w.day}` : `${w.relation} ${w.unit}`;
      return `${attr}${node.node === "Anniversary" ? " anniversary" : ""} in ${when}`;
    }
    case "Between":
      return `${attr} between ${literalText(node.low)} and ${literalText(node.high)}`;
    case "InList":
      return `${attr} ${node.negated ? "not in" : "in"} (${node.values.map(literalText).join(", ")})`;
    case "TextMatch":
      return `${attr} ${node.op} "${node.value?.value ?? ""}"`;
    case "RegexMatch":
      return `${attr} matches "${node.pattern?.value ?? node.value?.value ?? ""}"`;
    case "Aggregate":
      return `${node.func} ${node.entity.name}${node.attribute ? "." + node.attribute.name : ""} (…) ${node.op} ${literalText(node.value)}`;
    case "InSegment":
      return `in segment ${node.name?.name ?? ""}`;
    case "Sequence":
      return "event sequence (… then …)";
    default:
      return node.node;
  }
}

export function VisualBuilder({ json, attributes, entities, onChange }: Props) {
  const body = json.body;
  if (!body || body.node !== "Group") {
    return <p class="notice">This definition combines groups with union / intersect / except: edit it as text.</p>;
  }
  const setCondition = (condition: Json | null) => onChange({ ...json, body: { ...body, condition } });
  return (
    <div class="visual" aria-label="Visual definition">
      <p class="muted">Profiles of <strong>{json.audience?.name}</strong> where:</p>
      <ConditionView node={body.condition} attributes={attributes} entities={entities} onChange={setCondition} depth={0} />
    </div>
  );
}

interface NodeProps {
  node: Json | null;
  attributes: SchemaAttribute[];
  entities: SchemaEntity[];
  onChange: (node: Json | null) => void;
  depth: number;
}

function ConditionView({ node, attributes, entities, onChange, depth }: NodeProps) {
  if (!node) {
    return <button type="button" onClick={() => onChange(newCondition(attributes))}>+ condition</button>;
  }
  if (node.node === "And" || node.node === "Or") {
    return <GroupView node={node} attributes={attributes} entities={entities} onChange={onChange} depth={depth} />;
  }
  // A single condition at the top: offer to grow it into a group.
  const wrap = (extra: Json) => onChange({ node: "And", items: [node, extra] });
  return (
    <div class="cond-single">
      <LeafView node={node} attributes={attributes} entities={entities} onChange={onChange} depth={depth} />
      {depth === 0 && (
        <div class="row">
          <button type="button" onClick={() => wrap(newCondition(attributes))}>+ condition</button>
          <button type="button" onClick={() => wrap({ node: "Or", items: [newCondition(attributes)] })}>+ group</button>
        </div>
      )}
    </div>
  );
}

function GroupView({ node, attributes, entities, onChange, depth }: NodeProps & { node: Json }) {
  const items: Json[] = node.items;
  const setItem = (index: number, value: Json | null) => {
    const copy = items.slice();
    if (value === null) copy.splice(index, 1);
    else copy[index] = value;
    if (copy.length === 0) onChange(null);
    else if (copy.length === 1 && depth === 0) onChange(copy[0]);
    else onChange({ ...node, items: copy });
  };
  const label = depth === 0 ? "Top group" : "Group";
  return (
    <fieldset class={`group depth-${depth % 3}`}>
      <legend>
        <label>
          {label}: match{" "}
          <select aria-label={`${label} combines with`} value={node.node} onChange={(e) => onChange({ ...node, node: e.currentTarget.value })}>
            <option value="And">all (and)</option>
            <option value="Or">any (or)</option>
          </select>
        </label>
        {depth > 0 && <button type="button" class="link danger" onClick={() => onChange(null)}>remove group</button>}
      </legend>
      <ol class="items">
        {items.map((item, i) => (
          <li key={i}>
            {item.node === "And" || item.node === "Or" ? (
              <GroupView node={item} attributes={attributes} entities={entities} depth={depth + 1} onChange={(v) => setItem(i, v)} />
            ) : (
              <LeafView node={item} attributes={attributes} entities={entities} depth={depth + 1} onChange={(v) => setItem(i, v)} />
            )}
          </li>
        ))}
      </ol>
      <div class="row">
        <button type="button" onClick={() => onChange({ ...node, items: [...items, newCondition(attributes)] })}>+ condition</button>
        <button type="button" onClick={() => onChange({ ...node, items: [...items, { node: node.node === "And" ? "Or" : "And", items: [newCondition(attributes)] }] })}>+ group</button>
      </div>
    </fieldset>
  );
}

function AttributeSelect({ value, attributes, onChange }: { value: string; attributes: SchemaAttribute[]; onChange: (a: SchemaAttribute) => void }) {
  const known = attributes.some((a) => a.name === value);
  return (
    <select aria-label="Attribute" value={value} onChange={(e) => onChange(attributes.find((a) => a.name === e.currentTarget.value)!)}>
      {!known && <option value={value}>{value}</option>}
      {attributes.map((a) => <option value={a.name}>{a.name}</option>)}
    </select>
  );
}

function LeafView({ node, attributes, entities, onChange, depth }: NodeProps & { node: Json }) {
  const remove = <button type="button" class="link danger" aria-label="Remove condition" onClick={() => onChange(null)}>✕</button>;
  const attrName: string | undefined = node.attribute?.qualifier ? undefined : node.attribute?.name?.name;
  const attr = attributes.find((a) => a.name === attrName);

  if (node.node === "Not") {
    return (
      <div class="cond not">
        <span class="kw">not</span>
        <ConditionView node={node.item} attributes={attributes} entities={entities} depth={depth + 1} onChange={(v) => onChange(v ? { ...node, item: v } : null)} />
        {remove}
      </div>
    );
  }
  if (node.node === "Related") {
    const target = entities.find((e) => e.name.toLowerCase() === String(node.entity.name).toLowerCase());
    const inner = target?.attributes ?? [];
    return (
      <div class="cond related">
        <div class="related-head">
          <select aria-label="Quantifier" value={node.quantifier} onChange={(e) => onChange({ ...node, quantifier: e.currentTarget.value })}>
            <option value="any">any</option>
            <option value="no">no</option>
            <option value="all">all</option>
          </select>
          <strong>{node.entity.name}</strong>{node.via?.length ? <span class="muted"> via {node.via.map((v: Json) => v.name).join(", ")}</span> : null}
          <span class="muted small">with</span>
          {remove}
        </div>
        <div class="nested">
          <ConditionView node={node.condition ?? null} attributes={inner} entities={entities} depth={depth + 1} onChange={(v) => onChange({ ...node, condition: v })} />
        </div>
      </div>
    );
  }
  if (node.node === "Comparison" && attrName && node.value?.node !== "RelativeLiteral") {
    const type = attr?.type ?? "STRING";
    return (
      <div class="cond">
        <AttributeSelect value={attrName} attributes={attributes} onChange={(a) => onChange({ ...node, attribute: dotted(a.name), value: literalFor(a.type, a.type === type ? String(node.value.value) : "") })} />
        <select aria-label="Operator" value={node.op} onChange={(e) => onChange({ ...node, op: e.currentTarget.value })}>
          {OPS.map((o) => <option value={o}>{o}</option>)}
        </select>
        {type === "BOOLEAN" ? (
          <select aria-label="Value" value={String(node.value.value)} onChange={(e) => onChange({ ...node, value: literalFor(type, e.currentTarget.value) })}>
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        ) : (
          <input
            aria-label="Value"
            type={type === "INTEGER" || type === "FLOAT" ? "number" : type === "DATE" ? "date" : type === "DATETIME" ? "datetime-local" : "text"}
            value={String(node.value.value)}
            onChange={(e) => onChange({ ...node, value: literalFor(type, e.currentTarget.value) })}
          />
        )}
        {remove}
      </div>
    );
  }
  if ((node.node === "IsEmpty" || node.node === "IsBoolean") && attrName) {
    const current = node.node === "IsEmpty" ? (node.negated ? "is not empty" : "is empty") : node.value ? "is true" : "is false";
    const choices = ["is empty", "is not empty", ...(attr?.type === "BOOLEAN" || node.node === "IsBoolean" ? ["is true", "is false"] : [])];
    const build = (name: string, choice: string): Json =>
      choice.endsWith("empty")
        ? { node: "IsEmpty", attribute: dotted(name), negated: choice === "is not empty" }
        : { node: "IsBoolean", attribute: dotted(name), value: choice === "is true" };
    return (
      <div class="cond">
        <AttributeSelect value={attrName} attributes={attributes} onChange={(a) => onChange(build(a.name, a.type === "BOOLEAN" ? current : current.endsWith("empty") ? current : "is not empty"))} />
        <select aria-label="Test" value={current} onChange={(e) => onChange(build(attrName, e.currentTarget.value))}>
          {choices.map((c) => <option value={c}>{c}</option>)}
        </select>
        {remove}
      </div>
    );
  }
  return (
    <div class="cond readonly">
      <code>{summary(node)}</code> <span class="muted small">(edit in text)</span>
      {remove}
    </div>
  );
}
