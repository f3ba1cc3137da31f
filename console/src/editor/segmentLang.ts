// Editor support for the segment language (docs/query-language.md): a stream tokenizer for
// highlighting, completion from the graph schema, and diagnostics from compileSegment.
import { autocompletion, type Completion, type CompletionContext } from "@codemirror/autocomplete";
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from "@codemirror/language";
import type { Diagnostic } from "@codemirror/lint";
import type { Text } from "@codemirror/state";
import { tags as t } from "@lezer/highlight";
import type { GraphInfo } from "../graph";

export const KEYWORDS = [
  "segment", "timezone", "where", "and", "or", "not", "union", "except", "intersect", "between",
  "in", "contains", "starts", "ends", "with", "case", "sensitive", "matches", "is", "empty",
  "true", "false", "anniversary", "today", "yesterday", "tomorrow", "any", "no", "all", "count",
  "sum", "avg", "min", "max", "via", "then", "within", "ago", "from", "now", "the", "last",
  "next", "this", "before", "after", "hour", "hours", "day", "days", "week", "weeks", "month",
  "months", "quarter", "quarters", "year", "years",
];
const KEYWORD_SET = new Set(KEYWORDS);
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/;

interface State {
  quote: string | null;
}

function token(stream: StringStream, state: State): string | null {
  if (state.quote) {
    return readString(stream, state);
  }
  if (stream.eatSpace()) return null;
  if (stream.peek() === "#") {
    stream.skipToEnd();
    return "comment";
  }
  const ch = stream.peek() ?? "";
  if (ch === '"' || ch === "'") {
    stream.next();
    state.quote = ch;
    return readString(stream, state);
  }
  if (ch === "`") {
    stream.next();
    while (!stream.eol()) {
      if (stream.next() === "`" && !stream.eat("`")) break;
    }
    return "variableName";
  }
  if (stream.match(DATE)) return "number";
  if (stream.match(/^-?\d+(\.\d+)?/)) return "number";
  if (stream.match(/^(<=|>=|!=|=|<|>)/)) return "operator";
  if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
    const word = stream.current();
    if (KEYWORD_SET.has(word.toLowerCase())) return "keyword";
    if (/^[A-Z][A-Z0-9_]+$/.test(word)) return "labelName"; // RELATIONSHIP_TYPES
    if (/^[A-Z]/.test(word)) return "typeName"; // Entities
    return "propertyName";
  }
  stream.next();
  return "punctuation";
}

function readString(stream: StringStream, state: State): string {
  while (!stream.eol()) {
    const ch = stream.next();
    if (ch === "\\") stream.next();
    else if (ch === state.quote) {
      state.quote = null;
      break;
    }
  }
  return "string";
}

export const segmentLanguage = StreamLanguage.define<State>({
  name: "segment",
  startState: () => ({ quote: null }),
  token,
  languageData: { commentTokens: { line: "#" } },
});

const style = HighlightStyle.define([
  { tag: t.keyword, color: "#7c3aed", fontWeight: "600" },
  { tag: t.string, color: "#047857" },
  { tag: t.number, color: "#b45309" },
  { tag: t.comment, color: "#6b7280", fontStyle: "italic" },
  { tag: t.typeName, color: "#1d4ed8", fontWeight: "600" },
  { tag: t.labelName, color: "#be185d" },
  { tag: t.propertyName, color: "#0f172a" },
  { tag: t.operator, color: "#9a3412" },
  { tag: t.variableName, color: "#0e7490" },
]);

export const segmentHighlighting = syntaxHighlighting(style);

/** Completion of entity, attribute and relationship names, segment names and keywords. */
export function segmentCompletion(info: () => GraphInfo | null, segmentNames: () => string[]) {
  return autocompletion({
    override: [
      (context: CompletionContext) => {
        const word = context.matchBefore(/[A-Za-z_][A-Za-z0-9_]*/);
        if (!word && !context.explicit) return null;
        const from = word ? word.from : context.pos;
        const before = context.state.doc.sliceString(Math.max(0, from - 40), from);
        const options: Completion[] = [];
        if (/in\s+segment\s+$/i.test(before)) {
          for (const name of segmentNames()) options.push({ label: name, type: "variable", detail: "segment" });
          return { from, options, validFor: /^[A-Za-z0-9_]*$/ };
        }
        const graph = info();
        if (graph) {
          for (const e of graph.entities) {
            options.push({ label: e.name, type: "class", detail: e.profile ? "audience" : "entity", info: e.description || undefined });
          }
          // The attributes of the record the cursor is about come first.
          const here = scopeEntity(context.state.doc.sliceString(0, from), graph);
          const local = new Set(here?.attributes.map((a) => a.name) ?? []);
          const seen = new Set<string>();
          for (const e of graph.entities) {
            for (const a of e.attributes) {
              if (seen.has(a.name)) continue;
              seen.add(a.name);
              const owners = graph.entities.filter((x) => x.attributes.some((y) => y.name === a.name)).map((x) => x.name);
              const mine = local.has(a.name);
              const type = mine ? here!.attributes.find((x) => x.name === a.name)!.type : a.type;
              options.push({
                label: a.name,
                type: "property",
                detail: mine ? `${type.toLowerCase()} · ${here!.name}` : `${type.toLowerCase()} · ${owners.join(", ")}`,
                boost: mine ? 5 : 0,
              });
            }
          }
          for (const r of graph.relationships) {
            options.push({ label: r.type, type: "type", detail: `${r.source} → ${r.target}` });
          }
        }
        for (const k of KEYWORDS) options.push({ label: k, type: "keyword", boost: -10 });
        return { from, options, validFor: /^[A-Za-z0-9_]*$/ };
      },
    ],
  });
}

/** The entity whose record a condition at the end of `before` tests: the entity named before the
 * innermost open `(` of a related-record block, else the segment's audience. */
export function scopeEntity(before: string, graph: GraphInfo) {
  const text = before.replace(/#[^\n]*/g, "").replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'/g, '""');
  const open: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") open.push(i);
    else if (text[i] === ")") open.pop();
  }
  const find = (name: string | undefined) => graph.entities.find((e) => e.name.toLowerCase() === name?.toLowerCase());
  for (let k = open.length - 1; k >= 0; k--) {
    // `any Order (`, `count Order via PLACED (`, `sum Order.total (`
    const head = /\b(?:any|no|all|count|sum|avg|min|max)\s+([A-Za-z_]\w*)(?:\.\w+)?(?:\s+via\s+[\w\s,]+?)?\s*$/i.exec(text.slice(0, open[k]));
    const found = find(head?.[1]);
    if (found) return found;
  }
  return find(/^\s*segment\s+([A-Za-z_]\w*)/i.exec(text)?.[1]);
}

export interface CompileDiagnostic {
  code: string;
  message: string;
  span: { line: number; column: number } | null;
  end: { line: number; column: number } | null;
}

function offset(doc: Text, pos: { line: number; column: number }): number {
  const line = doc.line(Math.min(Math.max(pos.line, 1), doc.lines));
  return Math.min(line.from + Math.max(pos.column - 1, 0), line.to);
}

/** compileSegment's line:column diagnostics as CodeMirror lint ranges. */
export function toLintDiagnostics(doc: Text, diagnostics: CompileDiagnostic[]): Diagnostic[] {
  return diagnostics.map((d) => {
    const from = d.span ? offset(doc, d.span) : 0;
    let to = d.end ? offset(doc, d.end) : from;
    if (to <= from) to = Math.min(from + 1, doc.length);
    const where = d.span ? `${d.span.line}:${d.span.column} ` : "";
    return { from, to: Math.max(to, from), severity: "error", message: `${where}${d.code}: ${d.message}` };
  });
}
